//! Deep nonlinear DMFT over a long horizon: depth-3 tanh, muP gamma0 = 1, GD lr 0.5,
//! T = 40 on the default data (linear teacher, D = 16, P = 16), against finite-width
//! ensembles (N = 1024, 4 seeds). The loss falls 20x over the run; the DMFT has to
//! follow it at every recorded step (an earlier solver did to t = 20 and then went up
//! again to 10x the finite loss), converge (no warnings) and give the equal-time
//! kernels Phi^l, G^l of the finite nets.

use crate::common::frob_rel;
use crate::common::teacher;
use scaling_playground::config::{Activation, TrainConfig};
use scaling_playground::data::Teacher;
use scaling_playground::nn::train;
use scaling_playground::progress::Silent;
use scaling_playground::theory::dmft::{self, DmftConfig, DmftResult};
use std::time::Instant;

#[test]
fn serde_default_is_the_default() {
    let d: DmftConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(d, DmftConfig::default());
    assert_eq!(d.damping, 1.0);
}

fn setup(act: Activation, depth: usize, gamma0: f64, lr: f64, steps: usize) -> TrainConfig {
    let mut c = TrainConfig {
        param: scaling_playground::config::Parameterization::Mup { gamma0 },
        optimizer: scaling_playground::config::OptimizerConfig::Gd { lr },
        steps,
        seeds: 4,
        ..Default::default()
    };
    c.model.activation = act;
    c.model.depth = depth;
    c.model.width = 1024;
    c.model.centered = true;
    c.observe.every = 10;
    c.observe.kernels = true;
    c.observe.test_loss = false;
    c
}

/// Mean over seeds of the finite kernels at record `r`: `[layer][P x P]`.
fn mean_kernels(k: &[Vec<Vec<f64>>]) -> Vec<Vec<f64>> {
    k.iter()
        .map(|seeds| {
            let mut m = vec![0.0; seeds[0].len()];
            for s in seeds {
                m.iter_mut()
                    .zip(s)
                    .for_each(|(a, b)| *a += b / seeds.len() as f64);
            }
            m
        })
        .collect()
}

struct Gaps {
    loss: Vec<f64>,
    phi: Vec<f64>,
    g: Vec<f64>,
}

/// Relative gaps of loss and (largest over layers) kernels at each recorded step.
fn compare(tc: &TrainConfig, th: &DmftResult) -> Gaps {
    let data = tc.data.load().unwrap();
    let fin = train(tc, &data, &Silent).unwrap();
    assert!(!fin.any_diverged());
    let nn = fin.mean_train_loss();
    let mut gaps = Gaps {
        loss: vec![],
        phi: vec![],
        g: vec![],
    };
    for (r, &t) in fin.steps.iter().enumerate() {
        let k = &fin.kernels[r];
        assert_eq!(k.step, t);
        let rd = th.record_steps.iter().position(|&s| s == t).unwrap();
        let lg = (th.loss[t] - nn[r]).abs() / nn[r];
        let (fp, fg) = (mean_kernels(&k.phi), mean_kernels(&k.g));
        let pg = (0..fp.len())
            .map(|l| frob_rel(&th.phi[rd][l], &fp[l]))
            .fold(0.0, f64::max);
        let gg = (0..fg.len())
            .map(|l| frob_rel(&th.g[rd][l], &fg[l]))
            .fold(0.0, f64::max);
        eprintln!(
            "t={t:3}: loss nn {:.5} dmft {:.5} (gap {lg:.3}), Phi gap {pg:.3}, G gap {gg:.3}",
            nn[r], th.loss[t]
        );
        gaps.loss.push(lg);
        gaps.phi.push(pg);
        gaps.g.push(gg);
    }
    gaps
}

#[test]
fn depth_three_tanh_follows_finite_nets_to_t_40() {
    let tc = setup(Activation::Tanh, 3, 1.0, 0.5, 40);
    let cfg = DmftConfig {
        train: tc.clone(),
        samples: 1500,
        iterations: 60,
        damping: 1.0,
    };
    let t0 = Instant::now();
    let th = dmft::solve(&cfg, &Silent).unwrap();
    eprintln!(
        "solve {:.1} s, history {:?}, warnings {:?}",
        t0.elapsed().as_secs_f64(),
        th.history,
        th.warnings
    );
    let gaps = compare(&tc, &th);
    assert!(th.warnings.is_empty(), "{:?}", th.warnings);
    assert!(*th.history.last().unwrap() < dmft::deep::TOLERANCE);
    // Measured (S = 1500): loss gaps 0.000 / 0.048 / 0.051 / 0.049 / 0.058 at t = 0..40
    // (the DMFT a few percent below the N = 1024 mean, the same sign at every step);
    // kernel gaps (Frobenius, largest layer) 0.06-0.10 after t = 0, where the exact lazy
    // kernels already differ from the 4-seed finite mean by 0.15 (Phi) and 0.07 (G):
    // finite-width noise. The earlier solver: loss gap 10x at t = 30-40.
    for (r, lg) in gaps.loss.iter().enumerate() {
        assert!(*lg < 0.08, "record {r}: loss gap {lg}");
        assert!(gaps.phi[r] < 0.2, "record {r}: Phi gap {}", gaps.phi[r]);
        assert!(gaps.g[r] < 0.15, "record {r}: G gap {}", gaps.g[r]);
    }
    // decreasing like the finite nets
    let rec: Vec<f64> = th.record_steps.iter().map(|&t| th.loss[t]).collect();
    assert!(rec.windows(2).all(|w| w[1] < w[0]), "{rec:?}");
}

/// Exploration (not part of the suite): `DEEP_DMFT="act depth gamma0 lr steps samples
/// iterations [bench]; ..."`, e.g. `DEEP_DMFT="relu 2 2 0.5 40 2000 30"`; `bench` = 1
/// uses the benchmark's data (single-index teacher, P = 10, seed 1).
#[test]
#[ignore]
fn deep_dmft_explore() {
    let spec = std::env::var("DEEP_DMFT").unwrap_or_else(|_| "tanh 3 1 0.5 40 2000 30".into());
    for case in spec.split(';') {
        let w: Vec<&str> = case.split_whitespace().collect();
        let act = match w[0] {
            "relu" => Activation::Relu,
            "erf" => Activation::Erf,
            "gelu" => Activation::Gelu,
            _ => Activation::Tanh,
        };
        let num = |i: usize| w[i].parse::<f64>().unwrap();
        let mut tc = setup(act, num(1) as usize, num(2), num(3), num(4) as usize);
        if w.get(7) == Some(&"1") {
            tc.data = teacher(Teacher::SingleIndex, 16, 10, 0, 1);
        }
        let cfg = DmftConfig {
            train: tc.clone(),
            samples: num(5) as usize,
            iterations: num(6) as usize,
            damping: 1.0,
        };
        let t0 = Instant::now();
        let th = dmft::solve(&cfg, &Silent).unwrap();
        eprintln!(
            "{case}: solve {:.1} s, history {:?}, warnings {:?}",
            t0.elapsed().as_secs_f64(),
            th.history
                .iter()
                .map(|h| format!("{h:.1e}"))
                .collect::<Vec<_>>(),
            th.warnings
        );
        compare(&tc, &th);
    }
}
