import type { Config } from '../config/config';
import { SERVICE_PATH } from '../contract/wsdl-publisher';
import type { DevPki } from '../pki/dev-pki';

/** What `registered-mail serve` tells its user once the service answers. */
export interface BannerFacts {
  /** The URL the service answers on. */
  baseUrl: string;
  config: Config;
  /** The development PKI, when the service runs on one. */
  pki: DevPki | undefined;
  /** The embedded e-Box simulator's URL, when RM_EBOX_URL is not set. */
  eboxSimulatorUrl?: string;
  /** The process ids of the cluster's workers, when the service runs as several processes. */
  workerPids?: readonly number[];
}

/** The banner: where the service answers, where its data and dev PKI are, how to sign a request. */
export function serviceBanner(facts: BannerFacts): string {
  const { baseUrl, config, pki } = facts;
  const lines = [
    `RegisteredMail listening on ${baseUrl}${SERVICE_PATH}`,
    `  WSDL:        ${baseUrl}${SERVICE_PATH}?wsdl`,
    `  data:        ${config.dataDir}`,
  ];
  if (facts.workerPids !== undefined) {
    lines.push(`  workers:     ${facts.workerPids.length} (pids ${facts.workerPids.join(', ')})`);
  }
  if (facts.eboxSimulatorUrl !== undefined) {
    lines.push(`  e-Box:       ${facts.eboxSimulatorUrl} (the embedded simulator: RM_EBOX_URL is not set)`);
  }
  if (pki) {
    lines.push(`  dev PKI:     ${pki.dir} (generated for development: never use it in production)`);
    lines.push(`  trust:       ${pki.ca.certPemPath}`);
    for (const sender of pki.senders) {
      lines.push(
        `  sender:      ${sender.name} CBE ${sender.cbe}: ${sender.p12Path} (PKCS#12, password ${sender.password}, alias ${sender.name})`,
      );
    }
    lines.push(
      '  Sign each request with a sender key (WS-Security X.509 token, Timestamp, RSA-SHA256): see README.',
    );
  }
  return `${lines.join('\n')}\n`;
}
