import type { ItemHistoryView, ItemProofs, ProofSelection, Sender } from '../../domain/model';
import { requiredText } from '../../xml/element-reader';
import type { OperationHandler } from '../operation-handler';
import type { SendServices } from '../send-services';
import { mapSendRegisteredMailRequest } from './map-send-registered-mail';
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
  return {
    async SendRegisteredMail({ payload, sender, attachments, xopReferences, requestId, log }) {
      const request = mapSendRegisteredMailRequest(payload, xopReferences);
      // Before any byte is staged or any part read: a refused request stages and stores nothing.
      await services.precheck(request.command);
      const staging = services.openStaging();
      try {
        const { document, annexes } = await stageFileContents(attachments, request, staging);
        const receipt = await services.send({
          sender,
          command: request.command,
          document,
          annexes,
          requestId,
        });
        log.info('registered mail accepted', { ticket: receipt.ticket });
        return renderSendRegisteredMailResponse(receipt);
      } finally {
        await staging.discard();
      }
    },

    async GetStatus({ payload, sender }) {
      return renderGetStatusResponse(await services.history(sender, requiredText(payload, RMS, 'Ticket')));
    },

    async GetProof({ payload, sender }) {
      const selection = requiredText(payload, RMS, 'Kind') as ProofSelection;
      const result = await services.proofs(sender, requiredText(payload, RMS, 'Ticket'), selection);
      return renderGetProofResponse(selection, result);
    },
  };
}
