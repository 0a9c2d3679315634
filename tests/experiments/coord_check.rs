//! Coordinate check (microsoft/mup's `coord_check`, docs/theory.md section 6, check 6):
//! after a few steps every layer's mean |h| and mean |h(t) - h(0)| are flat in width under
//! muP; under SP the change of the hidden pre-activations grows with width.

use crate::common::teacher;
use scaling_playground::config::{Activation, OptimizerConfig, Parameterization};
use scaling_playground::data::Teacher;
use scaling_playground::experiments::CoordCheckConfig;
use scaling_playground::progress::Silent;
use scaling_playground::run::{RunConfig, RunOutput, run};

#[test]
fn mup_is_flat_in_width_and_sp_grows() {
    let mut cfg = CoordCheckConfig::default();
    cfg.base.data = teacher(Teacher::TwoLayer, 16, 32, 0, 1);
    cfg.base.model.depth = 3;
    cfg.base.model.activation = Activation::Relu;
    cfg.base.optimizer = OptimizerConfig::Gd { lr: 0.05 };
    cfg.base.steps = 4;
    cfg.base.seeds = 2;
    cfg.widths = vec![64, 128, 256, 512, 1024];
    cfg.params = vec![Parameterization::Sp, Parameterization::Mup { gamma0: 1.0 }];
    let RunOutput::CoordCheck(r) = run(&RunConfig::CoordCheck(cfg), &Silent).unwrap() else {
        panic!("not a coord check result")
    };
    let (sp, mup) = (&r.tables[0], &r.tables[1]);
    for t in &r.tables {
        eprintln!(
            "{}: ratio_h {:?} ratio_dh {:?} slope_dh {:?}",
            t.param, t.ratio_h, t.ratio_dh, t.slope_dh
        );
        assert_eq!(t.widths.len(), 5);
        assert_eq!(t.steps, vec![0, 1, 2, 3, 4]);
        assert_eq!(t.mean_abs_h[4].len(), 3, "three hidden layers");
    }
    for l in 0..3 {
        assert!(mup.ratio_h[l].unwrap() < 1.5, "muP |h| layer {l}");
        assert!(mup.ratio_dh[l].unwrap() < 1.5, "muP |dh| layer {l}");
    }
    // the output moves by O(1) at every width under muP too
    let df = &mup.mean_abs_df[4];
    let (lo, hi) = df
        .iter()
        .fold((f64::MAX, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
    assert!(hi / lo < 2.0, "muP |df| across widths {df:?}");
    // SP: the hidden layers' updates grow with width, at least ~sqrt(N)
    for l in 1..3 {
        let dh = &sp.mean_abs_dh[4][l];
        assert!(dh[4] > 4.0 * dh[0], "SP |dh| layer {l} {dh:?}");
        assert!(sp.slope_dh[l].unwrap() > 0.5, "SP slope layer {l}");
    }
    // at init nothing has moved
    assert!(mup.mean_abs_dh[0].iter().flatten().all(|&x| x == 0.0));
}
