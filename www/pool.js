// A pool of Web Workers running the wasm core. Jobs are independent RunConfigs; the pool
// hands each to an idle worker and resolves with the parsed RunRecord. Each job is a pure
// function of its config, so results do not depend on the number of workers.
// One worker owns the WebGPU device (the first one started, and after a cancel the next):
// only it is sent the Device choice, so it runs train runs and sweep cells on the GPU
// back to back where the core's policy picks the GPU, while the other workers take the
// rest of the queue on the CPU. No other worker opens a device.
// A deep DMFT solve with several sample blocks takes idle workers beside its own (and
// starts new ones up to the pool's size), at most one per block: its worker leads, the
// others hold a share of the blocks and talk to it over MessageChannels (worker.js);
// the numbers are the same for any number of them.
// A wide training run (the core's `train_workers` > 1) takes idle workers the same way:
// each holds a share of every layer's hidden units and they trade activations over a
// full mesh of MessageChannels (the core's run_async with an exchange); the lead returns the
// record, the others free themselves when they finish.

const WORKER_URL = new URL("./worker.js", import.meta.url);

export class Cancelled extends Error {
  constructor() { super("cancelled"); this.name = "Cancelled"; }
}

export class Pool {
  /** @param {number} size  number of workers (from navigator.hardwareConcurrency)
   *  @param {Promise<WebAssembly.Module>} modulePromise  the compiled core, shared */
  constructor(size, modulePromise) {
    this.modulePromise = modulePromise;
    this.size = Math.max(1, size | 0);
    this.workers = [];   // {w, busy: job|null, ready: bool}
    this.queue = [];     // pending jobs
    this.nextId = 1;
    this.backend = "cpu";
    this.gpu = "";        // the WebGPU adapter the workers see ("" if none)
    this.build = "";      // the wasm build the workers run ("relaxed-simd" | "simd128")
    this.device = "auto"; // "auto" | "cpu" | "gpu": the device owner's choice (the core's policy decides per run)
    this.onBackend = null;
    this.spawn(); // one warm worker at start; the rest on demand
  }

  spawn() {
    const owner = !this.workers.some((s) => s.owner);
    const slot = { w: new Worker(WORKER_URL, { type: "module", name: "core" }), busy: null, ready: false, owner };
    slot.w.onmessage = (ev) => this.message(slot, ev.data);
    slot.w.onerror = (ev) => {
      ev.preventDefault();
      const job = slot.busy;
      slot.busy = null;
      if (job && job.lead) this.drop(job.lead, new Error("worker error in a DMFT block worker: " + (ev.message || "unknown")));
      else if (job) { this.release(job); job.reject(new Error("worker error: " + (ev.message || "unknown"))); }
      this.pump();
    };
    this.modulePromise.then((module) => slot.w.postMessage({ type: "init", module }));
    this.workers.push(slot);
    return slot;
  }

  message(slot, m) {
    if (m.type === "ready") {
      slot.ready = true;
      this.backend = m.backend;
      this.gpu = m.gpu || "";
      this.build = m.build || "";
      if (this.onBackend) this.onBackend(null);
      this.pump();
      return;
    }
    const job = slot.busy;
    if (!job || m.id !== job.id) return;
    if (job.lead) { // a worker sharing another's job
      if (m.type === "done") { slot.busy = null; this.pump(); }
      else if (m.type === "error") this.drop(job.lead, new Error(m.message));
      return;
    }
    if (m.type === "progress") {
      job.onProgress && job.onProgress(m.stage, m.done, m.total);
    } else if (m.type === "losses") {
      job.onLosses && job.onLosses({ steps: m.steps, train: m.train, test: m.test });
    } else if (m.type === "done") {
      slot.busy = null;
      this.release(job);
      let rec;
      try { rec = JSON.parse(m.record); } catch (e) { job.reject(e); this.pump(); return; }
      rec.__json = m.record;
      job.resolve(rec);
      this.pump();
    } else if (m.type === "error") {
      slot.busy = null;
      this.release(job, true);
      job.reject(new Error(m.message));
      this.pump();
    }
  }

  pump() {
    while (this.queue.length) {
      // the device owner first, so that runs the GPU could take start there
      let slot = this.workers.find((s) => !s.busy && s.owner) || this.workers.find((s) => !s.busy);
      if (!slot) {
        if (this.workers.length >= this.size) return;
        slot = this.spawn();
      }
      const job = this.queue.shift();
      slot.busy = job;
      const ports = job.blocks > 1 ? this.helpers(slot, job) : [];
      const mesh = job.split > 1 ? this.mesh(slot, job) : null;
      const moved = mesh ? mesh.ports.filter(Boolean) : ports;
      slot.w.postMessage({ type: "run", id: job.id, config: job.config, shard: job.shard, device: slot.owner ? this.device : "cpu", stream: !!job.onLosses, ports, mesh }, moved);
    }
  }

  /** Up to `want - 1` workers to share `slot`'s job: idle ones, then new ones up to the
   * pool's size. */
  team(slot, job, want) {
    job.helpers = [];
    while (want > job.helpers.length + 1) {
      let h = this.workers.find((s) => !s.busy && s !== slot);
      if (!h) {
        if (this.workers.length >= this.size) break;
        h = this.spawn();
      }
      h.busy = { id: job.id, lead: job };
      job.helpers.push(h);
    }
    return job.helpers;
  }

  /** Workers that share a training run split `job.split` ways with its lead `slot`:
   * each is sent the run with its rank and its ends of a full mesh of channels (ports
   * by rank, null for its own); the lead's mesh is returned (null if it runs alone). */
  mesh(slot, job) {
    const k = this.team(slot, job, job.split).length + 1;
    if (k < 2) return null;
    const ports = [...Array(k)].map(() => new Array(k).fill(null));
    for (let a = 0; a < k; a++) {
      for (let b = a + 1; b < k; b++) {
        const { port1, port2 } = new MessageChannel();
        ports[a][b] = port1;
        ports[b][a] = port2;
      }
    }
    job.helpers.forEach((h, i) => {
      const mesh = { rank: i + 1, count: k, ports: ports[i + 1] };
      h.w.postMessage({ type: "run", id: job.id, config: job.config, device: "cpu", mesh }, mesh.ports.filter(Boolean));
    });
    return { rank: 0, count: k, ports: ports[0] };
  }

  /** Workers that share a DMFT solve of `job.blocks` sample blocks with its lead `slot`:
   * idle ones, then new ones up to the pool's size, at most one per block. Each gets
   * one end of a channel (and its index among the solve's workers); the lead's ends are
   * returned. */
  helpers(slot, job) {
    const count = this.team(slot, job, job.blocks).length + 1;
    return job.helpers.map((h, i) => {
      const { port1, port2 } = new MessageChannel();
      h.w.postMessage({ type: "blocks", id: job.id, config: job.config, index: i + 1, count, port: port2 }, [port2]);
      return port1;
    });
  }

  /** A job's lead is done or `failed`: its DMFT block workers are free again; the
   * workers of a split training run free themselves when they finish, and are stopped
   * if the lead failed (they would wait for it). */
  release(job, failed = false) {
    const mine = (h) => h.busy && h.busy.lead === job;
    const stuck = (job.helpers || []).filter(mine);
    if (!job.split) for (const h of stuck) h.busy = null;
    else if (failed && stuck.length) {
      for (const h of stuck) h.w.terminate();
      this.workers = this.workers.filter((s) => !stuck.includes(s));
      this.settle();
    }
  }

  /** After workers were stopped: one of the rest owns the GPU, and there is at least one. */
  settle() {
    if (this.workers.length && !this.workers.some((s) => s.owner)) this.workers[0].owner = true;
    if (!this.workers.length) this.spawn();
  }

  /** A helper of `job` failed: stop the job's workers (the lead would wait for it). */
  drop(job, err) {
    const mine = (s) => s.busy === job || (s.busy && s.busy.lead === job);
    for (const s of this.workers) if (mine(s)) s.w.terminate();
    this.workers = this.workers.filter((s) => !mine(s));
    this.settle();
    job.reject(err);
  }

  /** Run one RunConfig object (or shard [i, n] of a sweep); resolves to its RunRecord.
   * `onProgress(stage, done, total)` as it advances; `onLosses({steps, train, test})`
   * (train runs) with the loss records since the last call, a few times a second.
   * `blocks`: the sample blocks of a DMFT solve that workers can share (the core's
   * `dmft_blocks`), 0 or absent for every other job. `split`: the workers a training
   * run can be split over (the core's `train_workers`), 1 or absent for every other job. */
  run(config, onProgress, shard, onLosses, blocks = 0, split = 1) {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, config, shard, onProgress, onLosses, blocks, split, resolve, reject });
      this.pump();
    });
  }

  /** Number of workers currently computing. */
  busyCount() { return this.workers.filter((s) => s.busy).length; }

  /** Stop everything: terminate busy workers, drop the queue, start a fresh worker. */
  cancel() {
    const err = new Cancelled();
    for (const job of this.queue.splice(0)) job.reject(err);
    const keep = [];
    for (const s of this.workers) {
      if (s.busy) { s.w.terminate(); if (s.busy.reject) s.busy.reject(err); } else keep.push(s);
    }
    this.workers = keep;
    this.settle();
  }
}

export function defaultPoolSize() {
  const hc = (typeof navigator !== "undefined" && navigator.hardwareConcurrency) || 2;
  return Math.min(8, Math.max(2, hc - 1));
}
