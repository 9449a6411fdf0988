import {
  decodeDerString,
  decodeObjectIdentifier,
  DER_TAG,
  derChildren,
  DerError,
  readSingleDerElement,
} from './der';

/*
 * Distinguished names compared the way directories compare them: as sequences of RDNs whose attributes
 * have the same types (OIDs) and equal values. A name arrives as text in an `ds:X509IssuerName`
 * (RFC 4514 / RFC 2253, most significant RDN last, as Java's `X500Principal.getName()` writes it and
 * WSS4J 1.6 copies it, or the looser RFC 1779 forms some toolkits write: spaces after separators, `;`,
 * quoted values, `OID.` prefixes) and is compared to a certificate's issuer, read from its DER.
 */

/** One attribute of a name, its value normalised for comparison. */
export interface NameAttribute {
  /** The attribute type's OID, dotted (`2.5.4.3`). */
  type: string;
  /**
   * A character string value, normalised (NFKC, lower case, white space runs collapsed, trimmed), or the
   * DER of any other value as lowercase hex.
   */
  value: { text: string } | { derHex: string };
}

/** A name as its RDNs in encoding order (most significant first), each RDN's attributes in any order. */
export type ComparableName = NameAttribute[][];

/** Attribute type keywords of RFC 4514 and the other common ones, upper case, by OID. */
const KEYWORD_OIDS: Readonly<Record<string, string>> = {
  CN: '2.5.4.3',
  SURNAME: '2.5.4.4',
  SERIALNUMBER: '2.5.4.5',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  S: '2.5.4.8',
  STREET: '2.5.4.9',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  T: '2.5.4.12',
  TITLE: '2.5.4.12',
  POSTALCODE: '2.5.4.17',
  GIVENNAME: '2.5.4.42',
  GN: '2.5.4.42',
  INITIALS: '2.5.4.43',
  GENERATIONQUALIFIER: '2.5.4.44',
  DNQUALIFIER: '2.5.4.46',
  PSEUDONYM: '2.5.4.65',
  ORGANIZATIONIDENTIFIER: '2.5.4.97',
  DC: '0.9.2342.19200300.100.1.25',
  UID: '0.9.2342.19200300.100.1.1',
  E: '1.2.840.113549.1.9.1',
  EMAILADDRESS: '1.2.840.113549.1.9.1',
};

const DOTTED_OID = /^(?:oid\.)?([0-2](?:\.(?:0|[1-9]\d*))+)$/i;
const KEYWORD = /^[A-Za-z][A-Za-z0-9-]*$/;
const HEX = /^[0-9A-Fa-f]$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Spaces between RDNs and around values are insignificant; tolerated: the other XML white space. */
function isSpace(character: string): boolean {
  return character === ' ' || character === '\t' || character === '\r' || character === '\n';
}

/** RFC 4518-like preparation of a string value: what `caseIgnoreMatch` compares. */
function normaliseText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

/** A value given as DER (from a certificate, or `#hex` in a name string). */
function valueFromDer(der: Buffer): NameAttribute['value'] {
  const element = readSingleDerElement(der);
  const text = decodeDerString(element);
  return text === undefined ? { derHex: element.der.toString('hex') } : { text: normaliseText(text) };
}

function attributeType(raw: string): string | undefined {
  const type = raw.trim();
  const dotted = DOTTED_OID.exec(type);
  if (dotted) return dotted[1];
  return KEYWORD.test(type) ? KEYWORD_OIDS[type.toUpperCase()] : undefined;
}

/** A cursor over a name string. */
class NameScanner {
  position = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.position >= this.text.length;
  }

  peek(): string {
    return this.text[this.position] ?? '';
  }

  skipSpaces(): void {
    while (isSpace(this.peek())) this.position += 1;
  }

  /** The attribute type up to `=`, or undefined when there is no `=`. */
  type(): string | undefined {
    const equals = this.text.indexOf('=', this.position);
    if (equals < 0) return undefined;
    const raw = this.text.slice(this.position, equals);
    this.position = equals + 1;
    return raw;
  }

  /** `#` followed by hex digits: the DER of the value. */
  hexValue(): Buffer | undefined {
    this.position += 1;
    const start = this.position;
    while (HEX.test(this.peek())) this.position += 1;
    const hex = this.text.slice(start, this.position);
    return hex.length > 0 && hex.length % 2 === 0 ? Buffer.from(hex, 'hex') : undefined;
  }

  /**
   * A string value: escapes (`\,` or `\2C`, hex pairs being UTF-8 bytes) resolved, unescaped trailing
   * spaces dropped; quoted (`"..."`, RFC 1779) when it starts with a quote.
   */
  stringValue(): string | undefined {
    const quoted = this.peek() === '"';
    if (quoted) this.position += 1;
    const bytes: number[] = [];
    let significant = 0;
    const pushText = (text: string) => bytes.push(...Buffer.from(text, 'utf8'));
    for (;;) {
      if (this.done) {
        if (quoted) return undefined;
        break;
      }
      const character = this.peek();
      if (quoted ? character === '"' : character === ',' || character === ';' || character === '+') break;
      this.position += 1;
      if (character === '\\') {
        const next = this.text[this.position];
        const pair = this.text.slice(this.position, this.position + 2);
        if (next === undefined) return undefined;
        if (pair.length === 2 && HEX.test(pair[0]) && HEX.test(pair[1])) {
          bytes.push(parseInt(pair, 16));
          this.position += 2;
        } else {
          const codePoint = this.text.codePointAt(this.position) as number;
          const escaped = String.fromCodePoint(codePoint);
          pushText(escaped);
          this.position += escaped.length;
        }
        significant = bytes.length;
        continue;
      }
      const codePoint = this.text.codePointAt(this.position - 1) as number;
      const literal = String.fromCodePoint(codePoint);
      this.position += literal.length - 1;
      pushText(literal);
      if (quoted || !isSpace(character)) significant = bytes.length;
    }
    if (quoted) this.position += 1;
    try {
      return strictUtf8.decode(Buffer.from(bytes.slice(0, significant)));
    } catch {
      return undefined;
    }
  }
}

/**
 * Parses a distinguished name string (RFC 4514 / RFC 2253, with RFC 1779 leniencies) into its
 * comparable form, in encoding order (the string's last RDN first).
 * @returns undefined when the text is not a name this parser understands (unknown keyword, bad escape,
 *   malformed `#hex`)
 */
export function parseDistinguishedName(text: string): ComparableName | undefined {
  const scanner = new NameScanner(text);
  const rdns: ComparableName = [];
  let rdn: NameAttribute[] = [];
  scanner.skipSpaces();
  if (scanner.done) return [];
  for (;;) {
    const rawType = scanner.type();
    const type = rawType === undefined ? undefined : attributeType(rawType);
    if (type === undefined) return undefined;
    scanner.skipSpaces();
    let value: NameAttribute['value'] | undefined;
    if (scanner.peek() === '#') {
      const der = scanner.hexValue();
      try {
        value = der === undefined ? undefined : valueFromDer(der);
      } catch {
        value = undefined;
      }
    } else {
      const string = scanner.stringValue();
      value = string === undefined ? undefined : { text: normaliseText(string) };
    }
    if (value === undefined) return undefined;
    rdn.push({ type, value });
    scanner.skipSpaces();
    if (scanner.done) break;
    const separator = scanner.peek();
    scanner.position += 1;
    if (separator === ',' || separator === ';') {
      rdns.push(rdn);
      rdn = [];
    } else if (separator !== '+') {
      return undefined;
    }
    scanner.skipSpaces();
  }
  rdns.push(rdn);
  return rdns.reverse();
}

/**
 * The comparable form of a DER `Name` (a certificate's issuer or subject).
 * @throws DerError when the DER is not a Name
 */
export function nameFromDer(nameDer: Buffer): ComparableName {
  return derChildren(readSingleDerElement(nameDer), DER_TAG.sequence).map((rdn) =>
    derChildren(rdn, DER_TAG.set).map((attribute) => {
      const [type, value, ...rest] = derChildren(attribute, DER_TAG.sequence);
      if (type?.tag !== DER_TAG.objectIdentifier || value === undefined || rest.length > 0) {
        throw new DerError('malformed AttributeTypeAndValue');
      }
      return { type: decodeObjectIdentifier(type.content), value: valueFromDer(value.der) };
    }),
  );
}

function attributeKey(attribute: NameAttribute): string {
  const value = 'text' in attribute.value ? `t:${attribute.value.text}` : `d:${attribute.value.derHex}`;
  return `${attribute.type}\u0000${value}`;
}

/** Whether two names have the same RDNs in the same order, each with the same attributes. */
export function sameName(a: ComparableName, b: ComparableName): boolean {
  if (a.length !== b.length) return false;
  return a.every((rdn, index) => {
    const other = b[index];
    if (rdn.length !== other.length) return false;
    const keys = rdn.map(attributeKey).sort();
    const otherKeys = other.map(attributeKey).sort();
    return keys.every((key, position) => key === otherKeys[position]);
  });
}
