//! The browser binding: the one module that touches wasm-bindgen (wasm32 only).
//!
//! Every function takes and returns JSON text, so the page and the CLI read and write the
//! very same documents (a [`RunConfig`] in, a [`RunRecord`] out). Errors become a
//! JavaScript `Error` whose message is the core's own (it names the field and what was
//! expected). The page calls [`run`] inside a Web Worker; the main thread only uses the
//! cheap calls (links, validation, presets, CSV) to draw and share.
//!
//! WebGPU: [`run_async`] (a Promise) trains on the worker's WebGPU device when asked;
//! the browser can only read GPU buffers back asynchronously, so that path drives the
//! training loop as a future ([`train_on_async`]). Sweeps and the other kinds stay on the
//! CPU (wasm SIMD: relaxed SIMD where the browser has it, else simd128; [`cpu_build`]).

use crate::backend::{BackendReport, Device, DeviceChoice, Gpu, GpuOptions, select};
use crate::config::TrainConfig;
use crate::error::{Error, Result};
use crate::link;
use crate::nn::train::{TrainResult, train_on_async};
use crate::progress::Progress;
use crate::run::{self, RunConfig, RunOutput, RunRecord, SCHEMA_VERSION};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

/// The core's error as a JavaScript `Error` whose message is the core's own, with its
/// parts as data: `kind` (`config`, `data`, `numerical`, `budget`, `cancelled`) and, for
/// config errors, `field` (the dotted path) and `expected`. The page reads these, never
/// the message.
fn js(e: Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    let set = |k: &str, v: &str| {
        let _ = js_sys::Reflect::set(&err, &JsValue::from_str(k), &JsValue::from_str(v));
    };
    set("kind", error_kind(&e));
    if let Error::Config { field, expected } = &e {
        set("field", field);
        set("expected", expected);
    }
    err.into()
}

fn error_kind(e: &Error) -> &'static str {
    match e {
        Error::Config { .. } => "config",
        Error::Data(_) => "data",
        Error::Numerical(_) => "numerical",
        Error::Budget(_) => "budget",
        Error::Cancelled => "cancelled",
        Error::Worker(_) => "worker",
    }
}

/// The same parts as [`js`], as a JSON value (for errors inside a JSON result).
fn error_value(e: &Error) -> serde_json::Value {
    let mut v = serde_json::json!({ "kind": error_kind(e), "message": e.to_string() });
    if let Error::Config { field, expected } = e {
        v["field"] = field.clone().into();
        v["expected"] = expected.clone().into();
    }
    v
}

type JsResult<T> = std::result::Result<T, JsValue>;

fn parse_config(config_json: &str) -> Result<RunConfig> {
    serde_json::from_str(config_json)
        .map_err(|e| Error::config("config", format!("a valid config ({e})")))
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("our types always serialise")
}

/// Crate version and schema version, for the page's footer and exports.
#[wasm_bindgen]
pub fn version() -> String {
    format!(
        "scaling-playground {} (schema {SCHEMA_VERSION})",
        env!("CARGO_PKG_VERSION")
    )
}

/// The backend the synchronous entry points ([`run`], [`run_shard`]) compute on.
#[wasm_bindgen]
pub fn backend() -> String {
    "cpu".into()
}

/// Which of the page's two wasm builds this is: `"relaxed-simd"` (products with relaxed
/// SIMD's multiply-add, fused on CPUs with FMA) or `"simd128"`. The page picks the build
/// by feature detection and shows this in its backend note.
#[wasm_bindgen]
pub fn cpu_build() -> String {
    if crate::packed_gemm::RELAXED_SIMD {
        "relaxed-simd".into()
    } else {
        "simd128".into()
    }
}

/// The limits of config fields, `{max_width, max_depth, max_steps, max_seeds}`, so the
/// page's inputs bound what the core accepts, and the page's memory budget
/// (`page_memory_bytes`) that runs in flight together must fit.
#[wasm_bindgen]
pub fn limits() -> String {
    use crate::config::{MAX_DEPTH, MAX_SEEDS, MAX_STEPS, MAX_WIDTH};
    to_json(&serde_json::json!({
        "max_width": MAX_WIDTH, "max_depth": MAX_DEPTH,
        "max_steps": MAX_STEPS, "max_seeds": MAX_SEEDS,
        "page_memory_bytes": crate::budget::PAGE_MEMORY_BYTES,
    }))
}

fn parse_arch(arch: &str) -> Result<crate::config::Arch> {
    serde_json::from_value(serde_json::Value::String(arch.into()))
        .map_err(|_| Error::config("model.arch", "mlp or resnet"))
}

/// Which infinite-width limits describe a training config (JSON, with or without its
/// `kind`): `{"dmft": null | ERROR, "lazy": null | ERROR}`, each ERROR the reason as
/// `{kind, field, expected, message}` (see [`crate::theory::limits`]).
#[wasm_bindgen]
pub fn limits_of(train_json: &str) -> JsResult<String> {
    let mut v: serde_json::Value = serde_json::from_str(train_json)
        .map_err(|e| js(Error::config("config", format!("a training config ({e})"))))?;
    if let Some(o) = v.as_object_mut() {
        o.remove("kind");
    }
    let train: crate::config::TrainConfig = serde_json::from_value(v)
        .map_err(|e| js(Error::config("config", format!("a training config ({e})"))))?;
    let why = |r: Result<()>| r.err().map(|e| error_value(&e));
    Ok(to_json(&serde_json::json!({
        "dmft": why(crate::theory::limits::dmft_applies(&train)),
        "lazy": why(crate::theory::limits::lazy_applies(&train)),
    })))
}

/// Number of weight matrices of a network (`arch` `"mlp"` or `"resnet"`, `depth` L).
#[wasm_bindgen]
pub fn num_weight_matrices(arch: &str, depth: usize) -> JsResult<usize> {
    Ok(parse_arch(arch).map_err(js)?.weight_matrices(depth))
}

/// The abc exponents of a parameterisation (JSON, as in a config's `param`) for a
/// network: `{a, b, c, depth_alpha}`, one `a_l`, `b_l` per weight matrix.
#[wasm_bindgen]
pub fn abc_exponents(param_json: &str, arch: &str, depth: usize) -> JsResult<String> {
    let p: crate::config::Parameterization = serde_json::from_str(param_json)
        .map_err(|e| js(Error::config("param", format!("a parameterisation ({e})"))))?;
    let (a, b, c, depth_alpha) =
        crate::nn::param::exponents(&p, parse_arch(arch).map_err(js)?, depth);
    Ok(to_json(
        &serde_json::json!({ "a": a, "b": b, "c": c, "depth_alpha": depth_alpha }),
    ))
}

/// The stability verdicts of exponents `a`, `b` (JSON arrays, one per weight matrix)
/// and `c` ([`crate::nn::abc_verdict::Verdict`] as JSON).
#[wasm_bindgen]
pub fn abc_verdict(a_json: &str, b_json: &str, c: f64) -> JsResult<String> {
    let list = |field: &str, t: &str| -> JsResult<Vec<f64>> {
        serde_json::from_str(t).map_err(|_| js(Error::config(field, "a list of numbers")))
    };
    let v =
        crate::nn::abc_verdict::verdict(&list("param.a", a_json)?, &list("param.b", b_json)?, c)
            .map_err(js)?;
    Ok(to_json(&v))
}

thread_local! {
    /// This worker's WebGPU device (acquired on first use), or why there is none.
    static GPU: RefCell<Option<std::result::Result<Gpu, String>>> = const { RefCell::new(None) };
}

/// This worker's WebGPU device, acquired once (software adapters such as SwiftShader
/// accepted; [`run_async`] filters them under `auto`). A lost device is dropped and a
/// fresh one requested.
async fn worker_gpu() -> std::result::Result<Gpu, String> {
    let cached = GPU.with(|g| g.borrow().clone());
    match cached {
        Some(Ok(g)) if g.lost().is_none() => return Ok(g),
        Some(Err(e)) => return Err(e),
        _ => {}
    }
    let opts = GpuOptions {
        allow_software: true,
        ..Default::default()
    };
    let r = Gpu::acquire_async(&opts).await;
    GPU.with(|g| *g.borrow_mut() = Some(r.clone()));
    r
}

/// The backend a train run with `device = "gpu"` gets in this worker, as
/// [`BackendReport`] JSON: the GPU with its adapter when WebGPU gives one and the
/// kernels compile on it, else the CPU with the reason in `fallback`. Acquires (and
/// caches) the device.
#[wasm_bindgen]
pub async fn gpu_backend() -> String {
    to_json(&match worker_gpu().await {
        Ok(g) => BackendReport::of(&Device::Gpu(g)),
        Err(e) => BackendReport::fell_back(format!("WebGPU unavailable: {e}")),
    })
}

/// Run a config like [`run`], returning a Promise of its [`RunRecord`] JSON.
/// `losses(step, train, test)`, when given, is called at every record of a train run
/// with the per-seed losses (`Float64Array`s), so the page can draw curves as they train. A train run
/// goes to this worker's WebGPU device when `device` (`"auto"`, `"cpu"` or `"gpu"`, as
/// [`DeviceChoice`]) asks for it: `"gpu"` always, `"auto"` on a hardware adapter for
/// problems above [`select::GPU_MIN_FLOPS_PER_STEP`]. Without an adapter, with kernels
/// that fail to compile, or with a device lost mid-run, it runs on the CPU and its
/// `backend` says why. Every other kind runs on the CPU, as [`run`].
///
/// With `exchange`, `rank` and `count`, a train run is this worker's part of one run
/// split over `count` workers ([`train_split`]): the lead (rank 0) returns the record,
/// the others `""`.
#[wasm_bindgen]
pub async fn run_async(
    config_json: String,
    progress: js_sys::Function,
    device: String,
    losses: Option<js_sys::Function>,
    exchange: Option<js_sys::Function>,
    rank: Option<usize>,
    count: Option<usize>,
) -> JsResult<String> {
    let cfg = parse_config(&config_json).map_err(js)?;
    cfg.check_budget(crate::budget::PAGE_MEMORY_BYTES, 1, true)
        .map_err(js)?;
    let choice = parse_device(&device)?;
    let split = exchange.map(|send| train_split::JsExchange {
        rank: rank.unwrap_or(0),
        count: count.unwrap_or(1),
        send,
    });
    if split.as_ref().is_none_or(|x| x.rank == 0) {
        SINK.with(|s| *s.borrow_mut() = Some((progress, -1)));
        LOSSES.with(|l| *l.borrow_mut() = losses);
    }
    let out = match &cfg {
        RunConfig::Train(c) => train_async(c, choice, split)
            .await
            .map(|r| r.map(RunOutput::Train)),
        _ => run::run(&cfg, &JsProgress).map(Some),
    };
    SINK.with(|s| *s.borrow_mut() = None);
    LOSSES.with(|l| *l.borrow_mut() = None);
    Ok(match out.map_err(js)? {
        Some(result) => to_json(&RunRecord::new(cfg, result)),
        None => String::new(),
    })
}

/// One training run on the device `choice` picks in this worker (see [`run_async`]), or
/// this worker's part of a `split` one: `None` from the workers other than its lead.
async fn train_async(
    c: &TrainConfig,
    choice: DeviceChoice,
    mut split: Option<train_split::JsExchange>,
) -> Result<Option<TrainResult>> {
    c.validate()?;
    let data = c.data.load()?;
    let lead = split.as_ref().is_none_or(|x| x.rank == 0);
    let (device, fallback) = match lead {
        true => train_device(c, &data, choice).await,
        false => (Device::Cpu, None),
    };
    let splits = match &mut split {
        Some(ex) => train_split::splits(ex, &device).await?,
        None => false,
    };
    let mut res = match &mut split {
        Some(ex) if splits => {
            let progress: &dyn Progress = if lead {
                &JsProgress
            } else {
                &crate::progress::Silent
            };
            let mut res = crate::nn::train_split(c, &data, ex, progress).await?;
            res.backend.split = Some(ex.count);
            res
        }
        Some(_) if !lead => return Ok(None),
        _ => train_on_async(device, c, &data, &JsProgress).await?,
    };
    if fallback.is_some() {
        res.backend.fallback = fallback;
    }
    Ok(lead.then_some(res))
}

/// The device `choice` picks in this worker for a training run of `c` on `data`, and
/// why not a GPU that was asked for.
async fn train_device(
    c: &TrainConfig,
    data: &crate::data::Dataset,
    choice: DeviceChoice,
) -> (Device, Option<String>) {
    let flops = crate::nn::train::step_flops(c, data);
    // the GPU is only acquired when the policy could use it
    let gpu = if select::might_use_gpu(choice, flops, true) {
        worker_gpu()
            .await
            .map_err(|e| format!("WebGPU unavailable: {e}"))
    } else {
        Err("not acquired".into())
    };
    let sel = select::choose(choice, flops, gpu.as_ref().map_err(String::as_str), true);
    (sel.device, sel.fallback)
}

/// Parse and range-check a config; returns it normalised (every default filled in).
#[wasm_bindgen]
pub fn validate(config_json: &str) -> JsResult<String> {
    let cfg = parse_config(config_json).map_err(js)?;
    cfg.validate().map_err(js)?;
    Ok(to_json(&cfg))
}

/// Parse a config without range checks and return it with every default filled in
/// (the page normalises its state after a control changes a config's shape).
#[wasm_bindgen]
pub fn normalise(config_json: &str) -> JsResult<String> {
    Ok(to_json(&parse_config(config_json).map_err(js)?))
}

/// The default config of a run kind (`"train"`, ...); an error if this build lacks it.
#[wasm_bindgen]
pub fn default_config(kind: &str) -> JsResult<String> {
    let cfg = parse_config(&to_json(&serde_json::json!({ "kind": kind }))).map_err(js)?;
    Ok(to_json(&cfg))
}

/// The link fragment (`c=1.<payload>`) of a config.
#[wasm_bindgen]
pub fn encode_link(config_json: &str) -> JsResult<String> {
    let cfg = parse_config(config_json).map_err(js)?;
    link::encode_checked(&cfg).map_err(js)
}

/// Decode a link (URL, fragment or bare payload) to its validated config JSON.
#[wasm_bindgen]
pub fn decode_link(link_text: &str) -> JsResult<String> {
    link::decode(link_text).map(|c| to_json(&c)).map_err(js)
}

/// Decode a link to the raw JSON it carries, before the schema is applied, so the page
/// can keep the valid parts of a partly invalid link.
#[wasm_bindgen]
pub fn decode_link_value(link_text: &str) -> JsResult<String> {
    link::decode_value(link_text)
        .map(|v| to_json(&v))
        .map_err(js)
}

/// The presets: a JSON array of `{name, description, config}`.
#[wasm_bindgen]
pub fn presets() -> String {
    let out: Vec<serde_json::Value> = crate::presets::PRESETS
        .iter()
        .map(|p| {
            serde_json::json!({
                "name": p.name, "description": p.claim, "config": (p.config)(),
            })
        })
        .collect();
    to_json(&out)
}

/// Open a link leniently on top of the current config (JSON): returns
/// `{config, problems}` where every valid field of the link is applied and each invalid
/// one is named in `problems` (see [`link::open`]).
#[wasm_bindgen]
pub fn open_link(link_text: &str, current_json: &str) -> JsResult<String> {
    let current = parse_config(current_json).map_err(js)?;
    let opened = link::open(link_text, &current);
    let problems: Vec<serde_json::Value> = opened.problems.iter().map(error_value).collect();
    Ok(to_json(&serde_json::json!({
        "config": opened.config,
        "problems": problems,
    })))
}

/// Refuse a config whose estimated memory exceeds the page's budget (the error names
/// the limit), with `workers` page workers each running one group of cells of a sweep at a time
/// and the result's JSON held; returns the estimated peak in bytes otherwise.
#[wasm_bindgen]
pub fn check_budget(config_json: &str, workers: Option<usize>) -> JsResult<f64> {
    let cfg = parse_config(config_json).map_err(js)?;
    let in_flight = workers.unwrap_or(1).clamp(1, cfg.groups().len().max(1));
    cfg.check_budget(crate::budget::PAGE_MEMORY_BYTES, in_flight, true)
        .map_err(js)?;
    Ok(cfg.cost().peak(in_flight, true) as f64)
}

/// The estimated work of a config in flops ([`crate::budget::Cost::flops`]): the page
/// weights each job's share of a run's progress bar and ETA by it, so that a long DMFT
/// solve beside a short training run counts as the larger part of the wait.
#[wasm_bindgen]
pub fn work(config_json: &str) -> JsResult<f64> {
    Ok(parse_config(config_json).map_err(js)?.cost().flops)
}

/// Number of independent units of a sweep config (0 for a single run): its groups of
/// cells ([`RunConfig::groups`]; one cell each but where a kind trains several cells
/// as one ensemble). The page splits a sweep into at most this many shards across its
/// workers with [`run_shard`] and joins them with [`merge`].
#[wasm_bindgen]
pub fn cells(config_json: &str) -> JsResult<usize> {
    let cfg = parse_config(config_json).map_err(js)?;
    Ok(cfg.groups().len())
}

/// Run shard `index` of `count` of a sweep; returns its shard [`RunRecord`] JSON.
#[wasm_bindgen]
pub fn run_shard(
    config_json: &str,
    index: usize,
    count: usize,
    progress: js_sys::Function,
) -> JsResult<String> {
    let cfg = parse_config(config_json).map_err(js)?;
    cfg.check_budget(crate::budget::PAGE_MEMORY_BYTES, 1, true)
        .map_err(js)?;
    SINK.with(|s| *s.borrow_mut() = Some((progress, -1)));
    let out = cfg.run_shard(index, count, &JsProgress);
    SINK.with(|s| *s.borrow_mut() = None);
    let result = out.map_err(js)?;
    Ok(to_json(&RunRecord::new(cfg, result)))
}

/// [`run_shard`] as a Promise, each cell's training on the device `device` (`"auto"`,
/// `"cpu"` or `"gpu"`, as [`DeviceChoice`]) picks in this worker by the one policy
/// ([`select::decide`]; `"auto"` refuses software adapters such as SwiftShader, `"gpu"`
/// takes any). The page's GPU worker runs sweep cells this way; each cell of the shard
/// record says where it ran (`backend`, absent for the CPU).
#[wasm_bindgen]
pub async fn run_shard_async(
    config_json: String,
    index: usize,
    count: usize,
    progress: js_sys::Function,
    device: String,
) -> JsResult<String> {
    let cfg = parse_config(&config_json).map_err(js)?;
    cfg.check_budget(crate::budget::PAGE_MEMORY_BYTES, 1, true)
        .map_err(js)?;
    let choice = parse_device(&device)?;
    let gpu = match choice {
        DeviceChoice::Cpu => Err("not acquired".to_string()),
        _ => worker_gpu()
            .await
            .map_err(|e| format!("WebGPU unavailable: {e}")),
    };
    SINK.with(|s| *s.borrow_mut() = Some((progress, -1)));
    let out = cfg
        .run_shard_async(
            index,
            count,
            choice,
            gpu.as_ref().map_err(String::as_str),
            &JsProgress,
        )
        .await;
    SINK.with(|s| *s.borrow_mut() = None);
    let result = out.map_err(js)?;
    Ok(to_json(&RunRecord::new(cfg, result)))
}

fn parse_device(device: &str) -> JsResult<DeviceChoice> {
    serde_json::from_value(serde_json::Value::String(device.trim().to_lowercase()))
        .map_err(|_| js(Error::config("device", "\"auto\", \"cpu\" or \"gpu\"")))
}

/// Join shard records (a JSON array of [`RunRecord`]s) into the whole sweep's record.
#[wasm_bindgen]
pub fn merge(parts_json: &str) -> JsResult<String> {
    let parts: Vec<RunRecord> = serde_json::from_str(parts_json)
        .map_err(|e| js(Error::Data(format!("not a list of shard records: {e}"))))?;
    run::merge(&parts).map(|r| to_json(&r)).map_err(js)
}

/// CSV tables of a run record (JSON as returned by [`run`]): a JSON array of
/// `[file stem, CSV text]` pairs, the same tables the CLI writes with `--csv`.
#[wasm_bindgen]
pub fn csv(record_json: &str) -> JsResult<String> {
    let rec: RunRecord = serde_json::from_str(record_json)
        .map_err(|e| js(Error::Data(format!("not a run record: {e}"))))?;
    Ok(to_json(&rec.csv()))
}

thread_local! {
    /// The progress callback of the run in flight (wasm32 has one thread per worker).
    static SINK: RefCell<Option<(js_sys::Function, i64)>> = const { RefCell::new(None) };
    /// The per-record loss callback of the train run in flight, if the page asked.
    static LOSSES: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
}

/// Forwards progress to the JavaScript callback, at most once per percent.
struct JsProgress;

impl Progress for JsProgress {
    fn update(&self, stage: &str, done: u64, total: u64) {
        SINK.with(|s| {
            let mut s = s.borrow_mut();
            let Some((f, last)) = s.as_mut() else { return };
            let pct = done
                .saturating_mul(100)
                .checked_div(total)
                .map_or(100, |p| p as i64);
            if pct == *last && done != total {
                return;
            }
            *last = pct;
            let _ = f.call3(
                &JsValue::NULL,
                &JsValue::from_str(stage),
                &JsValue::from_f64(done as f64),
                &JsValue::from_f64(total as f64),
            );
        });
    }

    fn losses(&self, step: usize, train_loss: &[f64], test_loss: &[f64]) {
        LOSSES.with(|l| {
            if let Some(f) = l.borrow().as_ref() {
                let _ = f.call3(
                    &JsValue::NULL,
                    &JsValue::from_f64(step as f64),
                    &js_sys::Float64Array::from(train_loss).into(),
                    &js_sys::Float64Array::from(test_loss).into(),
                );
            }
        });
    }
}

/// Run a config to completion and return its [`RunRecord`] as JSON.
/// `progress(stage, done, total)` is called as the run advances. Cancellation is done
/// by the page terminating the worker.
#[wasm_bindgen]
pub fn run(config_json: &str, progress: js_sys::Function) -> JsResult<String> {
    let cfg = parse_config(config_json).map_err(js)?;
    cfg.check_budget(crate::budget::PAGE_MEMORY_BYTES, 1, true)
        .map_err(js)?;
    SINK.with(|s| *s.borrow_mut() = Some((progress, -1)));
    let out = run::run(&cfg, &JsProgress);
    SINK.with(|s| *s.borrow_mut() = None);
    let result = out.map_err(js)?;
    Ok(to_json(&RunRecord::new(cfg, result)))
}

/// The deep DMFT solve shared by several of the page's workers.
mod dmft_split;
mod train_split;
