import { constants, verify } from 'node:crypto';
import { certificatePublicKey } from '../pki/certificate-public-key';
import type { DocumentSigner } from './document-signer';

/** A signature the signer returned that its own certificate's key does not verify. */
export class SignatureCheckError extends Error {
  constructor() {
    super("the signer returned a signature that its certificate's key does not verify");
    this.name = 'SignatureCheckError';
  }
}

/**
 * `signer` with every signature verified with its certificate's public key before anyone uses it: a
 * signer (an HSM, later; a key that does not belong to the certificate) that returns a wrong signature
 * must not produce a proof that fails in court. A signer that {@link DocumentSigner.checksItsSignatures}
 * is returned as it is. One RSA verification, tens of microseconds, on the data
 * actually signed, instead of parsing the finished structure again.
 * @throws Error when the certificate's public key cannot be read
 */
export function checkedSigner(signer: DocumentSigner): DocumentSigner {
  // The signer's own guarantee (an in-memory key through OpenSSL): one RSA verification less per token.
  if (signer.checksItsSignatures === true) return signer;
  const publicKey = certificatePublicKey(signer.certificate);
  if (publicKey === undefined) throw new Error("the signer's certificate cannot be read");
  return {
    certificate: signer.certificate,
    chain: signer.chain,
    async sign(data: Buffer): Promise<Buffer> {
      const signature = await signer.sign(data);
      const valid = verify(
        'sha256',
        data,
        { key: publicKey, padding: constants.RSA_PKCS1_PADDING },
        signature,
      );
      if (!valid) throw new SignatureCheckError();
      return signature;
    },
  };
}
