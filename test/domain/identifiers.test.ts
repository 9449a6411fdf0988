import { isValidCbe, normaliseCbe } from '../../src/domain/identifiers/cbe';
import { isValidInss } from '../../src/domain/identifiers/inss';

describe('INSS check digits', () => {
  it.each(['85073003328', '17073003384', '81041430930'])('accepts %s', (inss) => {
    expect(isValidInss(inss)).toBe(true);
  });
  it.each(['85073003329', '1707300338', '8507300332A', '85133003328', '17073003385'])(
    'refuses %s',
    (inss) => {
      expect(isValidInss(inss)).toBe(false);
    },
  );
  it('accepts bis numbers (month + 20 / + 40) with the same rule', () => {
    const base = '852730033';
    const check = String(97 - (Number(base) % 97)).padStart(2, '0');
    expect(isValidInss(base + check)).toBe(true);
  });
});

describe('CBE check digits', () => {
  it.each(['0861023666', '0206731645', '0406798006'])('accepts %s', (cbe) => {
    expect(isValidCbe(cbe)).toBe(true);
  });
  it.each(['0123456789', '2861023666', '086102366', '0861023667'])('refuses %s', (cbe) => {
    expect(isValidCbe(cbe)).toBe(false);
  });
  it('normalises the 9-digit form', () => {
    expect(normaliseCbe('244640631')).toBe('0244640631');
    expect(isValidCbe(normaliseCbe('244640631'))).toBe(true);
  });
});
