// The wasm core on the main thread: only the cheap calls (links, validation, presets,
// CSV). Heavy runs go to the worker pool (pool.js), which is handed the module compiled
// by wasm-build.js (the build this browser runs), so the wasm is fetched and compiled
// once. Paths are relative to this module, so the page works under any sub-path.
import init, * as core from "../scaling-playground.js";
import { BUILD, modulePromise } from "./wasm-build.js";

export { BUILD, modulePromise };
export const ready = modulePromise.then((m) => init({ module_or_path: m })).then(() => core);
export default core;
