import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { findOnPath, runTool, unavailable } from './run-tool';

/**
 * Builds and runs the Java interop clients for jest: detects wsimport/javac/java and the Debian jars,
 * generates client code from a WSDL with wsimport, compiles it with the sources in `java/interop/`, and
 * runs a client class, returning the JSON lines it prints.
 *
 * Everything that talks to a server started in the jest process is asynchronous (wsimport fetches the
 * served WSDL, the clients call the service): a synchronous child process would block the event loop the
 * server needs to answer.
 */

/** Where Debian's `libjaxws-java`, `libwss4j-java`, ... put their jars; RM_JAVA_JAR_DIR overrides it. */
export const JAR_DIR = process.env.RM_JAVA_JAR_DIR ?? '/usr/share/java';

/**
 * The jars the clients compile and run with, on JDK 11+ (where JAX-WS and JAXB are no longer in the JDK).
 * jaxws-rt.jar's manifest Class-Path brings the rest of the JAX-WS RI (jaxb-impl/core, saaj-impl, mimepull,
 * stax-ex, streambuffer, metro-policy, gmbal, woodstox, ...); they are listed here so a missing package
 * is reported by name instead of failing at run time.
 */
export const REQUIRED_JARS: readonly string[] = [
  'jaxws-rt.jar', // libjaxws-java: JAX-WS RI runtime
  'jaxws-api.jar', // libjaxws-api-java
  'jaxb-api.jar', // libjaxb-api-java
  'jaxb-impl.jar', // libjaxb-java: JAXB RI (with jaxb-core.jar)
  'jaxb-core.jar',
  'javax.activation.jar', // libactivation-java: DataHandler for swaRef
  'javax.xml.soap-api.jar', // libsaaj-java
  'saaj-impl.jar', // libsaaj-ri-java
  'mimepull.jar', // libmimepull-java: SOAP with Attachments
  'stax-ex.jar', // libstax-ex-java
  'streambuffer.jar', // libstreambuffer-java
  'metro-policy.jar', // libmetro-policy-java: reads the WSDL's wsp:Policy
  'gmbal.jar', // libgmbal-java
  'wss4j.jar', // libwss4j-java 1.6: the WS-Security signing
  'xmlsec.jar', // libxml-security-java (Santuario 2.1)
  'commons-logging.jar', // libcommons-logging-java: WSS4J logs with it
  'commons-codec.jar', // libcommons-codec-java: Santuario
  'slf4j-api.jar', // libslf4j-java: Santuario logs with it
  'slf4j-nop.jar', // libslf4j-java: ... into nothing
];

/** The tools and jars found on this machine. */
export interface JavaToolchain {
  wsimport: string;
  javac: string;
  java: string;
  javaVersion: string;
  wsimportVersion: string;
  /** Absolute paths of {@link REQUIRED_JARS}. */
  jars: string[];
}

/** Either the toolchain, or why the tests that need it are skipped on this (non-CI) machine. */
export type ToolchainProbe =
  { available: true; toolchain: JavaToolchain } | { available: false; reason: string };

/** The Java sources, relative to `java/`: the ones that need no generated code, then the clients. */
const SUPPORT_SOURCES = [
  'WssSigningHandler',
  'XopPackager',
  'Json',
  'Attachments',
  'CliArgs',
  'SigningSelfTest',
  'ResponseVerifier',
];
/** The clients of the v1 WSDLs (served and published): the default of {@link generateAndCompile}. */
export const V1_CLIENT_SOURCES: readonly string[] = ['Scenarios', 'ServedWsdlClient', 'PublishedWsdlClient'];
/** The client of the service's own port (the RegisteredMailService WSDL). */
export const OWN_PORT_CLIENT_SOURCES: readonly string[] = ['OwnPortClient'];
const JAVA_SOURCE_DIR = path.join(__dirname, 'java');

/**
 * JVM options for every run: UTF-8, no JAXB bytecode injection (which JDK 17 restricts), and a JUL
 * configuration that hides JAX-WS RI's warnings about the policy assertions it does not implement.
 */
const JVM_OPTIONS = [
  '-Dfile.encoding=UTF-8',
  '-Dcom.sun.xml.bind.v2.bytecode.ClassTailor.noOptimize=true',
  `-Djava.util.logging.config.file=${path.join(JAVA_SOURCE_DIR, 'logging.properties')}`,
];

const DEFAULT_CACHE_ROOT = path.join(os.tmpdir(), 'registered-mail-interop-java');

/**
 * Finds wsimport, javac, java and the jars. When something is missing it throws under CI=true (CI
 * installs them, so absence is a broken setup) and otherwise returns the reason to skip.
 */
export function probeJavaToolchain(): ToolchainProbe {
  const missing: string[] = [];
  const wsimport = findOnPath('wsimport');
  const javac = findOnPath('javac');
  const java = findOnPath('java');
  if (!wsimport) missing.push('wsimport (Debian package jaxws)');
  if (!javac) missing.push('javac (Debian package openjdk-17-jdk-headless)');
  if (!java) missing.push('java (Debian package openjdk-17-jre-headless)');
  const jars = REQUIRED_JARS.map((jar) => path.join(JAR_DIR, jar));
  for (const jar of jars) if (!fs.existsSync(jar)) missing.push(jar);

  if (missing.length > 0 || !wsimport || !javac || !java) {
    return unavailable(`Java interop toolchain incomplete; missing: ${missing.join(', ')}`);
  }
  const javaVersion = versionLine(java, ['-version']);
  const wsimportVersion = versionLine(wsimport, ['-version']);
  return { available: true, toolchain: { wsimport, javac, java, javaVersion, wsimportVersion, jars } };
}

/** What {@link generateAndCompile} and {@link compileSupportClasses} produced. */
export interface CompiledClients {
  /** The `-cp` value to run the classes with (compiled classes first, then the jars). */
  classpath: string;
  classesDir: string;
  /** wsimport's kept sources (empty for the support-only build). */
  generatedSourcesDir: string;
  /** True when an earlier run with the same inputs had already built this. */
  fromCache: boolean;
  /** How long this run spent, in milliseconds (0 when cached). */
  timings: { wsimportMs: number; javacMs: number };
}

/** Options for {@link generateAndCompile}. */
export interface GenerateOptions {
  /**
   * The client classes (in `java/interop/`) compiled with the generated code: they must compile against
   * the WSDL's types. Default {@link V1_CLIENT_SOURCES}.
   */
  clientSources?: readonly string[];
  /** Where builds are cached; default a directory under the system's temporary directory. */
  cacheRoot?: string;
}

/**
 * Runs wsimport on `wsdl` (an http(s) URL or a file path) and compiles the generated code together with
 * the handler and the clients (`options.clientSources`) into one classes directory. wsimport keeps its default packages (derived
 * from the namespaces): `-p` cannot be used because it would map the two error namespaces, which both
 * declare `BusinessError`, into one package. The two WSDLs therefore get separate directories.
 *
 * Results are cached under `cacheRoot` by a hash of the WSDL and everything it imports (with the
 * server's scheme://host:port masked, since tests serve on a random port), the Java sources and the tool
 * versions, so repeated runs skip wsimport and javac.
 */
export async function generateAndCompile(
  toolchain: JavaToolchain,
  wsdl: string,
  options: GenerateOptions = {},
): Promise<CompiledClients> {
  const { clientSources = V1_CLIENT_SOURCES, cacheRoot = DEFAULT_CACHE_ROOT } = options;
  const wsdlTexts = await readWsdlClosure(wsdl);
  const sources = [...SUPPORT_SOURCES, ...clientSources].map(javaSourcePath);
  const key = cacheKey(toolchain, [...wsdlTexts, ...sources.map((file) => fs.readFileSync(file, 'utf8'))]);
  return buildCached(toolchain, path.join(cacheRoot, `wsdl-${key}`), async (dir, timings) => {
    const generated = path.join(dir, 'generated');
    fs.mkdirSync(generated, { recursive: true });
    const started = Date.now();
    await runTool(toolchain.wsimport, [
      '-keep',
      '-Xnocompile',
      '-quiet',
      '-encoding',
      'UTF-8',
      '-s',
      generated,
      wsdl,
    ]);
    timings.wsimportMs = Date.now() - started;
    await javac(toolchain, [...listJavaFiles(generated), ...sources], path.join(dir, 'classes'), timings);
  });
}

/** Compiles only the sources that need no generated code (the handler and its offline self-test). */
export async function compileSupportClasses(
  toolchain: JavaToolchain,
  cacheRoot: string = DEFAULT_CACHE_ROOT,
): Promise<CompiledClients> {
  const sources = SUPPORT_SOURCES.map(javaSourcePath);
  const key = cacheKey(
    toolchain,
    sources.map((file) => fs.readFileSync(file, 'utf8')),
  );
  return buildCached(toolchain, path.join(cacheRoot, `support-${key}`), (dir, timings) =>
    javac(toolchain, sources, path.join(dir, 'classes'), timings),
  );
}

/** One parsed stdout line of a client: `{"event": ..., ...}`. */
export type ClientLine = { event: string } & Record<string, string | number | boolean | null>;

/** Options for {@link runJavaClient}. */
export interface RunJavaClientOptions {
  /** Extra environment (RM_P12, RM_P12_ALIAS, RM_P12_PASSWORD for the clients). */
  env?: Record<string, string>;
  /** Default 60 s; the JVM is killed after it. */
  timeoutMs?: number;
}

/**
 * Runs `interop.<className>` with `args` and returns the JSON lines it printed. Rejects, with the client's
 * stderr, when it exits non-zero or times out.
 */
export async function runJavaClient(
  toolchain: JavaToolchain,
  compiled: CompiledClients,
  className: string,
  args: string[],
  options: RunJavaClientOptions = {},
): Promise<ClientLine[]> {
  const { stdout } = await runTool(
    toolchain.java,
    [...JVM_OPTIONS, '-cp', compiled.classpath, `interop.${className}`, ...args],
    { env: options.env, timeoutMs: options.timeoutMs ?? 60_000 },
  );
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as ClientLine);
}

/** The first line with `event` (a clear error listing what was printed when there is none). */
export function lineWithEvent(lines: ClientLine[], event: string): ClientLine {
  const found = lines.find((line) => line.event === event);
  if (!found) throw new Error(`no "${event}" line in client output: ${JSON.stringify(lines, null, 1)}`);
  return found;
}

function javaSourcePath(className: string): string {
  return path.join(JAVA_SOURCE_DIR, 'interop', `${className}.java`);
}

async function buildCached(
  toolchain: JavaToolchain,
  finalDir: string,
  build: (dir: string, timings: CompiledClients['timings']) => Promise<void>,
): Promise<CompiledClients> {
  const timings = { wsimportMs: 0, javacMs: 0 };
  const fromCache = fs.existsSync(path.join(finalDir, 'READY'));
  if (!fromCache) {
    // Build beside the final directory and rename: two jest workers building the same key never see
    // half a build; the loser of the rename race discards its copy.
    const scratch = `${finalDir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    fs.mkdirSync(scratch, { recursive: true });
    try {
      await build(scratch, timings);
      fs.writeFileSync(path.join(scratch, 'READY'), new Date().toISOString());
      try {
        fs.renameSync(scratch, finalDir);
      } catch (error) {
        if (!fs.existsSync(path.join(finalDir, 'READY'))) throw error;
      }
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }
  const classesDir = path.join(finalDir, 'classes');
  return {
    classpath: [classesDir, ...toolchain.jars].join(path.delimiter),
    classesDir,
    generatedSourcesDir: path.join(finalDir, 'generated'),
    fromCache,
    timings,
  };
}

async function javac(
  toolchain: JavaToolchain,
  files: string[],
  classesDir: string,
  timings: CompiledClients['timings'],
): Promise<void> {
  fs.mkdirSync(classesDir, { recursive: true });
  const started = Date.now();
  await runTool(toolchain.javac, [
    '-encoding',
    'UTF-8',
    '-nowarn',
    '-cp',
    toolchain.jars.join(path.delimiter),
    '-d',
    classesDir,
    ...files,
  ]);
  timings.javacMs = Date.now() - started;
}

function cacheKey(toolchain: JavaToolchain, texts: string[]): string {
  const hash = createHash('sha256');
  hash.update(`v1\0${toolchain.javaVersion}\0${toolchain.wsimportVersion}\0${toolchain.jars.join(':')}\0`);
  for (const text of texts) hash.update(text).update('\0');
  return hash.digest('hex').slice(0, 24);
}

const XSD_NS = 'http://www.w3.org/2001/XMLSchema';
const WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/';

/** The text of the WSDL and of every WSDL/XSD it imports, in a stable order, origin masked. */
async function readWsdlClosure(wsdl: string): Promise<string[]> {
  const isUrl = /^https?:\/\//.test(wsdl);
  const origin = isUrl ? new URL(wsdl).origin : undefined;
  const start = isUrl ? wsdl : path.resolve(wsdl);
  const texts: string[] = [];
  const seen = new Set<string>();
  const queue = [start];
  while (queue.length > 0) {
    const location = queue.shift() as string;
    if (seen.has(location)) continue;
    seen.add(location);
    const text = isUrl ? await fetchText(location) : fs.readFileSync(location, 'utf8');
    texts.push(origin ? text.split(origin).join('{origin}') : text);
    for (const reference of importedLocations(text)) {
      queue.push(
        isUrl ? new URL(reference, location).toString() : path.resolve(path.dirname(location), reference),
      );
    }
  }
  return texts;
}

function importedLocations(text: string): string[] {
  const doc = new DOMParser().parseFromString(text, 'text/xml');
  const locations: string[] = [];
  for (const name of ['import', 'include', 'redefine']) {
    for (const element of Array.from(doc.getElementsByTagNameNS(XSD_NS, name))) {
      const location = element.getAttribute('schemaLocation');
      if (location) locations.push(location);
    }
  }
  for (const element of Array.from(doc.getElementsByTagNameNS(WSDL_NS, 'import'))) {
    const location = element.getAttribute('location');
    if (location) locations.push(location);
  }
  return locations;
}

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return response.text();
}

function listJavaFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.java'))
    .map((file) => path.join(dir, file))
    .sort();
}

/** First line of `tool -version` (java and wsimport print it on stderr or stdout). */
function versionLine(tool: string, args: string[]): string {
  const result = spawnSync(tool, args, { encoding: 'utf8', timeout: 30_000 });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n')[0].trim();
}
