import { get } from '../support/soap-client';
import { parseScrape, type Scrape } from './prometheus-text';

export { parseScrape, Scrape } from './prometheus-text';

/** `GET <baseUrl>/metrics`, checked to be a 200 in the Prometheus text format, parsed. */
export async function scrape(baseUrl: string): Promise<Scrape> {
  const result = await get(`${baseUrl}/metrics`);
  if (result.status !== 200)
    throw new Error(`GET /metrics answered ${result.status}: ${result.body.toString()}`);
  expect(result.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseScrape(result.body.toString('utf8'));
}
