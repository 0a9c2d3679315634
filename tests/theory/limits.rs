//! Limits and closed forms of the DMFT: gamma0 -> 0 is kernel regression, the two-layer
//! linear net on one point reaches H = sqrt(1 + gamma0^2 y^2), the deep-linear closed
//! form agrees with the Monte Carlo solver; plus bad input, budgets and cancellation.

use crate::common::max_rel_gap;
use crate::common::teacher;
use scaling_playground::config::{Activation, OptimizerConfig, Parameterization, TrainConfig};
use scaling_playground::data::{DataConfig, Teacher};
use scaling_playground::error::Error;
use scaling_playground::progress::{Flag, Silent};
use scaling_playground::run::{RunConfig, RunOutput, run};
use scaling_playground::theory::dmft::{self, DmftConfig};
use scaling_playground::theory::lazy;
use std::sync::atomic::AtomicBool;

fn setup(act: Activation, depth: usize, gamma0: f64, eta: f64, steps: usize) -> TrainConfig {
    let mut c = TrainConfig {
        data: teacher(Teacher::SingleIndex, 16, 8, 4, 3),
        param: Parameterization::Mup { gamma0 },
        optimizer: OptimizerConfig::Gd { lr: eta },
        steps,
        ..Default::default()
    };
    c.model.activation = act;
    c.model.depth = depth;
    c.model.centered = true;
    c
}

fn dmft_cfg(train: TrainConfig, samples: usize) -> DmftConfig {
    DmftConfig {
        train,
        samples,
        iterations: 10,
        damping: 1.0,
    }
}

#[test]
fn tiny_gamma0_is_kernel_regression() {
    for act in [Activation::Relu, Activation::Tanh, Activation::Linear] {
        let tc = setup(act, 1, 1e-3, 0.5, 40);
        let th = dmft::solve(&dmft_cfg(tc.clone(), 20_000), &Silent).unwrap();
        let lz = lazy::solve(&tc, &Silent).unwrap();
        let gap = max_rel_gap(&th.loss, &lz.loss);
        assert!(gap < 1e-3, "{act:?}: {gap}");
        // the loss actually moves, and the test predictions follow kernel regression
        assert!(lz.loss[40] < 0.5 * lz.loss[0]);
        let ft = lz.test_outputs.last().unwrap();
        for (a, b) in th.test_outputs.iter().zip(ft) {
            assert!(
                (a - b).abs() < 2e-3 * (1.0 + b.abs()),
                "{act:?} test {a} vs {b}"
            );
        }
        // the reported NTK at t = 0 is the closed-form one
        for (a, b) in th.ntk[0].iter().zip(&lz.ntk) {
            assert!((a - b).abs() < 1e-9 * (1.0 + b.abs()));
        }
    }
}

#[test]
fn two_layer_linear_one_point_reaches_the_gradient_flow_fixed_point() {
    for (gamma0, h_inf) in [
        (0.5, 1.118034),
        (1.0, std::f64::consts::SQRT_2),
        (2.0, 2.236068),
    ] {
        let mut tc = setup(Activation::Linear, 1, gamma0, 0.01, 2000);
        tc.data = DataConfig::Inline {
            x: vec![vec![1.0]],
            y: vec![vec![1.0]],
            x_test: vec![],
            y_test: vec![],
        };
        tc.observe.every = 2000;
        let th = dmft::solve(&dmft_cfg(tc, 1), &Silent).unwrap();
        let h = th.phi.last().unwrap()[0][0];
        assert!((h - h_inf).abs() / h_inf < 5e-3, "gamma0 {gamma0}: H = {h}");
        assert!(th.loss[2000] < 1e-8);
    }
}

#[test]
fn deep_linear_closed_form_agrees_with_monte_carlo() {
    let mut tc = setup(Activation::Linear, 2, 1.0, 0.1, 12);
    tc.data = teacher(Teacher::Linear, 8, 4, 0, 5);
    let mut cfg = dmft_cfg(tc, 80_000);
    // a cap: the Monte Carlo solver settles about one step per iteration and stops
    cfg.iterations = 30;
    let exact = dmft::solve(&cfg, &Silent).unwrap();
    let mc = dmft::solve_monte_carlo(&cfg, &Silent).unwrap();
    assert!(exact.warnings.is_empty(), "{:?}", exact.warnings);
    assert!(*exact.history.last().unwrap() < 1e-6, "{:?}", exact.history);
    let gap = max_rel_gap(&mc.loss, &exact.loss);
    eprintln!(
        "deep linear: MC vs closed form {gap:.4}, history {:?}",
        mc.history
    );
    assert!(gap < 0.02, "{gap}");
    // and both differ from the lazy solution (the responses matter)
    let lz = lazy::solve(&cfg.train, &Silent).unwrap();
    assert!(max_rel_gap(&lz.loss, &exact.loss) > 0.05);
    // Phi^1(T, T) agrees too
    let (a, b) = (&exact.phi.last().unwrap()[0], &mc.phi.last().unwrap()[0]);
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 0.03 * (1.0 + x.abs()));
    }
}

#[test]
fn bad_configs_budgets_and_cancellation() {
    // not GD
    let mut tc = setup(Activation::Tanh, 1, 1.0, 0.5, 10);
    tc.optimizer = OptimizerConfig::Adam {
        lr: 0.1,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        mup_scaling: true,
    };
    assert!(matches!(
        dmft::solve(&dmft_cfg(tc, 100), &Silent),
        Err(Error::Config { .. })
    ));
    // deep kernels beyond the P (T+1) limit: refused as a config error on the steps
    let tc = setup(Activation::Tanh, 3, 1.0, 0.5, 1000);
    let e = dmft::solve(&dmft_cfg(tc, 100), &Silent).unwrap_err();
    assert_eq!(e.field(), Some("train.steps"), "{e}");
    // work budget
    let tc = setup(Activation::Tanh, 1, 1.0, 0.5, 100_000);
    assert!(matches!(
        dmft::solve(&dmft_cfg(tc, 1 << 20), &Silent),
        Err(Error::Budget(_))
    ));
    // divergence is an error, not NaN
    let tc = setup(Activation::Tanh, 1, 1.0, 500.0, 50);
    assert!(matches!(
        dmft::solve(&dmft_cfg(tc.clone(), 100), &Silent),
        Err(Error::Numerical(_))
    ));
    assert!(matches!(
        lazy::solve(&tc, &Silent),
        Err(Error::Numerical(_))
    ));
    let tc = setup(Activation::Tanh, 2, 1.0, 500.0, 20);
    assert!(dmft::solve(&dmft_cfg(tc, 100), &Silent).is_err());
    // cancellation
    let flag = AtomicBool::new(true);
    let tc = setup(Activation::Tanh, 2, 1.0, 0.5, 5);
    assert_eq!(
        dmft::solve(&dmft_cfg(tc.clone(), 100), &Flag(&flag)),
        Err(Error::Cancelled)
    );
    assert_eq!(lazy::solve(&tc, &Flag(&flag)), Err(Error::Cancelled));
    let tc = setup(Activation::Relu, 1, 1.0, 0.5, 5);
    assert_eq!(
        dmft::solve(&dmft_cfg(tc, 100), &Flag(&flag)),
        Err(Error::Cancelled)
    );
    // too few iterations is a warning with the history, not an error
    let tc = setup(Activation::Tanh, 2, 2.0, 0.5, 8);
    let mut cfg = dmft_cfg(tc, 200);
    cfg.iterations = 1;
    let r = dmft::solve(&cfg, &Silent).unwrap();
    assert_eq!(r.history.len(), 1);
    assert!(!r.warnings.is_empty());
}

#[test]
fn theory_kinds_run_through_the_dispatcher() {
    let cfgs = [
        r#"{"kind":"kernel","activation":"relu","hidden_layers":1,"sigma_w":1.0,"x":[[1.4142135623730951,0],[0.7071067811865476,1.224744871391589]]}"#,
        r#"{"kind":"lazy","steps":5,"data":{"task":"teacher","dim":4,"train":4,"test":2}}"#,
        r#"{"kind":"dmft","samples":64,"train":{"steps":5,"model":{"depth":2,"activation":"tanh","centered":true},"data":{"task":"teacher","dim":4,"train":3}}}"#,
        r#"{"kind":"depth_limit","depths":[1,2,4],"x":[[1,0],[0,1]]}"#,
    ];
    for (i, c) in cfgs.iter().enumerate() {
        let cfg: RunConfig = serde_json::from_str(c).unwrap();
        let back: RunConfig = serde_json::from_str(&serde_json::to_string(&cfg).unwrap()).unwrap();
        assert_eq!(cfg, back);
        let out = run(&cfg, &Silent).unwrap();
        assert!(!cfg.csv(&out).is_empty());
        match (i, &out) {
            (0, RunOutput::Kernel(k)) => {
                assert!((k.nngp[0][1] - 0.304499).abs() < 1e-5);
                assert!((k.ntk[0][1] - 0.471166).abs() < 1e-5);
            }
            (1, RunOutput::Lazy(l)) => assert_eq!(l.loss.len(), 6),
            (2, RunOutput::Dmft(d)) => assert_eq!(d.loss.len(), 6),
            (3, RunOutput::DepthLimit(d)) => assert_eq!(d.finite.len(), 3),
            _ => panic!("wrong output kind for config {i}"),
        }
        // results round-trip through JSON as the same kind
        let json = serde_json::to_value(&out).unwrap();
        let again = cfg.read_output(json).unwrap();
        assert_eq!(again, out);
    }
    let bad: Result<RunConfig, _> = serde_json::from_str(r#"{"kind":"dmft","sampels":3}"#);
    assert!(bad.is_err());
}
