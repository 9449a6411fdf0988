import { constants, createPublicKey, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { readCertificatesFromPemFile, readPrivateKeyFromPemFile } from '../pki/pem';

/**
 * The one way evidence gets signed. Callers see a certificate and a `sign` operation, never a key, so a
 * PKCS#11 HSM can implement this later without changing them.
 */
export interface DocumentSigner {
  /** DER of the signing certificate. */
  readonly certificate: Buffer;
  /** DER of the certificates above {@link certificate}, its issuer first (the signing certificate excluded). */
  readonly chain: Buffer[];
  /** RSASSA-PKCS1-v1_5 with SHA-256 over `data` (the signer hashes). */
  sign(data: Buffer): Promise<Buffer>;
  /**
   * True when the signer itself guarantees that every signature it returns verifies with the key of
   * {@link certificate}: `checkedSigner` then verifies nothing again. Left out (an HSM, a remote
   * signer), every signature is verified before it is used.
   */
  readonly checksItsSignatures?: boolean;
}

/** How a {@link PemFileSigner} computes its signatures. */
export interface SigningOptions {
  /**
   * In libuv's thread pool (default: the event loop goes on meanwhile, and one process can use a second
   * core), or on the event loop itself (cheaper in CPU when worker processes keep every core busy anyway).
   */
  threadPool?: boolean;
}

/** A {@link DocumentSigner} holding an RSA private key in memory (from PEM files, or given directly). */
export class PemFileSigner implements DocumentSigner {
  readonly certificate: Buffer;
  readonly chain: Buffer[];
  /**
   * The key is checked against the certificate at construction, and OpenSSL verifies each RSA result
   * computed with the CRT before returning it (recomputing without the CRT when it does not verify,
   * against fault attacks): a signature it returns verifies.
   */
  readonly checksItsSignatures = true;
  private readonly threadPool: boolean;

  /**
   * @throws Error when the key is not RSA or does not belong to the certificate
   */
  constructor(
    private readonly privateKey: KeyObject,
    certificate: Buffer,
    chain: readonly Buffer[] = [],
    options: SigningOptions = {},
  ) {
    if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'rsa') {
      throw new Error('the signing key must be an RSA private key');
    }
    const certificatePublicKey = new X509Certificate(certificate).publicKey.export({
      type: 'spki',
      format: 'der',
    });
    const keyPublicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    if (!certificatePublicKey.equals(keyPublicKey)) {
      throw new Error('the signing key does not belong to the signing certificate');
    }
    this.certificate = Buffer.from(certificate);
    this.chain = chain.map((der) => Buffer.from(der));
    this.threadPool = options.threadPool ?? true;
  }

  /**
   * Reads the key and the certificate; a certificate file holding several certificates gives the
   * signing certificate first and then its chain.
   * @param chainFiles more PEM files whose certificates extend the chain
   */
  static async fromPemFiles(
    keyFile: string,
    certificateFile: string,
    chainFiles: string[] = [],
    options: SigningOptions = {},
  ): Promise<PemFileSigner> {
    const [certificate, ...chain] = await readCertificatesFromPemFile(certificateFile);
    for (const file of chainFiles) chain.push(...(await readCertificatesFromPemFile(file)));
    return new PemFileSigner(await readPrivateKeyFromPemFile(keyFile), certificate, chain, options);
  }

  sign(data: Buffer): Promise<Buffer> {
    const key = { key: this.privateKey, padding: constants.RSA_PKCS1_PADDING };
    if (!this.threadPool) {
      try {
        return Promise.resolve(sign('sha256', data, key));
      } catch (error) {
        return Promise.reject(error as Error);
      }
    }
    return new Promise((resolve, reject) => {
      // The callback form runs in libuv's thread pool instead of blocking the event loop.
      sign('sha256', data, key, (error, signature) => (error ? reject(error) : resolve(signature)));
    });
  }
}
