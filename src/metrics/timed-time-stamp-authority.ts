import type { MessageImprint, TimeStampAuthority } from '../timestamping/time-stamp-authority';

/** Told how long each time-stamp token took to obtain. */
export interface TimeStampObserver {
  /** `ok` false: no valid token was had (the authority threw). */
  timeStampObtained(facts: { seconds: number; ok: boolean }): void;
}

/**
 * A time-stamp authority that reports how long each token took (request, answer and its checks), to
 * `observer`, whether it was had or not. The token and the error pass through unchanged.
 */
export function timedTimeStampAuthority(
  authority: TimeStampAuthority,
  observer: TimeStampObserver,
): TimeStampAuthority {
  return {
    async timestamp(imprint: MessageImprint): Promise<Buffer> {
      const started = performance.now();
      let ok = false;
      try {
        const token = await authority.timestamp(imprint);
        ok = true;
        return token;
      } finally {
        observer.timeStampObtained({ seconds: (performance.now() - started) / 1000, ok });
      }
    },
  };
}
