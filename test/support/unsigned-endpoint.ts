import type { SoapEndpointDependencies } from '../../src/app/soap-endpoint';
import { ManualClock } from '../../src/clock/clock';
import type { Sender } from '../../src/domain/model';
import { createLogger } from '../../src/logging/logger';
import type { AuthenticatedRequest } from '../../src/policy/enforce-v1-policy';
import type { ParsedEnvelope } from '../../src/soap/parse-envelope';
import type { EnvelopeSigner, SignedEnvelopeBytes } from '../../src/wssecurity/sign-envelope';
import { NS } from '../../src/xml/namespaces';
import { canonicalPayload } from '../../src/xml/payload-element';

/**
 * What `createSoapEndpoint` needs in tests of the request path that do not look at response signatures:
 * generous limits, a fixed clock, a silent log, and answers sent unsigned (the payload in a bare
 * envelope; a fault as it is).
 */
export function unsignedEndpointDependencies(): SoapEndpointDependencies {
  return {
    config: {
      limits: {
        maxRequestBytes: 8 * 1024 * 1024,
        maxParts: 16,
        maxEnvelopeBytes: 1024 * 1024,
        maxXmlDepth: 64,
        maxXmlElements: 20_000,
        maxXmlAttributes: 20_000,
        maxXmlAttributesPerElement: 50,
      },
      faultNamespace: 'consumer',
      environment: undefined,
    },
    clock: new ManualClock(new Date('2024-07-01T09:00:00Z')),
    log: createLogger({ silent: true }),
    responseSigner: {
      sign: async () => ({}) as Awaited<ReturnType<EnvelopeSigner['sign']>>,
      signPayload: async (payload) =>
        ({
          envelope: Buffer.from(
            `<soapenv:Envelope xmlns:soapenv="${NS.soap11}"><soapenv:Body>${canonicalPayload(payload)}</soapenv:Body></soapenv:Envelope>`,
          ),
        }) as SignedEnvelopeBytes,
    },
  };
}

/** A stand-in for the security policy that accepts `envelope` as sent by `sender` (no signature read). */
export function acceptedAsSent(envelope: ParsedEnvelope, sender: Sender): AuthenticatedRequest {
  return {
    payload: envelope.payload,
    sender,
    certificate: Buffer.alloc(0),
    certificateChain: [],
    replay: { signatureValue: Buffer.alloc(0), acceptableUntil: new Date('2024-07-01T09:05:00Z') },
  };
}
