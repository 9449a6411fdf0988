/**
 * The Content-ID a swaRef `cid:` URL refers to (RFC 2392: the remainder percent-decoded, compared with
 * the part's Content-ID header without its angle brackets, as WS-I Attachments Profile 1.0 says), or
 * undefined when the value is not a well-formed cid: URL.
 */
export function contentIdFromCidUrl(url: string): string | undefined {
  const trimmed = url.trim();
  if (!/^cid:/i.test(trimmed)) return undefined;
  try {
    const id = decodeURIComponent(trimmed.slice(4));
    return id.length > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The `cid:` URL for a Content-ID (percent-encoding what RFC 2392 requires). */
export function cidUrl(contentId: string): string {
  return `cid:${encodeURIComponent(contentId).replace(/%40/g, '@')}`;
}
