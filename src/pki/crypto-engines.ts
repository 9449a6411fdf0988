// @peculiar/x509 resolves its parsers through tsyringe, which needs the Reflect metadata polyfill.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/*
 * One place that wires the PKI libraries to Node's WebCrypto, so no caller has to remember it.
 * pkijs and asn1js are ESM-only packages: this CommonJS build loads them with a dynamic import.
 */

x509.cryptoProvider.set(webcrypto as Parameters<typeof x509.cryptoProvider.set>[1]);

/** The @peculiar/x509 module, already bound to Node's WebCrypto. */
export { x509 };

/** The pkijs module. */
export type Pkijs = typeof import('pkijs', { with: { 'resolution-mode': 'import' } });
/** The asn1js module. */
export type Asn1js = typeof import('asn1js', { with: { 'resolution-mode': 'import' } });

/** pkijs and asn1js, loaded together so that objects of one are understood by the other. */
export interface PkiLibraries {
  pkijs: Pkijs;
  asn1js: Asn1js;
}

let loading: Promise<PkiLibraries> | undefined;

/**
 * Loads pkijs and asn1js once and sets pkijs' crypto engine to Node's WebCrypto (the chain validation
 * engine and CMS signing need it).
 */
export function loadPkiLibraries(): Promise<PkiLibraries> {
  loading ??= (async () => {
    const [pkijs, asn1js] = await Promise.all([import('pkijs'), import('asn1js')]);
    const crypto = webcrypto as unknown as ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];
    pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto }));
    return { pkijs, asn1js };
  })();
  return loading;
}
