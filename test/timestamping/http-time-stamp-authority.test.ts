import { HttpTimeStampAuthority } from '../../src/timestamping/http-time-stamp-authority';
import { newSerialNumber } from '../../src/timestamping/serial-number';
import { signTimeStampToken } from '../../src/timestamping/sign-time-stamp-token';
import { TimeStampUnavailableError } from '../../src/timestamping/time-stamp-authority';
import {
  decodeTimeStampRequest,
  decodeTimeStampResponse,
  encodeGrantedResponse,
  encodeTstInfo,
} from '../../src/timestamping/time-stamp-codec';
import { parseTimeStampToken } from '../../src/timestamping/time-stamp-token';
import { runStatus, testWithTool } from '../support/external-tools';
import {
  createTsaTestPki,
  issueTsaCertificate,
  opensslRuns,
  sha256Imprint,
  writeTemp,
  type IssuedTsaCertificate,
  type TsaTestPki,
} from './tsa-test-support';
import {
  OPENSSL_TSA_POLICY,
  opensslReply,
  opensslTsConfig,
  startTsaWrapper,
  type TsaWrapper,
  type WrapperAnswer,
} from './openssl-tsa-wrapper';

/*
 * The external TSA client against an independent TSA: `openssl ts -reply` with the dev PKI's TSA key and
 * certificate behind a small HTTP wrapper, which can also be told to answer wrongly.
 */

const opensslTest = testWithTool('openssl');
const POLICY = OPENSSL_TSA_POLICY;

let testPki: TsaTestPki;
let flawedTsa: IssuedTsaCertificate;

beforeAll(async () => {
  testPki = await createTsaTestPki();
  flawedTsa = await issueTsaCertificate(testPki, 'eku-not-critical');
});
afterAll(() => testPki.dispose());
beforeEach(() => testPki.clock.set(Date.now()));

const wrappers: TsaWrapper[] = [];
afterEach(async () => {
  await Promise.all(wrappers.splice(0).map((wrapper) => wrapper.close()));
});

async function startWrapper(answer: (query: Buffer) => Promise<WrapperAnswer>): Promise<TsaWrapper> {
  const wrapper = await startTsaWrapper(answer);
  wrappers.push(wrapper);
  return wrapper;
}

function client(
  url: string,
  options: { timeoutMs?: number; trustAnchors?: Buffer[]; maxResponseBytes?: number } = {},
) {
  return new HttpTimeStampAuthority({
    url,
    trustAnchors: options.trustAnchors ?? [testPki.pki.ca.certificateDer],
    clock: testPki.clock,
    timeoutMs: options.timeoutMs,
    maxResponseBytes: options.maxResponseBytes,
  });
}

/** The query with one byte of `part` (found in it) flipped. */
function flipped(bytes: Buffer, part: Buffer): Buffer {
  const at = bytes.indexOf(part);
  if (at === -1) throw new Error('part not found');
  const copy = Buffer.from(bytes);
  copy[at + part.length - 1] ^= 0x01;
  return copy;
}

const imprint = sha256Imprint(Buffer.from('a receipt signature value'));
const TSA_PREFIX = String.raw`TSA http://127\.0\.0\.1:\d+/tsa: `;

describe('the external TSA client', () => {
  opensslTest(
    'accepts a token of openssl ts -reply, after checking it; openssl verifies the token too',
    async () => {
      const wrapper = await startWrapper(async (query) => ({ body: await opensslReply(testPki, query) }));
      const token = await client(wrapper.url).timestamp(imprint);

      const tstInfo = parseTimeStampToken(token).tstInfo;
      expect(tstInfo.imprint.digest).toEqual(imprint.digest);
      expect(tstInfo.policy).toBe(POLICY);
      const query = decodeTimeStampRequest(wrapper.queries[0]);
      expect(query.certReq).toBe(true);
      expect(wrapper.contentTypes).toEqual(['application/timestamp-query']);
      expect(query.nonceDer).toBeDefined();
      expect(tstInfo.nonce).toBeDefined();

      const tokenFile = writeTemp(testPki.dir, 'token.der', token);
      const verified = runStatus('openssl', [
        'ts',
        '-verify',
        '-token_in',
        '-in',
        tokenFile,
        '-digest',
        imprint.digest.toString('hex'),
        '-CAfile',
        testPki.pki.ca.certPemPath,
      ]);
      expect(verified).toEqual({ status: 0, output: expect.stringContaining('Verification: OK') });
    },
  );

  opensslTest('sends a fresh 64-bit nonce with every request', async () => {
    const wrapper = await startWrapper(async (query) => ({ body: await opensslReply(testPki, query) }));
    const tsa = client(wrapper.url);
    await tsa.timestamp(imprint);
    await tsa.timestamp(imprint);
    const [first, second] = wrapper.queries.map((query) => decodeTimeStampRequest(query).nonceDer as Buffer);
    expect(first.equals(second)).toBe(false);
    for (const nonce of [first, second]) expect(nonce.length).toBeLessThanOrEqual(2 + 9);
  });

  opensslTest(
    'accepts the older signing-certificate attribute (ESSCertID, SHA-1) of an RFC 3161 TSA',
    async () => {
      const config = opensslTsConfig(testPki, { essCertIdAlg: 'sha1' });
      const wrapper = await startWrapper(async (query) => ({
        body: await opensslReply(testPki, query, config),
      }));
      const token = await client(wrapper.url).timestamp(imprint);
      const types = parseTimeStampToken(token).signerInfo.signedAttributes.map((attribute) => attribute.type);
      expect(types).toContain('1.2.840.113549.1.9.16.2.12');
    },
  );

  const refusals: [string, () => Promise<TsaWrapper>, RegExp][] = [
    [
      'a token for another imprint',
      () =>
        startWrapper(async (query) => ({
          body: await opensslReply(testPki, flipped(query, decodeTimeStampRequest(query).imprint.digest)),
        })),
      /the token imprint is not the requested one/,
    ],
    [
      'a token with another nonce',
      () =>
        startWrapper(async (query) => ({
          body: await opensslReply(testPki, flipped(query, decodeTimeStampRequest(query).nonceDer as Buffer)),
        })),
      /the token nonce is not the request nonce/,
    ],
    [
      'a token whose signature does not verify',
      () =>
        startWrapper(async (query) => {
          const reply = await opensslReply(testPki, query);
          const token = decodeTimeStampResponse(reply).token as Buffer;
          return { body: flipped(reply, parseTimeStampToken(token).signerInfo.signature.subarray(0, 40)) };
        }),
      /the token signature does not verify with the TSA certificate/,
    ],
    [
      'a token of a TSA certificate whose extended key usage is not critical',
      // openssl refuses to sign with such a certificate: the token is made by this project's signer.
      () =>
        startWrapper(async (query) => {
          const request = decodeTimeStampRequest(query);
          const tstInfo = encodeTstInfo({
            policy: POLICY,
            imprintDer: request.imprint.der,
            serialNumber: newSerialNumber(),
            genTime: new Date(),
            nonceDer: request.nonceDer,
          });
          return { body: encodeGrantedResponse(await signTimeStampToken(tstInfo, flawedTsa.signer, true)) };
        }),
      /the TSA certificate cannot time-stamp: its extended key usage extension is not critical/,
    ],
    [
      'a rejection (openssl does not accept SHA-256 here)',
      () =>
        startWrapper(async (query) => ({
          body: await opensslReply(testPki, query, opensslTsConfig(testPki, { digests: 'sha512' })),
        })),
      /refused: status rejection\(2\), failure badAlg \(Message digest algorithm is not supported\.\)/,
    ],
    [
      'garbage',
      () => startWrapper(async () => ({ body: Buffer.from('<html>this is not a TimeStampResp</html>') })),
      /the answer is not a DER TimeStampResp/,
    ],
    [
      'an HTTP error',
      () => startWrapper(async () => ({ status: 503, body: Buffer.from('busy') })),
      /answered HTTP 503/,
    ],
  ];

  it.each(refusals)('refuses %s', async (_name, start, message) => {
    if (!opensslRuns()) return;
    const wrapper = await start();
    const attempt = client(wrapper.url).timestamp(imprint);
    await expect(attempt).rejects.toBeInstanceOf(TimeStampUnavailableError);
    await expect(attempt).rejects.toThrow(new RegExp(TSA_PREFIX + message.source));
  });

  it('gives up on a TSA that never answers, after its timeout', async () => {
    const wrapper = await startWrapper(async () => 'never');
    const attempt = client(wrapper.url, { timeoutMs: 300 }).timestamp(imprint);
    await expect(attempt).rejects.toThrow(new RegExp(`${TSA_PREFIX}no complete answer within 300 ms`));
    await expect(attempt).rejects.toBeInstanceOf(TimeStampUnavailableError);
  });

  it('refuses an answer over its size cap', async () => {
    const wrapper = await startWrapper(async () => ({ body: Buffer.alloc(4096) }));
    await expect(client(wrapper.url, { maxResponseBytes: 1024 }).timestamp(imprint)).rejects.toThrow(
      /the answer is larger than 1024 bytes/,
    );
  });

  it('reports a TSA it cannot reach', async () => {
    const wrapper = await startWrapper(async () => 'never');
    await wrapper.close();
    await expect(client(wrapper.url).timestamp(imprint)).rejects.toThrow(
      new RegExp(`${TSA_PREFIX}the request failed: .*ECONNREFUSED`),
    );
  });

  opensslTest('refuses a TSA certificate that does not chain to its TSA trust anchors', async () => {
    const wrapper = await startWrapper(async (query) => ({ body: await opensslReply(testPki, query) }));
    // The receipt signer is no CA: nothing chains to it.
    const attempt = client(wrapper.url, { trustAnchors: [testPki.pki.signer.certificateDer] }).timestamp(
      imprint,
    );
    await expect(attempt).rejects.toThrow(new RegExp(`${TSA_PREFIX}the TSA certificate is not trusted`));
  });

  opensslTest('refuses a genTime far from the service clock', async () => {
    const wrapper = await startWrapper(async (query) => ({ body: await opensslReply(testPki, query) }));
    testPki.clock.advance(10 * 60_000);
    await expect(client(wrapper.url).timestamp(imprint)).rejects.toThrow(
      /genTime .* is \d+ s behind the service clock/,
    );
  });

  it('refuses to send an imprint whose digest does not fit its algorithm', async () => {
    await expect(
      client('http://127.0.0.1:9/tsa').timestamp({ hashAlgorithm: 'SHA-256', digest: Buffer.alloc(20) }),
    ).rejects.toThrow(RangeError);
  });
});
