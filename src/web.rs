//! The browser binding: the one module that touches wasm-bindgen (wasm32 only).
//!
//! Every function takes and returns JSON text, so the page and the CLI read and write the
//! very same documents (a [`RunConfig`] in, a [`RunRecord`] out). Errors become a
//! JavaScript `Error` whose message is the core's own (it names the field and what was
//! expected). The page calls [`run`] inside a Web Worker; the main thread only uses the
//! cheap calls (links, validation, presets, CSV) to draw and share.

use crate::error::{Error, Result};
use crate::link;
use crate::progress::Progress;
use crate::run::{self, RunConfig, RunRecord, SCHEMA_VERSION};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

fn js(e: Error) -> JsError {
    JsError::new(&e.to_string())
}

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

/// The backend the wasm core computes on (`"cpu"` until the GPU backend lands).
#[wasm_bindgen]
pub fn backend() -> String {
    "cpu".into()
}

/// Parse and range-check a config; returns it normalised (every default filled in).
#[wasm_bindgen]
pub fn validate(config_json: &str) -> std::result::Result<String, JsError> {
    let cfg = parse_config(config_json).map_err(js)?;
    cfg.validate().map_err(js)?;
    Ok(to_json(&cfg))
}

/// The default config of a run kind (`"train"`, ...); an error if this build lacks it.
#[wasm_bindgen]
pub fn default_config(kind: &str) -> std::result::Result<String, JsError> {
    let cfg = parse_config(&to_json(&serde_json::json!({ "kind": kind }))).map_err(js)?;
    Ok(to_json(&cfg))
}

/// The link fragment (`c=1.<payload>`) of a config.
#[wasm_bindgen]
pub fn encode_link(config_json: &str) -> std::result::Result<String, JsError> {
    let cfg = parse_config(config_json).map_err(js)?;
    cfg.validate().map_err(js)?;
    Ok(link::encode(&cfg))
}

/// Decode a link (URL, fragment or bare payload) to its validated config JSON.
#[wasm_bindgen]
pub fn decode_link(link_text: &str) -> std::result::Result<String, JsError> {
    link::decode(link_text).map(|c| to_json(&c)).map_err(js)
}

/// Decode a link to the raw JSON it carries, before the schema is applied, so the page
/// can keep the valid parts of a partly invalid link.
#[wasm_bindgen]
pub fn decode_link_value(link_text: &str) -> std::result::Result<String, JsError> {
    link::decode_value(link_text)
        .map(|v| to_json(&v))
        .map_err(js)
}

/// The presets of this build: a JSON array of `{name, description, config}`.
#[wasm_bindgen]
pub fn presets() -> String {
    let mut out: Vec<serde_json::Value> = vec![];
    let lists = [
        (
            crate::presets::list(),
            crate::presets::preset as fn(&str) -> Option<RunConfig>,
        ),
        (
            crate::experiments::presets::list(),
            crate::experiments::presets::preset,
        ),
    ];
    for (list, get) in lists {
        for (name, description) in list {
            if out.iter().any(|p| p["name"] == name) {
                continue;
            }
            if let Some(cfg) = get(name) {
                out.push(serde_json::json!({
                    "name": name, "description": description, "config": cfg,
                }));
            }
        }
    }
    to_json(&out)
}

/// Open a link leniently on top of the current config (JSON): returns
/// `{config, problems}` where every valid field of the link is applied and each invalid
/// one is named in `problems` (see [`link::open`]).
#[wasm_bindgen]
pub fn open_link(link_text: &str, current_json: &str) -> std::result::Result<String, JsError> {
    let current = parse_config(current_json).map_err(js)?;
    let opened = link::open(link_text, &current);
    Ok(to_json(&serde_json::json!({
        "config": opened.config,
        "problems": opened.problems,
    })))
}

/// Refuse a config whose estimated memory exceeds the page's budget (the error names
/// the limit); returns the estimate in bytes otherwise.
#[wasm_bindgen]
pub fn check_budget(config_json: &str) -> std::result::Result<f64, JsError> {
    let cfg = parse_config(config_json).map_err(js)?;
    cfg.check_budget(crate::budget::PAGE_MEMORY_BYTES)
        .map_err(js)?;
    Ok(cfg.cost().bytes as f64)
}

/// Number of independent cells of a sweep config (0 for a single run): the page splits
/// a sweep into shards across its workers with [`run_shard`] and joins them with
/// [`merge`].
#[wasm_bindgen]
pub fn cells(config_json: &str) -> std::result::Result<usize, JsError> {
    let cfg = parse_config(config_json).map_err(js)?;
    Ok(if crate::experiments::is_sweep(&cfg) {
        crate::experiments::cells(&cfg)
    } else {
        0
    })
}

/// Run shard `index` of `count` of a sweep; returns its shard [`RunRecord`] JSON.
#[wasm_bindgen]
pub fn run_shard(
    config_json: &str,
    index: usize,
    count: usize,
    progress: js_sys::Function,
) -> std::result::Result<String, JsError> {
    let cfg = parse_config(config_json).map_err(js)?;
    cfg.check_budget(crate::budget::PAGE_MEMORY_BYTES)
        .map_err(js)?;
    SINK.with(|s| *s.borrow_mut() = Some((progress, -1)));
    let out = crate::experiments::run_shard(&cfg, index, count, &JsProgress);
    SINK.with(|s| *s.borrow_mut() = None);
    let result = out.map_err(js)?;
    Ok(to_json(&RunRecord {
        version: SCHEMA_VERSION,
        config: cfg,
        result,
    }))
}

/// Join shard records (a JSON array of [`RunRecord`]s) into the whole sweep's record.
#[wasm_bindgen]
pub fn merge(parts_json: &str) -> std::result::Result<String, JsError> {
    let parts: Vec<RunRecord> = serde_json::from_str(parts_json)
        .map_err(|e| JsError::new(&format!("not a list of shard records: {e}")))?;
    crate::experiments::merge(&parts)
        .map(|r| to_json(&r))
        .map_err(js)
}

/// CSV tables of a run record (JSON as returned by [`run`]): a JSON array of
/// `[file stem, CSV text]` pairs, the same tables the CLI writes with `--csv`.
#[wasm_bindgen]
pub fn csv(record_json: &str) -> std::result::Result<String, JsError> {
    let rec: RunRecord = serde_json::from_str(record_json)
        .map_err(|e| JsError::new(&format!("not a run record: {e}")))?;
    Ok(to_json(&rec.result.csv()))
}

thread_local! {
    /// The progress callback of the run in flight (wasm32 has one thread per worker).
    static SINK: RefCell<Option<(js_sys::Function, i64)>> = const { RefCell::new(None) };
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
}

/// Run a config to completion and return its [`RunRecord`] as JSON.
/// `progress(stage, done, total)` is called as the run advances. Cancellation is done
/// by the page terminating the worker.
#[wasm_bindgen]
pub fn run(config_json: &str, progress: js_sys::Function) -> std::result::Result<String, JsError> {
    let cfg = parse_config(config_json).map_err(js)?;
    cfg.check_budget(crate::budget::PAGE_MEMORY_BYTES)
        .map_err(js)?;
    SINK.with(|s| *s.borrow_mut() = Some((progress, -1)));
    let out = run::run(&cfg, &JsProgress);
    SINK.with(|s| *s.borrow_mut() = None);
    let result = out.map_err(js)?;
    Ok(to_json(&RunRecord {
        version: SCHEMA_VERSION,
        config: cfg,
        result,
    }))
}
