//! Every kind's cost estimate against the memory its run really allocates.
//!
//! A counting global allocator tracks the bytes held by this test binary. For a spread
//! of configs of every kind in [`RunConfig::KINDS`] we take the peak above the baseline
//! of the page's path, `cfg.run(..)` then `serde_json::to_string(&RunRecord)` (the result
//! and its JSON held at once), and assert that [`Cost::peak`] is within 0.5x..2x of it.
//! Sweeps run in a one-thread rayon pool (one cell in flight) and, once each, in a
//! two-thread pool against `peak(2, true)`. Everything runs on the CPU
//! (`SCALING_PLAYGROUND_DEVICE=cpu`), so no GPU driver allocations count.
//!
//! A second test checks that validating and costing configs near the link size limit
//! does work bounded by the cell count, not by cells times data.
//!
//! Heavier configs: `cargo test --test kinds_cost -- --ignored`.

#![cfg(not(target_arch = "wasm32"))]

use scaling_playground::budget::Cost;
use scaling_playground::progress::Silent;
use scaling_playground::run::{RunConfig, RunRecord};
use serde_json::{Value, json};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, Once};

// ------------------------------------------------------------ the counting allocator

/// The system allocator, counting the bytes held now, their peak and the calls.
struct Counting;

static CURRENT: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
static CALLS: AtomicUsize = AtomicUsize::new(0);
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

fn grow(bytes: usize) {
    let now = CURRENT.fetch_add(bytes as isize, Ordering::SeqCst) + bytes as isize;
    PEAK.fetch_max(now, Ordering::SeqCst);
    CALLS.fetch_add(1, Ordering::Relaxed);
    ALLOCATED.fetch_add(bytes, Ordering::Relaxed);
}

fn shrink(bytes: usize) {
    CURRENT.fetch_sub(bytes as isize, Ordering::SeqCst);
}

// SAFETY: every call forwards to `System` with the caller's arguments; the counters
// only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        shrink(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grow(new_size - layout.size());
            } else {
                shrink(layout.size() - new_size);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Start a measurement: the peak is reset to what is held now, which is returned.
fn start() -> isize {
    let now = CURRENT.load(Ordering::SeqCst);
    PEAK.store(now, Ordering::SeqCst);
    now
}

/// Peak bytes held above `base` since [`start`].
fn peak_above(base: isize) -> u64 {
    (PEAK.load(Ordering::SeqCst) - base).max(0) as u64
}

/// One test at a time: the counters are process-wide, so every test holds this while
/// it builds configs or measures.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// CPU only, before anything reads the variable.
fn cpu_only() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: set once, first thing in every test of this binary (behind `serial`),
        // before any code of the crate or a driver reads the environment.
        unsafe { std::env::set_var("SCALING_PLAYGROUND_DEVICE", "cpu") };
    });
}

// ------------------------------------------------------------------ the measurement

/// Peak bytes above the baseline of running `cfg` and serialising its record, with
/// `threads` rayon threads.
fn measure(cfg: &RunConfig, threads: usize) -> (u64, usize) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    // warm the pool's threads (their first allocations are not the run's)
    pool.install(|| rayon::broadcast(|_| std::hint::black_box(vec![0u8; 16])));
    let for_record = cfg.clone();
    let base = start();
    let json_len = pool.install(move || {
        let out = cfg
            .run(&Silent)
            .unwrap_or_else(|e| panic!("{}: {e}", cfg.kind()));
        let json = serde_json::to_string(&RunRecord::new(for_record, out)).unwrap();
        json.len()
    });
    (peak_above(base), json_len)
}

struct Row {
    kind: &'static str,
    label: String,
    threads: usize,
    measured: u64,
    estimate: u64,
    json: usize,
    json_estimate: u64,
    secs: f64,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.estimate as f64 / self.measured.max(1) as f64
    }
}

fn mib(b: u64) -> String {
    format!("{:.2}", b as f64 / (1u64 << 20) as f64)
}

/// Measure every case and assert each estimate within 0.5x..2x; print the table. The
/// caller holds [`serial`].
fn check(cases: Vec<(String, Value, usize)>) {
    cpu_only();
    let mut rows = vec![];
    for (label, value, threads) in cases {
        let cfg: RunConfig = serde_json::from_value(value)
            .unwrap_or_else(|e| panic!("{label}: config does not parse: {e}"));
        cfg.validate()
            .unwrap_or_else(|e| panic!("{label}: invalid: {e}"));
        let cost: Cost = cfg.cost();
        let clock = std::time::Instant::now();
        let (measured, json) = measure(&cfg, threads);
        let secs = clock.elapsed().as_secs_f64();
        rows.push(Row {
            kind: cfg.kind(),
            label,
            threads,
            measured,
            estimate: cost.peak(threads, true),
            json,
            json_estimate: cost.json_bytes,
            secs,
        });
    }
    eprintln!(
        "\n{:<18} {:<40} {:>3} {:>9} {:>9} {:>6} {:>9} {:>9} {:>6}",
        "kind", "config", "thr", "peak MiB", "est MiB", "ratio", "json MiB", "est MiB", "s"
    );
    for r in &rows {
        eprintln!(
            "{:<18} {:<40} {:>3} {:>9} {:>9} {:>6.2} {:>9} {:>9} {:>6.2}",
            r.kind,
            r.label,
            r.threads,
            mib(r.measured),
            mib(r.estimate),
            r.ratio(),
            mib(r.json as u64),
            mib(r.json_estimate),
            r.secs,
        );
    }
    let bad: Vec<String> = rows
        .iter()
        .filter(|r| !(0.5..=2.0).contains(&r.ratio()))
        .map(|r| format!("{} {} ({:.2})", r.kind, r.label, r.ratio()))
        .collect();
    assert!(bad.is_empty(), "estimates outside 0.5x..2x: {bad:#?}");
}

fn teacher(dim: usize, train: usize, test: usize) -> Value {
    json!({"task": "teacher", "dim": dim, "train": train, "test": test})
}

/// Inline data: `p` rows of `d` inputs and one target, `pt` test rows.
fn inline(p: usize, pt: usize, d: usize) -> Value {
    let row = |i: usize| -> Vec<f64> {
        (0..d)
            .map(|j| ((i * 7 + j * 13) % 17) as f64 / 8.0 - 1.0)
            .collect()
    };
    let x: Vec<Vec<f64>> = (0..p).map(row).collect();
    let y: Vec<Vec<f64>> = (0..p).map(|i| vec![(i % 5) as f64 / 4.0]).collect();
    let xt: Vec<Vec<f64>> = (p..p + pt).map(row).collect();
    let yt: Vec<Vec<f64>> = (0..pt).map(|i| vec![(i % 3) as f64 / 2.0]).collect();
    json!({"task": "inline", "x": x, "y": y, "x_test": xt, "y_test": yt})
}

/// A CSV text of `rows` rows and `cols` columns (the last the target).
fn csv_text(rows: usize, cols: usize) -> String {
    let mut s: String = (0..cols)
        .map(|j| format!("c{j}"))
        .collect::<Vec<_>>()
        .join(",");
    s.push('\n');
    for i in 0..rows {
        let row: Vec<String> = (0..cols)
            .map(|j| format!("{:.4}", ((i * 31 + j * 17) % 97) as f64 / 48.5 - 1.0))
            .collect();
        s.push_str(&row.join(","));
        s.push('\n');
    }
    s
}

fn csv(rows: usize, cols: usize, test_fraction: f64) -> Value {
    json!({"task": "csv", "text": csv_text(rows, cols), "test_fraction": test_fraction})
}

// ------------------------------------------------------------------------ the cases

fn single_runs() -> Vec<(String, Value, usize)> {
    let mut v: Vec<(String, Value, usize)> = vec![];
    let mut add = |label: &str, value: Value| v.push((label.into(), value, 1));
    // train
    add(
        "mlp L2 N512 S4 P128+64 gd",
        json!({"kind": "train", "data": teacher(32, 128, 64),
               "model": {"width": 512, "depth": 2}, "steps": 5, "seeds": 4}),
    );
    add(
        "resnet L3 N256 S4 P256 adam",
        json!({"kind": "train", "data": teacher(16, 256, 0),
               "model": {"arch": "resnet", "width": 256, "depth": 3},
               "param": {"kind": "depth_mup"}, "optimizer": {"kind": "adam", "lr": 0.01},
               "steps": 5, "seeds": 4}),
    );
    add(
        "mlp L2 N128 P96+32 kernels ntk outputs",
        json!({"kind": "train", "data": teacher(16, 96, 32),
               "model": {"width": 128, "depth": 2}, "steps": 20, "seeds": 4,
               "observe": {"every": 5, "kernels": true, "ntk": true, "outputs": true}}),
    );
    add(
        "digits P300+100 sgd coords S8",
        json!({"kind": "train", "data": {"task": "digits", "train": 300, "test": 100},
               "model": {"width": 256}, "steps": 10, "seeds": 8,
               "optimizer": {"kind": "sgd", "lr": 0.1, "batch_size": 32},
               "observe": {"coords": true, "outputs": true}}),
    );
    add(
        "langevin N1024 S8 sine P200+50",
        json!({"kind": "train", "data": {"task": "sine", "train": 200, "test": 50},
               "model": {"width": 1024}, "steps": 10, "seeds": 8,
               "optimizer": {"kind": "langevin", "lr": 0.01, "temperature": 0.01}}),
    );
    add(
        "inline P4000+1000 D8 N64 S2",
        json!({"kind": "train", "data": inline(4000, 1000, 8),
               "model": {"width": 64}, "steps": 3, "seeds": 2}),
    );
    add(
        "csv 5000x6 N64 S2 test 0.2",
        json!({"kind": "train", "data": csv(5000, 6, 0.2),
               "model": {"width": 64}, "steps": 3, "seeds": 2}),
    );
    // kernel
    let x = |p: usize, d: usize| -> Vec<Vec<f64>> {
        (0..p)
            .map(|i| {
                (0..d)
                    .map(|j| ((i * 5 + j * 3) % 11) as f64 / 5.0 - 1.0)
                    .collect()
            })
            .collect()
    };
    add(
        "relu L3 P400",
        json!({"kind": "kernel", "hidden_layers": 3, "x": x(400, 8)}),
    );
    add(
        "relu L0 P800",
        json!({"kind": "kernel", "hidden_layers": 0, "x": x(800, 4)}),
    );
    add(
        "erf L8 P300",
        json!({"kind": "kernel", "activation": "erf", "hidden_layers": 8, "x": x(300, 6)}),
    );
    add(
        "resnet L6 P300",
        json!({"kind": "kernel", "hidden_layers": 6, "resnet_beta": 1.0, "x": x(300, 6)}),
    );
    // lazy
    add(
        "mlp L4 P200+100 T100/10",
        json!({"kind": "lazy", "data": teacher(16, 200, 100), "model": {"depth": 4},
               "steps": 100, "observe": {"every": 10}}),
    );
    add(
        "resnet L8 P150+50 T50",
        json!({"kind": "lazy", "data": teacher(16, 150, 50),
               "model": {"arch": "resnet", "depth": 8}, "param": {"kind": "depth_mup"},
               "steps": 50}),
    );
    add(
        "mlp L1 P400 T1000 every 1",
        json!({"kind": "lazy", "data": teacher(8, 400, 0), "steps": 1000,
               "optimizer": {"kind": "gd", "lr": 0.1}}),
    );
    add(
        "sine L2 P200+200 T20",
        json!({"kind": "lazy", "data": {"task": "sine", "train": 200, "test": 200},
               "model": {"depth": 2}, "steps": 20}),
    );
    // dmft
    add(
        "two-layer tanh S4000 P32+32 T20",
        json!({"kind": "dmft", "samples": 4000,
               "train": {"data": teacher(8, 32, 32), "model": {"depth": 1,
               "activation": "tanh", "centered": true}, "steps": 20}}),
    );
    add(
        "two-layer relu S20000 P16+64 T10",
        json!({"kind": "dmft", "samples": 20000,
               "train": {"data": teacher(8, 16, 64), "model": {"depth": 1,
               "centered": true}, "steps": 10}}),
    );
    add(
        "two-layer relu S2000 P16+1000 T5",
        json!({"kind": "dmft", "samples": 2000,
               "train": {"data": teacher(8, 16, 1000), "model": {"depth": 1,
               "centered": true}, "steps": 5}}),
    );
    add(
        "two-layer linear P16+1500 T5",
        json!({"kind": "dmft",
               "train": {"data": teacher(8, 16, 1500), "model": {"depth": 1,
               "activation": "linear", "centered": true}, "steps": 5}}),
    );
    add(
        "two-layer linear P200+100 T20",
        json!({"kind": "dmft",
               "train": {"data": teacher(8, 200, 100), "model": {"depth": 1,
               "activation": "linear", "centered": true}, "steps": 20,
               "observe": {"every": 5}}}),
    );
    add(
        "deep linear L2 P8 T15",
        json!({"kind": "dmft",
               "train": {"data": teacher(8, 8, 8), "model": {"depth": 2,
               "activation": "linear", "centered": true}, "steps": 15}}),
    );
    add(
        "deep tanh L2 P8 T8 S1000",
        json!({"kind": "dmft", "samples": 1000, "iterations": 20,
               "train": {"data": teacher(8, 8, 8), "model": {"depth": 2,
               "activation": "tanh", "centered": true}, "steps": 8}}),
    );
    add(
        "deep relu L3 P4 T10 S1500",
        json!({"kind": "dmft", "samples": 1500, "iterations": 6,
               "train": {"data": teacher(8, 4, 0), "model": {"depth": 3,
               "centered": true}, "steps": 10}}),
    );
    // depth_limit
    add(
        "P120 depths 1..32",
        json!({"kind": "depth_limit", "depths": [1, 2, 4, 8, 16, 32], "x": x(120, 4)}),
    );
    add(
        "P60 depth 64 ode 500",
        json!({"kind": "depth_limit", "depths": [64], "ode_steps": 500, "x": x(60, 4)}),
    );
    add(
        "no x, ode 200000, depths to 65536",
        json!({"kind": "depth_limit", "ode_steps": 200000,
               "depths": [1024, 4096, 16384, 65536]}),
    );
    v
}

fn sweeps(threads: usize) -> Vec<(String, Value, usize)> {
    let mut v: Vec<(String, Value, usize)> = vec![];
    let mut add = |label: &str, value: Value| v.push((label.into(), value, threads));
    add(
        "width N128,256 x 3 lrs x sp,mup",
        json!({"kind": "transfer",
               "base": {"data": teacher(16, 128, 64), "model": {"depth": 2},
                        "steps": 5, "seeds": 2},
               "widths": [128, 256], "lrs": [0.1, 0.2, 0.4],
               "params": [{"kind": "sp"}, {"kind": "mup"}]}),
    );
    add(
        "depth L2,4 resnet adam N128",
        json!({"kind": "transfer", "axis": "depth",
               "base": {"data": teacher(16, 128, 32),
                        "model": {"arch": "resnet", "width": 128},
                        "optimizer": {"kind": "adam", "lr": 0.01}, "steps": 5, "seeds": 2},
               "depths": [2, 4], "lrs": [0.01, 0.02],
               "params": [{"kind": "depth_mup"}]}),
    );
    add(
        "widths 128..512 L3 sp,mup",
        json!({"kind": "coord_check",
               "base": {"data": teacher(16, 64, 16), "model": {"depth": 3},
                        "steps": 4, "seeds": 2, "optimizer": {"kind": "gd", "lr": 0.1}},
               "widths": [128, 256, 512]}),
    );
    add(
        "ntk 3 gamma0 N512 S4 P128 T20",
        json!({"kind": "richness",
               "base": {"data": teacher(16, 128, 32), "model": {"width": 512, "centered": true},
                        "steps": 20, "seeds": 4},
               "gamma0s": [0.1, 1.0, 2.0], "records": 5}),
    );
    add(
        "phi L2 2 gamma0 N256 P96",
        json!({"kind": "richness", "kernel": "phi",
               "base": {"data": teacher(16, 96, 0),
                        "model": {"width": 256, "depth": 2, "centered": true},
                        "steps": 10, "seeds": 2},
               "gamma0s": [0.5, 1.0], "records": 10}),
    );
    add(
        "N128..512 tanh P16 S20000 + ntk",
        json!({"kind": "width_convergence",
               "base": {"data": teacher(8, 16, 16), "model": {"depth": 1,
                        "activation": "tanh", "centered": true},
                        "steps": 10, "seeds": 8},
               "widths": [128, 256, 512], "dmft": {"samples": 20000},
               "contrast": [{"kind": "ntk"}]}),
    );
    add(
        "N64,128 P8+16 saddle 20000 x2",
        json!({"kind": "bayes", "data": teacher(8, 8, 16), "widths": [64, 128],
               "burn_in": 50, "steps": 100, "every": 5, "seeds": 4,
               "saddle": {"samples": 20000, "iterations": 30, "stages": 2, "replicas": 2}}),
    );
    add(
        "N64 P8+400 saddle 4000",
        json!({"kind": "bayes", "data": teacher(8, 8, 400), "widths": [64],
               "burn_in": 20, "steps": 40, "every": 5, "seeds": 2,
               "saddle": {"samples": 4000, "iterations": 10, "stages": 1}}),
    );
    add(
        "N32 relu P16+600 S4000",
        json!({"kind": "width_convergence",
               "base": {"data": teacher(8, 16, 600), "model": {"depth": 1,
                        "centered": true},
                        "steps": 5, "seeds": 2},
               "widths": [32], "dmft": {"samples": 4000}}),
    );
    add(
        "landscape L1,3 N128 P64 4 gamma0 x 12 lrs",
        json!({"kind": "landscape", "data": teacher(16, 64, 0), "width": 128,
               "depths": [1, 3], "gamma0s": [0.01, 0.3, 3.0, 30.0],
               "lrs": (0..12).map(|k| 2f64.powi(k - 8)).collect::<Vec<_>>(),
               "steps": 30, "batch": 6, "records": 20}),
    );
    add(
        "landscape digits P200 C10 N64 L2 S2",
        json!({"kind": "landscape", "data": {"task": "digits", "train": 200},
               "width": 64, "depths": [2], "gamma0s": [0.1, 10.0], "seeds": 2,
               "lrs": [0.25, 0.5, 1.0, 2.0, 4.0], "steps": 20, "batch": 5}),
    );
    add(
        "deep_linear L1,3 N64 P16 S4",
        json!({"kind": "deep_linear", "depths": [1, 3], "sample_gamma0s": [1.0],
               "width": 64, "points": 16, "burn_in": 20, "steps": 200, "every": 5,
               "seeds": 4}),
    );
    add(
        "finite_width N16,64 + alpha 1,2 at N64",
        json!({"kind": "finite_width", "widths": [16, 64], "points": 8,
               "alphas": [1.0, 2.0], "alpha_width": 64, "burn_in": 20, "steps": 100,
               "every": 5, "seeds": 4}),
    );
    add(
        "bayes_data digits P100+200 C10 saddle 4000 N128",
        json!({"kind": "bayes_data",
               "data": {"task": "digits", "train": 100, "test": 200},
               "gamma0s": [1.0], "saddle_gamma0s": [0.3], "width": 128,
               "burn_in": 20, "steps": 40, "seeds": 4,
               "saddle": {"samples": 4000, "iterations": 10, "stages": 1}}),
    );
    add(
        "bayes_data csv 300x8 N64 S4",
        json!({"kind": "bayes_data", "data": csv(300, 8, 0.5),
               "gamma0s": [0.3, 1.0], "saddle_gamma0s": [], "width": 64,
               "burn_in": 20, "steps": 40, "seeds": 4}),
    );
    add(
        "N256 P32+32 saddle 20000",
        json!({"kind": "bayes", "data": teacher(16, 32, 32), "widths": [256],
               "burn_in": 20, "steps": 40, "every": 2, "seeds": 4,
               "saddle": {"samples": 20000, "iterations": 10, "stages": 1}}),
    );
    add(
        "N64,256 P=inf M4096 S2",
        json!({"kind": "scaling_law", "widths": [64, 256], "samples": [0], "modes": 4096,
               "seeds": 2}),
    );
    add(
        "N=inf P128,384 M4096 S2 (kernel)",
        json!({"kind": "scaling_law", "widths": [0], "samples": [128, 384], "modes": 4096,
               "seeds": 2}),
    );
    add(
        "N192 P96,384 M2048 S1",
        json!({"kind": "scaling_law", "widths": [192], "samples": [96, 384], "modes": 2048,
               "seeds": 1}),
    );
    add(
        "rich g0 1 N96 P=inf M4096 S1 t100",
        json!({"kind": "scaling_law", "widths": [96], "samples": [0], "gamma0s": [1.0],
               "modes": 4096, "seeds": 1, "t_max": 100.0}),
    );
    add(
        "theory only N16..1024 P=inf,256",
        json!({"kind": "scaling_law", "widths": [16, 64, 256, 1024], "samples": [0, 256],
               "seeds": 0}),
    );
    v
}

#[test]
fn single_run_estimates_are_within_a_factor_two() {
    let _guard = serial();
    check(single_runs());
}

#[test]
fn sweep_estimates_are_within_a_factor_two_one_cell_in_flight() {
    let _guard = serial();
    check(sweeps(1));
}

#[test]
fn sweep_estimates_count_the_cells_in_flight() {
    let _guard = serial();
    let mut cases = sweeps(2);
    cases.truncate(3);
    check(cases);
}

/// Heavier configs (0.35-1.2 GB each, about 20 s in all):
/// `cargo test --test kinds_cost heavy -- --ignored --nocapture`.
#[test]
#[ignore]
fn heavy_estimates_are_within_a_factor_two() {
    let _guard = serial();
    check(vec![
        (
            "lazy L8 P1000+1000 (the issue's 1.23 GiB)".into(),
            json!({"kind": "lazy", "data": teacher(16, 1000, 1000), "model": {"depth": 8},
                   "steps": 20}),
            1,
        ),
        (
            "dmft two-layer relu S20000 P64+500 T20".into(),
            json!({"kind": "dmft", "samples": 20000,
                   "train": {"data": teacher(16, 64, 500), "model": {"depth": 1,
                   "centered": true}, "steps": 20}}),
            1,
        ),
        (
            "train N2048 L2 S4 P256+256 adam".into(),
            json!({"kind": "train", "data": teacher(64, 256, 256),
                   "model": {"width": 2048, "depth": 2}, "steps": 2, "seeds": 4,
                   "optimizer": {"kind": "adam", "lr": 0.001}}),
            1,
        ),
        (
            "bayes saddle 200000 P16+200".into(),
            json!({"kind": "bayes", "data": teacher(8, 16, 200), "widths": [64],
                   "burn_in": 10, "steps": 20, "every": 5, "seeds": 2,
                   "saddle": {"samples": 200000, "iterations": 4, "stages": 1}}),
            1,
        ),
        (
            "kernel relu L16 P1200".into(),
            json!({"kind": "kernel", "hidden_layers": 16,
                   "x": (0..1200).map(|i| vec![(i % 13) as f64, (i % 7) as f64, 1.0])
                       .collect::<Vec<_>>()}),
            1,
        ),
    ]);
}

#[test]
fn every_kind_is_measured() {
    let _guard = serial();
    let mut kinds: Vec<String> = single_runs()
        .into_iter()
        .chain(sweeps(1))
        .map(|(_, v, _)| v["kind"].as_str().unwrap().to_string())
        .collect();
    kinds.sort();
    kinds.dedup();
    let mut want: Vec<String> = RunConfig::KINDS.iter().map(|k| k.to_string()).collect();
    want.sort();
    assert_eq!(kinds, want);
}

// ------------------------------------------ validation and costing near the link limit

/// Allocation calls, bytes allocated (not freed) and seconds of `f`.
fn work<T>(f: impl FnOnce() -> T) -> (T, usize, usize, f64) {
    let (calls, bytes) = (
        CALLS.load(Ordering::SeqCst),
        ALLOCATED.load(Ordering::SeqCst),
    );
    let clock = std::time::Instant::now();
    let out = f();
    let secs = clock.elapsed().as_secs_f64();
    (
        out,
        CALLS.load(Ordering::SeqCst) - calls,
        ALLOCATED.load(Ordering::SeqCst) - bytes,
        secs,
    )
}

/// Large but valid configs of every kind, near the link's limit of 1 MB of JSON (or,
/// for inline data, the CLI's 100k points).
fn large_configs() -> Vec<(&'static str, Value)> {
    let big_csv = || csv(20_000, 6, 0.2);
    let big_inline = || inline(100_000, 0, 1);
    let mups: Vec<Value> = (1..=16)
        .map(|g| json!({"kind": "mup", "gamma0": g as f64 / 4.0}))
        .collect();
    let widths: Vec<usize> = (1..=16).map(|k| 16 * k).collect();
    let lrs: Vec<f64> = (0..16).map(|k| 0.01 * 1.25f64.powi(k)).collect();
    let transfer = |data: Value| {
        json!({"kind": "transfer", "base": {"data": data, "steps": 10, "seeds": 2},
               "widths": widths, "lrs": lrs, "params": mups})
    };
    let rows = |p: usize, d: usize| -> Vec<Vec<f64>> {
        (0..p)
            .map(|i| (0..d).map(|j| ((i + j) % 7) as f64 / 7.0).collect())
            .collect()
    };
    vec![
        ("transfer 4096 cells, csv 1 MB", transfer(big_csv())),
        ("transfer 4096 cells, 100k points", transfer(big_inline())),
        (
            "coord_check 1024 cells, csv 1 MB",
            json!({"kind": "coord_check", "base": {"data": big_csv(), "steps": 4},
                   "widths": (1..=64).map(|k| 8 * k).collect::<Vec<_>>(), "params": mups}),
        ),
        (
            "richness 64 cells, 100k points",
            json!({"kind": "richness", "base": {"data": big_inline(), "steps": 10},
                   "gamma0s": (1..=64).map(|k| k as f64 / 8.0).collect::<Vec<_>>()}),
        ),
        // the DMFT takes at most 512 training points: 5000 rows, 90% test
        (
            "width_convergence 577 cells, csv",
            json!({"kind": "width_convergence",
                   "base": {"data": csv(5000, 6, 0.9), "steps": 10,
                            "model": {"depth": 1, "centered": true}},
                   "widths": (1..=64).map(|k| 8 * k).collect::<Vec<_>>(),
                   "contrast": (0..8).map(|_| json!({"kind": "ntk"})).collect::<Vec<_>>(),
                   "dmft": {"samples": 100}}),
        ),
        (
            "bayes 33 cells, csv 1 MB",
            json!({"kind": "bayes", "data": big_csv(),
                   "widths": (1..=16).map(|k| 64 * k).collect::<Vec<_>>()}),
        ),
        (
            "train, 100k points",
            json!({"kind": "train", "data": big_inline()}),
        ),
        (
            "lazy, csv 1 MB",
            json!({"kind": "lazy", "data": big_csv(), "steps": 10}),
        ),
        (
            "dmft, csv",
            json!({"kind": "dmft", "train": {"data": csv(5000, 6, 0.9), "steps": 2}}),
        ),
        (
            "kernel, 4096 x 16",
            json!({"kind": "kernel", "x": rows(4096, 16)}),
        ),
        (
            "depth_limit, 256 x 64",
            json!({"kind": "depth_limit", "x": rows(256, 64)}),
        ),
    ]
}

/// Validation and costing of configs near the link size limit do work bounded by the
/// cell count and the data's size, not their product: each reads the data at most a few
/// times (a CSV text's shape, its parse), never once per cell (4096 cells x 1 MB would
/// be 4 GB). The times are printed, not asserted.
#[test]
fn validation_and_costing_do_not_scale_with_cells_times_data() {
    let _guard = serial();
    eprintln!(
        "\n{:<36} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "config", "cells", "data MB", "valid ms", "valid MB", "cost ms", "cost KB"
    );
    for (label, value) in large_configs() {
        let payload = value.to_string().len();
        let cfg: RunConfig = serde_json::from_value(value).unwrap();
        let cells = cfg.cells().max(1);
        let (valid, _, valid_bytes, valid_secs) = work(|| cfg.validate());
        valid.unwrap_or_else(|e| panic!("{label}: {e}"));
        let (_, _, cost_bytes, cost_secs) = work(|| cfg.cost());
        eprintln!(
            "{:<36} {:>6} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.1}",
            label,
            cells,
            payload as f64 / 1e6,
            valid_secs * 1e3,
            valid_bytes as f64 / 1e6,
            cost_secs * 1e3,
            cost_bytes as f64 / 1e3,
        );
        assert!(
            cost_bytes < 8 * payload + 4096 * cells + 65536,
            "{label}: costing allocates {cost_bytes} bytes for {cells} cells and {payload} bytes of data"
        );
        assert!(
            valid_bytes < 8 * payload + 4096 * cells + (1 << 20),
            "{label}: validation allocates {valid_bytes} bytes for {payload} bytes of data"
        );
    }
    // A sweep over the cell cap is refused before its cells are enumerated.
    let mut over = large_configs().swap_remove(0).1;
    over["widths"] = json!((1..=64).map(|k| 8 * k).collect::<Vec<_>>());
    over["lrs"] = json!((0..64).map(|k| 0.01 * 1.05f64.powi(k)).collect::<Vec<_>>());
    let cfg: RunConfig = serde_json::from_value(over).unwrap();
    let (valid, calls, _, secs) = work(|| cfg.validate());
    assert!(valid.is_err(), "65536 cells are refused");
    eprintln!(
        "transfer 65536 cells: refused in {:.3} ms, {calls} allocations",
        secs * 1e3
    );
    // the learning rates' field names, one each; nothing per cell
    assert!(calls < 256, "{calls} allocations to refuse 65536 cells");
}

/// The page runs every preset: each fits its budget with one cell in flight per worker.
#[test]
fn every_preset_fits_the_page_budget() {
    let _guard = serial();
    for (name, _) in scaling_playground::presets::list() {
        let cfg = scaling_playground::presets::preset(name).unwrap();
        cfg.check_budget(scaling_playground::budget::PAGE_MEMORY_BYTES, 1, true)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
