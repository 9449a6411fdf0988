import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Element } from '@xmldom/xmldom';
import { appendElement } from '../xml/element-builder';
import { NS } from '../xml/namespaces';

/** The namespace of `xop:Include` (XOP 1.0). */
export const XOP_INCLUDE_NAMESPACE = 'http://www.w3.org/2004/08/xop/include';

/** A binary part of an XOP package whose bytes are read from a file as they are sent. */
export interface MtomFilePart {
  /** Without angle brackets; only characters that need no escaping in a `cid:` URL. */
  contentId: string;
  contentType: string;
  path: string;
}

/** An XOP package ready to send: its HTTP Content-Type and its body, produced chunk by chunk. */
export interface MtomPackage {
  contentType: string;
  body: () => AsyncIterable<Buffer>;
}

/** A fresh Content-ID for a part, unique across requests (as CXF writes them: `<uuid>-<n>@<host>`). */
export function newContentId(label: string): string {
  return `${randomUUID()}-${label}@registered-mail.client`;
}

/** Makes `content` (an xs:base64Binary element) an `xop:Include` of the part `contentId`. */
export function appendXopInclude(content: Element, contentId: string): void {
  const include = appendElement(content, XOP_INCLUDE_NAMESPACE, 'xop:Include', undefined, {
    href: `cid:${contentId}`,
  });
  include.setAttributeNS(NS.xmlns, 'xmlns:xop', XOP_INCLUDE_NAMESPACE);
}

/** Size of the reads from a part's file: a few of them are in memory at once, whatever the file's size. */
const READ_CHUNK_BYTES = 64 * 1024;

/**
 * The XOP package (`multipart/related; type="application/xop+xml"`) of a signed envelope and its parts,
 * as a JAX-WS client on CXF sends it: the envelope as root part (`application/xop+xml; type="text/xml"`),
 * then each part with its Content-ID, its bytes streamed from its file when the body is sent (never read
 * whole into memory).
 */
export function mtomPackage(envelope: Buffer, parts: readonly MtomFilePart[]): MtomPackage {
  const boundary = `uuid:${randomUUID()}`;
  const rootId = `${randomUUID()}-root@registered-mail.client`;
  return {
    contentType:
      `multipart/related; type="application/xop+xml"; boundary="${boundary}"; ` +
      `start="<${rootId}>"; start-info="text/xml"`,
    async *body() {
      yield Buffer.from(
        `--${boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="text/xml"\r\n` +
          `Content-Transfer-Encoding: binary\r\nContent-ID: <${rootId}>\r\n\r\n`,
      );
      yield envelope;
      for (const part of parts) {
        yield Buffer.from(
          `\r\n--${boundary}\r\nContent-Type: ${part.contentType}\r\n` +
            `Content-Transfer-Encoding: binary\r\nContent-ID: <${part.contentId}>\r\n\r\n`,
        );
        for await (const chunk of createReadStream(part.path, { highWaterMark: READ_CHUNK_BYTES })) {
          yield chunk as Buffer;
        }
      }
      yield Buffer.from(`\r\n--${boundary}--\r\n`);
    },
  };
}
