/** Namespace URIs of SOAP, XML and the RegisteredMail v1 contract, used across the layers. */
export const NS = {
  soap11: 'http://schemas.xmlsoap.org/soap/envelope/',
  soap12: 'http://www.w3.org/2003/05/soap-envelope',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  xml: 'http://www.w3.org/XML/1998/namespace',
  xmlns: 'http://www.w3.org/2000/xmlns/',
  registeredMail: 'http://socialsecurity.be/registeredmail/v1',
  types: 'http://socialsecurity.be/registeredmail/types/v1',
  errors: 'http://socialsecurity.be/errors/v1',
  providerErrors: 'http://socialsecurity.be/errors/serviceprovider/v1',
  monitoring: 'http://services.fgov.be/monitoring/v1',
  xsd: 'http://www.w3.org/2001/XMLSchema',
  wsdl: 'http://schemas.xmlsoap.org/wsdl/',
  wsdlSoap11: 'http://schemas.xmlsoap.org/wsdl/soap/',
  securityPolicy: 'http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702',
} as const;
