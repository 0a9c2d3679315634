// One Web Worker of the pool: loads the wasm core and runs one job at a time.
// Protocol (main -> worker): {type: "init", module}  the compiled WebAssembly.Module
//                            {type: "run", id, config, shard?: [index, count]}
//                            config: a RunConfig object; with `shard`, that slice of a sweep
//          (worker -> main): {type: "ready", backend}
//                            {type: "progress", id, stage, done, total}
//                            {type: "done", id, record}   record: RunRecord JSON text
//                            {type: "error", id, message}
// Cancelling is terminating the worker; the pool then starts a fresh one.
import init, * as core from "../scaling-playground.js";

let gotModule;
const module = new Promise((resolve) => { gotModule = resolve; });
const ready = module.then((m) => init({ module_or_path: m }))
  .then(() => postMessage({ type: "ready", backend: core.backend() }))
  .catch((e) => postMessage({ type: "error", id: -1, message: "wasm failed to load: " + e }));

self.onmessage = async (ev) => {
  const msg = ev.data;
  if (msg && msg.type === "init") { gotModule(msg.module); return; }
  if (!msg || msg.type !== "run") return;
  await ready;
  const { id, config, shard } = msg;
  const progress = (stage, done, total) => postMessage({ type: "progress", id, stage, done, total });
  try {
    const text = JSON.stringify(config);
    const record = shard ? core.run_shard(text, shard[0], shard[1], progress) : core.run(text, progress);
    postMessage({ type: "done", id, record });
  } catch (e) {
    postMessage({ type: "error", id, message: String((e && e.message) || e) });
  }
};
