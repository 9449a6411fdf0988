import { decodeObjectIdentifier, readSingleDerElement } from '../../src/pki/der';
import { EmbeddedTimeStampAuthority } from '../../src/timestamping/embedded-time-stamp-authority';
import {
  derBoolean,
  derGeneralizedTime,
  derNamedBits,
  derObjectIdentifier,
  derSequence,
  derSmallInteger,
  derUnsignedInteger,
} from '../../src/pki/der-writer';
import { FAILURE_INFO_BITS } from '../../src/timestamping/rfc3161';
import { newSerialNumber, SERIAL_NUMBER_OCTETS } from '../../src/timestamping/serial-number';
import {
  decodeTimeStampRequest,
  decodeTimeStampResponse,
  encodeMessageImprint,
  encodeRejectedResponse,
  encodeTimeStampRequest,
} from '../../src/timestamping/time-stamp-codec';
import { parseTimeStampToken } from '../../src/timestamping/time-stamp-token';
import { verifyTimeStampToken } from '../../src/timestamping/verify-time-stamp-token';
import { createTsaTestPki, sha256Imprint, type TsaTestPki } from './tsa-test-support';

describe('the DER writer', () => {
  it('writes minimal non-negative INTEGERs', () => {
    expect(derUnsignedInteger(Buffer.from([0, 0, 0x80])).toString('hex')).toBe('02020080');
    expect(derUnsignedInteger(Buffer.from([0, 0x7f])).toString('hex')).toBe('02017f');
    expect(derUnsignedInteger(Buffer.alloc(0)).toString('hex')).toBe('020100');
  });

  it('writes PKIFailureInfo bits without trailing zero bits', () => {
    expect(derNamedBits([FAILURE_INFO_BITS.badAlg]).toString('hex')).toBe('03020780');
    expect(derNamedBits([FAILURE_INFO_BITS.badDataFormat]).toString('hex')).toBe('03020204');
    expect(derNamedBits([FAILURE_INFO_BITS.unacceptedPolicy]).toString('hex')).toBe('0303000001');
    expect(derNamedBits([FAILURE_INFO_BITS.systemFailure]).toString('hex')).toBe('030506000000' + '40');
  });

  it('writes OBJECT IDENTIFIERs that read back, large arcs included', () => {
    for (const oid of [
      '1.3.6.1.4.1.32473.3161.1',
      '2.25.329800735698586629295641978511506172918',
      '0.9.2342',
    ]) {
      expect(decodeObjectIdentifier(readSingleDerElement(derObjectIdentifier(oid)).content)).toBe(oid);
    }
    expect(() => derObjectIdentifier('1.40.1')).toThrow(RangeError);
    expect(() => derObjectIdentifier('1.02')).toThrow(RangeError);
  });

  it('writes and reads an OBJECT IDENTIFIER the same way again (remembered encodings)', () => {
    const first = derObjectIdentifier('1.2.840.113549.1.9.16.2.14');
    first.fill(0);
    const second = derObjectIdentifier('1.2.840.113549.1.9.16.2.14');
    expect(second.toString('hex')).toBe('060b2a864886f70d010910020e');
    expect(decodeObjectIdentifier(second.subarray(2))).toBe('1.2.840.113549.1.9.16.2.14');
    expect(decodeObjectIdentifier(second.subarray(2))).toBe('1.2.840.113549.1.9.16.2.14');
    for (let i = 0; i < 2; i += 1) {
      expect(() => decodeObjectIdentifier(Buffer.from([0x80, 0x01]))).toThrow('non-minimal');
      expect(() => decodeObjectIdentifier(Buffer.from([0x2a, 0x86]))).toThrow('truncated');
      expect(() => derObjectIdentifier('1.40.1')).toThrow(RangeError);
    }
  });

  it('writes GeneralizedTime with the millisecond, no trailing zero', () => {
    expect(derGeneralizedTime(new Date('2030-12-31T23:59:59.5Z')).subarray(2).toString()).toBe(
      '20301231235959.5Z',
    );
  });
});

describe('serial numbers', () => {
  it('are 20-octet positive INTEGERs with no leading zero octet', () => {
    for (let i = 0; i < 200; i += 1) {
      const serial = newSerialNumber();
      expect(serial).toHaveLength(SERIAL_NUMBER_OCTETS);
      expect(serial[0] & 0x80).toBe(0);
      expect(derUnsignedInteger(serial)).toHaveLength(SERIAL_NUMBER_OCTETS + 2);
    }
  });
});

describe('requests and responses', () => {
  it('round-trip a request', () => {
    const imprint = sha256Imprint(Buffer.from('r'));
    const request = decodeTimeStampRequest(
      encodeTimeStampRequest({ imprint, nonce: Buffer.from([0xff, 1]), certReq: true, reqPolicy: '1.2.3' }),
    );
    expect(request).toMatchObject({
      version: 1n,
      reqPolicy: '1.2.3',
      certReq: true,
      hasExtensions: false,
      nonceDer: Buffer.from('020300ff01', 'hex'),
    });
    expect(request.imprint).toMatchObject({
      hashAlgorithmOid: '2.16.840.1.101.3.4.2.1',
      parametersAbsentOrNull: true,
      digest: imprint.digest,
    });
    // certReq false is the DEFAULT: DER leaves it out.
    const plain = encodeTimeStampRequest({ imprint, certReq: false });
    expect(decodeTimeStampRequest(plain).certReq).toBe(false);
    expect(plain.length).toBe(encodeTimeStampRequest({ imprint, certReq: true }).length - 3);
  });

  it('refuse trailing bytes, indefinite lengths and fields out of order', () => {
    const imprint = sha256Imprint(Buffer.from('r'));
    const good = encodeTimeStampRequest({ imprint, certReq: true });
    expect(() => decodeTimeStampRequest(Buffer.concat([good, Buffer.from([0])]))).toThrow();
    expect(() => decodeTimeStampRequest(Buffer.from('3080020101', 'hex'))).toThrow();
    // reqPolicy after certReq.
    const reordered = derSequence(
      derSmallInteger(1),
      encodeMessageImprint(imprint),
      derBoolean(true),
      derObjectIdentifier('1.2.3'),
    );
    expect(() => decodeTimeStampRequest(reordered)).toThrow();
  });

  it('read a rejection with its text and failure name', () => {
    expect(decodeTimeStampResponse(encodeRejectedResponse('unacceptedExtension', 'no extension'))).toEqual({
      status: 2,
      statusStrings: ['no extension'],
      failures: ['unacceptedExtension'],
      token: undefined,
    });
  });
});

describe('verifying tokens of the embedded TSA', () => {
  let testPki: TsaTestPki;
  let tsa: EmbeddedTimeStampAuthority;

  beforeAll(async () => {
    testPki = await createTsaTestPki();
    tsa = new EmbeddedTimeStampAuthority({ signer: testPki.signer, clock: testPki.clock });
  });
  afterAll(() => testPki.dispose());

  const expectations = (imprint = sha256Imprint(Buffer.from('v'))) => ({
    imprint,
    trustAnchors: [testPki.pki.ca.certificateDer],
    clock: testPki.clock,
    maxClockSkewMs: 60_000,
  });

  it('pass every check, with the path to the dev CA', async () => {
    const token = await tsa.timestamp(sha256Imprint(Buffer.from('v')));
    const verified = await verifyTimeStampToken(token, expectations());
    expect(verified.tsaCertificate).toEqual(testPki.pki.tsa.certificateDer);
    expect(verified.chain).toEqual([testPki.pki.tsa.certificateDer, testPki.pki.ca.certificateDer]);
  });

  it('fail the message-digest check when a byte of the TSTInfo changes', async () => {
    const token = await tsa.timestamp(sha256Imprint(Buffer.from('v')));
    const { tstInfoDer } = parseTimeStampToken(token);
    const at = token.indexOf(tstInfoDer) + tstInfoDer.length - 1;
    const tampered = Buffer.from(token);
    tampered[at] ^= 0x01;
    await expect(verifyTimeStampToken(tampered, expectations())).rejects.toThrow(
      /message-digest signed attribute does not match the TSTInfo/,
    );
  });

  it('fail on a token that is not DER', async () => {
    await expect(verifyTimeStampToken(Buffer.from('nope'), expectations())).rejects.toThrow(
      /the token does not parse/,
    );
  });
});
