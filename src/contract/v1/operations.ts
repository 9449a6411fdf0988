import { randomUUID } from 'node:crypto';
import type { HealthCheckService, HealthCheckType } from '../../domain/health-check-service';
import type { ItemStatusView, Sender } from '../../domain/model';
import { NS } from '../../xml/namespaces';
import { requiredText } from '../../xml/element-reader';
import {
  mappedContext,
  mapThenRun,
  type MappedOperationContext,
  type OperationHandler,
} from '../operation-handler';
import type { RenderedResponse } from '../rendered-response';
import { mapHealthCheckRequest, renderHealthCheckResponse, type ServiceLocation } from './health-check';
import { sendStaged, type SendServices } from '../send-services';
import { stageReferencedAttachments } from '../stage-attachments';
import {
  expectedAttachmentsOf,
  mapSendDocumentRequest,
  type SendDocumentRequestV1,
} from './map-send-document';
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
  async function sendDocument(
    request: SendDocumentRequestV1,
    context: MappedOperationContext,
  ): Promise<RenderedResponse> {
    const receipt = await sendStaged(
      services,
      request.command,
      async (stager) => {
        const [document, ...annexes] = await stageReferencedAttachments(
          context.attachments,
          expectedAttachmentsOf(request),
          stager,
        );
        return { document, annexes };
      },
      context,
    );
    return renderSendDocumentResponse(receipt, newContentId());
  }

  async function getStatus(sender: Sender, ticket: string): Promise<RenderedResponse> {
    return renderGetStatusResponse(await services.status(sender, ticket), newContentId());
  }

  async function healthCheck(request: HealthCheckType): Promise<RenderedResponse> {
    const report = await services.health.run(request);
    return renderHealthCheckResponse(report, services.component, services.location());
  }

  // Each maps its payload, then waits in an async function that never sees it (see OperationHandler).
  return {
    sendDocument: (context) =>
      mapThenRun(
        () => mapSendDocumentRequest(context.payload),
        (request) => sendDocument(request, mappedContext(context)),
      ),
    getStatus: ({ payload, sender }) =>
      mapThenRun(
        () => requiredText(payload, NS.types, 'Ticket'),
        (ticket) => getStatus(sender, ticket),
      ),
    healthCheck: ({ payload }) => mapThenRun(() => mapHealthCheckRequest(payload), healthCheck),
  };
}
