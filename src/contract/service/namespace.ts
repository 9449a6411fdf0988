import { OWN_SERVICE_NAMESPACE } from '../wsdl-publisher';

/** The namespace of RegisteredMailService's own elements (xsd/registeredmail-service-v1.xsd). */
export const RMS = OWN_SERVICE_NAMESPACE;
