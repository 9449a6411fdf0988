import type { Element } from '@xmldom/xmldom';
import { open_wsdl } from 'soap/lib/wsdl';
import { WsdlComplianceError } from '../errors/faults';

/** An operation as the WSDL binds it: its name, SOAPAction and the QName of its input element. */
export interface OperationBinding {
  name: string;
  soapAction: string;
  inputNamespace: string;
  inputLocalName: string;
}

interface SoapBindingMethod {
  soapAction?: string;
  input: { $name: string; targetNamespace: string };
}

/**
 * Reads the operations of `bindingName` from our WSDL with node-soap's WSDL parser, so that the routing
 * table is what the published file says and never a second, hand-written copy of it.
 */
export function loadOperationTable(wsdlPath: string, bindingName: string): Promise<OperationBinding[]> {
  return new Promise((resolve, reject) => {
    open_wsdl(wsdlPath, {}, (error, wsdl) => {
      if (error || !wsdl) return reject(error ?? new Error(`cannot read ${wsdlPath}`));
      const bindings = wsdl.definitions.bindings as unknown as Record<
        string,
        { methods: Record<string, SoapBindingMethod> }
      >;
      const binding = bindings[bindingName];
      if (!binding) return reject(new Error(`binding ${bindingName} not found in ${wsdlPath}`));
      resolve(
        Object.entries(binding.methods).map(([name, method]) => ({
          name,
          soapAction: method.soapAction ?? '',
          inputNamespace: method.input.targetNamespace,
          inputLocalName: method.input.$name,
        })),
      );
    });
  });
}

/**
 * Chooses the operation by the Body's payload element, never by SOAPAction alone. A non-empty SOAPAction
 * must be the chosen operation's own (a SOAPAction naming another operation is a WSDL compliance fault).
 */
export function selectOperation(
  table: readonly OperationBinding[],
  payload: Element,
  soapAction: string | undefined,
): OperationBinding {
  const operation = table.find(
    (candidate) =>
      candidate.inputLocalName === payload.localName && candidate.inputNamespace === payload.namespaceURI,
  );
  if (!operation) {
    throw new WsdlComplianceError(`no operation takes {${payload.namespaceURI ?? ''}}${payload.localName}`);
  }
  if (soapAction && soapAction !== operation.soapAction) {
    throw new WsdlComplianceError(
      `SOAPAction ${JSON.stringify(soapAction.slice(0, 200))} does not match operation ${operation.name}`,
    );
  }
  return operation;
}
