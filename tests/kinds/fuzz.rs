//! A mutation fuzzer over everything that parses untrusted input: links (strict and
//! lenient), config JSON, CSV text (the data task's reader and `kernel --x-file`'s), and
//! the shard records `merge` combines, plus the budget estimate of whatever parses. The
//! property is "no panic": every input gives a value or an error. A panic is caught,
//! and the test fails printing the panic and the input that caused it.
//!
//! `cargo test --test kinds fuzz::` runs the short campaigns (seconds; part of `make test`). The
//! long ones, `long_fuzz_campaign` (links, configs, CSV) and `long_merge_fuzz`, run with
//! `--ignored` (commands on each) and print how many inputs they tried; the test profile
//! is optimised, so `--release` would only add a second build.

use crate::common::teacher;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use scaling_playground::config::TrainConfig;
use scaling_playground::data::Teacher;
use scaling_playground::data::{DataConfig, csv_shape, parse_csv, read_table};
use scaling_playground::link;
use scaling_playground::run::{RunConfig, RunRecord};
use scaling_playground::theory::kernels::KernelConfig;
use serde_json::Value;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

/// Valid seeds the mutator starts from.
fn corpus() -> Vec<Vec<u8>> {
    let train = RunConfig::Train(TrainConfig::default());
    let mut v: Vec<Vec<u8>> = vec![
        link::encode(&train).into_bytes(),
        serde_json::to_vec(&train).unwrap(),
        br#"{"kind":"train","model":{"width":8,"depth":2,"arch":"resnet"},"param":{"kind":"depth_mup","gamma0":2},"optimizer":{"kind":"adam","lr":0.01}}"#.to_vec(),
        br#"{"kind":"train","data":{"task":"inline","x":[[1,2],[3,4]],"y":[[1],[2]]},"steps":3}"#.to_vec(),
        br#"{"kind":"train","data":{"task":"csv","text":"a,b,y\n1,2,3\n4,5,6\n"}}"#.to_vec(),
        b"a,b,y\n1,2,3\n4,5,6\n7,8,9\n".to_vec(),
        b"x,label\n0.5,<script>alert(1)</script>\n".to_vec(),
        b"\xef\xbb\xbf\"a, b\",\"y\"\r\n1,\"2\"\r\n3,4\r\n".to_vec(),
        b"1,2,3\r4,5,6\r7,8,9".to_vec(),
        b"x1,x2\n1,0\n0.5,0.8660254037844386\n".to_vec(),
        b"[[1,0],[0.5,0.866]]".to_vec(),
        b"a,b\n\"1,5\",2\n\n  \n3,\"\"\"4\"\n".to_vec(),
    ];
    for name in scaling_playground::presets::list()
        .into_iter()
        .map(|(n, _)| n)
    {
        if let Some(c) = scaling_playground::presets::preset(name) {
            v.push(link::encode(&c).into_bytes());
        }
    }
    v
}

const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\"",
    b"-1",
    b"1e308",
    b"NaN",
    b"null",
    b"true",
    b"\"kind\"",
    b"\"train\"",
    b"\"width\"",
    b"1e9",
    b"0",
    b"\xff\xfe",
    b"<script>",
    b"javascript:",
    b"#c=1.",
    b"c=2.",
    b"%",
    b"\n",
    b"\"abc\"",
    b"\r",
    b"\r\n",
    b"\xef\xbb\xbf",
    b"\"\"",
    b"nan",
    b"-inf",
    b"1e-320",
    b" , ",
];

fn mutate(rng: &mut StdRng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..rng.random_range(1..6usize) {
        let len = v.len();
        match rng.random_range(0..6u8) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                v[i] = rng.random();
            }
            1 if len > 0 => {
                let i = rng.random_range(0..len);
                let j = rng.random_range(i..=len.min(i + 16));
                v.drain(i..j);
            }
            2 => {
                let i = rng.random_range(0..=len);
                let t = TOKENS[rng.random_range(0..TOKENS.len())];
                v.splice(i..i, t.iter().copied());
            }
            3 if len > 0 => v.truncate(rng.random_range(0..len)),
            4 if len > 1 => {
                let i = rng.random_range(0..len);
                let j = rng.random_range(i..len);
                let chunk = v[i..j].to_vec();
                v.splice(j..j, chunk);
            }
            _ => {
                let i = rng.random_range(0..=len);
                let b: u8 = rng.random_range(b' '..=b'~');
                v.insert(i, b);
            }
        }
    }
    v
}

/// Feed one input to every parser; none may panic.
fn exercise(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let current = RunConfig::Train(TrainConfig::default());
    if let Ok(cfg) = link::decode(&text) {
        let _ = cfg.cost();
        // what `encode_checked` emits, `decode` accepts, unchanged
        if let Ok(again) = link::encode_checked(&cfg) {
            assert_eq!(link::decode(&again).as_ref(), Ok(&cfg));
        }
    }
    let opened = link::open(&text, &current);
    let _ = opened.config.cost();
    if let Ok(cfg) = serde_json::from_slice::<RunConfig>(bytes)
        && cfg.validate().is_ok()
    {
        let _ = cfg.cost();
        if let Ok(l) = link::encode_checked(&cfg) {
            assert_eq!(link::decode(&l).as_ref(), Ok(&cfg));
        }
    }
    let _ = scaling_playground::json::check_unique_keys(&text);
    exercise_csv(&text);
}

/// The CSV readers: the table reader and its cheap shape agree; the data task loads;
/// `kernel --x-file` text (JSON rows or CSV) goes through the `kernel` kind's checks.
fn exercise_csv(text: &str) {
    match read_table(text) {
        Ok(t) => {
            assert_eq!(
                csv_shape(text),
                Ok((t.rows.len(), t.names.len())),
                "{text:?}"
            );
            assert!(t.rows.iter().flatten().all(|v| v.is_finite()));
            let x = RunConfig::Kernel(KernelConfig {
                x: t.rows,
                ..Default::default()
            });
            if x.validate().is_ok() {
                let _ = x.cost();
            }
        }
        Err(_) => {
            let _ = csv_shape(text);
        }
    }
    if let Ok(rows) = serde_json::from_str::<Vec<Vec<f64>>>(text.trim_start()) {
        let _ = RunConfig::Kernel(KernelConfig {
            x: rows,
            ..Default::default()
        })
        .validate();
    }
    let _ = parse_csv(text);
    let csv = DataConfig::Csv {
        text: text.to_string(),
        target: None,
        test_fraction: 0.25,
        seed: 0,
    };
    let _ = csv.load();
}

/// Run `f` on `input`; a panic becomes a message naming the input.
fn no_panic(what: &str, input: &dyn std::fmt::Debug, f: impl FnOnce()) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("{what} panicked: {msg}\ninput: {input:?}")
    })
}

/// `iters` mutated inputs to the link, config and CSV parsers; the inputs tried.
fn campaign(iters: u64, seed: u64) -> Result<u64, String> {
    let corpus = corpus();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut tried = 0;
    for _ in 0..iters {
        let base = &corpus[rng.random_range(0..corpus.len())];
        let input = mutate(&mut rng, base);
        let shown = String::from_utf8_lossy(&input);
        no_panic("parsers", &shown, || exercise(&input))?;
        tried += 1;
        // links travel as text: also try the mutated bytes as a link payload
        if rng.random_range(0..4u8) == 0 {
            use base64::Engine;
            let packed = miniz_oxide::deflate::compress_to_vec(&input, 1);
            let l = format!(
                "#c=1.{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(packed)
            );
            no_panic("parsers (as a link)", &shown, || exercise(l.as_bytes()))?;
            tried += 1;
        }
    }
    Ok(tried)
}

/// Shard records of small sweeps (each sweep cut into 2 and 3 shards), as JSON values:
/// the seeds of the merge fuzzer, built once per test binary.
fn shard_corpus() -> &'static Vec<Vec<Value>> {
    static CORPUS: OnceLock<Vec<Vec<Value>>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        use scaling_playground::config::Parameterization;
        use scaling_playground::experiments::{
            CoordCheckConfig, RichnessConfig, TransferConfig, WidthConvergenceConfig,
        };
        let data = teacher(Teacher::default(), 3, 4, 2, 1);
        let mut t = TransferConfig::default();
        t.base.data = data.clone();
        t.base.steps = 2;
        t.base.seeds = 1;
        t.widths = vec![4, 8];
        t.lrs = vec![0.1, 1.0];
        t.params = vec![Parameterization::Sp, Parameterization::Mup { gamma0: 1.0 }];
        let mut c = CoordCheckConfig::default();
        c.base.data = data.clone();
        c.base.steps = 2;
        c.base.seeds = 1;
        c.widths = vec![4, 8, 16];
        let mut r = RichnessConfig::default();
        r.base.data = data.clone();
        r.base.model.width = 8;
        r.base.steps = 4;
        r.base.seeds = 1;
        r.gamma0s = vec![0.5, 2.0];
        r.records = 3;
        let mut w = WidthConvergenceConfig {
            widths: vec![4, 8],
            contrast: vec![Parameterization::Ntk { gamma0: 1.0 }],
            ..Default::default()
        };
        let data_b = data.clone();
        w.base.data = data;
        w.base.steps = 3;
        w.base.seeds = 2;
        w.base.model.centered = true;
        w.dmft.samples = 50;
        let mut b = scaling_playground::statics::BayesConfig {
            data: data_b,
            widths: vec![4, 8],
            burn_in: 4,
            steps: 8,
            every: 2,
            seeds: 2,
            ..Default::default()
        };
        b.saddle.samples = 200;
        b.saddle.stages = 1;
        b.saddle.iterations = 4;
        let l = scaling_playground::experiments::LandscapeConfig {
            width: 4,
            steps: 5,
            gamma0s: vec![0.1, 10.0],
            lrs: vec![0.5, 1.0, 2.0],
            batch: 2,
            records: 3,
            ..Default::default()
        };
        let dl = scaling_playground::statics::deep_linear::DeepLinearConfig {
            depths: vec![1, 2],
            gamma0s: vec![0.0, 1.0],
            sample_gamma0s: vec![1.0],
            width: 4,
            burn_in: 2,
            steps: 6,
            every: 2,
            seeds: 2,
            ..Default::default()
        };
        let fw = scaling_playground::statics::deep_linear::FiniteWidthConfig {
            widths: vec![4, 8],
            alphas: vec![0.5],
            alpha_width: 4,
            burn_in: 2,
            steps: 6,
            every: 2,
            seeds: 2,
            ..Default::default()
        };
        let mut sets = vec![];
        for cfg in [
            RunConfig::DeepLinear(dl),
            RunConfig::FiniteWidth(fw),
            RunConfig::Landscape(l),
            RunConfig::Bayes(b),
            RunConfig::Transfer(t),
            RunConfig::CoordCheck(c),
            RunConfig::Richness(r),
            RunConfig::WidthConvergence(w),
        ] {
            for n in [2, 3] {
                let parts = (0..n)
                    .map(|i| {
                        let result = cfg
                            .run_shard(i, n, &Silent)
                            .unwrap_or_else(|e| panic!("{}: {e}", cfg.kind()));
                        let rec = RunRecord::new(cfg.clone(), result);
                        serde_json::to_value(&rec).unwrap()
                    })
                    .collect();
                sets.push(parts);
            }
        }
        sets
    })
}

use scaling_playground::progress::Silent;

/// Numbers that break index arithmetic and allocation sizes.
const NUMBERS: &[f64] = &[
    0.0, 1.0, 2.0, 3.0, 5.0, -1.0, 0.5, 64.0, 1e3, 1e6, 1e9, 1e12, 1e18, 1.8e19, 1e308,
];

fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count).sum(),
        Value::Object(o) => o.values().map(count).sum(),
        _ => 0,
    }
}

/// The `k`-th node of `v` in pre-order (`k < count(v)`).
fn nth(v: &mut Value, k: usize) -> &mut Value {
    if k == 0 {
        return v;
    }
    let mut k = k - 1;
    let children: Vec<&mut Value> = match v {
        Value::Array(a) => a.iter_mut().collect(),
        Value::Object(o) => o.values_mut().collect(),
        _ => vec![],
    };
    for c in children {
        let n = count(c);
        if k < n {
            return nth(c, k);
        }
        k -= n;
    }
    unreachable!("k < count(v)")
}

/// Tamper with one node of a record: numbers (indices, steps, totals, shard numbers),
/// arrays shortened, lengthened, emptied or reordered, fields removed or nulled, or a
/// node taken from another shard's record.
fn tamper(rng: &mut StdRng, rec: &mut Value, donor: &Value) {
    // mostly the result, where merge reads indices and arrays
    let target = if rng.random_range(0..4u8) > 0 {
        match rec.get_mut("result") {
            Some(r) => r,
            None => rec,
        }
    } else {
        rec
    };
    let k = rng.random_range(0..count(target));
    let node = nth(target, k);
    match node {
        Value::Number(_) | Value::Bool(_) | Value::Null => {
            let x = NUMBERS[rng.random_range(0..NUMBERS.len())];
            *node = match rng.random_range(0..8u8) {
                0 => Value::Null,
                1 => serde_json::json!(u64::MAX),
                2 => serde_json::json!(-x),
                _ => serde_json::json!(x),
            };
        }
        Value::Array(a) => match rng.random_range(0..5u8) {
            0 => a.clear(),
            1 if !a.is_empty() => a.truncate(rng.random_range(0..a.len())),
            2 if !a.is_empty() => {
                let i = rng.random_range(0..a.len());
                let dup = a[i].clone();
                a.insert(i, dup);
            }
            3 if a.len() > 1 => {
                let last = a.len() - 1;
                a.swap(0, last);
            }
            _ if !a.is_empty() => {
                a.remove(rng.random_range(0..a.len()));
            }
            _ => a.push(Value::Null),
        },
        Value::Object(o) if !o.is_empty() => {
            let key = o.keys().nth(rng.random_range(0..o.len())).cloned();
            if let Some(key) = key {
                match rng.random_range(0..3u8) {
                    0 => {
                        o.remove(&key);
                    }
                    1 => {
                        o.insert(key, Value::Null);
                    }
                    _ => {
                        if let Some(v) = donor.get("result").and_then(|r| r.get(&key)) {
                            o.insert(key, v.clone());
                        }
                    }
                }
            }
        }
        Value::String(s) => s.push('x'),
        Value::Object(_) => {}
    }
}

/// One merge input: some of a sweep's shard records (maybe repeated, reordered, or from
/// another sweep), a few of them tampered with, sometimes mutated as bytes. `sets` are
/// the shard sets of [`shard_corpus`] to draw from.
fn merge_input(rng: &mut StdRng, sets: &[&Vec<Value>]) -> Vec<Vec<u8>> {
    let set = sets[rng.random_range(0..sets.len())];
    let mut parts: Vec<Value> = set.clone();
    match rng.random_range(0..6u8) {
        0 => {
            parts.remove(rng.random_range(0..parts.len()));
        }
        1 => parts.push(parts[rng.random_range(0..parts.len())].clone()),
        2 => parts.reverse(),
        3 => {
            let other = &sets[rng.random_range(0..sets.len())];
            parts.push(other[rng.random_range(0..other.len())].clone());
        }
        _ => {}
    }
    for _ in 0..rng.random_range(1..4u8) {
        let i = rng.random_range(0..parts.len());
        let donor = set[rng.random_range(0..set.len())].clone();
        tamper(rng, &mut parts[i], &donor);
    }
    let mut texts: Vec<Vec<u8>> = parts
        .iter()
        .map(|p| serde_json::to_vec(p).unwrap())
        .collect();
    if rng.random_range(0..8u8) == 0 {
        let i = rng.random_range(0..texts.len());
        texts[i] = mutate(rng, &texts[i]);
    }
    texts
}

/// Read shard files as `merge` does and merge them; a merged result is also written
/// out as JSON and CSV, as the CLI does.
fn exercise_merge(texts: &[Vec<u8>]) {
    let records: Vec<RunRecord> = texts
        .iter()
        .filter(|t| {
            scaling_playground::json::check_unique_keys(&String::from_utf8_lossy(t)).is_ok()
        })
        .filter_map(|t| serde_json::from_slice(t).ok())
        .collect();
    if let Ok(merged) = scaling_playground::run::merge(&records) {
        let _ = serde_json::to_string(&merged);
        let _ = merged.csv();
    }
}

/// `iters` merge inputs built from the shards of the sweeps of `kinds`; the inputs
/// tried.
fn merge_campaign(iters: u64, seed: u64, kinds: &[&str]) -> Result<u64, String> {
    let sets: Vec<&Vec<Value>> = shard_corpus()
        .iter()
        .filter(|set| kinds.iter().any(|k| set[0]["config"]["kind"] == *k))
        .collect();
    assert!(!sets.is_empty(), "no shards of {kinds:?}");
    let mut rng = StdRng::seed_from_u64(seed);
    for _ in 0..iters {
        let texts = merge_input(&mut rng, &sets);
        let shown: Vec<String> = texts
            .iter()
            .map(|t| String::from_utf8_lossy(t).into_owned())
            .collect();
        no_panic("merge", &shown, || exercise_merge(&texts))?;
    }
    Ok(iters)
}

#[test]
fn short_fuzz_campaign_never_panics() {
    let tried = campaign(20_000, 1).unwrap_or_else(|e| panic!("{e}"));
    assert!(tried >= 20_000);
}

/// Every sweep kind whose shards `merge` combines.
const SWEEPS: &[&str] = RunConfig::SWEEPS;

/// `merge` checks every cell's kind and shape before assembling: tampered shards of
/// every sweep kind are errors, never panics.
#[test]
fn short_merge_fuzz_of_every_sweep_never_panics() {
    merge_campaign(2_000, 1, SWEEPS).unwrap_or_else(|e| panic!("{e}"));
}

fn iters() -> u64 {
    std::env::var("FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000u64)
}

/// `FUZZ_ITERS=1000000 cargo test --test kinds fuzz::long_fuzz_campaign -- --ignored --nocapture`
#[test]
#[ignore]
fn long_fuzz_campaign() {
    let t = std::time::Instant::now();
    let n = campaign(iters(), 42).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "fuzz (links, configs, CSV): {n} inputs without a panic in {:.1} s",
        t.elapsed().as_secs_f64()
    );
}

/// `FUZZ_ITERS=1000000 cargo test --test kinds fuzz::long_merge_fuzz -- --ignored --nocapture`;
/// `FUZZ_SWEEPS=transfer,richness` limits it to some sweep kinds (default: all).
#[test]
#[ignore]
fn long_merge_fuzz() {
    let kinds: Vec<String> = std::env::var("FUZZ_SWEEPS").map_or_else(
        |_| SWEEPS.iter().map(|k| k.to_string()).collect(),
        |s| s.split(',').map(|k| k.trim().to_string()).collect(),
    );
    let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
    shard_corpus();
    let t = std::time::Instant::now();
    let n = merge_campaign(iters(), 42, &kinds).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "fuzz (merge of {kinds:?}): {n} inputs without a panic in {:.1} s",
        t.elapsed().as_secs_f64()
    );
}
