/** A part's `Content-ID` header value without its angle brackets. */
export function contentIdFromHeader(header: string): string {
  const trimmed = header.trim();
  return trimmed.startsWith('<') && trimmed.endsWith('>') ? trimmed.slice(1, -1) : trimmed;
}
