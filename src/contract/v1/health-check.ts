import type { Element } from '@xmldom/xmldom';
import type { HealthCheckType, HealthReport } from '../../domain/health-check-service';
import { NS } from '../../xml/namespaces';
import { appendPayloadElement, createPayloadElement } from '../../xml/payload-element';
import type { RenderedResponse } from '../rendered-response';

const M = NS.monitoring;

/** The requested health check level (`type` attribute, DEFAULT when absent as the schema says). */
export function mapHealthCheckRequest(payload: Element): HealthCheckType {
  return (payload.getAttribute('type') || 'DEFAULT') as HealthCheckType;
}

/** Where the service runs, as the monitoring schema's Location states it. */
export interface ServiceLocation {
  /** One of the monitoring schema's environments (PRD, ACC, INT, ..., LOCAL). */
  environment: string;
  host: string;
  port: number | undefined;
  url: string | undefined;
}

const MONITORING_ENVIRONMENTS = new Set(['PRD', 'SIM', 'ACC', 'INT', 'TST', 'DEV', 'SIC', 'LOCAL', 'OTHER']);

/** Maps RM_ENVIRONMENT to the monitoring schema's environment enumeration. */
export function monitoringEnvironment(environment: string | undefined): string {
  if (!environment) return 'LOCAL';
  return MONITORING_ENVIRONMENTS.has(environment) ? environment : 'OTHER';
}

/** `HealthCheckResponse` of the monitoring contract. */
export function renderHealthCheckResponse(
  report: HealthReport,
  component: { name: string; version: string },
  location: ServiceLocation,
): RenderedResponse {
  const payload = createPayloadElement(M, 'mon:HealthCheckResponse', { timestamp: report.at.toISOString() });
  appendPayloadElement(payload, M, 'mon:Status', (status) => {
    appendPayloadElement(status, M, 'mon:Level', report.level);
    appendPayloadElement(status, M, 'mon:Message', `${report.type} health check: ${report.level}`);
  });
  appendPayloadElement(payload, M, 'mon:Component', (element) => {
    appendPayloadElement(element, M, 'mon:Name', component.name);
    appendPayloadElement(element, M, 'mon:Version', component.version);
  });
  appendPayloadElement(payload, M, 'mon:Location', (element) => {
    appendPayloadElement(element, M, 'mon:Environment', location.environment);
    appendPayloadElement(element, M, 'mon:Host', location.host);
    if (location.port !== undefined) appendPayloadElement(element, M, 'mon:Port', String(location.port));
    if (location.url !== undefined) appendPayloadElement(element, M, 'mon:URL', location.url);
  });
  for (const check of report.checks) {
    appendPayloadElement(
      payload,
      M,
      'mon:SanityCheck',
      (element) => {
        appendPayloadElement(element, M, 'mon:Status', (status) => {
          appendPayloadElement(status, M, 'mon:Level', check.level);
          if (check.message) appendPayloadElement(status, M, 'mon:Message', check.message);
        });
        appendPayloadElement(element, M, 'mon:Resource', undefined, {
          name: check.resource.name,
          type: check.resource.type,
        });
        appendPayloadElement(element, M, 'mon:TimeInMillis', String(check.timeInMillis));
      },
      { id: check.id, description: check.description, type: check.type },
    );
  }
  return { payload, attachments: [] };
}
