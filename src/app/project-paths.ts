import { existsSync } from 'node:fs';
import path from 'node:path';

/** The checkout's root (where package.json, wsdl/ and xsd/ are), from src/ under ts-jest or dist/src/ when built. */
export function projectRoot(): string {
  let directory = __dirname;
  while (!existsSync(path.join(directory, 'package.json'))) {
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error('package.json not found above ' + __dirname);
    directory = parent;
  }
  return directory;
}

/** Directories of the contract files. */
export function contractDirectories(): { wsdlDir: string; xsdDir: string } {
  const root = projectRoot();
  return { wsdlDir: path.join(root, 'wsdl'), xsdDir: path.join(root, 'xsd') };
}
