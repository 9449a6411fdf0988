import type { ItemHistoryView, ItemProofs, ProofSelection, Sender } from '../../domain/model';
import { requiredText } from '../../xml/element-reader';
import {
  mappedContext,
  mapThenRun,
  type MappedOperationContext,
  type OperationHandler,
} from '../operation-handler';
import type { RenderedResponse } from '../rendered-response';
import { sendStaged, type SendServices } from '../send-services';
import { mapSendRegisteredMailRequest, type SendRegisteredMailRequest } from './map-send-registered-mail';
import { RMS } from './namespace';
import {
  renderGetProofResponse,
  renderGetStatusResponse,
  renderSendRegisteredMailResponse,
} from './render-responses';
import { stageFileContents } from './stage-contents';

/**
 * The domain services RegisteredMailService adapts. The send services ({@link SendServices}: precheck,
 * send, openStaging) are the v1 port's: the same command, rules and staging.
 */
export interface ServicePortServices extends SendServices {
  /** The item's status and whole history; REPO_B01 for an unknown ticket or another sender's. */
  history(sender: Sender, ticket: string): Promise<ItemHistoryView>;
  /**
   * The proofs asked for, exactly as issued; PROOF_B01 for a single kind not issued yet, REPO_B01 for an
   * unknown ticket or another sender's.
   */
  proofs(sender: Sender, ticket: string, kind: ProofSelection): Promise<ItemProofs>;
}

/** The handlers of RegisteredMailService, by WSDL operation name (wsdl/RegisteredMailService.wsdl). */
export function createServiceHandlers(services: ServicePortServices): Record<string, OperationHandler> {
  async function sendRegisteredMail(
    request: SendRegisteredMailRequest,
    context: MappedOperationContext,
  ): Promise<RenderedResponse> {
    const receipt = await sendStaged(
      services,
      request.command,
      (stager) => stageFileContents(context.attachments, request, stager),
      context,
    );
    return renderSendRegisteredMailResponse(receipt);
  }

  async function getStatus(sender: Sender, ticket: string): Promise<RenderedResponse> {
    return renderGetStatusResponse(await services.history(sender, ticket));
  }

  async function getProof(
    sender: Sender,
    ticket: string,
    selection: ProofSelection,
  ): Promise<RenderedResponse> {
    return renderGetProofResponse(selection, await services.proofs(sender, ticket, selection));
  }

  // Each maps its payload, then waits in an async function that never sees it (see OperationHandler).
  return {
    SendRegisteredMail: (context) =>
      mapThenRun(
        () => mapSendRegisteredMailRequest(context.payload, context.xopReferences),
        (request) => sendRegisteredMail(request, mappedContext(context)),
      ),
    GetStatus: ({ payload, sender }) =>
      mapThenRun(
        () => requiredText(payload, RMS, 'Ticket'),
        (ticket) => getStatus(sender, ticket),
      ),
    GetProof: ({ payload, sender }) =>
      mapThenRun(
        () => ({
          selection: requiredText(payload, RMS, 'Kind') as ProofSelection,
          ticket: requiredText(payload, RMS, 'Ticket'),
        }),
        ({ selection, ticket }) => getProof(sender, ticket, selection),
      ),
  };
}
