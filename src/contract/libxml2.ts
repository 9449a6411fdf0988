/**
 * The libxml2-wasm module, loaded once. The package is ESM-only; this project compiles to CommonJS, so it
 * can only be reached through a dynamic `import()` (which TypeScript keeps as is under `module: node16`).
 */
export type Libxml2 = typeof import('libxml2-wasm', { with: { 'resolution-mode': 'import' } });

let loading: Promise<Libxml2> | undefined;

/** Loads libxml2-wasm (the wasm instance is created on first use and shared afterwards). */
export function loadLibxml2(): Promise<Libxml2> {
  loading ??= import('libxml2-wasm');
  return loading;
}
