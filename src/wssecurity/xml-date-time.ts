/** How an xs:dateTime value states its time zone. */
export type TimeZoneForm = 'utc' | 'offset' | 'none';

/** An xs:dateTime value as written and as understood. */
export interface DateTimeValue {
  /** The text as written, surrounding whitespace removed (xs:dateTime collapses whitespace). */
  raw: string;
  /** `Z` is 'utc'; `+01:00` is 'offset' (even `+00:00`); no zone is 'none'. */
  timeZone: TimeZoneForm | undefined;
  /** The instant; undefined when the text is not a valid xs:dateTime or has no time zone. */
  date: Date | undefined;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Parses an xs:dateTime with a four-digit year, as WS-Security Timestamps carry them. Fractional
 * seconds beyond milliseconds are truncated; `24:00:00` and leap seconds are refused.
 */
export function parseXmlDateTime(text: string): DateTimeValue {
  const raw = text.trim();
  const match = DATE_TIME.exec(raw);
  if (!match) return { raw, timeZone: undefined, date: undefined };
  const [, year, month, day, hour, minute, second, fraction, zone] = match;
  const timeZone: TimeZoneForm = zone === undefined ? 'none' : zone === 'Z' ? 'utc' : 'offset';
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number);
  const valid = mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo) && h <= 23 && mi <= 59 && s <= 59;
  if (!valid) return { raw, timeZone, date: undefined };
  if (zone === undefined) return { raw, timeZone, date: undefined };
  const milliseconds = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const offsetHours = Number(zone.slice(1, 3));
    const offsetRest = Number(zone.slice(4, 6));
    if (offsetHours > 14 || offsetRest > 59) return { raw, timeZone, date: undefined };
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (offsetHours * 60 + offsetRest);
  }
  const instant = Date.UTC(y, mo - 1, d, h, mi, s, milliseconds) - offsetMinutes * 60_000;
  return { raw, timeZone, date: new Date(instant) };
}
