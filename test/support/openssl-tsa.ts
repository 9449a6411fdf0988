import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { MessageImprint, TimeStampAuthority } from '../../src/timestamping/time-stamp-authority';
import { runTool } from '../interop/run-tool';

/*
 * An RFC 3161 TSA that is not ours: `openssl ts -reply` with the dev PKI's TSA key and certificate. The
 * evidence tests time-stamp with it in-process; the HTTP wrapper stands for an external TSA
 * (RM_TSA_URL) that can be told to fail.
 */

/** The key and certificate files the TSA signs with. */
export interface OpensslTsaKeyFiles {
  keyPemPath: string;
  certPemPath: string;
}

/** The policy OID the test TSA states (a private arc: never a real policy). */
export const TEST_TSA_POLICY = '1.3.6.1.4.1.55555.1.1';

/**
 * The minimal `openssl ts -reply` configuration: SHA-256 signer digest, ESSCertIDv2 with SHA-256,
 * accuracy one second, the test policy; the signer key and certificate when given (otherwise the
 * command line names them with -inkey/-signer).
 */
export function opensslTsaConfig(serialFile: string, keyFiles?: OpensslTsaKeyFiles): string {
  return [
    '[ tsa ]',
    'default_tsa = test_tsa',
    '[ test_tsa ]',
    `serial = ${serialFile}`,
    'crypto_device = builtin',
    ...(keyFiles ? [`signer_cert = ${keyFiles.certPemPath}`, `signer_key = ${keyFiles.keyPemPath}`] : []),
    'signer_digest = sha256',
    `default_policy = ${TEST_TSA_POLICY}`,
    'digests = sha256, sha384, sha512',
    'accuracy = secs:1',
    'ordering = yes',
    'tsa_name = no',
    'ess_cert_id_chain = no',
    'ess_cert_id_alg = sha256',
    '',
  ].join('\n');
}

const HASH_FLAG: Record<MessageImprint['hashAlgorithm'], string> = {
  'SHA-256': '-sha256',
  'SHA-384': '-sha384',
  'SHA-512': '-sha512',
};

/** A {@link TimeStampAuthority} answered by `openssl ts -reply` (tokens include the TSA certificate). */
export class OpensslTimeStampAuthority implements TimeStampAuthority {
  private readonly dir: string;
  private readonly configFile: string;
  /** openssl increments a serial file: one reply at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(keyFiles: OpensslTsaKeyFiles) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'rm-openssl-tsa-'));
    this.configFile = path.join(this.dir, 'tsa.cnf');
    writeFileSync(path.join(this.dir, 'serial'), `${randomBytes(8).toString('hex')}\n`);
    writeFileSync(this.configFile, opensslTsaConfig(path.join(this.dir, 'serial'), keyFiles));
  }

  /** A TimeStampToken for the imprint (the query asks for the TSA certificate). */
  async timestamp(imprint: MessageImprint): Promise<Buffer> {
    return this.reply(await this.query(imprint), { tokenOnly: true });
  }

  /** A query (TimeStampReq DER) for the imprint, with a nonce, asking for the TSA certificate. */
  async query(imprint: MessageImprint): Promise<Buffer> {
    const file = path.join(this.dir, `query-${randomBytes(6).toString('hex')}.tsq`);
    try {
      await runTool('openssl', [
        'ts',
        '-query',
        '-digest',
        imprint.digest.toString('hex'),
        HASH_FLAG[imprint.hashAlgorithm],
        '-cert',
        '-out',
        file,
      ]);
      return readFileSync(file);
    } finally {
      rmSync(file, { force: true });
    }
  }

  /** `openssl ts -reply` to a query: the TimeStampResp DER, or only its token. */
  reply(query: Buffer, options: { tokenOnly?: boolean } = {}): Promise<Buffer> {
    const run = this.queue.then(async () => {
      const stem = path.join(this.dir, randomBytes(6).toString('hex'));
      writeFileSync(`${stem}.tsq`, query);
      try {
        await runTool('openssl', [
          'ts',
          '-reply',
          '-config',
          this.configFile,
          '-queryfile',
          `${stem}.tsq`,
          ...(options.tokenOnly ? ['-token_out'] : []),
          '-out',
          `${stem}.tsr`,
        ]);
        return readFileSync(`${stem}.tsr`);
      } finally {
        rmSync(`${stem}.tsq`, { force: true });
        rmSync(`${stem}.tsr`, { force: true });
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Removes the TSA's working directory. */
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** How the HTTP wrapper answers one request. */
export type TsaServerFailure = 'http-500' | 'garbage' | 'wrong-imprint';

/** `openssl ts -reply` behind HTTP (application/timestamp-query in, application/timestamp-reply out). */
export interface OpensslTsaServer {
  url: string;
  /** Requests received so far. */
  readonly requests: number;
  /** The next requests fail, one per entry, in order; later ones are answered normally. */
  failNext(...failures: TsaServerFailure[]): void;
  /** Sets the key and certificate the TSA signs with (until then every request gets HTTP 503). */
  use(keyFiles: OpensslTsaKeyFiles): void;
  close(): Promise<void>;
}

/** Starts the HTTP wrapper on 127.0.0.1 and a free port. */
export async function startOpensslTsaServer(keyFiles?: OpensslTsaKeyFiles): Promise<OpensslTsaServer> {
  let tsa = keyFiles && new OpensslTimeStampAuthority(keyFiles);
  const failures: TsaServerFailure[] = [];
  let requests = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests += 1;
      const failure = failures.shift();
      const answer = (status: number, body: Buffer) =>
        response.writeHead(status, { 'Content-Type': 'application/timestamp-reply' }).end(body);
      if (failure === 'http-500') return answer(500, Buffer.from('internal error'));
      if (failure === 'garbage') return answer(200, Buffer.from('this is not a TimeStampResp'));
      if (tsa === undefined) return answer(503, Buffer.alloc(0));
      let query: Buffer = Buffer.concat(chunks);
      if (failure === 'wrong-imprint') query = withOtherImprint(query);
      tsa.reply(query).then(
        (reply) => answer(200, reply),
        () => answer(500, Buffer.from('openssl ts -reply failed')),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/tsa`,
    get requests() {
      return requests;
    },
    failNext: (...next) => failures.push(...next),
    use(files) {
      tsa?.dispose();
      tsa = new OpensslTimeStampAuthority(files);
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      tsa?.dispose();
    },
  };
}

/** The query with the last byte of its hashedMessage flipped: the reply's token covers other bytes. */
function withOtherImprint(query: Buffer): Buffer {
  // TimeStampReq ::= SEQUENCE { version, messageImprint SEQUENCE { AlgorithmIdentifier, OCTET STRING } ...
  // the digest is the first OCTET STRING of length 32/48/64 in a short query: find its tag and length.
  const copy = Buffer.from(query);
  for (const length of [32, 48, 64]) {
    const at = copy.indexOf(Buffer.from([0x04, length]));
    if (at !== -1) {
      copy[at + 1 + length] ^= 0xff;
      return copy;
    }
  }
  throw new Error('no message imprint found in the query');
}
