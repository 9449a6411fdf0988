/**
 * Checks a CBE / KBO enterprise number: 10 digits starting with 0 or 1, valid when
 * `(first 8 digits + last 2 digits) mod 97 = 0` as the contract states it, i.e. the last two digits
 * are `97 - (first 8 mod 97)`.
 */
export function isValidCbe(cbe: string): boolean {
  if (!/^[01]\d{9}$/.test(cbe)) return false;
  const check = Number(cbe.slice(8));
  return check === 97 - (Number(cbe.slice(0, 8)) % 97);
}

/** The 10-digit form: older certificates and clients write 9 digits without the leading 0. */
export function normaliseCbe(cbe: string): string {
  return cbe.length === 9 ? `0${cbe}` : cbe;
}
