// Running configs on the worker pool for the panels: every job counts towards the
// session's progress bar and ETA; a sweep kind of the core is split into shards across
// the workers and merged; train runs can stream their loss records as they train.
import { Cancelled } from "./pool.js";
import { session } from "./ui.js";

/** Kinds that train one network setup (their record says where it ran). */
const TRAINING = new Set(["train", "transformer"]);

/** The pool and the main thread's core, set once by the app at start-up. */
export const env = { pool: null, core: null, onBackend: null };

/**
 * Run many jobs on the pool; `onEach(i, record)` as each finishes. A job is a RunConfig,
 * or `{config, shard: [i, n]}` for a slice of a sweep. With `onLosses(i, batch)` train
 * runs stream `{steps, train, test}` batches of per-seed losses while they train.
 * Every config is checked against the page's memory budget before anything starts
 * (throws the core's message, naming the limit).
 */
export async function runJobs(jobs, onEach, { onLosses } = {}) {
  checkBudget(jobs);
  const configs = jobs.map((j) => (j.shard ? j.config : j));
  const s = session();
  let failed = null;
  // a deep DMFT's sample blocks and a wide training run's hidden units can go to
  // several workers: such jobs are queued first, so that they take the idle workers (the
  // pool gives a job only the workers idle when it starts; queued behind another run it
  // would run on one)
  const text = configs.map((c) => JSON.stringify(c));
  const blocks = configs.map((_, i) => (jobs[i].shard || !env.core.dmft_blocks ? 0 : env.core.dmft_blocks(text[i])));
  const split = configs.map((_, i) => (jobs[i].shard ? 1 : env.core.train_workers(text[i])));
  const shares = (i) => blocks[i] > 1 || split[i] > 1;
  const order = configs.map((_, i) => i).sort((a, b) => shares(b) - shares(a));
  await Promise.all(order.map((i) => {
    const c = configs[i];
    // a shard is its share of the sweep's work
    const tick = s ? s.job(work(text[i]) / (jobs[i].shard ? jobs[i].shard[1] : 1)) : () => {};
    const stream = onLosses && !jobs[i].shard ? (batch) => onLosses(i, batch) : null;
    return env.pool.run(c, (_stage, done, total) => tick(total ? done / total : 0), jobs[i].shard, stream, blocks[i], split[i])
      .then((rec) => {
        tick(1);
        // the backend note tells where a single training run ran (sweeps say it per cell)
        if (TRAINING.has(rec.config.kind) && rec.result.backend && env.onBackend) env.onBackend(rec.result.backend);
        if (!failed) onEach(i, rec);
      })
      .catch((e) => { if (!failed || (failed instanceof Cancelled && !(e instanceof Cancelled))) failed = e; });
  }));
  if (failed) throw failed;
}

/** A job's estimated flops, its weight in the session's progress (1 where the core
 * cannot say). */
function work(text) {
  try { return env.core.work(text); } catch { return 1; }
}

/** Refuse jobs whose estimated memory, with as many of them in flight as there are
 * workers, exceeds the page's budget: each config alone (the core's `check_budget`),
 * the shards of a sweep with one cell per shard in flight, and the largest peaks of the
 * jobs that run at once together. Throws an error like the core's (kind "budget"). */
export function checkBudget(jobs) {
  const configs = jobs.map((j) => (j.shard ? j.config : j));
  const shards = jobs.filter((j) => j.shard);
  const workers = Math.min(env.pool.size, jobs.length);
  if (shards.length === jobs.length && shards.length) {
    env.core.check_budget(JSON.stringify(shards[0].config), workers);
    return;
  }
  const peaks = configs.map((c) => env.core.check_budget(JSON.stringify(c))).sort((a, b) => b - a);
  const together = peaks.slice(0, workers).reduce((a, b) => a + b, 0);
  const limit = JSON.parse(env.core.limits()).page_memory_bytes;
  if (together > limit) {
    const gib = (b) => `${(b / 2 ** 30).toFixed(1)} GiB`;
    const e = new Error(`over budget: these ${jobs.length} runs need about ${gib(together)} of memory with ${workers} at once in the workers, over the page's limit of ${gib(limit)}; use fewer or smaller widths`);
    e.kind = "budget";
    throw e;
  }
}

/** Run one config; a sweep is split into shards across the workers and merged (the
 * core guarantees the merge equals the unsharded run). */
export async function runSplit(cfg) {
  const text = JSON.stringify(cfg);
  const cells = env.core.cells(text);
  const n = Math.min(env.pool.size, cells);
  if (n < 2) {
    let out;
    await runJobs([cfg], (_, rec) => { out = rec; });
    return out;
  }
  const parts = new Array(n);
  await runJobs([...Array(n).keys()].map((i) => ({ config: cfg, shard: [i, n] })), (i, rec) => { parts[i] = rec; });
  const json = env.core.merge(JSON.stringify(parts.map(({ __json, ...r }) => r)));
  const rec = JSON.parse(json);
  rec.__json = json;
  return rec;
}

/** True if this build's core has run kind `kind`. */
const kinds = {};
export function hasKind(kind) {
  if (!(kind in kinds)) {
    try { env.core.default_config(kind); kinds[kind] = true; } catch { kinds[kind] = false; }
  }
  return kinds[kind];
}
