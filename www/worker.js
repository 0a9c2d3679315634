// One Web Worker of the pool: loads the wasm core and runs one job at a time.
// Protocol (main -> worker): {type: "init", module}  the compiled WebAssembly.Module
//                            {type: "run", id, config, shard?: [index, count], device?, stream?}
//                            config: a RunConfig object; with `shard`, that slice of a sweep;
//                            device: "auto" | "cpu" | "gpu" (train runs and the training
//                            of sweep cells: WebGPU where the core's policy picks it; the
//                            pool sends it to the one worker that owns the device);
//                            stream: post the loss records of a train run as it trains
//                            ports: MessagePorts to the workers that share this DMFT
//                            solve (this worker leads it: the core's DmftLead)
//                            mesh: {rank, count, ports}: this worker's part of a train
//                            run split over `count` workers (the core's run_async with
//                            an exchange), ports by rank (null for its own); rank 0
//                            leads and returns the record, the others return ""
//                            {type: "blocks", id, config, index, count, port}  hold
//                            share `index` of `count` of a DMFT solve (DmftBlocks),
//                            answering the lead over `port` until it sends "end"
//          (worker -> main): {type: "ready", backend, gpu, build}  backend: "cpu"; gpu: the
//                            WebGPU adapter ("google swiftshader") or "" when there is none;
//                            build: the wasm build it runs ("relaxed-simd" | "simd128",
//                            the core's cpu_build(): the module the pool handed it)
//                            {type: "progress", id, stage, done, total}
//                            {type: "losses", id, steps: [k], train: [[seed]], test: [[seed]]}
//                            the records since the last such message (the first at
//                            once, then at most one every STREAM_MS)
//                            {type: "done", id, record}   record: RunRecord JSON text
//                            {type: "error", id, message}
//          (between the workers of a DMFT solve): the core's requests and replies as
//                            Float64Arrays, carried unread; {error} from a block worker
//          (between the workers of a split train run): the core's Float32Array blocks
// Cancelling is terminating the worker; the pool then starts a fresh one.
import init, * as core from "../scaling-playground.js";

const STREAM_MS = 50;

let gotModule;
const module = new Promise((resolve) => { gotModule = resolve; });
// The WebGPU adapter this worker could train on (only asked, not opened: the device and
// its kernels are set up by the first run that wants the GPU, then kept).
async function gpuAdapter() {
  try {
    const a = navigator.gpu && await navigator.gpu.requestAdapter();
    if (!a) return "";
    const i = a.info || {};
    return [i.vendor, i.architecture, i.description].filter(Boolean).join(" ") || "WebGPU";
  } catch { return ""; }
}

const ready = module.then((m) => init({ module_or_path: m }))
  .then(gpuAdapter)
  .then((gpu) => postMessage({ type: "ready", backend: gpu ? `gpu (${gpu})` : core.backend(), gpu, build: core.cpu_build() }))
  .catch((e) => postMessage({ type: "error", id: -1, message: "wasm failed to load: " + e }));

self.onmessage = async (ev) => {
  const msg = ev.data;
  if (msg && msg.type === "init") { gotModule(msg.module); return; }
  if (msg && msg.type === "blocks") { await ready; blocks(msg); return; }
  if (!msg || msg.type !== "run") return;
  await ready;
  const { id, config, shard, device, stream, ports, mesh } = msg;
  const progress = (stage, done, total) => postMessage({ type: "progress", id, stage, done, total });
  // loss records, batched: the first goes at once (the first curve), then a few a second
  let batch = { steps: [], train: [], test: [] }, last = -Infinity;
  const flush = () => {
    if (batch.steps.length) postMessage({ type: "losses", id, ...batch });
    batch = { steps: [], train: [], test: [] };
    last = performance.now();
  };
  const losses = stream ? (step, train, test) => {
    batch.steps.push(step); batch.train.push(Array.from(train)); batch.test.push(Array.from(test));
    if (performance.now() - last >= STREAM_MS) flush();
  } : undefined;
  try {
    const text = JSON.stringify(config);
    // a single run or a sweep's cells may train on WebGPU (the core falls back to the
    // CPU, and the record says why, if the GPU cannot be used); cells say where they ran
    const dev = device || "cpu";
    const record = mesh ? await split(text, progress, dev, losses, mesh)
      : ports && ports.length ? await lead(text, ports, progress) : shard
      ? (dev === "cpu"
        ? core.run_shard(text, shard[0], shard[1], progress)
        : await core.run_shard_async(text, shard[0], shard[1], progress, dev))
      : await core.run_async(text, progress, dev, losses);
    flush();
    postMessage({ type: "done", id, record });
  } catch (e) {
    postMessage({ type: "error", id, message: String((e && e.message) || e) });
  }
};

// This worker's part of a train run split over `mesh.count` workers: the core sends
// its blocks through `exchange`, which posts blocks[j] to worker j and resolves to what
// each worker sent here, in rank order (a port delivers in order).
async function split(text, progress, dev, losses, { rank, count, ports }) {
  const inbox = ports.map(() => []), waiting = ports.map(() => null);
  ports.forEach((p, j) => {
    if (p) p.onmessage = (ev) => { const w = waiting[j]; waiting[j] = null; w ? w(ev.data) : inbox[j].push(ev.data); };
  });
  const next = (j) => new Promise((resolve) => (inbox[j].length ? resolve(inbox[j].shift()) : (waiting[j] = resolve)));
  const exchange = (blocks) => {
    ports.forEach((p, j) => p && p.postMessage(blocks[j], [blocks[j].buffer]));
    return Promise.all(ports.map((p, j) => (p ? next(j) : blocks[rank])));
  };
  try {
    return await core.run_async(text, progress, dev, losses, exchange, rank, count);
  } finally {
    for (const p of ports) if (p) p.close();
  }
}

// Lead a DMFT solve with the workers at the other ends of `ports`: send each request
// to all, run this worker's share, feed their replies back until the next request.
async function lead(text, ports, progress) {
  const inbox = [], waiting = [];
  for (const p of ports) p.onmessage = (ev) => (waiting.length ? waiting.shift()(ev.data) : inbox.push(ev.data));
  const reply = () => new Promise((resolve) => (inbox.length ? resolve(inbox.shift()) : waiting.push(resolve)));
  let solve = null;
  try {
    solve = new core.DmftLead(text, ports.length + 1, progress);
    let msg = solve.start();
    while (msg) {
      for (const p of ports) p.postMessage(msg);
      let next = solve.work();
      while (!next && !solve.done()) {
        const r = await reply();
        if (r.error) throw new Error(r.error);
        next = solve.receive(r);
      }
      msg = next;
    }
    const record = solve.finish(); // frees the lead
    solve = null;
    return record;
  } finally {
    if (solve) solve.free();
    for (const p of ports) { p.postMessage("end"); p.close(); }
  }
}

// Hold share `index` of `count` of a DMFT solve: answer each request of the lead with
// this share's replies, one message each.
function blocks({ config, index, count, port }) {
  let share = null;
  port.onmessage = (ev) => {
    if (ev.data === "end") { if (share) share.free(); share = null; port.close(); return; }
    try {
      share = share || new core.DmftBlocks(JSON.stringify(config), index, count);
      share.handle(ev.data);
      for (let r = share.reply(); r !== undefined; r = share.reply()) port.postMessage(r, [r.buffer]);
    } catch (e) {
      port.postMessage({ error: String((e && e.message) || e) });
    }
  };
}
