import { Gauge, Registry } from 'prom-client';
import { loadConfig, ConfigError } from '../../src/config/config';
import { renderMetrics, type ProcessMetricsSource } from '../../src/metrics/metrics-exposition';
import { ServiceMetrics } from '../../src/metrics/service-metrics';
import { parseScrape } from './prometheus-scrape';

/*
 * The exposition on its own: what two processes counted, summed as a cluster scrape shows it (counters,
 * and every bucket, sum and count of the histograms), the scrape-time gauges once; and RM_METRICS.
 */

const V1 = '/RegisteredMail/v1';

describe('renderMetrics', () => {
  it('sums the processes’ counters and histograms and adds the scrape-time gauges once', async () => {
    const first = new ServiceMetrics();
    const second = new ServiceMetrics();
    const firstRequests = first.soapRequestObserver(V1);
    firstRequests.requestAnswered({ operation: 'sendDocument', faultCode: undefined, seconds: 0.02 });
    firstRequests.requestAnswered({ operation: 'sendDocument', faultCode: undefined, seconds: 0.3 });
    second
      .soapRequestObserver(V1)
      .requestAnswered({ operation: 'sendDocument', faultCode: undefined, seconds: 2 });
    second
      .soapRequestObserver(V1)
      .requestAnswered({ operation: undefined, faultCode: 'SOA-01001', seconds: 0.001 });
    first.publicationObserver().publicationAttempted('published');
    second.publicationObserver().publicationAttempted('transient');
    second.timeStampObserver('embedded').timeStampObtained({ seconds: 0.004, ok: true });

    const processes: ProcessMetricsSource = {
      snapshots: async () => [
        await first.registry.getMetricsAsJSON(),
        await second.registry.getMetricsAsJSON(),
      ],
    };
    const gauges = new Registry();
    new Gauge({ name: 'registered_mail_outbox_entries', help: 'h', registers: [gauges] }).set(7);

    const rendered = await renderMetrics(processes, gauges);
    expect(rendered.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const scraped = parseScrape(rendered.body);

    expect(scraped.value('registered_mail_processes_reporting')).toBe(2);
    expect(scraped.value('registered_mail_outbox_entries')).toBe(7);
    expect(
      scraped.value('registered_mail_soap_requests_total', {
        port: V1,
        operation: 'sendDocument',
        outcome: 'ok',
      }),
    ).toBe(3);
    expect(
      scraped.value('registered_mail_soap_requests_total', {
        port: V1,
        operation: 'unknown',
        outcome: 'SOA-01001',
      }),
    ).toBe(1);

    const sends = { port: V1, operation: 'sendDocument', result: 'ok' };
    const duration = 'registered_mail_soap_request_duration_seconds';
    expect(scraped.histogramCount(duration, sends)).toBe(3);
    expect(scraped.histogramSum(duration, sends)).toBeCloseTo(2.32, 10);
    expect(scraped.histogramBucket(duration, sends, '0.025')).toBe(1);
    expect(scraped.histogramBucket(duration, sends, '0.5')).toBe(2);
    expect(scraped.histogramBucket(duration, sends, '2.5')).toBe(3);
    expect(scraped.histogramBucket(duration, sends, '+Inf')).toBe(3);

    const attempts = 'registered_mail_publication_attempts_total';
    expect(scraped.series(attempts).map((sample) => [sample.labels?.outcome, Number(sample.value)])).toEqual([
      ['published', 1],
      ['transient', 1],
      ['permanent', 0],
      ['lost', 0],
    ]);
    expect(
      scraped.histogramCount('registered_mail_time_stamp_duration_seconds', {
        tsa: 'embedded',
        result: 'ok',
      }),
    ).toBe(1);
  });
});

describe('RM_METRICS', () => {
  it('is on unless set to false', () => {
    expect(loadConfig({}).metricsEnabled).toBe(true);
    expect(loadConfig({ RM_METRICS: 'true' }).metricsEnabled).toBe(true);
    expect(loadConfig({ RM_METRICS: 'false' }).metricsEnabled).toBe(false);
    expect(loadConfig({ RM_METRICS: '0' }).metricsEnabled).toBe(false);
    expect(() => loadConfig({ RM_METRICS: 'off' })).toThrow(ConfigError);
  });
});
