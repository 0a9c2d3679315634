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
