/** Binary units the benchmark's size options accept. */
const UNITS: Record<string, number> = { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/**
 * Parses a size such as `1KiB`, `10MiB`, `1GiB` or `4096` (bytes).
 * @throws RangeError on anything else, or a size below 1 byte
 */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kib|mib|gib)?\s*$/i.exec(text);
  if (!match) throw new RangeError(`not a size: ${text} (examples: 1KiB, 10MiB, 1GiB, 4096)`);
  const bytes = Math.round(Number(match[1]) * UNITS[(match[2] ?? 'b').toLowerCase()]);
  if (bytes < 1) throw new RangeError(`size too small: ${text}`);
  return bytes;
}
