//! A mutation fuzzer over everything that parses untrusted input: links (strict and
//! lenient), config JSON, CSV text, plus the budget estimate of whatever parses. The
//! property is "no panic": every input gives a value or an error.
//!
//! `cargo test --test fuzz` runs a short campaign (part of `make test`);
//! `FUZZ_ITERS=1000000 cargo test --release --test fuzz -- --ignored --nocapture` runs a
//! long one and prints how many inputs it tried.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use scaling_playground::config::TrainConfig;
use scaling_playground::data::{DataConfig, parse_csv};
use scaling_playground::link;
use scaling_playground::run::RunConfig;

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
    }
    let opened = link::open(&text, &current);
    let _ = opened.config.cost();
    if let Ok(cfg) = serde_json::from_slice::<RunConfig>(bytes)
        && cfg.validate().is_ok()
    {
        let _ = cfg.cost();
    }
    let _ = parse_csv(&text);
    let csv = DataConfig::Csv {
        text: text.to_string(),
        target: None,
        test_fraction: 0.25,
        seed: 0,
    };
    let _ = csv.load();
}

fn campaign(iters: u64, seed: u64) -> u64 {
    let corpus = corpus();
    let mut rng = StdRng::seed_from_u64(seed);
    for _ in 0..iters {
        let base = &corpus[rng.random_range(0..corpus.len())];
        let input = mutate(&mut rng, base);
        exercise(&input);
        // links travel as text: also try the mutated bytes as a link payload
        if rng.random_range(0..4u8) == 0 {
            use base64::Engine;
            let packed = miniz_oxide::deflate::compress_to_vec(&input, 1);
            let l = format!(
                "#c=1.{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(packed)
            );
            exercise(l.as_bytes());
        }
    }
    iters
}

#[test]
fn short_fuzz_campaign_never_panics() {
    campaign(20_000, 1);
}

#[test]
#[ignore]
fn long_fuzz_campaign() {
    let iters = std::env::var("FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000u64);
    let t = std::time::Instant::now();
    let n = campaign(iters, 42);
    println!(
        "fuzz: {n} inputs without a panic in {:.1} s",
        t.elapsed().as_secs_f64()
    );
}
