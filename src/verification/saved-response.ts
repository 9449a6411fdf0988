import type { Element } from '@xmldom/xmldom';
import { contentIdFromCidUrl } from '../contract/swa-reference';
import { contentIdFromHeader } from '../http/mime/content-id';
import { parseContentType } from '../http/mime/content-type';
import { createDomParser } from '../xml/dom-parser';
import { NS } from '../xml/namespaces';
import type { ProofInput } from './proof-evidence';
import { decodeSignatureFile } from './signature-file';

/*
 * A response as the service sends it, saved to a file: the HTTP body of a `multipart/related` SOAP with
 * Attachments message (optionally preceded by its HTTP headers), whose envelope holds SignedFile
 * elements (a receipt's `Document`, a `ProofOfDispatch`...) whose `Content` names a part by `cid:` and
 * whose `Signature` is the base64 of the detached CMS signature over that part's bytes.
 */

/** The saved response cannot be read as one. */
export class SavedResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SavedResponseError';
  }
}

interface MimePart {
  headers: Map<string, string>;
  content: Buffer;
}

const ELEMENT_NODE = 1;

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

/** Splits at the first blank line: (headers, rest). */
function splitHead(bytes: Buffer): { head: string; rest: Buffer } | undefined {
  const crlf = bytes.indexOf('\r\n\r\n');
  const lf = bytes.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return undefined;
  const [end, length] = crlf !== -1 && (lf === -1 || crlf < lf) ? [crlf, 4] : [lf, 2];
  return { head: bytes.subarray(0, end).toString('latin1'), rest: bytes.subarray(end + length) };
}

function decodePart(raw: Buffer): MimePart {
  const split = splitHead(raw);
  if (split === undefined) return { headers: new Map(), content: raw };
  const headers = parseHeaders(split.head);
  const encoding = (headers.get('content-transfer-encoding') ?? 'binary').toLowerCase();
  if (encoding === 'base64') {
    return { headers, content: Buffer.from(split.rest.toString('latin1').replace(/\s+/g, ''), 'base64') };
  }
  if (!['binary', '8bit', '7bit'].includes(encoding)) {
    throw new SavedResponseError(`Content-Transfer-Encoding ${encoding} is not supported`);
  }
  return { headers, content: split.rest };
}

/** The parts between the boundaries (RFC 2046 section 5.1.1). */
function splitMultipart(body: Buffer, boundary: string): MimePart[] {
  const delimiter = `--${boundary}`;
  let position = body.indexOf(delimiter);
  if (position === -1) throw new SavedResponseError(`no MIME boundary ${delimiter} in the response`);
  const parts: MimePart[] = [];
  for (;;) {
    const after = position + delimiter.length;
    if (body.subarray(after, after + 2).toString('latin1') === '--') return parts;
    const lineEnd = body.indexOf('\n', after);
    if (lineEnd === -1) throw new SavedResponseError('the multipart body is truncated');
    const next = body.indexOf(`\n${delimiter}`, lineEnd);
    if (next === -1) throw new SavedResponseError('the multipart body is truncated (no closing boundary)');
    const end = body[next - 1] === 0x0d ? next - 1 : next;
    parts.push(decodePart(body.subarray(lineEnd + 1, end)));
    position = next + 1;
  }
}

/** The envelope and the attachments by Content-ID. */
function readMessage(file: Buffer): { envelope: Buffer; parts: Map<string, Buffer> } {
  const start = file.subarray(0, 512).toString('latin1').trimStart();
  if (start.startsWith('<')) return { envelope: file, parts: new Map() };
  let body = file;
  let boundary: string | undefined;
  let startId: string | undefined;
  if (start.startsWith('--')) {
    const firstLine = body.toString('latin1', 0, Math.max(body.indexOf('\n'), 0)).trim();
    boundary = firstLine.slice(2);
  } else {
    // HTTP headers (a status line allowed) before the body.
    const split = splitHead(file);
    const contentType =
      split &&
      parseContentType(parseHeaders(split.head.replace(/^HTTP\/\S+ .*\r?\n/, '')).get('content-type'));
    if (split === undefined || contentType === undefined) {
      throw new SavedResponseError('the response is neither a SOAP envelope nor a multipart message');
    }
    body = split.rest;
    if (contentType.mediaType !== 'multipart/related') return { envelope: body, parts: new Map() };
    boundary = contentType.parameters.boundary;
    startId = contentType.parameters.start && contentIdFromHeader(contentType.parameters.start);
  }
  if (!boundary) throw new SavedResponseError('multipart response without a boundary');
  const mimeParts = splitMultipart(body, boundary);
  if (mimeParts.length === 0) throw new SavedResponseError('the multipart response has no part');
  const idOf = (part: MimePart) => contentIdFromHeader(part.headers.get('content-id') ?? '');
  const root = (startId && mimeParts.find((part) => idOf(part) === startId)) || mimeParts[0];
  const parts = new Map<string, Buffer>();
  for (const part of mimeParts) if (part !== root) parts.set(idOf(part), part.content);
  return { envelope: root.content, parts };
}

function childrenOf(element: Element): Element[] {
  const children: Element[] = [];
  for (let child = element.firstChild; child; child = child.nextSibling) {
    if (child.nodeType === ELEMENT_NODE) children.push(child as Element);
  }
  return children;
}

function typesChild(element: Element, localName: string): Element | undefined {
  return childrenOf(element).find(
    (child) => child.namespaceURI === NS.types && child.localName === localName,
  );
}

/** Every SignedFile-shaped element (types namespace, with Content and Signature), with its path. */
function signedFiles(element: Element, path: string[], found: { element: Element; path: string }[]): void {
  for (const child of childrenOf(element)) {
    const childPath = [...path, child.localName ?? ''];
    if (child.namespaceURI === NS.types && typesChild(child, 'Content') && typesChild(child, 'Signature')) {
      found.push({ element: child, path: childPath.join('/') });
    } else {
      signedFiles(child, childPath, found);
    }
  }
}

function parseEnvelope(envelope: Buffer): Element {
  const parser = createDomParser({
    onError: (level, message) => {
      if (level !== 'warning')
        throw new SavedResponseError(
          `the envelope is not well-formed XML (${String(message).slice(0, 200)})`,
        );
    },
  });
  try {
    const document = parser.parseFromString(envelope.toString('utf8'), 'text/xml');
    const root = document.documentElement;
    if (!root) throw new SavedResponseError('the envelope has no root element');
    return root as Element;
  } catch (error) {
    if (error instanceof SavedResponseError) throw error;
    throw new SavedResponseError('the envelope is not well-formed XML');
  }
}

/**
 * The proofs of a saved response: one per SignedFile, its content taken from the part its `cid:` names.
 * @throws SavedResponseError when the file is not such a response, holds no SignedFile, or a SignedFile's
 *   part is missing
 */
export function proofsFromSavedResponse(file: Buffer): ProofInput[] {
  const { envelope, parts } = readMessage(file);
  const root = parseEnvelope(envelope);
  const body = root.namespaceURI === NS.soap11 ? typesOrSoapBody(root) : root;
  const found: { element: Element; path: string }[] = [];
  signedFiles(body, [], found);
  if (found.length === 0)
    throw new SavedResponseError('the response holds no SignedFile (no Content with a Signature)');
  return found.map(({ element, path }) => {
    const cid = (typesChild(element, 'Content')?.textContent ?? '').trim();
    const contentId = contentIdFromCidUrl(cid);
    const content = contentId === undefined ? undefined : parts.get(contentId);
    if (content === undefined)
      throw new SavedResponseError(
        `${path}: no MIME part has the Content-ID that ${cid || 'its Content'} names`,
      );
    const signatureText = Buffer.from(typesChild(element, 'Signature')?.textContent ?? '', 'latin1');
    let signature: Buffer;
    try {
      signature = decodeSignatureFile(signatureText);
    } catch {
      signature = signatureText; // not base64 of a CMS signature: every check then says it is unreadable
    }
    const digest = typesChild(element, 'Digest');
    const digestMethod = digest && typesChild(digest, 'DigestMethod')?.textContent;
    const digestValue = digest && typesChild(digest, 'DigestValue')?.textContent;
    // A SignedFile always carries a Digest: an empty method makes the content-digest check say it lacks one.
    return {
      label: `${path} (${cid})`,
      signature,
      content,
      signedFile: { digestMethod: (digestMethod ?? '').trim(), digestValue: digestValue ?? '' },
    };
  });
}

/** The SOAP Body of an envelope (or the envelope itself when it has none). */
function typesOrSoapBody(envelope: Element): Element {
  return (
    childrenOf(envelope).find((child) => child.namespaceURI === NS.soap11 && child.localName === 'Body') ??
    envelope
  );
}
