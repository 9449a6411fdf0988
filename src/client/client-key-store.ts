import { readPkcs12KeyStore } from '../app/pkcs12-key-store';
import { ConfigError } from '../config/config';
import { PemFileSigner, type DocumentSigner } from '../evidence/document-signer';
import { ClientUsageError } from './client-errors';

/**
 * The sender's key and certificate from a PKCS#12 key store (what the dev PKI writes for each sender, what
 * openssl 3 writes, legacy 3DES stores too), as the signer of the requests. The key must be RSA: requests
 * are signed RSA-SHA256, as WSS4J clients sign them.
 * @throws ClientUsageError naming the file when it cannot be read (wrong password, no key, not RSA)
 */
export async function loadClientKey(file: string, password: string): Promise<DocumentSigner> {
  try {
    const entry = await readPkcs12KeyStore(file, password);
    return new PemFileSigner(entry.privateKey, entry.certificate, entry.chain);
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    // The reader's ConfigError names the service's setting and the file: keep only what follows them.
    const prefix = `RM_SIGNER_P12 ${file}`;
    const cause =
      error instanceof ConfigError && error.message.startsWith(prefix)
        ? error.message.slice(prefix.length).replace(/^:?\s*/, '')
        : error.message;
    throw new ClientUsageError(`--key ${file}: ${cause}`, { cause: error });
  }
}
