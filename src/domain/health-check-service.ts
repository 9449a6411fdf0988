import type { Clock } from '../clock/clock';

export type HealthCheckType = 'PING' | 'DEFAULT' | 'DEEP';
export type HealthLevel = 'OK' | 'WARNING' | 'CRITICAL' | 'FATAL';
export type ResourceType = 'DB' | 'FILESYSTEM' | 'CERTIFICATE' | 'WS' | 'OTHER';

/** One dependency to check. `scope` DEFAULT checks run for DEFAULT and DEEP; DEEP ones only for DEEP. */
export interface SanityCheck {
  id: string;
  description: string;
  resource: { name: string; type: ResourceType };
  scope: 'DEFAULT' | 'DEEP';
  run(): Promise<{ level: HealthLevel; message?: string }>;
}

export interface SanityCheckResult {
  id: string;
  description: string;
  resource: { name: string; type: ResourceType };
  type: HealthCheckType;
  level: HealthLevel;
  message: string | undefined;
  timeInMillis: number;
}

export interface HealthReport {
  type: HealthCheckType;
  level: HealthLevel;
  at: Date;
  checks: SanityCheckResult[];
}

const SEVERITY: HealthLevel[] = ['OK', 'WARNING', 'CRITICAL', 'FATAL'];

/**
 * The monitoring contract's health check: PING answers without touching anything, DEFAULT checks local
 * dependencies, DEEP adds external ones. A check that throws is CRITICAL with its message; the global
 * level is the worst of the checks.
 */
export class HealthCheckService {
  constructor(
    private readonly checks: SanityCheck[],
    private readonly clock: Clock,
  ) {}

  async run(type: HealthCheckType): Promise<HealthReport> {
    const selected =
      type === 'PING' ? [] : this.checks.filter((check) => type === 'DEEP' || check.scope === 'DEFAULT');
    const checks = await Promise.all(selected.map((check) => this.runOne(check, type)));
    const level = checks.reduce<HealthLevel>(
      (worst, check) => (SEVERITY.indexOf(check.level) > SEVERITY.indexOf(worst) ? check.level : worst),
      'OK',
    );
    return { type, level, at: this.clock.now(), checks };
  }

  private async runOne(check: SanityCheck, type: HealthCheckType): Promise<SanityCheckResult> {
    const started = performance.now();
    let outcome: { level: HealthLevel; message?: string };
    try {
      outcome = await check.run();
    } catch (error) {
      outcome = { level: 'CRITICAL', message: error instanceof Error ? error.message : String(error) };
    }
    return {
      id: check.id,
      description: check.description,
      resource: check.resource,
      type,
      level: outcome.level,
      message: outcome.message,
      timeInMillis: Math.round(performance.now() - started),
    };
  }
}
