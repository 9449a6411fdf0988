import fs from 'node:fs';
import path from 'node:path';
import type { Libxml2 } from './libxml2';

/**
 * Resolves the `schemaLocation`s of a schema set from one directory only, for libxml2.
 *
 * libxml2 loads imported and included schemas through "input providers" that are global to the wasm
 * instance. We register one provider per instance; while a schema set compiles, it answers every load:
 * URLs of the form `rm-xsd://<set id>/<relative path>` are read from that set's directory (and only if the
 * file really lies inside it, symbolic links resolved); anything else (http:, file:, absolute paths,
 * names that escape the directory) is refused, so compiling never touches the network or other files.
 * Outside a compilation the provider matches nothing and leaves other users of libxml2 alone.
 */

/** The URL scheme under which schema directories are exposed to libxml2. */
const SCHEME = 'rm-xsd:';

interface OpenFile {
  bytes: Buffer;
  position: number;
}

/** The compilation in progress (compiling is synchronous, so there is at most one). */
interface Session {
  setId: string;
  root: string;
  /** URLs libxml2 asked for and did not get. */
  refused: string[];
}

const registeredInstances = new WeakSet<object>();
const openFiles = new Map<number, OpenFile>();
let session: Session | undefined;
let nextSetId = 1;
let nextDescriptor = 1;

function readInsideRoot(url: string, { setId, root }: Session): Buffer | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== SCHEME || parsed.host !== setId || parsed.search !== '' || parsed.hash !== '') {
    return undefined;
  }
  let relative: string;
  try {
    relative = decodeURIComponent(parsed.pathname);
  } catch {
    return undefined;
  }
  try {
    const real = fs.realpathSync(path.resolve(root, `.${relative}`));
    const inside = path.relative(root, real);
    if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) return undefined;
    if (!fs.statSync(real).isFile()) return undefined;
    return fs.readFileSync(real);
  } catch {
    return undefined;
  }
}

function ensureProviderRegistered(libxml2: Libxml2): void {
  if (registeredInstances.has(libxml2)) return;
  libxml2.xmlRegisterInputProvider({
    // While a set compiles, claim every URL so that nothing falls through to libxml2's own loaders.
    match: () => session !== undefined,
    open: (url) => {
      if (session === undefined) return undefined;
      const bytes = readInsideRoot(url, session);
      if (bytes === undefined) {
        session.refused.push(url);
        return undefined;
      }
      const descriptor = nextDescriptor++;
      openFiles.set(descriptor, { bytes, position: 0 });
      return descriptor;
    },
    read: (descriptor, buffer) => {
      const file = openFiles.get(descriptor);
      if (file === undefined) return -1;
      const count = Math.min(buffer.length, file.bytes.length - file.position);
      buffer.set(file.bytes.subarray(file.position, file.position + count));
      file.position += count;
      return count;
    },
    close: (descriptor) => openFiles.delete(descriptor),
  });
  registeredInstances.add(libxml2);
}

/** What {@link withSchemaDirectory} returns: the compilation's result and the loads it was refused. */
export interface SchemaDirectoryResult<T> {
  result: T;
  /**
   * Locations libxml2 asked for and did not get (outside the directory, missing, or not a file);
   * relative to the directory when they were under it. libxml2 only warns about an import it cannot load
   * and compiles the rest, so a caller must treat a non-empty list as a failed compilation.
   */
  refusedLocations: string[];
}

/**
 * Runs `compile` with the directory `dir` exposed to libxml2 under a fresh base URL (passed to `compile`,
 * ending in `/`): schema locations relative to a document parsed with a URL under that base resolve to
 * files of `dir`. `compile` must be synchronous: the directory is withdrawn as soon as it returns.
 */
export function withSchemaDirectory<T>(
  libxml2: Libxml2,
  dir: string,
  compile: (baseUrl: string) => T,
): SchemaDirectoryResult<T> {
  ensureProviderRegistered(libxml2);
  const current: Session = { setId: `set${nextSetId++}`, root: fs.realpathSync(dir), refused: [] };
  const base = `${SCHEME}//${current.setId}/`;
  session = current;
  try {
    const result = compile(base);
    const refusedLocations = [...new Set(current.refused)].map((url) =>
      url.startsWith(base) ? url.slice(base.length) : url,
    );
    return { result, refusedLocations };
  } finally {
    session = undefined;
  }
}
