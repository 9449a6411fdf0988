import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cidUrl } from '../../src/contract/swa-reference';
import { multipartSoapResponse } from '../../src/http/mime/multipart-response';
import { runVerifyProof, type VerifyProofOptions } from '../../src/verification/verify-proof-command';
import { testWithTool } from '../support/external-tools';
import {
  cadesT,
  DAY,
  RECEIPT,
  sha256Base64,
  verificationFixture,
  type VerificationFixture,
} from './verification-fixture';

/*
 * `registered-mail verify-proof` as a recipient runs it: files in, a report out, exit 0 only when every
 * check passes, 1 when one fails, 2 when the command is misused.
 */

const ROOT = path.join(__dirname, '../..');
const withOpenssl = testWithTool('openssl', ['version']);

/** Runs the real command (a child process on the TypeScript sources, as test/cli does). */
function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(
    process.execPath,
    ['-r', 'ts-node/register', path.join(ROOT, 'src/cli/main.ts'), 'verify-proof', ...args],
    { cwd: ROOT, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' }, encoding: 'utf8' },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs the command's function in-process (same code, no child process). */
async function run(options: VerifyProofOptions): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await runVerifyProof(options, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { status, stdout, stderr };
}

interface JsonReport {
  passed: boolean;
  proofs: {
    label: string;
    passed: boolean;
    checks: { id: string; name: string; result: string; message: string }[];
  }[];
}

describe('registered-mail verify-proof', () => {
  let fixture: VerificationFixture;
  let files: Record<'der' | 'base64' | 'content' | 'tampered' | 'ca' | 'trustDir', string>;

  beforeAll(async () => {
    fixture = await verificationFixture();
    const dir = path.join(fixture.dir, 'files');
    mkdirSync(path.join(dir, 'trust'), { recursive: true });
    files = {
      der: path.join(dir, 'receipt.p7s'),
      base64: path.join(dir, 'receipt.p7s.b64'),
      content: path.join(dir, 'Receipt.xml'),
      tampered: path.join(dir, 'Receipt-tampered.xml'),
      ca: fixture.pki.ca.certPemPath,
      trustDir: path.join(dir, 'trust'),
    };
    writeFileSync(files.content, RECEIPT);
    writeFileSync(files.tampered, Buffer.concat([RECEIPT, Buffer.from('<!-- added -->')]));
    writeFileSync(
      path.join(files.trustDir, 'root.crt'),
      `-----BEGIN CERTIFICATE-----\n${fixture.pki.ca.certificateDer.toString('base64')}\n-----END CERTIFICATE-----\n`,
    );
  });
  afterAll(() => rmSync(fixture.dir, { recursive: true, force: true }));

  async function writeSignature(): Promise<void> {
    const signature = await cadesT(RECEIPT, fixture.signer, fixture.tsa);
    writeFileSync(files.der, signature);
    writeFileSync(files.base64, signature.toString('base64'));
  }

  withOpenssl('a valid CAdES-T proof: every check PASS, exit 0', async () => {
    await writeSignature();
    const result = cli(['--signature', files.der, '--content', files.content, '--trust', files.ca]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    for (const name of [
      'content digest',
      'CMS signature',
      'signer certificate chain',
      'signed attributes',
      'signing-certificate-v2',
      'time-stamp present',
      'time-stamp imprint',
      'TSA signature',
      'TSA certificate',
      'times',
    ]) {
      expect(result.stdout).toMatch(new RegExp(`^ {2}PASS {2}${name} `, 'm'));
    }
    expect(result.stdout).toMatch(/=> PASS \(10 of 10 checks passed\)/);
    expect(result.stdout).toMatch(/Result: PASS\n$/);
  });

  withOpenssl('a tampered content: exit 1, the content digest FAIL line says why', async () => {
    await writeSignature();
    const result = cli(['--signature', files.base64, '--content', files.tampered, '--trust', files.ca]);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(
      /^ {2}FAIL {2}content digest +CMS message-digest .* does not match the content/m,
    );
    expect(result.stdout).toMatch(/Result: FAIL\n$/);
  });

  withOpenssl('--json, a base64 signature, a trust directory and --at', async () => {
    await writeSignature();
    const at = new Date(Date.now() + DAY).toISOString();
    const result = await run({
      signature: files.base64,
      content: files.content,
      trust: [files.trustDir],
      at,
      json: true,
    });
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as JsonReport & { validationTime: string };
    expect(report.validationTime).toBe(at);
    expect(report.passed).toBe(true);
    expect(report.proofs[0].checks.map((check) => `${check.id}:${check.result}`)).toEqual([
      'content-digest:PASS',
      'cms-signature:PASS',
      'signer-chain:PASS',
      'signed-attributes:PASS',
      'signing-certificate:PASS',
      'time-stamp-present:PASS',
      'time-stamp-imprint:PASS',
      'tsa-signature:PASS',
      'tsa-certificate:PASS',
      'times:PASS',
    ]);
  });

  /** A SignedFile element as the service renders one. */
  function signedFileXml(name: string, content: Buffer, contentId: string, signature: Buffer): string {
    return (
      `<types:${name}><types:Title>${name}</types:Title><types:Digest><types:DigestMethod>SHA-256</types:DigestMethod>` +
      `<types:DigestValue>${sha256Base64(content)}</types:DigestValue></types:Digest>` +
      `<types:DownloadFileName>${name}.xml</types:DownloadFileName><types:MIME>text/xml</types:MIME>` +
      `<types:Type>PROOF</types:Type><types:Language>en</types:Language><types:Content>${cidUrl(contentId)}</types:Content>` +
      `<types:Signature>${signature.toString('base64')}</types:Signature></types:${name}>`
    );
  }

  withOpenssl('a response with several SignedFiles: each is a proof, one failing fails the run', async () => {
    const proof = Buffer.from('<ProofOfDispatch>sent</ProofOfDispatch>');
    const envelope =
      `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>` +
      `<v1:GetStatusResponse xmlns:v1="http://socialsecurity.be/registeredmail/v1" xmlns:types="http://socialsecurity.be/registeredmail/types/v1">` +
      `<types:Ticket>0123456789ABC</types:Ticket><types:Token>T-1</types:Token><types:Status>SENT</types:Status>` +
      signedFileXml(
        'ProofOfDispatch',
        proof,
        'proof/1@registeredmail',
        await cadesT(proof, fixture.signer, fixture.tsa),
      ) +
      signedFileXml(
        'OtherProof',
        RECEIPT,
        'other@registeredmail',
        await cadesT(RECEIPT, fixture.signer, fixture.tsa),
      ) +
      `</v1:GetStatusResponse></soapenv:Body></soapenv:Envelope>`;
    const response = (otherContent: Buffer) => {
      const file = path.join(fixture.dir, 'files', 'get-status-response.bin');
      writeFileSync(
        file,
        multipartSoapResponse(Buffer.from(envelope), [
          { contentId: 'proof/1@registeredmail', contentType: 'text/xml', content: proof },
          { contentId: 'other@registeredmail', contentType: 'text/xml', content: otherContent },
        ]).body,
      );
      return run({ response: file, trust: [files.ca], json: true });
    };

    const good = await response(RECEIPT);
    expect(good.status).toBe(0);
    const report = JSON.parse(good.stdout) as JsonReport;
    expect(report.proofs.map((entry) => [entry.label, entry.passed])).toEqual([
      ['GetStatusResponse/ProofOfDispatch (cid:proof%2F1@registeredmail)', true],
      ['GetStatusResponse/OtherProof (cid:other@registeredmail)', true],
    ]);

    const bad = await response(Buffer.from('<Other/>'));
    expect(bad.status).toBe(1);
    const failed = JSON.parse(bad.stdout) as JsonReport;
    expect(failed.passed).toBe(false);
    expect(failed.proofs.map((entry) => entry.passed)).toEqual([true, false]);
  });

  test('usage errors exit 2 with a message', async () => {
    const content = files.content;
    const cases: [VerifyProofOptions, RegExp][] = [
      [{ signature: content, content }, /--trust <pem file or dir> is required/],
      [
        { signature: content, trust: [files.ca] },
        /give --signature <file> and --content <file>, or --response <file>/,
      ],
      [
        { response: content, signature: content, content, trust: [files.ca] },
        /either --response, or --signature/,
      ],
      [
        { signature: content, content, trust: [files.ca], at: 'yesterday' },
        /--at yesterday: not an ISO 8601 time/,
      ],
      [{ signature: content, content, trust: [files.ca], at: '2026-04-02T08:15' }, /with a time zone/],
      [
        { signature: path.join(fixture.dir, 'missing.p7s'), content, trust: [files.ca] },
        /missing\.p7s: cannot be read/,
      ],
      [
        { signature: content, content, trust: [content] },
        /--trust .*Receipt\.xml: no readable PEM certificate/,
      ],
      [
        { signature: content, content, trust: [files.ca] },
        /--signature .*: the signature is neither DER nor base64/,
      ],
      [{ response: content, trust: [files.ca] }, /--response .*: the response holds no SignedFile/],
    ];
    for (const [options, message] of cases) {
      const result = await run(options);
      expect({ status: result.status, stderr: result.stderr, stdout: result.stdout }).toEqual({
        status: 2,
        stderr: expect.stringMatching(message),
        stdout: '',
      });
    }
  });

  test('the real command exits 2 on an unknown option and on a missing --trust', () => {
    const unknown = cli(['--signature', files.content, '--bogus']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--bogus'/);
    const untrusted = cli(['--signature', files.content, '--content', files.content]);
    expect(untrusted.status).toBe(2);
    expect(untrusted.stderr).toMatch(/--trust <pem file or dir> is required/);
  });
});
