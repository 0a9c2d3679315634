//! The lr-transfer-width preset's learning rates batched per width (the transfer kind's
//! groups, one ensemble of rates x seeds) against every cell trained alone, on one
//! thread, in thread CPU time, per width; rounds alternate the two and the results are
//! checked equal. Usage: `bench_transfer_groups [rounds] [preset]`.
//! `bench_transfer_groups gpu [widths...]`: on the GPU (any adapter, lavapipe included),
//! the kernels launched and the wall time of each width's groups against its cells alone.

use scaling_playground::backend::{DeviceChoice, Gpu, GpuOptions};
use scaling_playground::experiments::transfer::TransferCell;
use scaling_playground::kind::Sweep;
use scaling_playground::presets;
use scaling_playground::progress::Silent;
use scaling_playground::run::RunConfig;
use std::collections::BTreeMap;

#[path = "common/mod.rs"]
mod common;

use common::cpu_seconds;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("gpu") {
        let widths = args[1..].iter().filter_map(|a| a.parse().ok()).collect();
        return on_gpu(widths);
    }
    let rounds: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(3);
    let name = args.get(1).map_or("lr-transfer-width", String::as_str);
    let Some(RunConfig::Transfer(cfg)) = presets::preset(name) else {
        panic!("{name} is not a transfer preset");
    };
    let width_of = |k: usize| cfg.widths[k / cfg.lrs.len() % cfg.widths.len()];
    // per width: [alone, batched] CPU seconds of every round
    let mut secs: BTreeMap<usize, [Vec<f64>; 2]> = BTreeMap::new();
    let mut results: [Vec<TransferCell>; 2] = [vec![], vec![]];
    for round in 0..rounds {
        for batched in [round % 2 == 1, round % 2 == 0] {
            let mut cells = Vec::new();
            if batched {
                for g in cfg.groups() {
                    let t = cpu_seconds();
                    let w = width_of(g.start);
                    cells.extend(cfg.run_group(g, &Silent).unwrap());
                    secs.entry(w).or_default()[1].push(cpu_seconds() - t);
                }
            } else {
                for k in 0..cfg.cells() {
                    let t = cpu_seconds();
                    cells.push(cfg.run_cell(k, &Silent).unwrap());
                    secs.entry(width_of(k)).or_default()[0].push(cpu_seconds() - t);
                }
            }
            assert_eq!(cells.len(), cfg.cells());
            results[batched as usize] = cells;
        }
    }
    check(&results[0], &results[1]);
    println!(
        "{name}: {} cells in {} groups, {rounds} rounds (CPU s per round, one thread)",
        cfg.cells(),
        cfg.groups().len()
    );
    let sizes: Vec<(usize, usize)> = cfg
        .groups()
        .iter()
        .map(|g| (width_of(g.start), g.len()))
        .collect();
    println!("groups (width, rates): {sizes:?}");
    println!("| width | alone | batched | batched/alone |");
    println!("|---|---|---|---|");
    let (mut ta, mut tb) = (0.0, 0.0);
    for (w, [a, b]) in &secs {
        let (a, b) = (
            a.iter().sum::<f64>() / rounds as f64,
            b.iter().sum::<f64>() / rounds as f64,
        );
        ta += a;
        tb += b;
        println!("| {w} | {a:.3} | {b:.3} | {:.2} |", b / a);
    }
    println!("| all | {ta:.3} | {tb:.3} | {:.2} |", tb / ta);
}

/// Batched cells are the cells alone (the test `batched_learning_rates_equal_the_cells_
/// run_alone` holds them to 1e-6 relative).
fn check(alone: &[TransferCell], batched: &[TransferCell]) {
    for (k, (a, b)) in alone.iter().zip(batched).enumerate() {
        assert_eq!(a.diverged, b.diverged, "cell {k}");
        match (a.final_loss, b.final_loss) {
            (Some(x), Some(y)) => assert!((x - y).abs() <= 1e-6 * x.abs(), "cell {k}: {x} {y}"),
            (x, y) => assert_eq!(x, y, "cell {k}"),
        }
    }
}

/// Kernels launched and wall time of each width's groups against its cells alone, on
/// the GPU (the preset's widths `widths`, both parameterisations).
fn on_gpu(widths: Vec<usize>) {
    let gpu = Gpu::acquire(&GpuOptions {
        allow_software: true,
        ..Default::default()
    })
    .expect("a GPU adapter");
    let Some(RunConfig::Transfer(mut cfg)) = presets::preset("lr-transfer-width") else {
        panic!("no lr-transfer-width preset");
    };
    println!("# {}", gpu.name());
    println!(
        "| width | groups | launches alone | launches batched | wall alone s | wall batched s |"
    );
    println!("|---|---|---|---|---|---|");
    for w in widths {
        cfg.widths = vec![w];
        let go = DeviceChoice::Gpu;
        let (n0, t0) = (gpu.kernel_launches(), std::time::Instant::now());
        let mut alone = Vec::new();
        for k in 0..cfg.cells() {
            let f = cfg.run_cell_async(k, go, Ok(&gpu), &Silent);
            alone.push(pollster::block_on(f).unwrap().0);
        }
        let (n1, t1) = (gpu.kernel_launches(), std::time::Instant::now());
        let mut batched = Vec::new();
        for g in cfg.groups() {
            let f = cfg.run_group_async(g, go, Ok(&gpu), &Silent);
            batched.extend(pollster::block_on(f).unwrap().into_iter().map(|c| c.0));
        }
        let (n2, t2) = (gpu.kernel_launches(), std::time::Instant::now());
        println!(
            "| {w} | {} | {} | {} | {:.2} | {:.2} |",
            cfg.groups().len(),
            n1 - n0,
            n2 - n1,
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64()
        );
        for (a, b) in alone.iter().zip(&batched) {
            assert_eq!(a.diverged, b.diverged);
        }
    }
}
