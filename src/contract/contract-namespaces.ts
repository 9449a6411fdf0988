/** Namespaces of the RegisteredMail v1 contract files (WSDL, XSD, policy). */
export const CONTRACT_NS = {
  /** Service namespace: WSDL targetNamespace and the wrapper elements. */
  registeredMail: 'http://socialsecurity.be/registeredmail/v1',
  /** Types namespace: all complex and simple types and their child elements. */
  types: 'http://socialsecurity.be/registeredmail/types/v1',
  /** Consumer form of the fault details. */
  errors: 'http://socialsecurity.be/errors/v1',
  /** Provider form of the fault details (RM_FAULT_NAMESPACE=provider). */
  providerErrors: 'http://socialsecurity.be/errors/serviceprovider/v1',
  monitoring: 'http://services.fgov.be/monitoring/v1',
  xsd: 'http://www.w3.org/2001/XMLSchema',
  wsdl: 'http://schemas.xmlsoap.org/wsdl/',
  wsdlSoap11: 'http://schemas.xmlsoap.org/wsdl/soap/',
  securityPolicy: 'http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702',
  xmlns: 'http://www.w3.org/2000/xmlns/',
} as const;
