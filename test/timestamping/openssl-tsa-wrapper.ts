import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runTool } from '../interop/run-tool';
import { writeTemp, type TsaTestPki } from './tsa-test-support';

/*
 * An independent RFC 3161 TSA for the client tests: `openssl ts -reply` with the dev PKI's TSA key and
 * certificate, behind a small HTTP server whose answer each test decides (openssl's reply, a doctored
 * one, garbage, an HTTP error, or nothing at all).
 */

/** The policy of the openssl TSA (under RFC 5612's documentation arc). */
export const OPENSSL_TSA_POLICY = '1.3.6.1.4.1.32473.99.1';

/** A minimal `openssl ts` configuration section; `digests` and `essCertIdAlg` vary by test. */
export function opensslTsConfig(
  testPki: TsaTestPki,
  options: { digests?: string; essCertIdAlg?: string } = {},
): string {
  const serial = writeTemp(testPki.dir, 'serial', `${randomBytes(8).toString('hex')}\n`);
  return writeTemp(
    testPki.dir,
    'ts.cnf',
    [
      '[ tsa ]',
      'default_tsa = tsa_config',
      '[ tsa_config ]',
      `serial = ${serial}`,
      'crypto_device = builtin',
      'signer_digest = sha256',
      `default_policy = ${OPENSSL_TSA_POLICY}`,
      `digests = ${options.digests ?? 'sha256, sha384, sha512'}`,
      'accuracy = secs:1',
      'ordering = no',
      'tsa_name = yes',
      'ess_cert_id_chain = no',
      `ess_cert_id_alg = ${options.essCertIdAlg ?? 'sha256'}`,
      '',
    ].join('\n'),
  );
}

/** `openssl ts -reply -queryfile q.tsq -signer tsa.pem -inkey tsa.key -config ts.cnf`: the TimeStampResp. */
export async function opensslReply(
  testPki: TsaTestPki,
  query: Buffer,
  config = opensslTsConfig(testPki),
): Promise<Buffer> {
  const queryFile = writeTemp(testPki.dir, 'q.tsq', query);
  const out = `${queryFile}.tsr`;
  await runTool('openssl', [
    'ts',
    '-reply',
    '-queryfile',
    queryFile,
    '-signer',
    testPki.pki.tsa.certPemPath,
    '-inkey',
    testPki.pki.tsa.keyPemPath,
    '-config',
    config,
    '-out',
    out,
  ]);
  return readFileSync(out);
}

/** How the wrapper answers a query: an HTTP status and body, or never. */
export type WrapperAnswer = { status?: number; body: Buffer } | 'never';

/** A running wrapper. */
export interface TsaWrapper {
  url: string;
  /** The queries received, in order. */
  queries: Buffer[];
  /** The Content-Type of each query. */
  contentTypes: (string | undefined)[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 that answers each POSTed query as `answer` says. */
export async function startTsaWrapper(
  answer: (query: Buffer) => Promise<WrapperAnswer>,
): Promise<TsaWrapper> {
  const queries: Buffer[] = [];
  const contentTypes: (string | undefined)[] = [];
  const server: Server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const query = Buffer.concat(chunks);
      queries.push(query);
      contentTypes.push(request.headers['content-type']);
      answer(query).then(
        (result) => {
          if (result === 'never') return;
          response
            .writeHead(result.status ?? 200, { 'Content-Type': 'application/timestamp-reply' })
            .end(result.body);
        },
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/tsa`,
    queries,
    contentTypes,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
