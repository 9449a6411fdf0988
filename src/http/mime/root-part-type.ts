import { MalformedMessageError, NotSoapError } from '../../errors/faults';
import { parseContentType, type ContentType } from './content-type';

/** The media type of a SOAP 1.1 envelope. */
export const SOAP11_MEDIA_TYPE = 'text/xml';
/** The media type of an XOP document (the root part of an MTOM request, XOP 1.0 §4.1). */
export const XOP_MEDIA_TYPE = 'application/xop+xml';
const SOAP12_MEDIA_TYPE = 'application/soap+xml';

/** How the root part of a multipart/related request carries the envelope. */
export type RootPartPackaging = 'swa' | 'xop';

function mediaTypeOf(value: string | undefined): string | undefined {
  return value === undefined ? undefined : parseContentType(value)?.mediaType;
}

/** Refuses a declared envelope type that is not SOAP 1.1: SOA-03002, as a SOAP 1.2 body is today. */
function requireSoap11(declared: string, where: string): void {
  const mediaType = mediaTypeOf(declared);
  if (mediaType === SOAP11_MEDIA_TYPE) return;
  if (mediaType === SOAP12_MEDIA_TYPE) throw new NotSoapError('SOAP 1.2 is not supported: use SOAP 1.1');
  throw new NotSoapError(`${where} ${declared.slice(0, 100)} is not text/xml`);
}

/**
 * Checks the `type` and `start-info` parameters of a `multipart/related` request before any part is read:
 * `type` is text/xml (SOAP with Attachments), application/xop+xml (MTOM, whose `start-info` is then
 * text/xml as the SOAP 1.1 Binding for MTOM 1.0 says), or absent (the root part decides).
 */
export function checkMultipartType(contentType: ContentType): void {
  const rootType = contentType.parameters.type?.toLowerCase();
  if (rootType !== undefined && rootType !== SOAP11_MEDIA_TYPE && rootType !== XOP_MEDIA_TYPE) {
    throw new MalformedMessageError(`multipart/related root type ${rootType} is not supported`);
  }
  const startInfo = contentType.parameters['start-info'];
  if (rootType === XOP_MEDIA_TYPE && startInfo !== undefined) requireSoap11(startInfo, 'start-info');
}

/**
 * How the root part carries the envelope, from its Content-Type header: `text/xml` (SwA) or
 * `application/xop+xml; type="text/xml"` (an XOP document holding a SOAP 1.1 envelope). The root part must
 * agree with the request's `type` parameter when there is one.
 */
export function rootPartPackaging(rootHeader: string, multipartType: string | undefined): RootPartPackaging {
  const root = parseContentType(rootHeader);
  const declared = multipartType?.toLowerCase();
  if (root?.mediaType === XOP_MEDIA_TYPE) {
    if (declared === SOAP11_MEDIA_TYPE) {
      throw new MalformedMessageError(
        'root part Content-Type application/xop+xml is not the declared text/xml',
      );
    }
    const envelopeType = root.parameters.type;
    if (envelopeType === undefined) {
      throw new MalformedMessageError('root part application/xop+xml without a type parameter');
    }
    requireSoap11(envelopeType, 'XOP root part type');
    return 'xop';
  }
  if (root?.mediaType !== SOAP11_MEDIA_TYPE) {
    throw new MalformedMessageError(`root part Content-Type ${root?.mediaType ?? '(none)'} is not text/xml`);
  }
  if (declared === XOP_MEDIA_TYPE) {
    throw new MalformedMessageError(
      'root part Content-Type text/xml is not the declared application/xop+xml',
    );
  }
  return 'swa';
}
