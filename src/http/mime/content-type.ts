/** A parsed `Content-Type` header: lower-cased media type and its parameters (names lower-cased). */
export interface ContentType {
  mediaType: string;
  parameters: Record<string, string>;
}

/**
 * Parses a Content-Type header value (RFC 7231 media type with quoted-string parameters). Returns
 * undefined when there is no media type.
 */
export function parseContentType(header: string | undefined): ContentType | undefined {
  if (!header) return undefined;
  const match = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*/.exec(header);
  if (!match) return undefined;
  const parameters: Record<string, string> = {};
  const parameter = /;\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))\s*/g;
  parameter.lastIndex = match[0].length;
  let found: RegExpExecArray | null;
  while ((found = parameter.exec(header)) !== null) {
    const value = found[2] !== undefined ? found[2].replace(/\\(.)/g, '$1') : found[3];
    parameters[found[1].toLowerCase()] = value;
  }
  return { mediaType: match[1].toLowerCase(), parameters };
}
