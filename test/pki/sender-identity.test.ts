import { NotAuthorizedError } from '../../src/errors/faults';
import { x509 } from '../../src/pki/crypto-engines';
import { senderIdentityFromCertificate } from '../../src/pki/sender-identity';
import { senderSubjectRdns } from '../../src/pki/sender-subject';
import {
  createTestCa,
  issueTestCertificate,
  type SubjectSpec,
  type TestCertificate,
} from './certificate-fixtures';

const FROM = new Date('2026-01-01T00:00:00Z');
const TO = new Date('2027-01-01T00:00:00Z');

describe('senderIdentityFromCertificate', () => {
  let ca: TestCertificate;

  beforeAll(async () => {
    ca = await createTestCa('Identity CA', FROM, TO);
  });

  async function certificateWith(subject: SubjectSpec): Promise<Buffer> {
    const leaf = await issueTestCertificate(ca, {
      subject,
      notBefore: FROM,
      notAfter: TO,
      keyUsage: x509.KeyUsageFlags.digitalSignature,
    });
    return leaf.certificateDer;
  }

  function refusal(certificateDer: Buffer): NotAuthorizedError {
    try {
      senderIdentityFromCertificate(certificateDer);
    } catch (error) {
      expect(error).toBeInstanceOf(NotAuthorizedError);
      expect((error as NotAuthorizedError).code).toBe('SOA-01002');
      return error as NotAuthorizedError;
    }
    throw new Error('expected NotAuthorizedError');
  }

  test('reads a 10-digit CBE, the CN and the environment OU', async () => {
    const der = await certificateWith(
      senderSubjectRdns({
        organisation: 'ACME',
        cbe: '0861023666',
        applicationId: 'acme-app',
        environment: 'PRD',
      }),
    );
    expect(senderIdentityFromCertificate(der)).toEqual({
      cbe: '0861023666',
      applicationId: 'acme-app',
      environment: 'PRD',
    });
  });

  test('normalises a 9-digit CBE with a leading 0', async () => {
    const der = await certificateWith(
      senderSubjectRdns({
        organisation: 'Old',
        cbe: '244640631',
        applicationId: 'legacy',
        environment: 'ACC',
      }),
    );
    expect(senderIdentityFromCertificate(der)).toEqual({
      cbe: '0244640631',
      applicationId: 'legacy',
      environment: 'ACC',
    });
  });

  test('has no environment when the subject names none', async () => {
    const der = await certificateWith(
      senderSubjectRdns({
        organisation: 'ACME',
        cbe: '0406798006',
        applicationId: 'a',
        environment: undefined,
      }),
    );
    expect(senderIdentityFromCertificate(der).environment).toBeUndefined();
  });

  test.each(['TST', 'DEV', 'SIM', 'INT'])('recognises the environment OU %s', async (environment) => {
    const der = await certificateWith(
      senderSubjectRdns({ organisation: 'ACME', cbe: '0206731645', applicationId: 'a', environment }),
    );
    expect(senderIdentityFromCertificate(der).environment).toBe(environment);
  });

  test('refuses wrong check digits', async () => {
    const der = await certificateWith(
      senderSubjectRdns({ organisation: 'ACME', cbe: '0123456789', applicationId: 'a', environment: 'INT' }),
    );
    expect(refusal(der).reason).toMatch(/0123456789 is not valid/);
  });

  test('refuses a subject without the CBE OU', async () => {
    const der = await certificateWith([{ C: ['BE'] }, { O: ['ACME'] }, { OU: ['INT'] }, { CN: ['a'] }]);
    expect(refusal(der).reason).toMatch(/no CBE number/);
  });

  test('refuses a subject with a malformed CBE OU', async () => {
    const der = await certificateWith([
      { OU: ['urn:be:fgov:kbo-bce:organization:cbe-number:08610236'] },
      { CN: ['a'] },
    ]);
    expect(refusal(der).reason).toMatch(/no CBE number/);
  });

  test('refuses a subject without CN, or with two', async () => {
    const noCn = await certificateWith([
      { O: ['ACME'] },
      { OU: ['urn:be:fgov:kbo-bce:organization:cbe-number:0861023666'] },
    ]);
    expect(refusal(noCn).reason).toMatch(/one CN, has 0/);
    const twoCn = await certificateWith([
      { OU: ['urn:be:fgov:kbo-bce:organization:cbe-number:0861023666'] },
      { CN: ['a'] },
      { CN: ['b'] },
    ]);
    expect(refusal(twoCn).reason).toMatch(/one CN, has 2/);
  });

  test('refuses a CN longer than 150 characters', async () => {
    const der = await certificateWith(
      senderSubjectRdns({
        organisation: 'ACME',
        cbe: '0861023666',
        applicationId: 'x'.repeat(151),
        environment: 'INT',
      }),
    );
    expect(refusal(der).reason).toMatch(/1\.\.150/);
  });

  test('refuses two different CBE numbers or two environments', async () => {
    const twoCbe = await certificateWith([
      { OU: ['urn:be:fgov:kbo-bce:organization:cbe-number:0861023666'] },
      { OU: ['urn:be:fgov:kbo-bce:organization:cbe-number:0206731645'] },
      { CN: ['a'] },
    ]);
    expect(refusal(twoCbe).reason).toMatch(/several CBE/);
    const sameCbeTwice = await certificateWith([
      { OU: ['urn:be:fgov:kbo-bce:organization:cbe-number:0861023666'] },
      { OU: ['urn:be:fgov:kbo-bce:organization:cbe-number:861023666'] },
      { CN: ['a'] },
    ]);
    expect(senderIdentityFromCertificate(sameCbeTwice).cbe).toBe('0861023666');
    const twoEnvironments = await certificateWith([
      { OU: ['urn:be:fgov:kbo-bce:organization:cbe-number:0861023666'] },
      { OU: ['PRD'] },
      { OU: ['ACC'] },
      { CN: ['a'] },
    ]);
    expect(refusal(twoEnvironments).reason).toMatch(/several environment/);
  });

  test('refuses bytes that are not a certificate', () => {
    expect(refusal(Buffer.from([1, 2, 3])).reason).toMatch(/cannot be parsed/);
  });
});
