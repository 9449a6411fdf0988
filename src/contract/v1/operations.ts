import { randomUUID } from 'node:crypto';
import type { HealthCheckService } from '../../domain/health-check-service';
import type {
  IssuedReceipt,
  ItemStatusView,
  SendDocumentCommand,
  Sender,
  StagedContent,
} from '../../domain/model';
import { NS } from '../../xml/namespaces';
import { requiredText } from '../../xml/element-reader';
import type { OperationHandler } from '../operation-handler';
import { mapHealthCheckRequest, renderHealthCheckResponse, type ServiceLocation } from './health-check';
import { mapSendDocumentRequest } from './map-send-document';
import { renderGetStatusResponse, renderSendDocumentResponse } from './render-responses';
import { stageReferencedAttachments, type AttachmentStager } from './stage-attachments';

/** The domain services the v1 port adapts; the port knows them only through these shapes. */
export interface V1Services {
  /**
   * Checks that need no bytes (digest methods, recipient identifiers, the recipient's e-Box status): run
   * before reading attachments, so a refused request stages and stores nothing.
   */
  precheck(command: SendDocumentCommand): Promise<void>;
  send(input: {
    sender: Sender;
    command: SendDocumentCommand;
    document: StagedContent;
    annexes: StagedContent[];
    requestId: string;
  }): Promise<IssuedReceipt>;
  status(sender: Sender, ticket: string): Promise<ItemStatusView>;
  health: HealthCheckService;
  /** A staging session per request; discarded whatever the outcome. */
  openStaging(): AttachmentStager & { discard(): Promise<void> };
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
        const contents = await stageReferencedAttachments(attachments, request, staging);
        const receipt = await services.send({ sender, command: request.command, ...contents, requestId });
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
