//! The binding layer (`src/web.rs`), compiled to wasm32 and run under node by
//! wasm-bindgen-test-runner (`make test-wasm`). Natively this file is empty.
#![cfg(target_arch = "wasm32")]

use scaling_playground::run::{RunConfig, RunOutput, RunRecord};
use scaling_playground::web;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

fn message(e: JsError) -> String {
    js_sys::Error::from(JsValue::from(e)).message().into()
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
    let e = message(web::validate(r#"{"kind":"train","model":{"width":0}}"#).unwrap_err());
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
        r#"{"kind":"train","steps":0}"#,
        r#"{"kind":"train","seeds":-1}"#,
    ] {
        assert!(web::run(bad, noop.clone()).is_err(), "{bad}");
    }
}
