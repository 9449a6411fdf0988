import { parseXmlDateTime } from '../../src/wssecurity/xml-date-time';

describe('parseXmlDateTime', () => {
  test.each([
    ['2025-06-02T09:00:00Z', 'utc', '2025-06-02T09:00:00.000Z'],
    [' 2025-06-02T09:00:00.123456Z\n', 'utc', '2025-06-02T09:00:00.123Z'],
    ['2025-06-02T11:00:00+02:00', 'offset', '2025-06-02T09:00:00.000Z'],
    ['2024-02-29T00:00:00Z', 'utc', '2024-02-29T00:00:00.000Z'],
  ])('%j is %s, %s', (text, timeZone, iso) => {
    const value = parseXmlDateTime(text);
    expect(value.timeZone).toBe(timeZone);
    expect(value.date?.toISOString()).toBe(iso);
  });

  test.each([
    ['2025-06-02T09:00:00', 'none'],
    ['2025-02-29T00:00:00Z', 'utc'],
    ['2025-06-02T24:00:00Z', 'utc'],
    ['2025-06-02T09:00:60Z', 'utc'],
    ['2025-06-02T09:00:00+15:00', 'offset'],
    ['2025-06-02 09:00:00Z', undefined],
    ['20250602T090000Z', undefined],
  ])('%j has no instant', (text, timeZone) => {
    expect(parseXmlDateTime(text)).toMatchObject({ date: undefined, timeZone });
  });
});
