import type { Element } from '@xmldom/xmldom';
import type { Clock } from '../clock/clock';
import { parseEnvelope, type ParsedEnvelope } from '../soap/parse-envelope';
import { ClientError, ServiceFaultError } from './client-errors';
import { readFault } from './read-fault';
import type { ResponseTrust } from './response-trust';
import { SERVICE_NAMESPACE } from './service-endpoint';
import type { SoapHttpAnswer } from './soap-transport';
import { verifyAnswerSignature } from './verify-answer-signature';

/** Bounds on the answer's XML, as the service bounds requests. */
const ANSWER_XML_LIMITS = { maxDepth: 64, maxElements: 20_000 };

function parseAnswer(answer: SoapHttpAnswer): ParsedEnvelope {
  const notSoap = (why: string) =>
    new ClientError(`HTTP ${answer.status}: the answer is not a SOAP envelope (${why})`);
  if (!/^text\/xml\b/i.test(answer.contentType.trim())) {
    throw notSoap(`Content-Type ${answer.contentType || 'missing'}`);
  }
  try {
    return parseEnvelope(answer.body, ANSWER_XML_LIMITS);
  } catch (error) {
    throw notSoap((error as Error).message);
  }
}

/**
 * Reads an answer of RegisteredMailService as a careful client does: a SOAP 1.1 envelope (text/xml: the
 * own port never answers attachments), whose signature is verified first (faults too), then either a
 * fault, thrown as a {@link ServiceFaultError}, or the expected payload.
 * @param expectedPayload the local name of the answer's payload, e.g. `GetStatusResponse`
 * @throws UntrustedAnswerError when the signature does not verify; ClientError when the answer is not
 *   a SOAP envelope or not the expected payload; ServiceFaultError for a fault
 */
export async function readVerifiedAnswer(
  answer: SoapHttpAnswer,
  trust: ResponseTrust,
  clock: Clock,
  expectedPayload: string,
): Promise<Element> {
  const envelope = parseAnswer(answer);
  await verifyAnswerSignature(envelope, trust, clock);
  const fault = readFault(envelope.payload);
  if (fault !== undefined) throw new ServiceFaultError(fault);
  const { payload } = envelope;
  if (
    answer.status !== 200 ||
    payload.namespaceURI !== SERVICE_NAMESPACE ||
    payload.localName !== expectedPayload
  ) {
    throw new ClientError(
      `HTTP ${answer.status}: the answer is ${payload.localName}, not ${expectedPayload}`,
    );
  }
  return payload;
}
