// The wasm core on the main thread: only the cheap calls (links, validation, presets,
// CSV). Heavy runs go to the worker pool (pool.js), which is handed the module compiled
// here, so the wasm is fetched and compiled once. Paths are relative to this module,
// so the page works under any sub-path.
import init, * as core from "../scaling-playground.js";

export const WASM_URL = new URL("../scaling-playground_bg.wasm", import.meta.url);

/** The compiled WebAssembly.Module (streaming compile; plain compile as a fallback). */
export const modulePromise = WebAssembly.compileStreaming(fetch(WASM_URL))
  .catch(() => fetch(WASM_URL).then((r) => r.arrayBuffer()).then((b) => WebAssembly.compile(b)));

export const ready = modulePromise.then((m) => init({ module_or_path: m })).then(() => core);
export default core;
