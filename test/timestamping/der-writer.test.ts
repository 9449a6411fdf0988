import { readSingleDerElement } from '../../src/pki/der';
import {
  contextTag,
  derContext,
  derSetOf,
  derTime,
  derTlv,
  derTree,
  derUtcTime,
  sortByEncoding,
  writeDer,
} from '../../src/pki/der-writer';

const hex = (value: Buffer): string => value.toString('hex');
const ascii = (value: Buffer): string => readSingleDerElement(value).content.toString('latin1');

describe('DER writer', () => {
  test('lengths are definite and minimal, and the element reads back whole', () => {
    for (const [size, header] of [
      [0, '0400'],
      [127, '047f'],
      [128, '048180'],
      [255, '0481ff'],
      [256, '04820100'],
      [65_535, '0482ffff'],
      [65_536, '0483010000'],
      [70_000, '0483011170'],
    ] as const) {
      const element = derTlv(0x04, Buffer.alloc(size, 1));
      expect(hex(element.subarray(0, header.length / 2))).toBe(header);
      expect(readSingleDerElement(element).content).toEqual(Buffer.alloc(size, 1));
    }
    expect(hex(derTlv(0x30, Buffer.from([1]), Buffer.alloc(0), Buffer.from([2, 3])))).toBe('3003010203');
  });

  test('SET OF is sorted by encoding (X.690 11.6), whatever order it is given in', () => {
    const components = [
      Buffer.from('0500', 'hex'),
      Buffer.from('0402ff00', 'hex'),
      Buffer.from('040101', 'hex'),
    ];
    expect(hex(derSetOf(components))).toBe('3109' + '040101' + '0402ff00' + '0500');
    expect(sortByEncoding(components).map(hex)).toEqual(['040101', '0402ff00', '0500']);
    expect(components.map(hex)).toEqual(['0500', '0402ff00', '040101']); // the input is left alone
  });

  test('context-specific constructed tags [0]..[30]', () => {
    expect(hex(derContext(0, Buffer.from('0500', 'hex')))).toBe('a0020500');
    expect(hex(derContext(4, Buffer.from('3000', 'hex')))).toBe('a4023000');
    expect(() => derContext(31)).toThrow(RangeError);
    expect(contextTag(1)).toBe(0xa1);
    expect(() => contextTag(-1)).toThrow(RangeError);
    expect(() => contextTag(1.5)).toThrow(RangeError);
  });

  test('a tree is written as the same elements written at once, whatever the lengths at each level', () => {
    for (const size of [0, 1, 120, 127, 128, 255, 256, 65_530, 65_536, 70_000]) {
      const big = Buffer.alloc(size, 0x5a);
      const small = Buffer.from('0500', 'hex');
      const atOnce = derTlv(
        0x30,
        small,
        derContext(0, derTlv(0x04, big), small),
        derTlv(0x31, derTlv(0x30), Buffer.alloc(0)),
        big,
      );
      const tree = derTree(
        0x30,
        small,
        derTree(contextTag(0), derTree(0x04, big), small),
        derTree(0x31, derTree(0x30), Buffer.alloc(0)),
        big,
      );
      expect(writeDer(tree).equals(atOnce)).toBe(true);
      expect(readSingleDerElement(writeDer(tree)).der.length).toBe(atOnce.length);
    }
    const bytes = Buffer.from('3003020101', 'hex');
    const written = writeDer(bytes);
    expect(written.equals(bytes)).toBe(true);
    expect(written).not.toBe(bytes); // a new buffer, even for bytes alone
  });

  test('UTCTime: YYMMDDHHMMSSZ, milliseconds dropped, only for 1950..2049', () => {
    const time = derUtcTime(new Date('2026-04-02T08:15:30.789Z'));
    expect(time[0]).toBe(0x17);
    expect(ascii(time)).toBe('260402081530Z');
    expect(ascii(derUtcTime(new Date('1950-01-01T00:00:00Z')))).toBe('500101000000Z');
    expect(() => derUtcTime(new Date('2050-01-01T00:00:00Z'))).toThrow(RangeError);
    expect(() => derUtcTime(new Date('1949-12-31T23:59:59Z'))).toThrow(RangeError);
  });

  test('Time: UTCTime until 2049, GeneralizedTime before 1950 and from 2050, to the whole second', () => {
    const last = derTime(new Date('2049-12-31T23:59:59.999Z'));
    expect([last[0], ascii(last)]).toEqual([0x17, '491231235959Z']);
    const first = derTime(new Date('2050-01-01T00:00:00.000Z'));
    expect([first[0], ascii(first)]).toEqual([0x18, '20500101000000Z']);
    const early = derTime(new Date('1949-12-31T23:59:59.500Z'));
    expect([early[0], ascii(early)]).toEqual([0x18, '19491231235959Z']);
  });
});
