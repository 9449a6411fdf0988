/**
 * Checks an INSS (national register number, `YYMMDDSSSCC`): `CC = 97 - (YYMMDDSSS mod 97)`, or for
 * people born from 2000 on `CC = 97 - (2YYMMDDSSS mod 97)`. Bis numbers (month + 20 or + 40) and
 * unknown month/day (00) follow the same rule, so only the month range is checked beyond the digits.
 */
export function isValidInss(inss: string): boolean {
  if (!/^\d{11}$/.test(inss)) return false;
  const month = Number(inss.slice(2, 4)) % 20;
  if (month > 12 || Number(inss.slice(2, 4)) > 52) return false;
  const base = BigInt(inss.slice(0, 9));
  const check = Number(inss.slice(9, 11));
  const before2000 = 97n - (base % 97n);
  const from2000 = 97n - ((2_000_000_000n + base) % 97n);
  return check === Number(before2000) || check === Number(from2000);
}
