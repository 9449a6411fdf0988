import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { forwardRequest } from './http-forward';
import type { FaultPlan } from '../../src/ebox-simulator/fault-injector';

/*
 * Test control of an e-Box simulator started with `testControl: true` (its `/_test/*` API, over HTTP as
 * any client would use it), and a gate: an HTTP hop in front of the simulator that tells the test when a
 * publication reaches the e-Box and holds it there until the test lets it through.
 */

/**
 * Programs the simulator's next `failNext` e-Box calls (`POST /_test/faults`); `{failNext: 0}` clears.
 * @throws Error when the simulator refuses the plan
 */
export async function programEboxFaults(simulatorUrl: string, plan: FaultPlan): Promise<void> {
  const response = await fetch(`${simulatorUrl}/_test/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(plan),
  });
  if (response.status !== 200)
    throw new Error(`POST /_test/faults answered ${response.status}: ${await response.text()}`);
}

/** A hop in front of an e-Box that holds publications (`POST /ebox/messages`) until released. */
export interface EboxGate {
  /** The URL to give the service as RM_EBOX_URL. */
  url: string;
  /** Resolves when the next publication (counted from the start) has reached the gate. */
  publicationArrived(): Promise<void>;
  /** Lets every held publication, and every later one, through to the e-Box. */
  open(): void;
  close(): Promise<void>;
}

/** Starts a gate in front of `targetUrl` (closed: publications wait until {@link EboxGate.open}). */
export async function startEboxGate(targetUrl: string): Promise<EboxGate> {
  const target = new URL(targetUrl);
  let opened = false;
  const held: (() => void)[] = [];
  let arrived: () => void = () => undefined;
  const arrival = new Promise<void>((resolve) => (arrived = resolve));

  const server = http.createServer((request, response) => {
    const publication = request.method === 'POST' && request.url === '/ebox/messages';
    if (publication) arrived();
    if (publication && !opened) held.push(() => forwardRequest(target, request, response));
    else forwardRequest(target, request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    publicationArrived: () => arrival,
    open() {
      opened = true;
      for (let release = held.shift(); release !== undefined; release = held.shift()) release();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
