//! Benchmark of the experiment sweeps: a sweep on 1 thread against 2 (speed-up) and each
//! preset's native wall time. Also runs a config file: `-- run CONFIG.json`.
//!
//! ```text
//! cargo run --release --example bench_experiments            # speed-up + presets
//! cargo run --release --example bench_experiments -- run F   # print a config's result
//! ```

use scaling_playground::presets;
use scaling_playground::progress::Silent;
use scaling_playground::run::{RunConfig, run};
use std::time::Instant;

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed().as_secs_f64())
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
        .install(f)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("run") {
        let text = std::fs::read_to_string(&args[2]).expect("read config");
        let cfg: RunConfig = serde_json::from_str(&text).expect("parse config");
        let (out, secs) = timed(|| run(&cfg, &Silent).expect("run"));
        println!("{}", serde_json::to_string(&out).expect("json"));
        eprintln!("wall {secs:.2} s");
        return;
    }
    if args.get(1).map(String::as_str) == Some("preset") {
        let cfg = presets::preset(&args[2]).expect("preset name");
        let (out, secs) = timed(|| run(&cfg, &Silent).expect("run"));
        println!("{}", serde_json::to_string(&out).expect("json"));
        eprintln!("wall {secs:.2} s");
        return;
    }
    // Speed-up of a transfer sweep on 2 threads against 1.
    let cfg = presets::preset("lr-transfer-width").expect("preset");
    let (a, t1) = timed(|| in_pool(1, || cfg.run(&Silent).expect("run")));
    let (b, t2) = timed(|| in_pool(2, || cfg.run(&Silent).expect("run")));
    assert_eq!(a, b, "results differ between 1 and 2 threads");
    println!(
        "lr-transfer-width ({} cells): 1 thread {t1:.2} s, 2 threads {t2:.2} s, speed-up {:.2}x",
        cfg.cells(),
        t1 / t2
    );
    for (name, _) in presets::list() {
        let Some(cfg) = presets::preset(name) else {
            continue;
        };
        match timed(|| run(&cfg, &Silent)) {
            (Ok(_), s) => println!("preset {name}: {s:.2} s"),
            (Err(e), s) => println!("preset {name}: error after {s:.2} s: {e}"),
        }
    }
}
