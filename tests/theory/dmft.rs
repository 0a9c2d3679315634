//! The decisive check: finite-width muP ensembles (N = 2048, 8 seeds, centred outputs,
//! full-batch GD) trained by `nn::train` track the DMFT loss curve within 3% (largest
//! relative gap over t), and at gamma0 = 2 the DMFT is far from the lazy curve.
//!
//! Regime: P = 8 points of a single-index teacher in D = 16, loss falls by 5-50x over
//! the run, so the tail is not dominated by the O(1/N) variance term of the ensemble
//! mean; at gamma0 = 2 feature learning changes the loss by > 10% (by a factor ~1.5-6).

use crate::common::max_rel_gap;
use crate::common::teacher;
use scaling_playground::backend::Device;
use scaling_playground::config::{Activation, OptimizerConfig, Parameterization, TrainConfig};
use scaling_playground::data::Teacher;
use scaling_playground::nn::train;
use scaling_playground::progress::Silent;
use scaling_playground::theory::dmft::{self, DmftConfig};
use scaling_playground::theory::lazy;

fn setup(act: Activation, depth: usize, gamma0: f64, eta: f64, steps: usize) -> TrainConfig {
    let mut c = TrainConfig {
        data: teacher(Teacher::SingleIndex, 16, 8, 0, 3),
        param: Parameterization::Mup { gamma0 },
        optimizer: OptimizerConfig::Gd { lr: eta },
        steps,
        seeds: 8,
        seed: 11,
        ..Default::default()
    };
    c.model.activation = act;
    c.model.depth = depth;
    c.model.width = 2048;
    c.model.centered = true;
    c.observe.test_loss = false;
    c
}

/// Check one setup at gamma0 = 0.5, 1, 2.
fn check(act: Activation, depth: usize, eta: f64, steps: usize, samples: usize) {
    for gamma0 in [0.5, 1.0, 2.0] {
        let tc = setup(act, depth, gamma0, eta, steps);
        let data = tc.data.load().unwrap();
        let fin = train(&tc, &data, &Silent).unwrap();
        assert!(!fin.any_diverged());
        let nn = fin.mean_train_loss();
        let cfg = DmftConfig {
            train: tc.clone(),
            samples,
            // a cap: the deep solver settles about one step per iteration and stops
            iterations: 40,
            damping: 1.0,
        };
        let th = dmft::solve(&cfg, &Silent).unwrap();
        let lz = lazy::solve(&tc, &Silent).unwrap();
        assert_eq!(th.loss.len(), steps + 1);
        assert_eq!(nn.len(), steps + 1);
        assert!(th.warnings.is_empty(), "{:?}", th.warnings);
        let gap = max_rel_gap(&nn, &th.loss);
        let lazy_gap = max_rel_gap(&lz.loss, &th.loss);
        eprintln!(
            "{act:?} L={depth} gamma0={gamma0}: |nn - dmft| {gap:.4}, |lazy - dmft| {lazy_gap:.3}, \
             loss(T) nn {:.5} dmft {:.5} lazy {:.5}",
            nn[steps], th.loss[steps], lz.loss[steps]
        );
        assert!(gap < 0.03, "{act:?} L={depth} gamma0={gamma0}: gap {gap}");
        if gamma0 == 2.0 {
            assert!(lazy_gap > 0.1, "DMFT too close to lazy: {lazy_gap}");
        }
    }
}

#[test]
fn two_layer_relu_tracks_the_dmft() {
    check(Activation::Relu, 1, 0.25, 24, 200_000);
}

#[test]
fn two_layer_tanh_tracks_the_dmft() {
    check(Activation::Tanh, 1, 0.25, 24, 200_000);
}

#[test]
fn depth_three_tanh_tracks_the_dmft() {
    check(Activation::Tanh, 3, 0.15, 16, 4000);
}

/// Exploration (not part of the suite): the deep DMFT at gamma0 = 2 against S.
#[test]
#[ignore]
fn deep_dmft_sample_convergence() {
    for (s, seed) in [(2000, 11), (4000, 11), (8000, 11)] {
        let mut tc = setup(Activation::Tanh, 3, 2.0, 0.15, 16);
        tc.seed = seed;
        let cfg = DmftConfig {
            train: tc,
            samples: s,
            iterations: 10,
            damping: 1.0,
        };
        let th = dmft::solve(&cfg, &Silent).unwrap();
        eprintln!(
            "S={s} seed={seed}: loss(T) {:.5} loss(1) {:.5}",
            th.loss[16], th.loss[1]
        );
    }
}

#[test]
fn a_deep_solve_split_over_one_two_or_three_workers_gives_identical_numbers() {
    // S = 4500: six sample blocks (five of 768, one of 660), two for each of three workers
    let mut train = setup(Activation::Tanh, 3, 1.0, 0.3, 6);
    train.observe.every = 2;
    let cfg = DmftConfig {
        train,
        samples: 4500,
        iterations: 12,
        damping: 1.0,
    };
    assert_eq!(dmft::deep::sample_blocks(cfg.samples).len(), 6);
    let unsplit = dmft::solve_on(Device::Cpu, &cfg, &Silent).unwrap();
    assert!(unsplit.warnings.is_empty(), "{:?}", unsplit.warnings);
    for workers in 1..=3 {
        let split = dmft::solve_split(&cfg, workers, &Silent).unwrap();
        assert_eq!(split, unsplit, "{workers} workers");
    }
}

/// Records every `(done, total)` the solver reports.
#[derive(Default)]
struct Ticks(std::sync::Mutex<Vec<(u64, u64)>>);

impl scaling_playground::progress::Progress for Ticks {
    fn update(&self, _stage: &str, done: u64, total: u64) {
        self.0.lock().unwrap().push((done, total));
    }
}

/// The deep march reports its progress as work: the iterations on long grids weigh
/// more, and the bar heads for the iteration where every step has settled, not for the
/// iteration budget. Checked after the fact: at each report past the first quarter of
/// the work, the reported fraction is within 0.2 of the share of the whole solve's work
/// (the last report's `done`, when the solve has finished) that was done then. Counting iterations against the budget of 120
/// would report about a third at the end.
#[test]
fn the_deep_march_reports_the_share_of_its_work_done() {
    let mut train = setup(Activation::Relu, 2, 1.0, 0.5, 24);
    train.data = teacher(Teacher::SingleIndex, 4, 4, 0, 3);
    let cfg = DmftConfig {
        train,
        samples: 256,
        iterations: 120,
        damping: 1.0,
    };
    let ticks = Ticks::default();
    let th = dmft::solve_on(Device::Cpu, &cfg, &ticks).unwrap();
    assert!(th.warnings.is_empty(), "{:?}", th.warnings);
    let ticks = ticks.0.into_inner().unwrap();
    let &(end, last) = ticks.last().expect("reports");
    assert_eq!(end, last, "the last report is the whole work, done");
    let mut checked = 0;
    for &(done, total) in &ticks {
        let truth = done as f64 / end as f64;
        let reported = done as f64 / total as f64;
        if truth > 0.25 {
            checked += 1;
            assert!(
                (reported - truth).abs() < 0.2,
                "reported {reported:.3}, share of the work done {truth:.3} ({} reports)",
                ticks.len()
            );
        }
    }
    assert!(checked > 4, "{checked} reports past a quarter of the work");
}
