import parsePrometheusTextFormat, {
  type ParsedFamily,
  type ParsedSample,
} from 'parse-prometheus-text-format';

/*
 * A `/metrics` text exposition parsed as Prometheus would, with parse-prometheus-text-format, and a
 * sample read by name and exact label set (so that a series is never mistaken for another). Free of
 * jest: the benchmark reads the service's counters with it too (`prometheus-scrape.ts` fetches for the
 * tests).
 *
 * The parser folds a histogram's samples into one object per family, which keeps the buckets, sum and
 * count only of a histogram without labels. Histogram series are therefore read from a second parse of
 * the same text without the histograms' TYPE lines, where `<name>_bucket`, `<name>_sum` and `<name>_count`
 * are families of their own with every sample and its labels.
 */

/** A parsed scrape. */
export class Scrape {
  /**
   * @param families the exposition as the parser reads it (each family with its TYPE)
   * @param samples the same without histogram TYPE lines: every sample line with its labels
   */
  constructor(
    readonly families: ParsedFamily[],
    private readonly samples: ParsedFamily[],
  ) {}

  /** The TYPE the exposition declares for `name` (COUNTER, GAUGE, HISTOGRAM...). */
  type(name: string): ParsedFamily['type'] {
    return familyOf(this.families, name).type;
  }

  /** The samples of `name` (for a histogram: of `<name>_count`, `_sum` or `_bucket`). */
  series(name: string): ParsedSample[] {
    familyOf(this.samples, name);
    // Without its TYPE, each series of a histogram ends the previous family: gather them by name.
    return this.samples.filter((family) => family.name === name).flatMap((family) => family.metrics);
  }

  /**
   * The sample of `name` with exactly `labels`, or undefined (also when the scrape has no sample of
   * `name` at all: a histogram nothing was observed in yet has no `_count` line).
   */
  sample(name: string, labels: Record<string, string> = {}): ParsedSample | undefined {
    if (!this.samples.some((family) => family.name === name)) return undefined;
    return this.series(name).find((sample) => sameLabels(sample.labels ?? {}, labels));
  }

  /** A sample's value for exactly `labels`; 0 when the series does not exist (yet). */
  value(name: string, labels: Record<string, string> = {}): number {
    const sample = this.sample(name, labels);
    return sample?.value === undefined ? 0 : Number(sample.value);
  }

  /** How many observations a histogram series counted; 0 when it does not exist (yet). */
  histogramCount(name: string, labels: Record<string, string>): number {
    return this.value(`${name}_count`, labels);
  }

  /** The sum of a histogram series' observations; 0 when it does not exist (yet). */
  histogramSum(name: string, labels: Record<string, string>): number {
    return this.value(`${name}_sum`, labels);
  }

  /** A histogram series' cumulative bucket `le`. */
  histogramBucket(name: string, labels: Record<string, string>, le: string): number {
    return this.value(`${name}_bucket`, { ...labels, le });
  }
}

function familyOf(families: ParsedFamily[], name: string): ParsedFamily {
  const found = families.find((family) => family.name === name);
  if (!found)
    throw new Error(`no ${name} in the scrape (${families.map((family) => family.name).join(', ')})`);
  return found;
}

function sameLabels(actual: Record<string, string>, expected: Record<string, string>): boolean {
  const names = Object.keys(actual);
  return (
    names.length === Object.keys(expected).length && names.every((name) => actual[name] === expected[name])
  );
}

/** Parses a text exposition (see the module comment). */
export function parseScrape(text: string): Scrape {
  return new Scrape(
    parsePrometheusTextFormat(text),
    parsePrometheusTextFormat(text.replace(/^# TYPE \S+ histogram$/gm, '')),
  );
}
