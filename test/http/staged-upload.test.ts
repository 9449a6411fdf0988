import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { readSoapRequest } from '../../src/http/mime/read-soap-request';
import { StagingArea } from '../../src/storage/staging-area';
import { stagedFileOf } from '../support/staged-bytes';

/*
 * A SwA request read by readSoapRequest over a real HTTP connection and its attachment staged to a real
 * file, as the service does with a document: the bytes on disk and both hashes are those sent, also when
 * the part is larger than what the staging writer keeps pending and than its write-behind step, and a
 * request cut short leaves no staged file.
 */

const BOUNDARY = 'uuid:0b3c1a1e-staged-upload';
const CONTENT_TYPE = `multipart/related; type="text/xml"; start="<root@x>"; boundary="${BOUNDARY}"`;
const HEAD = Buffer.from(
  `--${BOUNDARY}\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-ID: <root@x>\r\n\r\n` +
    '<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body/></S:Envelope>\r\n' +
    `--${BOUNDARY}\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: binary\r\n` +
    'Content-ID: <doc@x>\r\n\r\n',
);
const TAIL = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);

interface Staged {
  path: string;
  size: number;
  sha256: string;
  sha512: string | undefined;
}

let dataDir: string;
let area: StagingArea;
let server: http.Server;
let url: string;
/** What the last request staged, or the error it ended with. */
let lastOutcome: Promise<Staged> | undefined;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'rm-staged-upload-'));
  area = new StagingArea(dataDir);
  await area.cleanOnStartup(); // creates the staging directory
  server = http.createServer((request, response) => {
    lastOutcome = (async () => {
      const soap = await readSoapRequest(request, {
        maxRequestBytes: 512 * 1024 * 1024,
        maxParts: 4,
        maxEnvelopeBytes: 64 * 1024,
      });
      const part = await soap.nextAttachment();
      if (!part) throw new Error('no attachment');
      const staged = await area.openSession().stage(part.content, { sha512: true });
      return {
        path: stagedFileOf(staged),
        size: staged.size,
        sha256: staged.sha256.toString('hex'),
        sha512: staged.sha512?.toString('hex'),
      };
    })();
    lastOutcome.then(
      () => response.end('ok'),
      () => response.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dataDir, { recursive: true, force: true });
});

/** Sends HEAD, `content` in 1 MiB writes, TAIL (unless `cut`: then the connection ends mid-part). */
function send(content: Buffer, options: { cut?: boolean } = {}): Promise<void> {
  return new Promise((resolve) => {
    const outgoing = http.request(url, {
      method: 'POST',
      headers: {
        'Content-Type': CONTENT_TYPE,
        'Content-Length': HEAD.length + content.length + TAIL.length,
      },
    });
    outgoing.on('error', () => undefined);
    outgoing.on('close', () => resolve());
    outgoing.on('response', (response) => {
      response.resume();
      response.on('end', resolve);
    });
    outgoing.write(HEAD);
    const sent = options.cut ? content.subarray(0, content.length / 2) : content;
    for (let offset = 0; offset < sent.length; offset += 1024 * 1024) {
      outgoing.write(sent.subarray(offset, offset + 1024 * 1024));
    }
    if (options.cut) {
      // Let the first half arrive, then drop the connection without the rest.
      outgoing.once('drain', () => outgoing.destroy());
      if (outgoing.writableLength === 0) outgoing.destroy();
    } else {
      outgoing.end(TAIL);
    }
  });
}

function stagedFiles(): string[] {
  const root = path.join(dataDir, 'staging');
  return readdirSync(root).flatMap((session) => readdirSync(path.join(root, session)));
}

describe('a SwA attachment streamed to the staging area', () => {
  it('stages exactly the bytes sent, with their SHA-256 and SHA-512, beyond the writer’s buffers', async () => {
    // Larger than the 8 MiB kept pending and the 64 MiB write-behind step; not a multiple of either.
    const content = randomBytes(70 * 1024 * 1024 + 12_345);
    await send(content);
    const staged = await (lastOutcome as Promise<Staged>);
    expect(staged.size).toBe(content.length);
    expect(staged.sha256).toBe(createHash('sha256').update(content).digest('hex'));
    expect(staged.sha512).toBe(createHash('sha512').update(content).digest('hex'));
    expect(readFileSync(staged.path).equals(content)).toBe(true);
  }, 60_000);

  it('stages a part that holds boundary-like bytes (a CRLF and dashes) unchanged', async () => {
    const content = Buffer.concat([
      randomBytes(100_000),
      Buffer.from(`\r\n--${BOUNDARY.slice(0, -1)}\r\n--`),
      randomBytes(100_000),
    ]);
    await send(content);
    const staged = await (lastOutcome as Promise<Staged>);
    expect(readFileSync(staged.path).equals(content)).toBe(true);
  });

  it('a request cut short fails the staging and leaves no staged file', async () => {
    const before = stagedFiles();
    await send(randomBytes(20 * 1024 * 1024), { cut: true });
    await expect(lastOutcome as Promise<Staged>).rejects.toThrow();
    expect(stagedFiles()).toEqual(before);
  }, 60_000);
});
