/** Namespace URIs used across the SOAP layers. */
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
} as const;
