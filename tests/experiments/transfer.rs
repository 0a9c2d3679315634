//! Hyperparameter transfer (docs/theory.md section 6, check 5): the loss-optimal learning
//! rate stays within one factor-2 grid step across widths under muP and across depths
//! under depth-muP, and drifts under SP (width) and without the 1/sqrt(L) branch
//! scaling (depth).

use crate::common::teacher;
use scaling_playground::config::{
    Activation, Arch, OptimizerConfig, Parameterization, TrainConfig,
};
use scaling_playground::data::Teacher;
use scaling_playground::experiments::transfer::{TransferTable, lr_grid};
use scaling_playground::experiments::{TransferAxis, TransferConfig};
use scaling_playground::progress::Silent;
use scaling_playground::run::{RunConfig, RunOutput, run};

fn base(arch: Arch, width: usize, depth: usize) -> TrainConfig {
    let mut b = TrainConfig {
        data: teacher(Teacher::TwoLayer, 16, 32, 64, 1),
        steps: 40,
        seeds: 1,
        optimizer: OptimizerConfig::Gd { lr: 0.1 },
        ..Default::default()
    };
    b.model.arch = arch;
    b.model.width = width;
    b.model.depth = depth;
    b.model.activation = Activation::Relu;
    b
}

fn tables(cfg: TransferConfig) -> Vec<TransferTable> {
    match run(&RunConfig::Transfer(cfg), &Silent).unwrap() {
        RunOutput::Transfer(r) => r.tables,
        other => panic!("not a transfer result: {other:?}"),
    }
}

fn show(t: &TransferTable) {
    eprintln!("{}: best lr index per size {:?}", t.param, t.best_lr_index);
    for row in &t.final_loss {
        eprintln!(
            "  {:?}",
            row.iter()
                .map(|l| l.map(|l| format!("{l:.1e}")))
                .collect::<Vec<_>>()
        );
    }
}

/// Every size found a best rate, and diverged cells are kept in the grid.
fn check_shape(t: &TransferTable, sizes: usize, lrs: usize) {
    assert_eq!(t.final_loss.len(), sizes);
    assert!(t.final_loss.iter().all(|r| r.len() == lrs));
    assert!(t.diverged.iter().all(|r| r.len() == lrs));
    assert!(
        t.best_lr.iter().all(Option::is_some),
        "{}: no best lr",
        t.param
    );
    // the largest rates blow up, and are reported as such rather than dropped
    assert!(
        t.diverged.iter().all(|r| r.iter().any(|d| *d)),
        "{}: no rate diverged",
        t.param
    );
}

#[test]
fn mup_transfers_across_width_and_sp_does_not() {
    let lrs = lr_grid(1.0 / 256.0, 2.0, 13);
    let cfg = TransferConfig {
        base: base(Arch::Mlp, 64, 3),
        axis: TransferAxis::Width,
        widths: vec![64, 256, 1024],
        depths: vec![],
        lrs: lrs.clone(),
        params: vec![Parameterization::Sp, Parameterization::Mup { gamma0: 1.0 }],
        divergence_threshold: 10.0,
    };
    let t = tables(cfg);
    for table in &t {
        show(table);
        check_shape(table, 3, lrs.len());
        assert_eq!(table.widths, vec![64, 256, 1024]);
    }
    let (sp, mup) = (&t[0], &t[1]);
    assert_eq!((sp.param.as_str(), mup.param.as_str()), ("sp", "mup"));
    assert!(
        mup.best_lr_shift.unwrap() <= 1,
        "muP best lr moved {:?}",
        mup.best_lr_index
    );
    assert!(
        sp.best_lr_shift.unwrap() >= 2,
        "SP best lr moved {:?}",
        sp.best_lr_index
    );
    // SP's optimum moves towards smaller rates as width grows
    let idx: Vec<usize> = sp.best_lr_index.iter().map(|i| i.unwrap()).collect();
    assert!(idx[2] + 2 <= idx[0], "SP best lr did not decrease: {idx:?}");
}

#[test]
fn depth_mup_transfers_across_depth_and_plain_mup_does_not() {
    let lrs = lr_grid(1.0 / 64.0, 2.0, 13);
    let cfg = TransferConfig {
        base: base(Arch::Resnet, 128, 2),
        axis: TransferAxis::Depth,
        widths: vec![],
        depths: vec![2, 4, 8, 16],
        lrs: lrs.clone(),
        params: vec![
            Parameterization::DepthMup { gamma0: 1.0 },
            Parameterization::Mup { gamma0: 1.0 },
        ],
        divergence_threshold: 10.0,
    };
    let t = tables(cfg);
    for table in &t {
        show(table);
        check_shape(table, 4, lrs.len());
        assert_eq!(table.depths, vec![2, 4, 8, 16]);
    }
    let (dmup, plain) = (&t[0], &t[1]);
    assert_eq!(plain.param, "mup_no_depth_scaling");
    assert!(
        dmup.best_lr_shift.unwrap() <= 1,
        "depth-muP moved {:?}",
        dmup.best_lr_index
    );
    assert!(
        plain.best_lr_shift.unwrap() > dmup.best_lr_shift.unwrap() + 1,
        "without 1/sqrt(L) the best lr moved only {:?}",
        plain.best_lr_index
    );
}

/// The learning rates of one width train as one ensemble of rates x seeds (the kind's
/// groups); every cell of a real sweep, with rates from converging to diverging, has the
/// final losses and divergence flag of the same cell trained alone, within 1e-6
/// relative, for GD, SGD (the same minibatches) and Adam.
#[test]
fn batched_learning_rates_equal_the_cells_run_alone() {
    use scaling_playground::experiments::transfer::TransferCell;
    use scaling_playground::kind::Sweep;
    let optimizers = [
        OptimizerConfig::Gd { lr: 0.1 },
        OptimizerConfig::Sgd {
            lr: 0.1,
            batch_size: 8,
        },
        OptimizerConfig::Adam {
            lr: 0.1,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            mup_scaling: true,
        },
    ];
    for optimizer in optimizers {
        let mut b = base(Arch::Mlp, 32, 3);
        b.steps = 24;
        b.seeds = 2;
        let lr0 = optimizer.lr() / 8.0;
        b.optimizer = optimizer;
        let cfg = TransferConfig {
            base: b,
            axis: TransferAxis::Width,
            widths: vec![32, 96],
            depths: vec![],
            lrs: lr_grid(lr0, 4.0, 6),
            params: vec![Parameterization::Sp, Parameterization::Mup { gamma0: 1.0 }],
            divergence_threshold: 10.0,
        };
        let name = cfg.base.optimizer.name();
        // the rates of a (parameterisation, width) are one group, or a few where they
        // would not fit the group's memory (width 96 under SGD: its batch buffers)
        let groups = cfg.groups();
        assert_eq!(groups[0], 0..6, "{name}");
        assert!(groups.len() <= 8, "{name}: {groups:?}");
        assert!(
            groups.iter().all(|g| g.start / 6 == (g.end - 1) / 6),
            "{groups:?}"
        );
        let batched: Vec<TransferCell> = groups
            .into_iter()
            .flat_map(|g| cfg.run_group(g, &Silent).unwrap())
            .collect();
        let alone: Vec<TransferCell> = (0..cfg.cells())
            .map(|k| cfg.run_cell(k, &Silent).unwrap())
            .collect();
        let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-6 * a.abs().max(b.abs()),
            (a, b) => a == b,
        };
        let gap = batched
            .iter()
            .zip(&alone)
            .filter_map(|(g, a)| Some((g.final_loss?, a.final_loss?)))
            .map(|(g, a)| (g - a).abs() / a.abs())
            .fold(0.0, f64::max);
        eprintln!("{name}: largest relative gap of the final losses {gap:.1e}");
        for (k, (g, a)) in batched.iter().zip(&alone).enumerate() {
            assert_eq!(g.diverged, a.diverged, "{name} cell {k}: {g:?} vs {a:?}");
            assert!(
                close(g.final_loss, a.final_loss),
                "{name} cell {k}: {g:?} vs {a:?}"
            );
            assert!(
                close(g.final_test_loss, a.final_test_loss),
                "{name} cell {k}: {g:?} vs {a:?}"
            );
        }
        // the grid spans converging and diverging rates (and finite losses to compare)
        assert!(alone.iter().any(|c| c.diverged), "{name}: none diverged");
        let finite = alone.iter().filter(|c| c.final_loss.is_some()).count();
        assert!(finite >= alone.len() / 3, "{name}: {finite} finite cells");
    }
}
