import fs from 'node:fs';
import path from 'node:path';
import { XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import {
  FIXTURES_DIR,
  NS,
  all,
  bodyPayload,
  childElements,
  first,
  parseXml,
  readFixture,
} from './contract-test-support';

/**
 * Payloads (SOAP Body children and receipt contents) with the verdict the contract gives them. Each
 * case builds a fresh DOM, mostly by changing one thing in a fixture, so a refusal has one cause.
 */
export interface PayloadCase {
  name: string;
  build: () => Element;
  valid: boolean;
  /** For invalid cases: what the validator's message must say. */
  message?: RegExp;
}

const TYPES_PREFIX = 'v11';

function fixturePayload(file: string, change?: (document: Document, payload: Element) => void): Element {
  const document = readFixture(file);
  const payload = bodyPayload(document);
  change?.(document, payload);
  return payload;
}

const citizen = (change?: (document: Document, payload: Element) => void) =>
  fixturePayload('sendDocument-citizen.xml', change);
const getStatus = (change?: (document: Document, payload: Element) => void) =>
  fixturePayload('getStatus.xml', change);

function setText(element: Element, text: string): void {
  element.textContent = text;
}

function typesElement(document: Document, localName: string, text?: string): Element {
  const element = document.createElementNS(NS.types, `${TYPES_PREFIX}:${localName}`);
  if (text !== undefined) element.textContent = text;
  return element;
}

function repeat(element: Element, times: number): void {
  for (let i = 0; i < times; i++) element.parentNode?.insertBefore(element.cloneNode(true), element);
}

/** A standalone payload (namespaces declared on itself). */
function standalone(xml: string): Element {
  const root = parseXml(xml).documentElement;
  if (root === null) throw new Error('no root');
  return root;
}

const SIGNED_FILE = `
  <t:Title>Receipt</t:Title>
  <t:Digest><t:DigestMethod>SHA-256</t:DigestMethod><t:DigestValue>q2+KflNj0Ep59lA4IvslzstvKMDvtXS3y1Ys/+9zVwM=</t:DigestValue></t:Digest>
  <t:DownloadFileName>Receipt.xml</t:DownloadFileName>
  <t:MIME>text/xml</t:MIME>
  <t:Type>RECEIPT</t:Type>
  <t:Language>en</t:Language>
  <t:Content>cid:receipt@registeredmail.example</t:Content>`;

const sendDocumentResponse = (signature: string) =>
  standalone(`<rm:SendDocumentResponse xmlns:rm="${NS.rm}" xmlns:t="${NS.types}"><t:Receipt>
  <t:Ticket>7K3M9QX2BH4TZ</t:Ticket><t:Token>DOSSIER-2024-000123</t:Token>
  <t:Document>${SIGNED_FILE}${signature}</t:Document></t:Receipt></rm:SendDocumentResponse>`);

const getStatusResponse = (status: string, proof: string) =>
  standalone(`<rm:GetStatusResponse xmlns:rm="${NS.rm}" xmlns:t="${NS.types}">
  <t:Ticket>7K3M9QX2BH4TZ</t:Ticket><t:Token></t:Token><t:Status>${status}</t:Status>${proof}</rm:GetStatusResponse>`);

const healthCheckResponse = (location: string) =>
  standalone(`<mon:HealthCheckResponse xmlns:mon="${NS.mon}" timestamp="2024-07-01T10:00:00Z">
  <mon:Status><mon:Level>OK</mon:Level></mon:Status>
  <mon:Component><mon:Name>RegisteredMail</mon:Name><mon:Version>0.1.0</mon:Version>
    <mon:MavenReference groupId="be.example" artifactId="registered-mail"/></mon:Component>
  ${location}
  <mon:SanityCheck id="EPOST-001" description="Check ePost database" failSafe="false" type="DEFAULT">
    <mon:Status><mon:Level>OK</mon:Level></mon:Status>
    <mon:Resource name="database" type="DB"/>
    <mon:TimeInMillis>3</mon:TimeInMillis>
  </mon:SanityCheck></mon:HealthCheckResponse>`);

const consumerError = (extra: string) =>
  standalone(`<err:SystemError xmlns:err="${NS.err}" Id="6f1c2d3e-0000-4000-8000-000000000001">
  <err:Origin>Consumer</err:Origin><err:Code>SOA-01001</err:Code>
  <err:Message xml:lang="en">Service call not authenticated.</err:Message>${extra}</err:SystemError>`);

const providerError = (actorAndTime: string) =>
  standalone(`<sperr:BusinessError xmlns:sperr="${NS.sperr}" Id="req-1">
  <sperr:Origin>Consumer</sperr:Origin><sperr:Code>REPO_B01</sperr:Code>
  <sperr:Message>Ticket provided does not match Registered Mail Item</sperr:Message>
  <sperr:Retry>false</sperr:Retry>${actorAndTime}</sperr:BusinessError>`);

const SIGNATURE = '<t:Signature>MIIBAAYJKoZIhvcNAQcC</t:Signature>';

/** Cases every operation's payload must pass or fail, with our schemas and with the published ones. */
export const PAYLOAD_CASES: readonly PayloadCase[] = [
  // ---- valid ----
  { name: 'fixture sendDocument to a citizen', build: () => citizen(), valid: true },
  {
    name: 'fixture sendDocument to an enterprise',
    build: () => fixturePayload('sendDocument-enterprise.xml'),
    valid: true,
  },
  { name: 'fixture getStatus', build: () => getStatus(), valid: true },
  { name: 'fixture healthCheck PING', build: () => fixturePayload('healthCheck-ping.xml'), valid: true },
  {
    name: 'healthCheck without type (DEFAULT)',
    build: () => fixturePayload('healthCheck-ping.xml', (_d, p) => p.removeAttribute('type')),
    valid: true,
  },
  {
    name: '5 annexes, 100 Meta with 10 values',
    build: () =>
      citizen((_d, p) => {
        repeat(first(p, NS.types, 'Annex'), 3);
        const meta = all(p, NS.types, 'Meta')[1];
        repeat(all(meta, NS.types, 'Value')[0], 8);
        repeat(meta, 98);
      }),
    valid: true,
  },
  {
    name: 'no annex, no Meta, no MIME, no Language, no CheckEboxStatus',
    build: () =>
      citizen((_d, p) => {
        for (const name of ['Annex', 'Meta', 'MIME', 'Language', 'CheckEboxStatus']) {
          for (const element of all(p, NS.types, name)) element.parentNode?.removeChild(element);
        }
      }),
    valid: true,
  },
  {
    name: 'empty Token',
    build: () => citizen((_d, p) => setText(first(p, NS.types, 'Token'), '')),
    valid: true,
  },
  {
    name: 'Token of 50 characters',
    build: () => citizen((_d, p) => setText(first(p, NS.types, 'Token'), 'T'.repeat(50))),
    valid: true,
  },
  {
    name: 'CBE with 9 digits',
    build: () =>
      fixturePayload('sendDocument-enterprise.xml', (_d, p) =>
        setText(first(p, NS.types, 'CompanyID'), '206731645'),
      ),
    valid: true,
  },
  {
    name: 'SHA-512 and SHA-1 digest methods',
    build: () =>
      citizen((_d, p) => {
        const methods = all(p, NS.types, 'DigestMethod');
        setText(methods[0], 'SHA-512');
        setText(methods[1], 'SHA-1');
      }),
    valid: true,
  },
  {
    name: 'recipient typed Sender (allowed by the XSD; refused later as SOA-03007)',
    build: () =>
      citizen((d, p) => {
        const recipient = first(p, NS.types, 'Recipient');
        recipient.setAttributeNS(NS.xsi, 'xsi:type', `${TYPES_PREFIX}:Sender`);
        for (const child of childElements(recipient)) recipient.removeChild(child);
        recipient.appendChild(typesElement(d, 'CompanyID', '0861023666'));
        recipient.appendChild(typesElement(d, 'ApplicationID', 'app'));
      }),
    valid: true,
  },
  { name: 'SendDocumentResponse', build: () => sendDocumentResponse(SIGNATURE), valid: true },
  {
    name: 'GetStatusResponse SENT with proof',
    build: () =>
      getStatusResponse('SENT', `<t:ProofOfDispatch>${SIGNED_FILE}${SIGNATURE}</t:ProofOfDispatch>`),
    valid: true,
  },
  { name: 'GetStatusResponse PENDING', build: () => getStatusResponse('PENDING', ''), valid: true },
  {
    name: 'HealthCheckResponse',
    build: () =>
      healthCheckResponse(
        '<mon:Location><mon:Environment>LOCAL</mon:Environment><mon:Host>h</mon:Host><mon:Port>8080</mon:Port></mon:Location>',
      ),
    valid: true,
  },
  {
    name: 'consumer SystemError',
    build: () => consumerError('<err:Retry>true</err:Retry><err:Environment>Production</err:Environment>'),
    valid: true,
  },
  {
    name: 'provider BusinessError',
    build: () =>
      providerError(
        '<sperr:Actor>RegisteredMail</sperr:Actor><sperr:DateTime>2024-07-01T10:00:00Z</sperr:DateTime>',
      ),
    valid: true,
  },

  // ---- invalid ----
  {
    name: 'Ticket with an O',
    build: () => getStatus((_d, p) => setText(first(p, NS.types, 'Ticket'), '7K3M9QX2BH4TO')),
    valid: false,
    message: /Ticket'.*\[facet 'pattern'\].*'7K3M9QX2BH4TO'/,
  },
  {
    name: 'Ticket in lower case',
    build: () => getStatus((_d, p) => setText(first(p, NS.types, 'Ticket'), '7k3m9qx2bh4tz')),
    valid: false,
    message: /facet 'pattern'/,
  },
  {
    name: 'Ticket of 12 characters',
    build: () => getStatus((_d, p) => setText(first(p, NS.types, 'Ticket'), '7K3M9QX2BH4T')),
    valid: false,
    message: /facet 'length'/,
  },
  {
    name: '6 annexes',
    build: () => citizen((_d, p) => repeat(first(p, NS.types, 'Annex'), 4)),
    valid: false,
    message: /Annex': This element is not expected/,
  },
  {
    name: '11 Meta values',
    build: () => citizen((_d, p) => repeat(first(p, NS.types, 'Value'), 10)),
    valid: false,
    message: /Value': This element is not expected/,
  },
  {
    name: '101 Meta',
    build: () => citizen((_d, p) => repeat(first(p, NS.types, 'Meta'), 99)),
    valid: false,
    message: /Meta': This element is not expected/,
  },
  {
    name: 'unknown MIME',
    build: () => citizen((_d, p) => setText(first(p, NS.types, 'MIME'), 'application/x-msdownload')),
    valid: false,
    message: /MIME'.*\[facet 'enumeration'\] The value 'application\/x-msdownload'/,
  },
  {
    name: 'DigestMethod MD5',
    build: () => citizen((_d, p) => setText(first(p, NS.types, 'DigestMethod'), 'MD5')),
    valid: false,
    message: /DigestMethod'.*\[facet 'enumeration'\] The value 'MD5' is not an element of the set/,
  },
  {
    name: 'missing Document',
    build: () =>
      citizen((_d, p) => {
        const document = first(p, NS.types, 'Document');
        document.parentNode?.removeChild(document);
      }),
    valid: false,
    message: /Annex': This element is not expected\. Expected is \( \{[^}]+\}Document \)/,
  },
  {
    name: 'Title and Digest swapped',
    build: () =>
      citizen((_d, p) => {
        const document = first(p, NS.types, 'Document');
        document.insertBefore(first(document, NS.types, 'Digest'), first(document, NS.types, 'Title'));
      }),
    valid: false,
    message: /Digest': This element is not expected\. Expected is \( \{[^}]+\}Title \)/,
  },
  {
    name: 'Content of an annex last',
    build: () =>
      citizen((_d, p) => {
        const annex = first(p, NS.types, 'Annex');
        annex.appendChild(first(annex, NS.types, 'Content'));
      }),
    valid: false,
    message: /Title': This element is not expected\. Expected is \( \{[^}]+\}Content \)/,
  },
  {
    name: 'abstract Entity without xsi:type',
    build: () => citizen((_d, p) => first(p, NS.types, 'Recipient').removeAttributeNS(NS.xsi, 'type')),
    valid: false,
    message: /Recipient': The type definition is abstract/,
  },
  {
    name: 'xsi:type of an unknown type',
    build: () =>
      citizen((_d, p) => first(p, NS.types, 'Recipient').setAttributeNS(NS.xsi, 'xsi:type', 'v11:Person')),
    valid: false,
    message: /Person/,
  },
  {
    name: 'unknown element in the item',
    build: () =>
      citizen((d, p) =>
        first(p, NS.types, 'RegisteredMailItem').appendChild(typesElement(d, 'Priority', 'HIGH')),
      ),
    valid: false,
    message: /Priority': This element is not expected/,
  },
  {
    name: 'child element in the service namespace (not qualified as types)',
    build: () =>
      getStatus((d, p) => {
        const ticket = first(p, NS.types, 'Ticket');
        const wrong = d.createElementNS(NS.rm, 'v1:Ticket');
        wrong.textContent = ticket.textContent;
        p.replaceChild(wrong, ticket);
      }),
    valid: false,
    message: /Ticket': This element is not expected/,
  },
  {
    name: 'unknown root element',
    build: () => standalone(`<rm:SendDocument xmlns:rm="${NS.rm}"/>`),
    valid: false,
    message: /No matching global declaration available for the validation root/,
  },
  {
    name: 'Token of 51 characters',
    build: () => citizen((_d, p) => setText(first(p, NS.types, 'Token'), 'T'.repeat(51))),
    valid: false,
    message: /facet 'maxLength'/,
  },
  {
    name: 'empty Title',
    build: () => citizen((_d, p) => setText(first(p, NS.types, 'Title'), '')),
    valid: false,
    message: /facet 'minLength'/,
  },
  {
    name: 'Title of 401 characters',
    build: () => citizen((_d, p) => setText(first(p, NS.types, 'Title'), 'x'.repeat(401))),
    valid: false,
    message: /facet 'maxLength'/,
  },
  {
    name: 'DownloadFileName of 81 characters',
    build: () => citizen((_d, p) => setText(first(p, NS.types, 'DownloadFileName'), 'f'.repeat(81))),
    valid: false,
    message: /facet 'maxLength'/,
  },
  {
    name: 'Meta value of 26 characters',
    build: () => citizen((_d, p) => setText(first(p, NS.types, 'Value'), 'v'.repeat(26))),
    valid: false,
    message: /facet 'maxLength'/,
  },
  {
    name: 'INSS of 10 characters',
    build: () => citizen((_d, p) => setText(first(p, NS.types, 'INSS'), '8507300332')),
    valid: false,
    message: /facet 'length'/,
  },
  {
    name: 'CBE with a letter',
    build: () =>
      fixturePayload('sendDocument-enterprise.xml', (_d, p) =>
        setText(first(p, NS.types, 'CompanyID'), '0206731A45'),
      ),
    valid: false,
    message: /facet 'pattern'/,
  },
  {
    name: 'empty QualityCode',
    build: () => citizen((_d, p) => setText(first(p, NS.types, 'QualityCode'), '')),
    valid: false,
    message: /facet 'minLength'/,
  },
  {
    name: 'DigestValue not base64',
    build: () => citizen((_d, p) => setText(first(p, NS.types, 'DigestValue'), 'not base64!')),
    valid: false,
    message: /DigestValue/,
  },
  {
    name: 'Language FR in capitals',
    build: () => citizen((_d, p) => setText(first(p, NS.types, 'Language'), 'FR')),
    valid: false,
    message: /facet 'enumeration'/,
  },
  {
    name: 'CheckEboxStatus NONE',
    build: () => citizen((_d, p) => setText(first(p, NS.types, 'CheckEboxStatus'), 'NONE')),
    valid: false,
    message: /facet 'enumeration'/,
  },
  {
    name: 'annex with a Type',
    build: () => citizen((d, p) => first(p, NS.types, 'Annex').appendChild(typesElement(d, 'Type', 'ANNEX'))),
    valid: false,
    message: /Type': This element is not expected/,
  },
  {
    name: 'healthCheck type FULL',
    build: () => fixturePayload('healthCheck-ping.xml', (_d, p) => p.setAttribute('type', 'FULL')),
    valid: false,
    message: /facet 'enumeration'/,
  },
  {
    name: 'SendDocumentResponse without Signature',
    build: () => sendDocumentResponse(''),
    valid: false,
    message: /Missing child element/,
  },
  {
    name: 'GetStatusResponse with status DONE',
    build: () => getStatusResponse('DONE', ''),
    valid: false,
    message: /facet 'enumeration'/,
  },
  {
    name: 'HealthCheckResponse without Location',
    build: () => healthCheckResponse(''),
    valid: false,
    message: /Expected is \( \{[^}]+\}Location \)/,
  },
  {
    name: 'consumer error with an Actor',
    build: () => consumerError('<err:Actor>x</err:Actor>'),
    valid: false,
    message: /Actor': This element is not expected/,
  },
  {
    name: 'provider error without Actor and DateTime',
    build: () => providerError(''),
    valid: false,
    message: /Missing child element/,
  },
];

/** Receipt.xml documents (root types:ReceiptContent) with their verdict. */
export interface ReceiptCase {
  name: string;
  xml: () => string;
  valid: boolean;
  message?: RegExp;
}

function receipt(change?: (document: Document) => void): string {
  const document = parseXml(fs.readFileSync(path.join(FIXTURES_DIR, 'Receipt.xml'), 'utf8'));
  change?.(document);
  return new XMLSerializer().serializeToString(document);
}

export const RECEIPT_CASES: readonly ReceiptCase[] = [
  { name: 'fixture Receipt.xml', xml: () => receipt(), valid: true },
  {
    name: 'receipt without annexes',
    xml: () =>
      receipt((d) => {
        for (const annex of all(d, NS.types, 'Annex')) annex.parentNode?.removeChild(annex);
      }),
    valid: true,
  },
  {
    name: 'receipt with 6 annexes',
    xml: () => receipt((d) => repeat(first(d, NS.types, 'Annex'), 4)),
    valid: false,
    message: /Annex': This element is not expected/,
  },
  {
    name: 'receipt annex without Type (a FileDescription)',
    xml: () =>
      receipt((d) => {
        const type = first(first(d, NS.types, 'Annex'), NS.types, 'Type');
        type.parentNode?.removeChild(type);
      }),
    valid: false,
    message: /Missing child element|not expected/,
  },
  {
    name: 'receipt without Sender',
    xml: () =>
      receipt((d) => {
        const sender = first(d, NS.types, 'Sender');
        sender.parentNode?.removeChild(sender);
      }),
    valid: false,
    message: /Document': This element is not expected\. Expected is \( \{[^}]+\}Sender \)/,
  },
  {
    name: 'receipt with a Content in the document description',
    xml: () =>
      receipt((d) => {
        const content = d.createElementNS(NS.types, 'types:Content');
        content.textContent = 'cid:x';
        first(d, NS.types, 'Document').appendChild(content);
      }),
    valid: false,
    message: /Content': This element is not expected/,
  },
];
