import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ProofFile } from '../client/proof-file';
import type { ProofFileKind } from '../domain/model';

/** Where a proof was saved: its content and, beside it, its detached signature. */
export interface SavedProof {
  contentPath: string;
  /** `<contentPath>.p7s`: DER of the detached CMS signature. */
  signaturePath: string;
}

/** The file name of a proof: `<ticket>-<kind>.xml`, e.g. `7K3M9QX2BH4TZ-receipt.xml`. */
export function proofFileName(ticket: string, kind: ProofFileKind): string {
  return `${ticket}-${kind.toLowerCase()}.xml`;
}

/**
 * Saves a proof exactly as answered: the content at `contentPath` and the signature (DER) at
 * `<contentPath>.p7s`, creating the directory. They verify with `registered-mail verify-proof --signature
 * <p7s> --content <xml>` or `openssl cms -verify -binary -inform DER -in <p7s> -content <xml>`.
 */
export async function saveProofFile(contentPath: string, file: ProofFile): Promise<SavedProof> {
  await mkdir(path.dirname(contentPath), { recursive: true });
  const signaturePath = `${contentPath}.p7s`;
  await writeFile(contentPath, file.content);
  await writeFile(signaturePath, file.signature);
  return { contentPath, signaturePath };
}
