// The wasm core on the main thread: only the cheap calls (links, validation, presets,
// CSV). Heavy runs go to the worker pool (pool.js). Paths are relative to this module,
// so the page works under any sub-path.
import init, * as core from "../scaling-playground.js";

export const WASM_URL = new URL("../scaling-playground_bg.wasm", import.meta.url);
export const ready = init({ module_or_path: WASM_URL }).then(() => core);
export default core;
