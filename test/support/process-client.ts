import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { signEnvelope } from './wss-signer';

/*
 * What tests of the service as separate processes (on the real clock) share: the dev sender's key from
 * the service's data directory, signing now, and reading the processes and the database they leave.
 */

/** A sender's PEM key and certificate. */
export interface SenderKey {
  keyPem: string;
  certPem: string;
}

/** dev-sender-1's key and certificate in a data directory's dev PKI (src/pki/dev-pki.ts). */
export function devSender(dataDir: string): SenderKey {
  const stem = path.join(dataDir, 'dev-pki', 'senders', 'dev-sender-1');
  return {
    keyPem: readFileSync(`${stem}.key.pem`, 'utf8'),
    certPem: readFileSync(`${stem}.cert.pem`, 'utf8'),
  };
}

/** Signs as a WSS4J client does, now, with fresh Ids (a retry is a new message, not a replay). */
export function signNow(envelope: string, sender: SenderKey): string {
  const unique = randomUUID();
  return signEnvelope(envelope, {
    ...sender,
    created: new Date(),
    ids: {
      body: `id-${unique}`,
      timestamp: `TS-${unique}`,
      token: `X509-${unique}`,
      signature: `SIG-${unique}`,
    },
  });
}

/** `SELECT ticket, COUNT(*) AS n ... GROUP BY ticket` as a map. */
export async function countsByTicket(dataSource: DataSource, sql: string): Promise<Map<string, number>> {
  const rows = (await dataSource.query(sql)) as { ticket: string; n: number }[];
  return new Map(rows.map((row) => [row.ticket, Number(row.n)]));
}

/** The parent pid of a running process (field 4 of /proc/<pid>/stat). */
export function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}
