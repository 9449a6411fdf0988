import { randomUUID } from 'node:crypto';
import type { HealthCheckService } from '../../domain/health-check-service';
import type { ItemStatusView, Sender } from '../../domain/model';
import { NS } from '../../xml/namespaces';
import { requiredText } from '../../xml/element-reader';
import type { OperationHandler } from '../operation-handler';
import { mapHealthCheckRequest, renderHealthCheckResponse, type ServiceLocation } from './health-check';
import type { SendServices } from '../send-services';
import { stageReferencedAttachments } from '../stage-attachments';
import { expectedAttachmentsOf, mapSendDocumentRequest } from './map-send-document';
import { renderGetStatusResponse, renderSendDocumentResponse } from './render-responses';

/**
 * The domain services the v1 port adapts; the port knows them only through these shapes. The send
 * services ({@link SendServices}: precheck, send, openStaging) are those of RegisteredMailService too.
 */
export interface V1Services extends SendServices {
  status(sender: Sender, ticket: string): Promise<ItemStatusView>;
  health: HealthCheckService;
  component: { name: string; version: string };
  location(): ServiceLocation;
}

/** A fresh Content-ID for a response part (a receipt or a proof). */
function newContentId(): string {
  return `${randomUUID()}@registeredmail`;
}

/** The handlers of the RegisteredMail v1 port, by WSDL operation name. */
export function createV1Handlers(services: V1Services): Record<string, OperationHandler> {
  return {
    async sendDocument({ payload, sender, attachments, requestId, log }) {
      const request = mapSendDocumentRequest(payload);
      await services.precheck(request.command);
      const staging = services.openStaging();
      try {
        const [document, ...annexes] = await stageReferencedAttachments(
          attachments,
          expectedAttachmentsOf(request),
          staging,
        );
        const receipt = await services.send({
          sender,
          command: request.command,
          document,
          annexes,
          requestId,
        });
        log.info('registered mail accepted', { ticket: receipt.ticket });
        return renderSendDocumentResponse(receipt, newContentId());
      } finally {
        await staging.discard();
      }
    },

    async getStatus({ payload, sender }) {
      const view = await services.status(sender, requiredText(payload, NS.types, 'Ticket'));
      return renderGetStatusResponse(view, newContentId());
    },

    async healthCheck({ payload }) {
      const report = await services.health.run(mapHealthCheckRequest(payload));
      return renderHealthCheckResponse(report, services.component, services.location());
    },
  };
}
