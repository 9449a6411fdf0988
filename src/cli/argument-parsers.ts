import { InvalidArgumentError } from 'commander';
import { isValidCbe, normaliseCbe } from '../domain/identifiers/cbe';
import { isValidInss } from '../domain/identifiers/inss';

/** A CBE number (10 digits, or 9 normalised with a leading 0; dots and spaces allowed), check digits valid. */
export function cbeArgument(value: string): string {
  const cbe = normaliseCbe(value.replace(/[\s.]/g, ''));
  if (!isValidCbe(cbe))
    throw new InvalidArgumentError('not a valid CBE number (10 digits, check digits mod 97)');
  return cbe;
}

/** An INSS (11 digits; dots, dashes and spaces allowed), check digits valid. */
export function inssArgument(value: string): string {
  const inss = value.replace(/[\s.-]/g, '');
  if (!isValidInss(inss)) throw new InvalidArgumentError('not a valid INSS (11 digits, check digits mod 97)');
  return inss;
}

/** A whole number from 1 to `max`. */
export function positiveIntegerArgument(max: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < 1 || number > max) {
      throw new InvalidArgumentError(`a whole number from 1 to ${max}`);
    }
    return number;
  };
}

/** Collects a repeatable option's values. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
