//! The DMFT's Monte Carlo products on the GPU: a two-layer and a deep (depth 3, tanh)
//! solve give the same loss curves on the CPU (f64 products) and the GPU (f32 products
//! with f64 chunk sums; the deep kernel estimates by compensated f32 products) within
//! 1e-4 relative, and a GPU lost mid-solve hands the rest to the CPU with a warning. Without a GPU adapter the GPU cases print why and pass;
//! natively in CI the GPU is Mesa lavapipe (software Vulkan).

use crate::common::teacher;
use crate::common::{frob_rel, gpu};
use scaling_playground::backend::{BackendReport, Device, DeviceKind};
use scaling_playground::config::{Activation, OptimizerConfig, Parameterization, TrainConfig};
use scaling_playground::data::Teacher;
use scaling_playground::progress::Silent;
use scaling_playground::theory::dmft::{self, DmftConfig, DmftResult};

fn setup(depth: usize, steps: usize, samples: usize, gamma0: f64, eta: f64) -> DmftConfig {
    let mut train = TrainConfig {
        data: teacher(Teacher::SingleIndex, 16, 6, 3, 3),
        param: Parameterization::Mup { gamma0 },
        optimizer: OptimizerConfig::Gd { lr: eta },
        steps,
        seed: 11,
        ..Default::default()
    };
    train.model.activation = Activation::Tanh;
    train.model.depth = depth;
    train.model.centered = true;
    train.observe.every = 4;
    DmftConfig {
        train,
        samples,
        iterations: 1,
        damping: 1.0,
    }
}

/// A two-layer solve (6 points, 20 steps, S = 5000: five f32 sum chunks) and a deep
/// one (depth 3, P (T + 1) = 54, S = 1500, at most 20 iterations: it settles in ~T + 5).
fn configs() -> [DmftConfig; 2] {
    let mut deep = setup(3, 8, 1500, 1.0, 0.15);
    deep.iterations = 20;
    [setup(1, 20, 5000, 1.0, 0.5), deep]
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-12)
}

/// Largest relative difference of two curves.
fn max_rel(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| rel(*x, *y))
        .fold(0.0, f64::max)
}

/// One solve on `dev`, the same body for every device.
fn solve(dev: Device, cfg: &DmftConfig) -> DmftResult {
    dmft::solve_on(dev, cfg, &Silent).unwrap()
}

#[test]
fn dmft_loss_curves_agree_on_cpu_and_gpu() {
    let Some(g) = gpu("the DMFT GPU cases") else {
        return;
    };
    for cfg in configs() {
        let depth = cfg.train.model.depth;
        let t0 = std::time::Instant::now();
        let cpu = solve(Device::Cpu, &cfg);
        let t_cpu = t0.elapsed();
        let t0 = std::time::Instant::now();
        let gpu = solve(Device::Gpu(g.clone()), &cfg);
        let t_gpu = t0.elapsed();
        assert_eq!(cpu.backend, BackendReport::default());
        assert_eq!(gpu.backend.device, DeviceKind::Gpu, "{:?}", gpu.backend);
        assert!(cpu.warnings.is_empty(), "{:?}", cpu.warnings);
        assert!(gpu.warnings.is_empty(), "{:?}", gpu.warnings);
        // the deep solver's kernel estimates ran on the GPU: per iteration and sample
        // block Phi and G of each of the 3 layers and the 4 Stein covariances (R of
        // layers 1-2, B of 2-3)
        let blocks = dmft::deep::sample_blocks(cfg.samples).len();
        let estimates = if depth == 1 {
            0
        } else {
            10 * blocks * gpu.history.len()
        };
        assert_eq!(gpu.device_kernel_estimates, estimates);
        assert_eq!(cpu.device_kernel_estimates, 0);
        let (first, last) = (cpu.loss[0], *cpu.loss.last().unwrap());
        assert!(
            last < 0.9 * first,
            "depth {depth}: should learn: {first} -> {last}"
        );
        let d_loss = max_rel(&gpu.loss, &cpu.loss);
        let d_ntk = frob_rel(gpu.ntk.last().unwrap(), cpu.ntk.last().unwrap());
        eprintln!(
            "depth {depth}: max rel diff loss {d_loss:.2e}, final NTK {d_ntk:.2e}; \
             cpu {t_cpu:.2?}, {} {t_gpu:.2?}",
            gpu.backend.adapter.as_deref().unwrap_or("?")
        );
        assert!(
            d_loss < 1e-4,
            "depth {depth}: loss curves differ by {d_loss:.2e}"
        );
        // measured 3.7e-8 (depth 1) and 2.6e-6 (depth 3)
        assert!(
            d_ntk < 1e-4,
            "depth {depth}: final NTKs differ by {d_ntk:.2e}"
        );
        if depth == 1 {
            let d_test = frob_rel(&gpu.test_outputs, &cpu.test_outputs);
            assert!(d_test < 1e-4, "test outputs differ by {d_test:.2e}");
        }
    }
}

#[test]
fn dmft_on_a_gpu_lost_mid_solve_finishes_on_the_cpu() {
    let Some(g) = gpu("the DMFT GPU cases") else {
        return;
    };
    let cfg = &configs()[1];
    // a few products into the first iteration
    g.simulate_loss_after(5);
    let res = solve(Device::Gpu(g.clone()), cfg);
    assert!(g.lost().is_some());
    assert_eq!(res.backend.device, DeviceKind::Cpu, "{:?}", res.backend);
    assert!(
        res.backend
            .fallback
            .as_deref()
            .is_some_and(|w| w.contains("simulated")),
        "{:?}",
        res.backend
    );
    assert!(
        res.warnings.iter().any(|w| w.contains("simulated")),
        "{:?}",
        res.warnings
    );
    let cpu = solve(Device::Cpu, cfg);
    let d = max_rel(&res.loss, &cpu.loss);
    assert!(d < 1e-4, "loss curves differ by {d:.2e}");
}

#[test]
fn cpu_solves_are_unchanged_by_the_device_seam() {
    // `solve` (device Auto: the CPU for these small problems) equals `solve_on(Cpu)`.
    for cfg in configs() {
        let auto = dmft::solve(&cfg, &Silent).unwrap();
        let cpu = solve(Device::Cpu, &cfg);
        if std::env::var("SCALING_PLAYGROUND_DEVICE").is_err() {
            assert_eq!(auto, cpu);
        }
    }
}
