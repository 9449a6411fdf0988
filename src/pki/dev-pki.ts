import { createPrivateKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../clock/clock';
import { isValidCbe, normaliseCbe } from '../domain/identifiers/cbe';
import { x509 } from './crypto-engines';
import { derToPem, readCertificateFromPemFile, readPrivateKeyFromPemFile } from './pem';
import { encodePkcs12 } from './pkcs12';
import { isSenderEnvironment, senderSubjectRdns } from './sender-subject';

/*
 * A development PKI, generated on first start so that the service runs with nothing configured: a root
 * CA, the receipt signer, a time-stamping certificate and two sender certificates (with PKCS#12 key
 * stores for Java and SoapUI clients). Every certificate names the marker organisation below, so that
 * the service can refuse to run in production on these keys (see isDevPkiCertificate).
 */

/** The manifest file; written last, so a directory without it is (re)generated. */
export const DEV_PKI_MANIFEST = 'dev-pki.json';

/** The password of every dev PKCS#12 key store (Java's customary default). */
export const DEV_PKCS12_PASSWORD = 'changeit';

/** Organisation (O) of the dev CA and of the service's dev certificates. */
export const DEV_PKI_ORGANISATION = 'RegisteredMail development PKI';

/** Organisational unit (OU) of the dev CA and of the service's dev certificates. */
export const DEV_PKI_MARKER_OU = 'NOT FOR PRODUCTION USE';

/** Common name of the dev root CA. */
export const DEV_ROOT_CA_COMMON_NAME = 'RegisteredMail Development Root CA';

/** The senders generated with every dev PKI. */
export const DEFAULT_DEV_SENDERS: readonly SenderCertificateRequest[] = [
  { name: 'dev-sender-1', cbe: '0861023666', applicationId: 'dev-sender-1' },
  { name: 'dev-sender-2', cbe: '0206731645', applicationId: 'dev-sender-2' },
];

const MANIFEST_KIND = 'registered-mail-dev-pki';
const MANIFEST_VERSION = 1;
const DEFAULT_SENDER_ORGANISATION = 'RegisteredMail development sender';
const DEFAULT_SENDER_ENVIRONMENT = 'INT';
const DEFAULT_SENDER_VALIDITY_DAYS = 730;
const SERVICE_CERTIFICATE_VALIDITY_DAYS = 5 * 365;
const ROOT_VALIDITY_YEARS = 10;
/** Validity starts an hour early so that a peer whose clock is slightly behind accepts new certificates. */
const BACKDATE_MILLISECONDS = 60 * 60 * 1000;
const DAY_MILLISECONDS = 24 * 60 * 60 * 1000;
const SENDER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A key and its certificate, as files and parsed. */
export interface DevPkiKeyPair {
  keyPemPath: string;
  certPemPath: string;
  privateKey: KeyObject;
  /** DER of the certificate. */
  certificateDer: Buffer;
}

/** A sender certificate of the dev PKI. */
export interface DevPkiSender {
  /** File name stem and PKCS#12 alias. */
  name: string;
  cbe: string;
  applicationId: string;
  /** The environment OU; undefined when the subject has none. */
  environment: string | undefined;
  organisation: string;
  keyPemPath: string;
  certPemPath: string;
  /** PKCS#12 with the key, the certificate and the CA certificate, alias {@link name}. */
  p12Path: string;
  password: string;
  /** DER of the certificate. */
  certificateDer: Buffer;
}

/** A complete dev PKI. */
export interface DevPki {
  dir: string;
  manifestPath: string;
  /** Always true: these keys are generated and stored in clear, for development and tests only. */
  devOnly: true;
  createdAt: Date;
  ca: DevPkiKeyPair;
  /** The receipt signer (digitalSignature + nonRepudiation). */
  signer: DevPkiKeyPair;
  /** A time-stamping authority certificate (extended key usage timeStamping, critical). */
  tsa: DevPkiKeyPair;
  /** The default senders ({@link DEFAULT_DEV_SENDERS}) first, then those issued later. */
  senders: DevPkiSender[];
}

/** The subject and file name of a sender certificate to issue. */
export interface SenderCertificateRequest {
  /** File name stem and PKCS#12 alias: letters, digits, `.`, `_`, `-`. */
  name: string;
  /** 10 digits (or 9, normalised with a leading 0), valid check digits. */
  cbe: string;
  /** The CN: 1..150 characters. */
  applicationId: string;
  /** The environment OU (PRD, ACC, INT, TST, DEV, SIM); default INT; null for none. */
  environment?: string | null;
  /** The O; a development default when omitted. */
  organisation?: string;
  /** Default 730; never beyond the CA's own validity. */
  validityDays?: number;
}

interface ManifestKeyPair {
  key: string;
  cert: string;
}

interface ManifestSender extends ManifestKeyPair {
  name: string;
  cbe: string;
  applicationId: string;
  environment: string | null;
  organisation: string;
  p12: string;
  password: string;
}

interface Manifest {
  kind: typeof MANIFEST_KIND;
  version: typeof MANIFEST_VERSION;
  devOnly: true;
  createdAt: string;
  ca: ManifestKeyPair;
  signer: ManifestKeyPair;
  tsa: ManifestKeyPair;
  senders: ManifestSender[];
}

const LAYOUT = {
  ca: { key: 'ca/root-ca.key.pem', cert: 'ca/root-ca.cert.pem' },
  signer: { key: 'signer/signer.key.pem', cert: 'signer/signer.cert.pem' },
  tsa: { key: 'tsa/tsa.key.pem', cert: 'tsa/tsa.cert.pem' },
} as const;

function senderFiles(name: string): Pick<ManifestSender, 'key' | 'cert' | 'p12'> {
  return { key: `senders/${name}.key.pem`, cert: `senders/${name}.cert.pem`, p12: `senders/${name}.p12` };
}

/* ---------------------------------------------------------------------------------------------- */
/* Public API                                                                                      */
/* ---------------------------------------------------------------------------------------------- */

/**
 * Returns the dev PKI of `dir`, generating it first when the directory holds no usable one: no readable
 * manifest, a file it names missing, or the CA, signer or TSA certificate expired at `clock.now()`.
 * Safe to call on every start.
 */
export function ensureDevPki(dir: string, clock: Clock): Promise<DevPki> {
  const root = path.resolve(dir);
  return serialised(root, () => loadOrGenerate(root, clock));
}

async function loadOrGenerate(root: string, clock: Clock): Promise<DevPki> {
  const existing = await loadDevPki(root);
  const now = clock.now();
  const usable =
    existing !== undefined &&
    [existing.ca, existing.signer, existing.tsa].every(
      ({ certificateDer }) => new x509.X509Certificate(new Uint8Array(certificateDer)).notAfter > now,
    );
  return usable ? existing : generateDevPki(root, clock);
}

/**
 * Issues one more sender certificate from the dev CA of `dir` (generating the dev PKI first when
 * needed), writes its key, certificate and PKCS#12, and records it in the manifest (replacing a sender
 * of the same name).
 */
export async function issueSenderCertificate(
  dir: string,
  request: SenderCertificateRequest,
  clock: Clock,
): Promise<DevPkiSender> {
  const root = path.resolve(dir);
  const checked = checkSenderRequest(request);
  return serialised(root, async () => {
    const pki = await loadOrGenerate(root, clock);
    const ca = await caSigner(pki.ca);
    const sender = await writeSender(root, checked, ca, clock, await generateRsaKey(2048));
    const manifest = await readManifest(root);
    if (manifest === undefined) throw new Error(`${root}: dev PKI manifest vanished`);
    manifest.senders = [...manifest.senders.filter((entry) => entry.name !== sender.name), sender];
    await writeManifest(root, manifest);
    return toDevPkiSender(root, sender, await readCertificateFromPemFile(path.join(root, sender.cert)));
  });
}

/**
 * Whether a certificate belongs to a dev PKI: the dev CA itself, the service's dev certificates, or a
 * certificate the dev CA issued. The service refuses to start in PRD when its signer is one of these.
 * @throws Error when `certificateDer` is not a DER X.509 certificate
 */
export function isDevPkiCertificate(certificateDer: Buffer): boolean {
  const certificate = new x509.X509Certificate(new Uint8Array(certificateDer));
  return [certificate.subjectName, certificate.issuerName].some(
    (name) =>
      name.getField('O').includes(DEV_PKI_ORGANISATION) && name.getField('OU').includes(DEV_PKI_MARKER_OU),
  );
}

/* ---------------------------------------------------------------------------------------------- */
/* Loading                                                                                         */
/* ---------------------------------------------------------------------------------------------- */

async function readManifest(root: string): Promise<Manifest | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path.join(root, DEV_PKI_MANIFEST), 'utf8'));
  } catch {
    return undefined;
  }
  return isManifest(parsed) ? parsed : undefined;
}

function isManifest(value: unknown): value is Manifest {
  if (typeof value !== 'object' || value === null) return false;
  const manifest = value as Partial<Manifest>;
  return (
    manifest.kind === MANIFEST_KIND &&
    manifest.version === MANIFEST_VERSION &&
    manifest.devOnly === true &&
    typeof manifest.createdAt === 'string' &&
    Array.isArray(manifest.senders)
  );
}

/** The dev PKI of `root`, or undefined when it is absent or incomplete. */
async function loadDevPki(root: string): Promise<DevPki | undefined> {
  const manifest = await readManifest(root);
  if (manifest === undefined) return undefined;
  try {
    return {
      dir: root,
      manifestPath: path.join(root, DEV_PKI_MANIFEST),
      devOnly: true,
      createdAt: new Date(manifest.createdAt),
      ca: await loadKeyPair(root, manifest.ca),
      signer: await loadKeyPair(root, manifest.signer),
      tsa: await loadKeyPair(root, manifest.tsa),
      senders: await Promise.all(
        manifest.senders.map(async (sender) => {
          await readFile(path.join(root, sender.p12));
          await readPrivateKeyFromPemFile(path.join(root, sender.key));
          return toDevPkiSender(root, sender, await readCertificateFromPemFile(path.join(root, sender.cert)));
        }),
      ),
    };
  } catch {
    return undefined;
  }
}

async function loadKeyPair(root: string, files: ManifestKeyPair): Promise<DevPkiKeyPair> {
  const keyPemPath = path.join(root, files.key);
  const certPemPath = path.join(root, files.cert);
  return {
    keyPemPath,
    certPemPath,
    privateKey: await readPrivateKeyFromPemFile(keyPemPath),
    certificateDer: await readCertificateFromPemFile(certPemPath),
  };
}

function toDevPkiSender(root: string, sender: ManifestSender, certificateDer: Buffer): DevPkiSender {
  return {
    name: sender.name,
    cbe: sender.cbe,
    applicationId: sender.applicationId,
    environment: sender.environment ?? undefined,
    organisation: sender.organisation,
    keyPemPath: path.join(root, sender.key),
    certPemPath: path.join(root, sender.cert),
    p12Path: path.join(root, sender.p12),
    password: sender.password,
    certificateDer,
  };
}

/* ---------------------------------------------------------------------------------------------- */
/* Generation                                                                                      */
/* ---------------------------------------------------------------------------------------------- */

/** A CA key ready to issue certificates. */
interface CaSigner {
  certificate: InstanceType<typeof x509.X509Certificate>;
  certificateDer: Buffer;
  signingKey: webcrypto.CryptoKey;
}

interface GeneratedKey {
  keys: { publicKey: webcrypto.CryptoKey; privateKey: webcrypto.CryptoKey };
  pkcs8: Buffer;
}

const RSA_SIGNING = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

async function generateRsaKey(modulusLength: number): Promise<GeneratedKey> {
  const keys = (await webcrypto.subtle.generateKey(
    { ...RSA_SIGNING, modulusLength, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  )) as GeneratedKey['keys'];
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { keys, pkcs8 };
}

async function caSigner(ca: DevPkiKeyPair): Promise<CaSigner> {
  const pkcs8 = ca.privateKey.export({ type: 'pkcs8', format: 'der' });
  const signingKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, RSA_SIGNING, false, ['sign']);
  return {
    certificate: new x509.X509Certificate(new Uint8Array(ca.certificateDer)),
    certificateDer: ca.certificateDer,
    signingKey,
  };
}

/** A positive 128-bit serial number in hex (RFC 5280 allows up to 20 octets). */
function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function validity(clock: Clock, days: number, ca?: CaSigner): { notBefore: Date; notAfter: Date } {
  const now = clock.now().getTime();
  const notBefore = new Date(now - BACKDATE_MILLISECONDS);
  const wanted = new Date(now + days * DAY_MILLISECONDS);
  const notAfter = ca && ca.certificate.notAfter < wanted ? ca.certificate.notAfter : wanted;
  return { notBefore, notAfter };
}

async function issue(
  ca: CaSigner,
  subject: Record<string, string[]>[],
  key: GeneratedKey,
  period: { notBefore: Date; notAfter: Date },
  extensions: InstanceType<typeof x509.Extension>[],
): Promise<Buffer> {
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject,
    issuer: ca.certificate.subjectName,
    ...period,
    publicKey: key.keys.publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: RSA_SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      ...extensions,
      await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate),
    ],
  });
  return Buffer.from(certificate.rawData);
}

function serviceSubject(commonName: string): Record<string, string[]>[] {
  return [{ C: ['BE'] }, { O: [DEV_PKI_ORGANISATION] }, { OU: [DEV_PKI_MARKER_OU] }, { CN: [commonName] }];
}

async function generateRootCa(clock: Clock, key: GeneratedKey): Promise<CaSigner> {
  const now = clock.now();
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + ROOT_VALIDITY_YEARS);
  const name = serviceSubject(DEV_ROOT_CA_COMMON_NAME);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: name,
    issuer: name,
    notBefore: new Date(now.getTime() - BACKDATE_MILLISECONDS),
    notAfter,
    publicKey: key.keys.publicKey,
    signingKey: key.keys.privateKey,
    signingAlgorithm: RSA_SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey),
    ],
  });
  const certificateDer = Buffer.from(certificate.rawData);
  return { certificate, certificateDer, signingKey: key.keys.privateKey };
}

async function writeKeyPair(root: string, files: ManifestKeyPair, key: GeneratedKey, certificateDer: Buffer) {
  await writeFile(path.join(root, files.key), derToPem(key.pkcs8, 'PRIVATE KEY'), { mode: 0o600 });
  await writeFile(path.join(root, files.cert), derToPem(certificateDer, 'CERTIFICATE'));
}

interface CheckedSenderRequest {
  name: string;
  cbe: string;
  applicationId: string;
  environment: string | undefined;
  organisation: string;
  validityDays: number;
}

function checkSenderRequest(request: SenderCertificateRequest): CheckedSenderRequest {
  if (!SENDER_NAME.test(request.name)) {
    throw new Error(`sender name must be 1..64 letters, digits, '.', '_' or '-': ${request.name}`);
  }
  const cbe = normaliseCbe(request.cbe);
  if (!isValidCbe(cbe)) throw new Error(`not a valid CBE number: ${request.cbe}`);
  if (request.applicationId.length < 1 || request.applicationId.length > 150) {
    throw new Error('application id must be 1..150 characters');
  }
  const environment =
    request.environment === null
      ? undefined
      : (request.environment ?? DEFAULT_SENDER_ENVIRONMENT).toUpperCase();
  if (environment !== undefined && !isSenderEnvironment(environment)) {
    throw new Error(`environment must be one of PRD, ACC, INT, TST, DEV, SIM: ${request.environment}`);
  }
  const validityDays = request.validityDays ?? DEFAULT_SENDER_VALIDITY_DAYS;
  if (!Number.isFinite(validityDays) || validityDays <= 0) throw new Error('validityDays must be positive');
  const organisation = request.organisation ?? DEFAULT_SENDER_ORGANISATION;
  if (organisation.length < 1 || organisation.length > 64)
    throw new Error('organisation must be 1..64 characters');
  return {
    name: request.name,
    cbe,
    applicationId: request.applicationId,
    environment,
    organisation,
    validityDays,
  };
}

async function writeSender(
  root: string,
  request: CheckedSenderRequest,
  ca: CaSigner,
  clock: Clock,
  key: GeneratedKey,
): Promise<ManifestSender> {
  const certificateDer = await issue(
    ca,
    senderSubjectRdns(request),
    key,
    validity(clock, request.validityDays, ca),
    [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  );
  const files = senderFiles(request.name);
  await mkdir(path.join(root, 'senders'), { recursive: true });
  await writeKeyPair(root, files, key, certificateDer);
  const p12 = encodePkcs12({
    alias: request.name,
    privateKey: createPrivateKey({ key: key.pkcs8, format: 'der', type: 'pkcs8' }),
    chain: [certificateDer, ca.certificateDer],
    password: DEV_PKCS12_PASSWORD,
  });
  await writeFile(path.join(root, files.p12), p12, { mode: 0o600 });
  return {
    name: request.name,
    cbe: request.cbe,
    applicationId: request.applicationId,
    environment: request.environment ?? null,
    organisation: request.organisation,
    password: DEV_PKCS12_PASSWORD,
    ...files,
  };
}

async function generateDevPki(root: string, clock: Clock): Promise<DevPki> {
  // Without the manifest, a crash half-way leaves a directory that the next start regenerates.
  await rm(path.join(root, DEV_PKI_MANIFEST), { force: true });
  for (const folder of ['ca', 'signer', 'tsa', 'senders']) {
    await mkdir(path.join(root, folder), { recursive: true, mode: 0o700 });
  }

  // Key generation runs in Node's thread pool: make all keys at once. RSA 2048 for the root too: these
  // keys only ever protect development and test data, and every test that needs a PKI pays for them.
  const [rootKey, signerKey, tsaKey, ...senderKeys] = await Promise.all(
    [null, null, null, ...DEFAULT_DEV_SENDERS].map(() => generateRsaKey(2048)),
  );
  const ca = await generateRootCa(clock, rootKey);
  await writeKeyPair(root, LAYOUT.ca, rootKey, ca.certificateDer);

  const signerDer = await issue(
    ca,
    serviceSubject('RegisteredMail Development Receipt Signer'),
    signerKey,
    validity(clock, SERVICE_CERTIFICATE_VALIDITY_DAYS, ca),
    [
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
        true,
      ),
    ],
  );
  await writeKeyPair(root, LAYOUT.signer, signerKey, signerDer);

  const tsaDer = await issue(
    ca,
    serviceSubject('RegisteredMail Development Time-Stamping Authority'),
    tsaKey,
    validity(clock, SERVICE_CERTIFICATE_VALIDITY_DAYS, ca),
    [
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
        true,
      ),
      // RFC 3161 section 2.3: the TSA certificate has exactly this extended key usage, marked critical.
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.timeStamping], true),
    ],
  );
  await writeKeyPair(root, LAYOUT.tsa, tsaKey, tsaDer);

  const senders: ManifestSender[] = [];
  for (const [index, request] of DEFAULT_DEV_SENDERS.entries()) {
    senders.push(await writeSender(root, checkSenderRequest(request), ca, clock, senderKeys[index]));
  }

  await writeManifest(root, {
    kind: MANIFEST_KIND,
    version: MANIFEST_VERSION,
    devOnly: true,
    createdAt: clock.now().toISOString(),
    ...LAYOUT,
    senders,
  });
  const pki = await loadDevPki(root);
  if (pki === undefined) throw new Error(`${root}: the dev PKI just written cannot be read back`);
  return pki;
}

async function writeManifest(root: string, manifest: Manifest): Promise<void> {
  const target = path.join(root, DEV_PKI_MANIFEST);
  const temporary = `${target}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(temporary, target);
}

/* ---------------------------------------------------------------------------------------------- */

const pending = new Map<string, Promise<unknown>>();

/** Runs one operation on a directory at a time within this process (the app and the CLI share code). */
function serialised<T>(root: string, operation: () => Promise<T>): Promise<T> {
  const previous = pending.get(root) ?? Promise.resolve();
  const next = previous.then(operation, operation);
  const settled = next.catch(() => undefined);
  pending.set(root, settled);
  void settled.then(() => {
    if (pending.get(root) === settled) pending.delete(root);
  });
  return next;
}
