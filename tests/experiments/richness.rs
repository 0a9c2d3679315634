//! Lazy vs rich: at small gamma0 the kernels stay at their initial values (kernel
//! regression); at gamma0 = O(1) they move and align with the target y y^T, and
//! training is faster.

use scaling_playground::presets;
use scaling_playground::progress::Silent;
use scaling_playground::run::{RunConfig, RunOutput, run};

#[test]
fn kernels_stay_put_when_lazy_and_align_when_rich() {
    let Some(RunConfig::Richness(mut cfg)) = presets::preset("lazy-vs-rich") else {
        panic!("lazy-vs-rich is a richness sweep")
    };
    cfg.gamma0s = vec![0.01, 1.0, 3.0];
    cfg.base.steps = 100;
    let RunOutput::Richness(r) = run(&RunConfig::Richness(cfg), &Silent).unwrap() else {
        panic!("not a richness result")
    };
    eprintln!(
        "A0 {:?} AT {:?} dK {:?}",
        r.alignment_init, r.alignment_final, r.kernel_change
    );
    let a0 = r
        .alignment_init
        .iter()
        .map(|a| a.unwrap())
        .collect::<Vec<_>>();
    let at = r
        .alignment_final
        .iter()
        .map(|a| a.unwrap())
        .collect::<Vec<_>>();
    let dk = r
        .kernel_change
        .iter()
        .map(|a| a.unwrap())
        .collect::<Vec<_>>();
    assert!(r.diverged.iter().all(|d| !d));
    // lazy: the kernel barely moves
    assert!(dk[0] < 0.02, "lazy kernel change {}", dk[0]);
    assert!((at[0] - a0[0]).abs() < 0.01);
    // rich: it moves by O(1) and aligns with the target
    assert!(dk[1] > 0.3 && dk[2] > dk[1]);
    assert!(
        at[1] > a0[1] + 0.2 && at[2] > a0[2] + 0.2,
        "alignment {at:?} from {a0:?}"
    );
    // and the rich network (gamma0 = 1) trains faster than the lazy one
    let last = r.steps.len() - 1;
    let loss = |g: usize| r.train_loss[g][last].unwrap();
    let losses = [loss(0), loss(1), loss(2)];
    assert!(losses[1] < 0.8 * losses[0], "final losses {losses:?}");
}
