import { encodeAttribute } from '../../src/evidence/cms-encoding';
import { DerError } from '../../src/pki/der';

const hex = (value: Buffer): string => value.toString('hex');

describe('CMS attributes', () => {
  test('an attribute writes its values byte for byte, sorted by encoding', () => {
    const attribute = encodeAttribute('1.2.3.4', [
      Buffer.from('0402ff00', 'hex'),
      Buffer.from('040101', 'hex'),
    ]);
    expect(hex(attribute)).toBe('300e' + '06032a0304' + '3107' + '040101' + '0402ff00');
  });

  test('a value that is not exactly one DER element is refused', () => {
    expect(() => encodeAttribute('1.2.3.4', [Buffer.from('05000500', 'hex')])).toThrow(DerError);
    expect(() => encodeAttribute('1.2.3.4', [Buffer.from('0405ff', 'hex')])).toThrow(DerError);
  });
});
