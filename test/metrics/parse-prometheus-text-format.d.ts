/*
 * The few types of parse-prometheus-text-format (a dev dependency without its own) that the metrics
 * tests use: the prom2json-like shape it parses the text format into. Values stay text, as written.
 */
declare module 'parse-prometheus-text-format' {
  /** One sample of a counter, gauge or untyped metric, or one series of a histogram or summary. */
  export interface ParsedSample {
    labels?: Record<string, string>;
    value?: string;
    /** Histograms: cumulative count by upper bound (`le`). */
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }

  /** One metric family: its HELP, TYPE and samples. */
  export interface ParsedFamily {
    name: string;
    help: string;
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    metrics: ParsedSample[];
  }

  /** Parses a Prometheus text exposition. @throws Error on text that is not in the format */
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
