/*
 * Namespace and type URIs of WS-Security 1.0 (OASIS 200401) and XML Signature, as the X.509 token
 * profile and WSS4J write them.
 */

/** WS-Security 1.0 secext: `wsse:Security`, `wsse:BinarySecurityToken`, `wsse:SecurityTokenReference`. */
export const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';

/** WS-Security 1.0 utility: `wsu:Timestamp`, `wsu:Created`, `wsu:Expires`, `wsu:Id`. */
export const WSU_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';

/** XML Signature: `ds:Signature` and its parts. */
export const DS_NS = 'http://www.w3.org/2000/09/xmldsig#';

/** Exclusive XML canonicalization: also the namespace of `ec:InclusiveNamespaces`. */
export const EXC_C14N_NS = 'http://www.w3.org/2001/10/xml-exc-c14n#';

/** SOAP 1.1 envelope namespace (for `actor` and `mustUnderstand` on the Security header). */
export const SOAP11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';

/** Namespace of `xmlns` declarations in the DOM. */
export const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/** `ValueType` of an X.509 v3 certificate token (X.509 token profile 1.0). */
export const X509V3_VALUE_TYPE =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3';

/** `EncodingType` of base64 token content (SOAP message security 1.0). */
export const BASE64_BINARY_ENCODING =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';

/** `ValueType` of a `wsse:KeyIdentifier` holding an X.509 subject key identifier. */
export const X509_SKI_VALUE_TYPE =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509SubjectKeyIdentifier';

/** `ValueType` of a `wsse:KeyIdentifier` holding a certificate's SHA-1 thumbprint (WSS 1.1). */
export const THUMBPRINT_SHA1_VALUE_TYPE =
  'http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#ThumbprintSHA1';
