import path from 'node:path';
import type { Clock } from '../clock/clock';
import type { Logger } from '../logging/logger';
import { certificateForRevocation, CrlError, isCurrent, verifyCrl, type VerifiedCrl } from './crl';
import {
  crlSource,
  CrlDiskCache,
  CrlUnavailableError,
  DEFAULT_CRL_DOWNLOAD_LIMITS,
  describeCrlSource,
  readCrlSource,
  type CrlDownloadLimits,
  type CrlSource,
} from './crl-sources';

/** How long after a refresh that left a source failing or a CRL stale the next attempt may start. */
export const CRL_RETRY_AFTER_MS = 60_000;

/** Decides whether certificates of a validated path are revoked (used by `CertificateValidator`). */
export interface RevocationChecker {
  /**
   * @param certificates DER of the path's certificates that are not trust anchors, leaf first
   * @returns why the path must be refused (starting with "revoked" for a revoked certificate), or
   *   undefined when none of them is revoked
   */
  problemWith(certificates: readonly Buffer[]): Promise<string | undefined>;
}

/** What {@link CrlRevocationChecker.load} needs. */
export interface CrlCheckerOptions {
  /** RM_CRL entries: file paths and http(s) URLs of DER or PEM CRLs. */
  sources: readonly string[];
  /** DER of the trust anchors; every CRL must be signed by one of them. */
  trustAnchors: readonly Buffer[];
  clock: Clock;
  /** Seconds between two refreshes of every source (RM_CRL_REFRESH_SECONDS). */
  refreshSeconds: number;
  /** Where the last good CRL of each URL is kept (e.g. `<data dir>/crl-cache`). */
  cacheDir: string;
  log?: Logger;
  downloadLimits?: CrlDownloadLimits;
}

interface SourceState {
  source: CrlSource;
  name: string;
  crl: VerifiedCrl | undefined;
}

/**
 * Revocation by CRLs (RM_CRL). Every source is loaded at start-up; URLs also go to a disk cache, and a
 * URL that cannot be reached at start-up is served from it. While running, every source is read again
 * once `refreshSeconds` have passed, or as soon as a CRL's nextUpdate has passed (both on the injected
 * clock's time, checked when a certificate is checked; the check waits for the refresh). A refreshed CRL
 * replaces the held one only if it verifies and is not older; otherwise the held one stays and the
 * failure is logged.
 *
 * Fail-closed, as WSS4J and CXF with revocation enabled (Java's PKIX checker): once CRLs are configured,
 * each certificate of the path other than the trust anchor must be covered by a current CRL of its
 * issuer (thisUpdate <= now <= nextUpdate). A certificate whose issuer has no CRL, or only one past its
 * nextUpdate that could not be refreshed, is refused ("revocation status unknown"), like a revoked one.
 */
export class CrlRevocationChecker implements RevocationChecker {
  private nextRefreshAt: number;
  private nextAttemptAt: number;
  private refreshing: Promise<void> | undefined;

  private constructor(
    private readonly states: SourceState[],
    private readonly options: CrlCheckerOptions,
    private readonly cache: CrlDiskCache,
  ) {
    const now = options.clock.now().getTime();
    this.nextRefreshAt = now + options.refreshSeconds * 1000;
    this.nextAttemptAt = now;
  }

  /**
   * Loads every source.
   * @throws CrlError when a file cannot be read, or a CRL (from a file, a URL or the cache) does not
   *   verify: a configuration error, so start-up fails with it. A URL that cannot be reached and has no
   *   cached CRL only logs a warning (certificates of its issuer are refused until it can be loaded).
   */
  static async load(options: CrlCheckerOptions): Promise<CrlRevocationChecker> {
    if (!(options.refreshSeconds > 0)) throw new RangeError('refreshSeconds must be positive');
    const cache = new CrlDiskCache(path.resolve(options.cacheDir));
    const states = options.sources.map((entry): SourceState => {
      const source = crlSource(entry);
      return { source, name: describeCrlSource(source), crl: undefined };
    });
    const checker = new CrlRevocationChecker(states, options, cache);
    const loaded = await Promise.all(states.map((state) => checker.loadAtStart(state)));
    // A URL unreachable at start-up is tried again soon, not only after the whole refresh interval.
    if (loaded.includes(false)) checker.nextRefreshAt = Math.min(checker.nextRefreshAt, checker.retryAt());
    return checker;
  }

  /** The CRLs held now, one per source that has one (for health and tests). */
  heldCrls(): VerifiedCrl[] {
    return this.states.flatMap((state) => (state.crl ? [state.crl] : []));
  }

  async problemWith(certificates: readonly Buffer[]): Promise<string | undefined> {
    await this.refreshIfDue();
    const now = this.options.clock.now();
    for (const der of certificates) {
      const certificate = await certificateForRevocation(der);
      const ofIssuer = this.heldCrls().filter((crl) => crl.covers(certificate));
      if (ofIssuer.length === 0) {
        return `revocation status unknown: no CRL of ${certificate.issuer} is configured`;
      }
      const current = ofIssuer
        .filter((crl) => isCurrent(crl, now))
        .sort((a, b) => b.thisUpdate.getTime() - a.thisUpdate.getTime())[0];
      if (current === undefined) {
        const latest = ofIssuer.map((crl) => crl.nextUpdate?.toISOString() ?? '?').join(', ');
        return `revocation status unknown: the CRL of ${certificate.issuer} is past its nextUpdate (${latest}) and could not be refreshed`;
      }
      const revocation = current.revocationOf(certificate);
      if (revocation !== undefined) {
        return (
          `revoked: certificate serial ${certificate.serialNumber} (${certificate.subject}) is listed by the CRL of ` +
          `${current.issuer} since ${revocation.revokedAt.toISOString()}` +
          (revocation.reason !== undefined ? `, reason code ${revocation.reason}` : '')
        );
      }
    }
    return undefined;
  }

  /**
   * Reads every source again now, whatever the schedule (also what the schedule runs). Never throws: a
   * source that fails keeps its CRL, and the failure is logged.
   */
  async refresh(): Promise<void> {
    this.refreshing ??= this.refreshAll().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async refreshIfDue(): Promise<void> {
    const now = this.options.clock.now();
    if (this.refreshing !== undefined) return this.refreshing;
    if (now.getTime() < this.nextAttemptAt) return;
    const stale = this.states.some((state) => state.crl === undefined || !isCurrent(state.crl, now));
    if (stale || now.getTime() >= this.nextRefreshAt) await this.refresh();
  }

  private async refreshAll(): Promise<void> {
    const started = this.options.clock.now().getTime();
    const outcomes = await Promise.all(this.states.map((state) => this.refreshOne(state)));
    const now = this.options.clock.now();
    this.nextRefreshAt = started + this.options.refreshSeconds * 1000;
    const unsettled =
      outcomes.includes(false) || this.states.some((state) => !state.crl || !isCurrent(state.crl, now));
    // A source that keeps failing is tried again after a pause, not by every request.
    this.nextAttemptAt = unsettled ? this.retryAt(started) : started;
  }

  private retryAt(from = this.options.clock.now().getTime()): number {
    return from + Math.min(CRL_RETRY_AFTER_MS, this.options.refreshSeconds * 1000);
  }

  /** @returns whether the source gave a CRL that is now held (new, or the same as before) */
  private async refreshOne(state: SourceState): Promise<boolean> {
    try {
      await this.fetchAndAdopt(state);
      return true;
    } catch (error) {
      this.options.log?.warn('CRL refresh failed: the CRL held stays', {
        crl: state.name,
        error: (error as Error).message,
        heldNextUpdate: state.crl?.nextUpdate?.toISOString(),
      });
      return false;
    }
  }

  /** @returns whether the source gave a CRL (false: a URL unreachable, served from the cache or not at all) */
  private async loadAtStart(state: SourceState): Promise<boolean> {
    const { source } = state;
    try {
      await this.fetchAndAdopt(state);
      return true;
    } catch (error) {
      if (!(error instanceof CrlUnavailableError) || source.kind === 'file') {
        throw error instanceof CrlError ? error : new CrlError((error as Error).message);
      }
      const cached = await this.cache.read(source.url);
      try {
        if (cached === undefined) throw new CrlError('no cached copy');
        this.adopt(state, await verifyCrl(cached, `${source.url} (cached copy)`, this.options.trustAnchors));
        this.options.log?.warn('CRL unavailable at start-up: using the cached copy', {
          crl: state.name,
          error: error.message,
          cachedNextUpdate: state.crl?.nextUpdate?.toISOString(),
        });
      } catch (cacheError) {
        this.options.log?.warn(
          'CRL unavailable at start-up and no usable cached copy: its issuer’s certificates are refused until it loads',
          { crl: state.name, error: error.message, cache: (cacheError as Error).message },
        );
      }
      return false;
    }
  }

  /**
   * Reads and verifies a source and holds its CRL when it is not in the future and not older than the
   * held one; the CRL of a URL then goes to the disk cache.
   */
  private async fetchAndAdopt(state: SourceState): Promise<void> {
    const { source } = state;
    const bytes = await readCrlSource(source, this.options.downloadLimits ?? DEFAULT_CRL_DOWNLOAD_LIMITS);
    const crl = await verifyCrl(bytes, describeCrlSource(source), this.options.trustAnchors);
    const now = this.options.clock.now();
    if (crl.thisUpdate.getTime() > now.getTime()) {
      throw new CrlError(`CRL ${crl.source}: thisUpdate ${crl.thisUpdate.toISOString()} is in the future`);
    }
    this.adopt(state, crl);
    if (source.kind === 'url') await this.cache.write(source.url, crl.der);
  }

  /** Holds `fresh` unless it is older than the CRL held (a CRL never goes back in time). */
  private adopt(state: SourceState, fresh: VerifiedCrl): void {
    const held = state.crl;
    if (held !== undefined && fresh.thisUpdate.getTime() < held.thisUpdate.getTime()) {
      throw new CrlError(
        `CRL ${fresh.source}: thisUpdate ${fresh.thisUpdate.toISOString()} is older than the held CRL's ${held.thisUpdate.toISOString()}`,
      );
    }
    state.crl = fresh;
  }
}
