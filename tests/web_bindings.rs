//! The binding layer (`src/web.rs`), compiled to wasm32 and run under node by
//! wasm-bindgen-test-runner (`make test-wasm`). Natively this file is empty.
#![cfg(target_arch = "wasm32")]

use scaling_playground::backend::{BackendReport, DeviceKind};
use scaling_playground::run::{RunConfig, RunOutput, RunRecord};
use scaling_playground::web;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

fn message(e: JsValue) -> String {
    js_sys::Error::from(e).message().into()
}

/// The `field` an error names, as data.
fn field(e: &JsValue) -> Option<String> {
    js_sys::Reflect::get(e, &JsValue::from_str("field"))
        .ok()
        .and_then(|v| v.as_string())
}

const SMALL: &str = r#"{"kind":"train","model":{"width":32},"steps":20,"seeds":2,
  "data":{"task":"teacher","dim":4,"train":8,"test":8}}"#;

#[wasm_bindgen_test]
fn link_round_trip() {
    let cfg = web::default_config("train").unwrap();
    let link = web::encode_link(&cfg).unwrap();
    assert!(link.starts_with("c=1."), "{link}");
    assert_eq!(web::decode_link(&link).unwrap(), cfg);
    assert_eq!(
        web::decode_link(&format!("https://x.org/a/b/#{link}&w=64")).unwrap(),
        cfg
    );
    // the raw value of a link keeps fields the schema would reject
    let raw = web::decode_link_value(&link).unwrap();
    assert!(raw.contains("\"kind\":\"train\""));
}

#[wasm_bindgen_test]
fn errors_name_the_field() {
    let err = web::validate(r#"{"kind":"train","model":{"width":0}}"#).unwrap_err();
    // the field is data on the error, not only in its message
    assert_eq!(field(&err).as_deref(), Some("model.width"));
    let e = message(err);
    assert!(e.contains("model.width"), "{e}");
    let e = message(web::default_config("no_such_kind").unwrap_err());
    assert!(e.contains("config"), "{e}");
    let e = message(web::decode_link("c=1.AAAA").unwrap_err());
    assert!(e.contains("link"), "{e}");
    let e = message(web::decode_link("c=7.abc").unwrap_err());
    assert!(e.contains("link.version"), "{e}");
}

#[wasm_bindgen_test]
fn run_reports_progress_and_matches_the_core() {
    let calls = std::rc::Rc::new(std::cell::Cell::new(0u32));
    let c2 = calls.clone();
    let cb =
        Closure::<dyn Fn(String, f64, f64)>::new(move |_stage: String, done: f64, total: f64| {
            assert!(done <= total);
            c2.set(c2.get() + 1);
        });
    let json = web::run(
        SMALL,
        cb.as_ref().unchecked_ref::<js_sys::Function>().clone(),
    )
    .unwrap();
    assert!(calls.get() >= 2, "progress called {} times", calls.get());
    let rec: RunRecord = serde_json::from_str(&json).unwrap();
    #[allow(irrefutable_let_patterns)]
    let RunOutput::Train(r) = &rec.result else {
        panic!("not a train result")
    };
    assert_eq!(r.steps.last(), Some(&20));
    let first = r.mean_train_loss()[0];
    let last = *r.mean_train_loss().last().unwrap();
    assert!(last < first, "loss {first} -> {last}");
    // the binding adds nothing: same numbers as the core called directly
    let cfg: RunConfig = serde_json::from_str(SMALL).unwrap();
    let direct = scaling_playground::run::run(&cfg, &scaling_playground::progress::Silent).unwrap();
    assert_eq!(rec.result, direct);
    // and the CSV tables the page exports are the CLI's
    let tables: Vec<(String, String)> = serde_json::from_str(&web::csv(&json).unwrap()).unwrap();
    assert_eq!(tables[0].0, "loss");
    assert!(tables[0].1.starts_with("step,seed,train_loss,test_loss\n"));
}

#[wasm_bindgen_test]
fn bad_config_is_an_error_not_a_panic() {
    let noop = js_sys::Function::new_no_args("");
    for bad in [
        "",
        "{",
        "[]",
        r#"{"kind":"train","model":{"width":0}}"#,
        r#"{"kind":"train","seeds":-1}"#,
    ] {
        assert!(web::run(bad, noop.clone()).is_err(), "{bad}");
    }
}

#[wasm_bindgen_test]
fn presets_are_listed_with_runnable_configs() {
    let list: Vec<serde_json::Value> = serde_json::from_str(&web::presets()).unwrap();
    let names: Vec<&str> = list.iter().filter_map(|p| p["name"].as_str()).collect();
    for want in [
        "width-convergence",
        "lr-transfer-width",
        "coord-check",
        "lazy-vs-rich",
    ] {
        assert!(names.contains(&want), "{names:?}");
    }
    for p in &list {
        assert!(!p["description"].as_str().unwrap_or("").is_empty());
        web::validate(&p["config"].to_string()).unwrap();
    }
}

#[wasm_bindgen_test]
fn sweeps_split_into_shards_and_merge_to_the_whole() {
    let list: Vec<serde_json::Value> = serde_json::from_str(&web::presets()).unwrap();
    let mut cfg = list.iter().find(|p| p["name"] == "coord-check").unwrap()["config"].clone();
    // keep it small: two widths
    cfg["widths"] = serde_json::json!([32, 64]);
    let text = cfg.to_string();
    let n = web::cells(&text).unwrap();
    assert!(n >= 2, "{n} cells");
    let noop = js_sys::Function::new_no_args("");
    let parts: Vec<serde_json::Value> = (0..2)
        .map(|i| serde_json::from_str(&web::run_shard(&text, i, 2, noop.clone()).unwrap()).unwrap())
        .collect();
    let merged: RunRecord =
        serde_json::from_str(&web::merge(&serde_json::to_string(&parts).unwrap()).unwrap())
            .unwrap();
    let whole: RunRecord = serde_json::from_str(&web::run(&text, noop).unwrap()).unwrap();
    assert_eq!(merged.result, whole.result);
    assert_eq!(web::cells(SMALL).unwrap(), 0);
}

#[wasm_bindgen_test]
fn oversized_config_is_refused_before_running() {
    let huge = r#"{"kind":"train","model":{"width":65536,"depth":256},"seeds":4096,"steps":10}"#;
    let e = message(web::check_budget(huge, None).unwrap_err());
    assert!(e.contains("budget") || e.contains("memory"), "{e}");
    let noop = js_sys::Function::new_no_args("");
    assert!(web::run(huge, noop).is_err());
    assert!(web::check_budget(SMALL, Some(2)).unwrap() > 0.0);
}

/// The work that weights a job's progress grows with what the run computes: twice the
/// steps, about twice the flops; a deep DMFT solve far outweighs a small training run.
#[wasm_bindgen_test]
fn work_weighs_what_a_run_computes() {
    let small = web::work(SMALL).unwrap();
    let longer = web::work(&SMALL.replace(r#""steps":20"#, r#""steps":40"#)).unwrap();
    assert!(
        small > 0.0 && (1.8..2.2).contains(&(longer / small)),
        "{small} {longer}"
    );
    let dmft = r#"{"kind":"dmft","samples":2000,"train":{"data":{"task":"teacher","dim":4,
      "train":16,"test":64},"model":{"width":1024,"depth":3},"param":{"kind":"mup"},
      "steps":40}}"#;
    let deep = web::work(dmft).unwrap();
    assert!(deep > 100.0 * small, "{deep} vs {small}");
    assert!(web::work("{").is_err());
}

#[wasm_bindgen_test]
fn lenient_open_keeps_valid_fields_and_names_bad_ones() {
    let current = web::default_config("train").unwrap();
    let bad = web::encode_link(SMALL).unwrap();
    let opened: serde_json::Value =
        serde_json::from_str(&web::open_link(&bad, &current).unwrap()).unwrap();
    assert_eq!(opened["config"]["model"]["width"], 32);
    assert!(opened["problems"].as_array().unwrap().is_empty());
    let cut = &bad[..bad.len() - 6];
    let opened: serde_json::Value =
        serde_json::from_str(&web::open_link(cut, &current).unwrap()).unwrap();
    assert!(!opened["problems"].as_array().unwrap().is_empty());
}

/// `SMALL` by `run_async` on `device`, alone: no loss stream, no exchange.
async fn run_small_on(device: &str) -> Result<String, JsValue> {
    let noop = js_sys::Function::new_no_args("");
    web::run_async(SMALL.into(), noop, device.into(), None, None, None, None).await
}

#[wasm_bindgen_test]
async fn async_run_gives_the_sync_numbers_and_falls_back_without_webgpu() {
    let noop = js_sys::Function::new_no_args("");
    let sync: RunRecord = serde_json::from_str(&web::run(SMALL, noop.clone()).unwrap()).unwrap();
    let on_cpu: RunRecord = serde_json::from_str(&run_small_on("cpu").await.unwrap()).unwrap();
    assert_eq!(on_cpu.result, sync.result);
    // node has no WebGPU: asking for the GPU runs on the CPU, same numbers, and says why
    let asked_gpu: RunRecord = serde_json::from_str(&run_small_on("gpu").await.unwrap()).unwrap();
    #[allow(irrefutable_let_patterns)]
    let (RunOutput::Train(a), RunOutput::Train(b)) = (&asked_gpu.result, &sync.result) else {
        panic!("not train results")
    };
    assert_eq!(a.backend.device, DeviceKind::Cpu);
    assert!(
        a.backend
            .fallback
            .as_deref()
            .is_some_and(|w| w.starts_with("WebGPU unavailable")),
        "{:?}",
        a.backend
    );
    assert_eq!(a.train_loss, b.train_loss);
    let report: BackendReport = serde_json::from_str(&web::gpu_backend().await).unwrap();
    assert_eq!(report.device, DeviceKind::Cpu);
    assert!(
        report
            .fallback
            .is_some_and(|w| w.starts_with("WebGPU unavailable"))
    );
    let e = message(run_small_on("tpu").await.unwrap_err());
    assert!(e.contains("device"), "{e}");
}

#[wasm_bindgen_test]
async fn train_runs_stream_their_loss_records() {
    let noop = js_sys::Function::new_no_args("");
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::<(f64, Vec<f64>)>::new()));
    let s2 = seen.clone();
    let cb = Closure::<dyn Fn(f64, js_sys::Float64Array, js_sys::Float64Array)>::new(
        move |step: f64, train: js_sys::Float64Array, _test: js_sys::Float64Array| {
            s2.borrow_mut().push((step, train.to_vec()));
        },
    );
    let json = web::run_async(
        SMALL.into(),
        noop,
        "cpu".into(),
        Some(cb.as_ref().unchecked_ref::<js_sys::Function>().clone()),
        None,
        None,
        None,
    )
    .await
    .unwrap();
    let rec: RunRecord = serde_json::from_str(&json).unwrap();
    #[allow(irrefutable_let_patterns)]
    let RunOutput::Train(r) = &rec.result else {
        panic!("not a train result")
    };
    // one call per record, as it happens, with the very numbers of the record
    let seen = seen.borrow();
    assert_eq!(seen.len(), r.steps.len());
    for ((step, train), (want_step, want)) in seen.iter().zip(r.steps.iter().zip(&r.train_loss)) {
        assert_eq!(*step as usize, *want_step);
        assert_eq!(train, want);
    }
}

#[wasm_bindgen_test]
fn the_page_reads_the_core_tables() {
    let limits: serde_json::Value = serde_json::from_str(&web::limits()).unwrap();
    assert_eq!(limits["max_seeds"], 4096);
    assert_eq!(web::num_weight_matrices("mlp", 3).unwrap(), 4);
    assert_eq!(web::num_weight_matrices("resnet", 3).unwrap(), 5);
    assert!(message(web::num_weight_matrices("cnn", 3).unwrap_err()).contains("model.arch"));
    let e: serde_json::Value = serde_json::from_str(
        &web::abc_exponents(r#"{"kind":"mup","gamma0":1}"#, "mlp", 2).unwrap(),
    )
    .unwrap();
    assert_eq!(e["a"], serde_json::json!([0.0, 0.5, 1.0]));
    assert_eq!(e["c"], -1.0);
    let v: serde_json::Value =
        serde_json::from_str(&web::abc_verdict("[0,0.5,1]", "[0,0,0]", -1.0).unwrap()).unwrap();
    assert_eq!(v["named"], "mup");
    assert!(
        v["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["ok"] == true)
    );
    let e = message(web::abc_verdict("[0,1]", "[0]", 0.0).unwrap_err());
    assert!(e.contains("param.b"), "{e}");
    // normalise fills in defaults without range checks
    let n = web::normalise(r#"{"kind":"train","optimizer":{"kind":"adam","lr":0.1},"seeds":0}"#)
        .unwrap();
    assert!(
        n.contains(r#""beta1":0.9"#) && n.contains(r#""seeds":0"#),
        "{n}"
    );
}
