import { createHash, randomBytes } from 'node:crypto';
import { EmbeddedTimeStampAuthority } from '../../src/timestamping/embedded-time-stamp-authority';
import {
  derNull,
  derObjectIdentifier,
  derOctetString,
  derSequence,
  derSmallInteger,
  derTlv,
} from '../../src/pki/der-writer';
import { DEFAULT_TSA_POLICY_OID, TSP_OIDS } from '../../src/timestamping/rfc3161';
import { TimeStampUnavailableError } from '../../src/timestamping/time-stamp-authority';
import {
  decodeTimeStampResponse,
  encodeMessageImprint,
  encodeTimeStampRequest,
} from '../../src/timestamping/time-stamp-codec';
import { DerError } from '../../src/pki/der';
import { parseTimeStampToken, readTokenImprint } from '../../src/timestamping/time-stamp-token';
import { runStatus, testWithTool } from '../support/external-tools';
import {
  createTsaTestPki,
  issueTsaCertificate,
  opensslQuery,
  opensslRuns,
  opensslReplyText,
  sha256Imprint,
  writeTemp,
  type TsaTestPki,
} from './tsa-test-support';

const opensslTest = testWithTool('openssl');

let testPki: TsaTestPki;
let tsa: EmbeddedTimeStampAuthority;

beforeAll(async () => {
  testPki = await createTsaTestPki();
  tsa = new EmbeddedTimeStampAuthority({ signer: testPki.signer, clock: testPki.clock });
});

afterAll(() => testPki.dispose());

/** `openssl ts -verify` trusting the dev CA, with the TSA certificate given as untrusted. */
function opensslVerify(source: string[], input: string[]): { status: number | null; output: string } {
  return runStatus('openssl', [
    'ts',
    '-verify',
    ...input,
    ...source,
    '-CAfile',
    testPki.pki.ca.certPemPath,
    '-untrusted',
    testPki.pki.tsa.certPemPath,
  ]);
}

describe('tokens of the embedded TSA', () => {
  opensslTest(
    'answer an openssl query: openssl ts -verify accepts them with -data, -digest and -queryfile',
    async () => {
      const data = randomBytes(1000);
      const dataFile = writeTemp(testPki.dir, 'data.bin', data);
      const query = opensslQuery(testPki.dir, ['-data', dataFile, '-sha256', '-cert']);
      const reply = await tsa.respond(query);
      const replyFile = writeTemp(testPki.dir, 'reply.tsr', reply);
      const queryFile = writeTemp(testPki.dir, 'query.tsq', query);

      for (const source of [
        ['-data', dataFile],
        ['-digest', sha256Imprint(data).digest.toString('hex')],
        ['-queryfile', queryFile],
      ]) {
        const { status, output } = opensslVerify(source, ['-in', replyFile]);
        expect({ status, output }).toEqual({
          status: 0,
          output: expect.stringContaining('Verification: OK'),
        });
      }
      const other = writeTemp(testPki.dir, 'other.bin', randomBytes(1000));
      const { status, output } = opensslVerify(['-data', other], ['-in', replyFile]);
      expect(status).not.toBe(0);
      expect(output).toMatch(/message imprint mismatch/);
    },
  );

  opensslTest(
    'made in-process verify with openssl ts -verify -token_in, for SHA-256, SHA-384 and SHA-512',
    async () => {
      const data = randomBytes(200);
      const dataFile = writeTemp(testPki.dir, 'data.bin', data);
      for (const [hashAlgorithm, nodeName] of [
        ['SHA-256', 'sha256'],
        ['SHA-384', 'sha384'],
        ['SHA-512', 'sha512'],
      ] as const) {
        const digest = createHash(nodeName).update(data).digest();
        const token = await tsa.timestamp({ hashAlgorithm, digest });
        const tokenFile = writeTemp(testPki.dir, 'token.der', token);
        for (const source of [
          ['-data', dataFile],
          ['-digest', digest.toString('hex')],
        ]) {
          const result = opensslVerify(source, ['-token_in', '-in', tokenFile]);
          expect(result).toEqual({ status: 0, output: expect.stringContaining('Verification: OK') });
        }
      }
    },
  );

  opensslTest(
    'state policy, serial number, genTime to the millisecond, accuracy, nonce and TSA name',
    async () => {
      testPki.clock.set('2026-03-04T05:06:07.089Z');
      try {
        const query = opensslQuery(testPki.dir, ['-digest', 'ab'.repeat(32), '-sha256', '-cert']);
        const reply = await tsa.respond(query);
        const text = opensslReplyText(testPki.dir, reply);
        expect(text).toMatch(/Status: Granted\./);
        expect(text).toContain('Version: 1');
        expect(text).toContain(`Policy OID: ${DEFAULT_TSA_POLICY_OID}`);
        expect(text).toContain('Hash Algorithm: sha256');
        expect(text).toMatch(/Serial number: 0x[0-9A-F]{40}\n/);
        expect(text).toContain('Time stamp: Mar  4 05:06:07.089 2026 GMT');
        expect(text).toContain('Accuracy: 0x01 seconds, unspecified millis, unspecified micros');
        expect(text).toContain('Ordering: no');
        expect(text).toMatch(/TSA: DirName:.*CN ?= ?RegisteredMail Development Time-Stamping Authority/);

        const queryNonce = /Nonce: (0x[0-9A-F]+)/.exec(
          run(['ts', '-query', '-in', writeTemp(testPki.dir, 'q.tsq', query), '-text']),
        )?.[1];
        expect(queryNonce).toBeDefined();
        expect(text).toContain(`Nonce: ${queryNonce}`);
      } finally {
        testPki.clock.set(Date.now());
      }
    },
  );

  it('encode genTime without trailing fraction zeros (DER), and without a fraction on a whole second', async () => {
    for (const [time, expected] of [
      ['2026-03-04T05:06:07.120Z', '20260304050607.12Z'],
      ['2026-03-04T05:06:07.000Z', '20260304050607Z'],
    ] as const) {
      testPki.clock.set(time);
      const token = parseTimeStampToken(await tsa.timestamp(sha256Imprint(Buffer.from('x'))));
      expect(token.tstInfoDer.includes(Buffer.from(expected, 'latin1'))).toBe(true);
      expect(token.tstInfo.genTime.toISOString()).toBe(time);
    }
    testPki.clock.set(Date.now());
  });

  it('state their imprint as readTokenImprint reads it without the rest of the token', async () => {
    for (const imprint of [
      sha256Imprint(Buffer.from('x')),
      { hashAlgorithm: 'SHA-512' as const, digest: createHash('sha512').update('y').digest() },
    ]) {
      const token = await tsa.timestamp(imprint);
      const read = readTokenImprint(token);
      expect(read).toEqual(parseTimeStampToken(token).tstInfo.imprint);
      expect(read.digest).toEqual(imprint.digest);
      expect(() => readTokenImprint(token.subarray(0, token.length - 1))).toThrow(DerError);
    }
    expect(() => readTokenImprint(testPki.signer.certificate)).toThrow(DerError);
  });

  it('have serial numbers that do not repeat over many tokens', async () => {
    const imprint = sha256Imprint(Buffer.from('same data every time'));
    const serials = new Set<bigint>();
    for (let i = 0; i < 300; i += 1) {
      const token = parseTimeStampToken(await tsa.timestamp(imprint));
      expect(token.tstInfo.serialNumber).toBeGreaterThan(0n);
      serials.add(token.tstInfo.serialNumber);
    }
    expect(serials.size).toBe(300);
  });

  it('echo the nonce byte for byte, and carry none when the request had none', async () => {
    const imprint = sha256Imprint(Buffer.from('nonce'));
    const nonce = Buffer.from('00f1e2d3c4b5a69788', 'hex');
    const withNonce = decodeTimeStampResponse(
      await tsa.respond(encodeTimeStampRequest({ imprint, nonce, certReq: true })),
    );
    expect(parseTimeStampToken(withNonce.token as Buffer).tstInfo.nonce).toBe(0xf1e2d3c4b5a69788n);
    const without = decodeTimeStampResponse(
      await tsa.respond(encodeTimeStampRequest({ imprint, certReq: true })),
    );
    expect(parseTimeStampToken(without.token as Buffer).tstInfo.nonce).toBeUndefined();
  });

  opensslTest('carry the TSA certificate and chain only when certReq is true', async () => {
    const data = randomBytes(64);
    const dataFile = writeTemp(testPki.dir, 'data.bin', data);
    const imprint = sha256Imprint(data);
    const withCertificates = decodeTimeStampResponse(
      await tsa.respond(encodeTimeStampRequest({ imprint, certReq: true })),
    ).token as Buffer;
    const without = decodeTimeStampResponse(
      await tsa.respond(encodeTimeStampRequest({ imprint, certReq: false })),
    ).token as Buffer;
    expect(parseTimeStampToken(withCertificates).certificates).toHaveLength(2);
    expect(parseTimeStampToken(without).certificates).toHaveLength(0);

    // Without certificates, openssl needs the TSA certificate from elsewhere (-untrusted).
    const withoutFile = writeTemp(testPki.dir, 'token.der', without);
    expect(opensslVerify(['-data', dataFile], ['-token_in', '-in', withoutFile]).status).toBe(0);
    const bare = runStatus('openssl', [
      'ts',
      '-verify',
      '-token_in',
      '-in',
      withoutFile,
      '-data',
      dataFile,
      '-CAfile',
      testPki.pki.ca.certPemPath,
    ]);
    expect(bare.status).not.toBe(0);
    const withFile = writeTemp(testPki.dir, 'token.der', withCertificates);
    const alone = runStatus('openssl', [
      'ts',
      '-verify',
      '-token_in',
      '-in',
      withFile,
      '-data',
      dataFile,
      '-CAfile',
      testPki.pki.ca.certPemPath,
    ]);
    expect(alone).toEqual({ status: 0, output: expect.stringContaining('Verification: OK') });
  });

  it('sign content-type id-ct-TSTInfo, message-digest and signing-certificate-v2, DER-sorted', async () => {
    const token = parseTimeStampToken(await tsa.timestamp(sha256Imprint(Buffer.from('attributes'))));
    const types = token.signerInfo.signedAttributes.map((attribute) => attribute.type);
    expect([...types].sort()).toEqual(
      ['1.2.840.113549.1.9.3', '1.2.840.113549.1.9.4', '1.2.840.113549.1.9.16.2.47'].sort(),
    );
    const encodings = token.signerInfo.signedAttributes.map((attribute) => {
      const start = token.signerInfo.signedAttributesDer.indexOf(derObjectIdentifier(attribute.type));
      return token.signerInfo.signedAttributesDer.subarray(start - 2);
    });
    expect([...encodings].sort(Buffer.compare)).toEqual(encodings);
    const contentType = token.signerInfo.signedAttributes.find((a) => a.type === '1.2.840.113549.1.9.3');
    expect(contentType?.values[0].der).toEqual(derObjectIdentifier(TSP_OIDS.tstInfo));
  });

  it('take the configured policy and accuracy', async () => {
    const configured = new EmbeddedTimeStampAuthority({
      signer: testPki.signer,
      clock: testPki.clock,
      policy: '1.2.3.4.5',
      accuracyMs: 2500,
    });
    const token = parseTimeStampToken(await configured.timestamp(sha256Imprint(Buffer.from('p'))));
    expect(token.tstInfo.policy).toBe('1.2.3.4.5');
    expect(token.tstInfo.accuracyMs).toBe(2500);
  });
});

describe('requests the embedded TSA refuses', () => {
  const imprint = sha256Imprint(Buffer.from('refused'));

  /** The failures of the refusal, and openssl's reading of it (undefined without openssl). */
  async function refusal(request: Buffer): Promise<{ failures: string[]; text: string | undefined }> {
    const reply = await tsa.respond(request);
    const decoded = decodeTimeStampResponse(reply);
    expect(decoded.status).toBe(2);
    expect(decoded.token).toBeUndefined();
    return {
      failures: decoded.failures,
      text: opensslRuns() ? opensslReplyText(testPki.dir, reply) : undefined,
    };
  }

  const cases: [string, string, () => Buffer, RegExp][] = [
    [
      'a hash other than SHA-2 (SHA-1)',
      'badAlg',
      () =>
        derSequence(
          derSmallInteger(1),
          derSequence(
            derSequence(derObjectIdentifier('1.3.14.3.2.26'), derNull()),
            derOctetString(Buffer.alloc(20, 0x11)),
          ),
        ),
      /Failure info: unrecognized or unsupported algorithm identifier/,
    ],
    [
      'a reqPolicy other than its own',
      'unacceptedPolicy',
      () => encodeTimeStampRequest({ imprint, certReq: true, reqPolicy: '1.2.3.4' }),
      /Failure info: the requested TSA policy is not supported by the TSA/,
    ],
    [
      'bytes that are not DER',
      'badDataFormat',
      () => Buffer.from('not a time-stamp request'),
      /Failure info: the data submitted has the wrong format/,
    ],
    [
      'a SHA-256 digest of 31 bytes',
      'badDataFormat',
      () =>
        derSequence(
          derSmallInteger(1),
          derSequence(
            derSequence(derObjectIdentifier('2.16.840.1.101.3.4.2.1')),
            derOctetString(Buffer.alloc(31)),
          ),
        ),
      /Failure info: the data submitted has the wrong format/,
    ],
    [
      'an extension',
      'unacceptedExtension',
      () =>
        derSequence(
          derSmallInteger(1),
          encodeMessageImprint(imprint),
          derTlv(0xa0, derSequence(derObjectIdentifier('1.2.3.4'), derOctetString(Buffer.from([5, 0])))),
        ),
      /Failure info: the requested extension is not supported by the TSA/,
    ],
    [
      'version 2',
      'badRequest',
      () => derSequence(derSmallInteger(2), encodeMessageImprint(imprint)),
      /Failure info: transaction not permitted or supported/,
    ],
  ];

  it.each(cases)('%s is refused with %s', async (_name, failure, request, opensslText) => {
    const { failures, text } = await refusal(request());
    expect(failures).toEqual([failure]);
    if (text !== undefined) {
      expect(text).toMatch(/Status: Rejected\./);
      expect(text).toMatch(opensslText);
    }
  });

  opensslTest('openssl queries for SHA-1 or another policy are refused', async () => {
    for (const [args, failure] of [
      [['-digest', '11'.repeat(20), '-sha1'], 'badAlg'],
      [['-digest', '11'.repeat(32), '-sha256', '-tspolicy', '1.2.3.4'], 'unacceptedPolicy'],
    ] as const) {
      const reply = decodeTimeStampResponse(await tsa.respond(opensslQuery(testPki.dir, [...args])));
      expect(reply).toMatchObject({ status: 2, failures: [failure] });
    }
  });

  it('answers systemFailure, never throwing, when the signer fails', async () => {
    const failures: unknown[] = [];
    const broken = new EmbeddedTimeStampAuthority({
      signer: {
        certificate: testPki.signer.certificate,
        chain: [],
        sign: () => Promise.reject(new Error('HSM gone')),
      },
      clock: testPki.clock,
      onSigningFailure: (error) => failures.push(error),
    });
    const reply = decodeTimeStampResponse(
      await broken.respond(encodeTimeStampRequest({ imprint, certReq: true })),
    );
    expect(reply).toMatchObject({ status: 2, failures: ['systemFailure'] });
    await expect(broken.timestamp(imprint)).rejects.toBeInstanceOf(TimeStampUnavailableError);
    expect(failures).toHaveLength(2);
  });

  it('refuses, as TimeStampUnavailableError, a signer whose signature does not verify', async () => {
    const wrong = new EmbeddedTimeStampAuthority({
      signer: {
        certificate: testPki.signer.certificate,
        chain: [],
        sign: () => Promise.resolve(randomBytes(256)),
      },
      clock: testPki.clock,
    });
    await expect(wrong.timestamp(imprint)).rejects.toThrow(TimeStampUnavailableError);
  });

  it('refuses an imprint whose digest does not fit its algorithm (a caller bug)', async () => {
    await expect(tsa.timestamp({ hashAlgorithm: 'SHA-512', digest: Buffer.alloc(32) })).rejects.toThrow(
      RangeError,
    );
  });
});

describe('the TSA certificate', () => {
  it.each([
    ['eku-not-critical', /extended key usage extension is not critical/],
    ['no-eku', /no extended key usage extension/],
    ['eku-with-other-usage', /extended key usage must be timeStamping only/],
  ] as const)('is refused at construction when it has %s', async (flaw, message) => {
    const { signer } = await issueTsaCertificate(testPki, flaw);
    expect(() => new EmbeddedTimeStampAuthority({ signer, clock: testPki.clock })).toThrow(message);
  });

  it('is refused when it is the receipt signer (no timeStamping usage)', () => {
    const { pki } = testPki;
    expect(
      () =>
        new EmbeddedTimeStampAuthority({
          signer: {
            certificate: pki.signer.certificateDer,
            chain: [],
            sign: () => Promise.resolve(Buffer.alloc(0)),
          },
          clock: testPki.clock,
        }),
    ).toThrow(/cannot time-stamp/);
  });

  it('is accepted with the extended key usage timeStamping, critical', async () => {
    const { signer } = await issueTsaCertificate(testPki, 'none');
    expect(() => new EmbeddedTimeStampAuthority({ signer, clock: testPki.clock })).not.toThrow();
  });
});

function run(args: string[]): string {
  const { status, output } = runStatus('openssl', args);
  if (status !== 0) throw new Error(output);
  return output;
}
