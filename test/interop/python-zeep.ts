import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTool, unavailable } from './run-tool';

/**
 * Runs `python/list_operations.py` with the system Python, which has zeep (Debian python3-zeep). The
 * `python3` first on PATH may be another interpreter without it, hence the fixed path.
 */
export const SYSTEM_PYTHON = process.env.RM_INTEROP_PYTHON ?? '/usr/bin/python3';

const LIST_OPERATIONS = path.join(__dirname, 'python', 'list_operations.py');

/** What list_operations.py prints. */
export interface ZeepOperations {
  service: string;
  port: string;
  address: string | null;
  operations: string[];
}

/** The interpreter when it can import zeep; otherwise the skip reason (throws under CI=true). */
export function probeZeep(): { available: true; python: string } | { available: false; reason: string } {
  if (!fs.existsSync(SYSTEM_PYTHON))
    return unavailable(`${SYSTEM_PYTHON} not found (Debian package python3)`);
  const check = spawnSync(SYSTEM_PYTHON, ['-c', 'import zeep; print(zeep.__version__)'], {
    encoding: 'utf8',
  });
  if (check.status !== 0) {
    return unavailable(
      `${SYSTEM_PYTHON} cannot import zeep (Debian package python3-zeep): ${check.stderr.trim()}`,
    );
  }
  return { available: true, python: SYSTEM_PYTHON };
}

/**
 * Loads `wsdl` (URL or file path) with zeep and returns the operations of a port: the v1 port
 * (RegisteredMailService/RegisteredMailSOAP11) unless `port` names another.
 */
export async function listOperationsWithZeep(
  python: string,
  wsdl: string,
  port?: { service: string; port: string },
): Promise<ZeepOperations> {
  const args = [LIST_OPERATIONS, wsdl, ...(port ? [port.service, port.port] : [])];
  const { stdout } = await runTool(python, args, { timeoutMs: 60_000 });
  return JSON.parse(stdout) as ZeepOperations;
}
