import { createHash, createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { encodePkcs12 } from '../../src/pki/pkcs12';
import { testWithTool } from '../support/external-tools';
import { proofProblems } from '../support/proof-checks';
import { startTestService, type TestService } from '../support/service-fixture';
import { selfSignedCertificate } from '../support/test-certificates';
import { samplePdf } from '../support/v1-requests';
import { CliRunner, hasStackTrace, type CliResult } from './cli-runner';

/*
 * `registered-mail send`, `status` and `proof` as a user runs them: the real command in a child process
 * against a real service (started in the test, on a ManualClock set to the wall-clock time before each
 * command, since the command signs with the wall clock), with the defaults of a local run: the sender key
 * and the service certificate of the dev PKI under RM_DATA_DIR. Every saved proof is checked with openssl
 * and the project's verify-proof, and the e-Box simulator shows that the bytes of each file arrived.
 */

const CITIZEN = '85073003328';
const TYPES = 'http://socialsecurity.be/registeredmail/types/v1';
const EVIDENCE = 'urn:registeredmail:evidence:v1';
const SENT_LINE = /^(.+): ticket ([0-9A-HJ-NP-Z]{13}), token (\S+), receipt (\S+)$/;

/** One line of `send`'s standard output. */
interface SentLine {
  file: string;
  ticket: string;
  token: string;
  receipt: string;
}

function sentLines(stdout: string): SentLine[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const match = SENT_LINE.exec(line);
      if (!match) throw new Error(`not a sent line: ${line}`);
      return { file: match[1], ticket: match[2], token: match[3], receipt: match[4] };
    });
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function textOf(document: Buffer, namespace: string, localName: string): string[] {
  const root = new DOMParser().parseFromString(document.toString('utf8'), 'text/xml')
    .documentElement as Element;
  return Array.from(root.getElementsByTagNameNS(namespace, localName)).map(
    (element) => element.textContent ?? '',
  );
}

/** Expects a failed command: the status, its one-line reason on stderr, and no stack trace anywhere. */
function expectFailure(result: CliResult, status: number, reason: RegExp): void {
  expect({ status: result.status, stderr: result.stderr }).toEqual({
    status,
    stderr: expect.stringMatching(reason),
  });
  expect(hasStackTrace(result.stdout + result.stderr)).toBe(false);
}

/** A service with its own data directory, and the command run against it. */
class ServiceUnderTest {
  constructor(
    readonly rm: TestService,
    private readonly cli: CliRunner,
  ) {}

  get caFile(): string {
    return path.join(this.rm.dataDir, 'dev-pki/ca/root-ca.cert.pem');
  }

  /** Runs `registered-mail <args> --url <the service>` with RM_DATA_DIR the service's. */
  run(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
    this.rm.clock.set(Date.now());
    return this.cli.run([...args, '--url', this.rm.baseUrl], { RM_DATA_DIR: this.rm.dataDir, ...env });
  }

  /** Waits until the delivery worker has published every due item. */
  drain(): Promise<void> {
    this.rm.clock.set(Date.now());
    return this.rm.service.delivery.worker.drain();
  }
}

describe('registered-mail send, status and proof', () => {
  let cli: CliRunner;
  let dir: string;
  beforeAll(() => {
    cli = CliRunner.create();
    dir = mkdtempSync(path.join(os.tmpdir(), 'rm-cli-client-'));
  });
  afterAll(() => {
    cli?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes a file under the test directory. */
  function file(name: string, content: Buffer): string {
    const target = path.join(dir, name);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content);
    return target;
  }

  describe('with delivery running', () => {
    let service: ServiceUnderTest;
    let files: Record<string, { path: string; content: Buffer; contentType: string }>;
    let sent: CliResult;
    let lines: SentLine[];
    const receiptsDir = () => path.join(dir, 'receipts');

    beforeAll(async () => {
      service = new ServiceUnderTest(await startTestService({ RM_DELIVERY_PAUSED: 'false' }), cli);
      const contents = {
        'decision.pdf': { content: samplePdf('cli'), contentType: 'application/pdf' },
        'note.txt': { content: Buffer.from('Explanatory note\n'), contentType: 'text/plain' },
        // Several MiB: streamed in chunks into the MTOM part (and the whole of it must arrive).
        'scan.bin': { content: randomBytes(3 * 1024 * 1024 + 17), contentType: 'application/octet-stream' },
      };
      files = Object.fromEntries(
        Object.entries(contents).map(([name, value]) => [
          name,
          { ...value, path: file(`batch/${name}`, value.content) },
        ]),
      );
      sent = await service.run([
        'send',
        ...Object.values(files).map((entry) => entry.path),
        '--inss',
        CITIZEN,
        '--type',
        'EDER501',
        '--language',
        'fr',
        '--receipts-dir',
        receiptsDir(),
        '--concurrency',
        '2',
      ]);
    });
    afterAll(async () => {
      // close() also verifies every receipt and proof of the data directory with openssl and Bouncy Castle.
      await service?.rm.close();
    });

    test('send of 3 files: one line each with its ticket, token and saved receipt; exit 0', () => {
      expect(sent.status).toBe(0);
      lines = sentLines(sent.stdout);
      expect(lines.map((line) => line.file).sort()).toEqual(
        Object.values(files)
          .map((entry) => entry.path)
          .sort(),
      );
      expect(new Set(lines.map((line) => line.ticket)).size).toBe(3);
      expect(new Set(lines.map((line) => line.token)).size).toBe(3);
      expect(sent.stderr).toBe('3 sent, 0 failed\n');
      for (const line of lines) {
        expect(line.receipt).toBe(path.join(receiptsDir(), `${line.ticket}-receipt.xml`));
        expect(existsSync(`${line.receipt}.p7s`)).toBe(true);
      }
    });

    test("each receipt names its ticket, token and the file's SHA-256, and the e-Box got the file's bytes", async () => {
      await service.drain();
      const messages = service.rm.service.eboxSimulator!.messages();
      for (const line of lines) {
        const sentFile = Object.values(files).find((entry) => entry.path === line.file)!;
        const receipt = readFileSync(line.receipt);
        expect(textOf(receipt, TYPES, 'Ticket')).toEqual([line.ticket]);
        expect(textOf(receipt, TYPES, 'Token')).toEqual([line.token]);
        expect(textOf(receipt, TYPES, 'DigestValue')).toEqual([
          createHash('sha256').update(sentFile.content).digest('base64'),
        ]);
        const [message] = messages.filter((candidate) => candidate.idempotencyKey === line.ticket);
        const main = message.attachments.find((attachment) => attachment.isMainContent);
        expect(main).toMatchObject({
          size: sentFile.content.length,
          sha256: sha256Hex(sentFile.content),
          contentType: sentFile.contentType,
        });
      }
    });

    testWithTool('openssl', ['version'])(
      'the saved receipts verify with openssl cms -verify and with registered-mail verify-proof',
      async () => {
        for (const line of lines) {
          const proof = {
            label: line.receipt,
            content: readFileSync(line.receipt),
            signature: readFileSync(`${line.receipt}.p7s`),
          };
          expect(await proofProblems(proof, service.caFile, new Date())).toEqual([]);
        }
        const [first] = lines;
        const verified = await cli.run(
          [
            'verify-proof',
            '--signature',
            `${first.receipt}.p7s`,
            '--content',
            first.receipt,
            '--trust',
            service.caFile,
          ],
          {},
        );
        expect(verified.status).toBe(0);
        expect(verified.stdout).toMatch(/Result: PASS/);
      },
    );

    test('status of a ticket: the status and the history, as text and as JSON', async () => {
      await service.drain();
      const [first] = lines;
      const text = await service.run(['status', first.ticket]);
      expect(text).toMatchObject({ status: 0, stderr: '' });
      expect(text.stdout).toContain(`ticket  ${first.ticket}\ntoken   ${first.token}\nstatus  SENT\n`);
      expect(text.stdout).toMatch(/^ {2}\S+Z {2}ACCEPTED +PENDING/m);
      expect(text.stdout).toMatch(/^ {2}\S+Z {2}PUBLISHED +SENT +.*e-Box message/m);

      const json = await service.run(['status', first.ticket, '--json']);
      expect(json.status).toBe(0);
      const answer = JSON.parse(json.stdout) as {
        ticket: string;
        token: string;
        status: string;
        events: { name: string }[];
      };
      expect(answer).toMatchObject({ ticket: first.ticket, token: first.token, status: 'SENT' });
      expect(answer.events.map((event) => event.name)).toEqual(['ACCEPTED', 'PUBLISHED']);
    });

    testWithTool('openssl', ['version'])(
      'proof DISPATCH once SENT: saved as answered, verifies with openssl; ALL saves the receipt as sent',
      async () => {
        await service.drain();
        const [first] = lines;
        const target = path.join(dir, 'proofs', 'dispatch.xml');
        const dispatch = await service.run(['proof', first.ticket, '--kind', 'DISPATCH', '--out', target]);
        expect(dispatch).toMatchObject({
          status: 0,
          stderr: '',
          stdout: `DISPATCH: ${target} (signature ${target}.p7s)\n`,
        });
        const evidence = {
          label: target,
          content: readFileSync(target),
          signature: readFileSync(`${target}.p7s`),
        };
        expect(await proofProblems(evidence, service.caFile, new Date())).toEqual([]);
        expect(textOf(evidence.content, EVIDENCE, 'ERDSEventId')).toEqual(['ContentConsignment']);
        expect(textOf(evidence.content, EVIDENCE, 'Ticket')).toEqual([first.ticket]);

        const allDir = path.join(dir, 'proofs', 'all');
        const all = await service.run(['proof', first.ticket, '--kind', 'ALL', '--out', allDir]);
        expect(all.status).toBe(0);
        expect(readdirSync(allDir).sort()).toEqual(
          ['dispatch.xml', 'dispatch.xml.p7s', 'receipt.xml', 'receipt.xml.p7s'].map(
            (name) => `${first.ticket}-${name}`,
          ),
        );
        const savedReceipt = path.join(allDir, `${first.ticket}-receipt.xml`);
        expect(readFileSync(savedReceipt).equals(readFileSync(first.receipt))).toBe(true);
        expect(readFileSync(`${savedReceipt}.p7s`).equals(readFileSync(`${first.receipt}.p7s`))).toBe(true);
        const savedDispatch = path.join(allDir, `${first.ticket}-dispatch.xml`);
        expect(readFileSync(savedDispatch).equals(evidence.content)).toBe(true);
      },
    );

    test('proof of an unknown ticket: REPO_B01 said plainly, exit 1, nothing saved', async () => {
      const out = path.join(dir, 'unknown-proofs');
      const result = await service.run(['proof', '7K3M9QX2BH4TZ', '--kind', 'RECEIPT', '--out', `${out}/`]);
      expectFailure(
        result,
        1,
        /^registered-mail proof: REPO_B01 Ticket provided does not match Registered Mail Item\n$/,
      );
      expect(existsSync(out)).toBe(false);
    });

    test('send with a key the service does not trust: the fault, exit 1, no receipt, no stack trace', async () => {
      const stranger = await selfSignedCertificate({ commonName: 'stranger' });
      const keyStore = file(
        'stranger.p12',
        encodePkcs12({
          alias: 'stranger',
          privateKey: createPrivateKey(stranger.keyPem),
          chain: [Buffer.from(new X509Certificate(stranger.certPem).raw)],
          password: 'secret',
        }),
      );
      const document = files['note.txt'].path;
      const strangerReceipts = path.join(dir, 'stranger-receipts');
      const args = [
        'send',
        document,
        '--inss',
        CITIZEN,
        '--type',
        'EDER501',
        '--receipts-dir',
        strangerReceipts,
      ];

      const refused = await service.run([...args, '--key', keyStore, '--password', 'secret']);
      expectFailure(
        refused,
        1,
        new RegExp(`^${document}: FAILED SOA-01001 Service call not authenticated\\.\\n$`),
      );
      expect(refused.stdout).toBe('');
      expect(existsSync(strangerReceipts)).toBe(false);

      const wrongPassword = await service.run([...args], {
        RM_CLIENT_KEY: keyStore,
        RM_CLIENT_KEY_PASSWORD: 'wrong',
      });
      expectFailure(
        wrongPassword,
        2,
        /^registered-mail send: --key .*stranger\.p12: cannot be read: .*Invalid password/,
      );
    });

    test("an answer not signed with the service's certificate is refused loudly, exit 1", async () => {
      const other = await selfSignedCertificate({ commonName: 'not the service' });
      const pinned = file('other-service.cert.pem', Buffer.from(other.certPem));
      const result = await service.run(['status', lines[0].ticket, '--service-cert', pinned]);
      expectFailure(
        result,
        1,
        /^registered-mail status: the answer cannot be trusted: the signer is not the service certificate CN=not the service/,
      );
      expect(result.stdout).toBe('');
    });
  });

  describe('with delivery paused', () => {
    let service: ServiceUnderTest;
    beforeAll(async () => {
      service = new ServiceUnderTest(await startTestService({ RM_DELIVERY_PAUSED: 'true' }), cli);
    });
    afterAll(async () => {
      await service?.rm.close();
    });

    test('a PENDING item: status PENDING, proof DISPATCH not issued yet (PROOF_B01, exit 3) until published', async () => {
      const document = file('pending/letter.pdf', samplePdf('pending'));
      const receipts = path.join(dir, 'pending-receipts');
      const sent = await service.run([
        'send',
        document,
        '--cbe',
        '0206731645',
        '--type',
        'EDER501',
        '--token',
        'CLI-PENDING-1',
        '--receipts-dir',
        receipts,
      ]);
      expect(sent).toMatchObject({ status: 0, stderr: '' });
      const [line] = sentLines(sent.stdout);
      expect(line.token).toBe('CLI-PENDING-1');

      const status = await service.run(['status', line.ticket]);
      expect(status.stdout).toContain('status  PENDING\n');

      const out = path.join(dir, 'pending-proofs');
      const notYet = await service.run(['proof', line.ticket, '--kind', 'DISPATCH', '--out', `${out}/`]);
      expectFailure(
        notYet,
        3,
        new RegExp(
          `^registered-mail proof: the DISPATCH proof of ${line.ticket} is not issued yet \\(PROOF_B01`,
        ),
      );
      expect(existsSync(out)).toBe(false);

      await service.drain();
      const issued = await service.run(['proof', line.ticket, '--kind', 'DISPATCH', '--out', `${out}/`]);
      expect(issued.status).toBe(0);
      expect(existsSync(path.join(out, `${line.ticket}-dispatch.xml.p7s`))).toBe(true);
    });
  });
});
