import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as Multipart from 'multipasta';
import { mtomPackage } from '../../src/client/mtom-package';

/*
 * The XOP package `send` streams: read back with a real MIME parser (multipasta, which the service uses),
 * the file's bytes arrive whole while no chunk of the body holds more than one read of the file.
 */

function parse(
  contentType: string,
  body: Buffer,
): Promise<{ headers: Record<string, unknown>; content: Buffer }[]> {
  return new Promise((resolve, reject) => {
    const parts: { headers: Record<string, unknown>; chunks: Buffer[] }[] = [];
    const parser = Multipart.make({
      headers: { 'content-type': contentType },
      isFile: () => true,
      onFile: (info) => {
        const part = { headers: info.headers as Record<string, unknown>, chunks: [] as Buffer[] };
        parts.push(part);
        return (chunk) => {
          if (chunk) part.chunks.push(Buffer.from(chunk));
        };
      },
      onField: () => undefined,
      onError: (error) => reject(new Error(JSON.stringify(error))),
      onDone: () =>
        resolve(parts.map((part) => ({ headers: part.headers, content: Buffer.concat(part.chunks) }))),
    });
    parser.write(body);
    parser.end();
  });
}

describe('mtomPackage', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rm-cli-mtom-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('the envelope as root part, then the file streamed in bounded chunks, whole', async () => {
    const file = path.join(dir, 'large.bin');
    const content = randomBytes(5 * 1024 * 1024 + 3);
    writeFileSync(file, content);
    const envelope = Buffer.from(
      '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"/>',
    );
    const xop = mtomPackage(envelope, [
      { contentId: 'doc-1@test', contentType: 'application/pdf', path: file },
    ]);
    expect(xop.contentType).toMatch(
      /^multipart\/related; type="application\/xop\+xml"; boundary="uuid:[0-9a-f-]+"; start="<[^>]+>"; start-info="text\/xml"$/,
    );

    const chunks: Buffer[] = [];
    for await (const chunk of xop.body()) chunks.push(chunk);
    expect(Math.max(...chunks.map((chunk) => chunk.length))).toBeLessThanOrEqual(64 * 1024);

    const [root, part, ...rest] = await parse(xop.contentType, Buffer.concat(chunks));
    expect(rest).toEqual([]);
    expect(root.headers['content-type']).toBe('application/xop+xml; charset=UTF-8; type="text/xml"');
    expect(root.content.equals(envelope)).toBe(true);
    expect(part.headers['content-id']).toBe('<doc-1@test>');
    expect(part.headers['content-type']).toBe('application/pdf');
    expect(part.content.equals(content)).toBe(true);
  });
});
