import { constants, createPrivateKey, sign as rsaSign, verify, X509Certificate } from 'node:crypto';
import { checkedSigner, SignatureCheckError } from '../../src/evidence/checked-signer';
import { PemFileSigner, type DocumentSigner } from '../../src/evidence/document-signer';
import { selfSignedCertificate, type PemKeyPair } from '../support/test-certificates';

/** A signer with any key behind any certificate (what PemFileSigner refuses, an HSM could still do). */
function rawSigner(certPem: string, keyPem: string): DocumentSigner {
  const key = createPrivateKey(keyPem);
  return {
    certificate: Buffer.from(new X509Certificate(certPem).raw),
    chain: [],
    sign: (data) => Promise.resolve(rsaSign('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING })),
  };
}

describe('checkedSigner', () => {
  let first: PemKeyPair;
  let second: PemKeyPair;
  beforeAll(async () => {
    [first, second] = await Promise.all([
      selfSignedCertificate({ commonName: 'signer one' }),
      selfSignedCertificate({ commonName: 'signer two' }),
    ]);
  });

  it("passes on a signature that the certificate's key verifies, with the same certificate and chain", async () => {
    const inner = rawSigner(first.certPem, first.keyPem);
    const signer = checkedSigner(inner);
    const data = Buffer.from('signed attributes');
    const signature = await signer.sign(data);
    expect(signer.certificate).toBe(inner.certificate);
    expect(signer.chain).toBe(inner.chain);
    expect(verify('sha256', data, new X509Certificate(first.certPem).publicKey, signature)).toBe(true);
  });

  it("refuses a signature made with a key other than the certificate's", async () => {
    const signer = checkedSigner(rawSigner(first.certPem, second.keyPem));
    await expect(signer.sign(Buffer.from('x'))).rejects.toThrow(SignatureCheckError);
  });

  it('refuses a signature that is not one (a broken device)', async () => {
    const signer = checkedSigner({
      ...rawSigner(first.certPem, first.keyPem),
      sign: () => Promise.resolve(Buffer.alloc(256, 7)),
    });
    await expect(signer.sign(Buffer.from('x'))).rejects.toThrow(SignatureCheckError);
  });

  it('passes on the failure of the signer itself', async () => {
    const signer = checkedSigner({
      ...rawSigner(first.certPem, first.keyPem),
      sign: () => Promise.reject(new Error('device unplugged')),
    });
    await expect(signer.sign(Buffer.from('x'))).rejects.toThrow('device unplugged');
  });

  it('returns a signer that checks its own signatures as it is, and checks one that only says false', async () => {
    const pemSigner = new PemFileSigner(
      createPrivateKey(first.keyPem),
      Buffer.from(new X509Certificate(first.certPem).raw),
    );
    expect(pemSigner.checksItsSignatures).toBe(true);
    expect(checkedSigner(pemSigner)).toBe(pemSigner);
    const claimsNothing = checkedSigner({
      ...rawSigner(first.certPem, second.keyPem),
      checksItsSignatures: false,
    });
    await expect(claimsNothing.sign(Buffer.from('x'))).rejects.toThrow(SignatureCheckError);
  });

  it('refuses a certificate it cannot read', () => {
    expect(() =>
      checkedSigner({
        certificate: Buffer.from('junk'),
        chain: [],
        sign: () => Promise.resolve(Buffer.alloc(0)),
      }),
    ).toThrow('cannot be read');
  });
});
