//! Width convergence (docs/theory.md section 6, check 4): two-layer tanh networks under
//! mean-field/muP (gamma0 = 1) approach the DMFT on the same data and learning rate;
//! the mean squared deviation of the loss falls as 1/N and the largest width's loss
//! curve is within 3% of the DMFT.

use scaling_playground::experiments::WidthConvergenceConfig;
use scaling_playground::progress::Silent;
use scaling_playground::run::{RunConfig, RunOutput, run};

#[test]
fn finite_networks_converge_to_the_dmft_as_one_over_width() {
    let mut cfg = WidthConvergenceConfig {
        widths: vec![64, 256, 1024, 4096],
        ..Default::default()
    };
    cfg.base.seeds = 16;
    let RunOutput::WidthConvergence(r) = run(&RunConfig::WidthConvergence(cfg), &Silent).unwrap()
    else {
        panic!("not a width-convergence result")
    };
    eprintln!(
        "slope {:?} kernel slope {:?}\ndeviation {:?}\nrel error {:?}\nalignment {:?}",
        r.slope, r.kernel_slope, r.deviation, r.loss_rel_error, r.kernel_alignment
    );
    assert_eq!(r.widths, vec![64, 256, 1024, 4096]);
    assert_eq!(r.steps.len(), 51);
    assert!(r.diverged.iter().all(|d| !d));
    let slope = r.slope.unwrap();
    assert!((slope + 1.0).abs() <= 0.25, "slope {slope}");
    let kslope = r.kernel_slope.unwrap();
    assert!((kslope + 1.0).abs() <= 0.3, "kernel slope {kslope}");
    let rel = r.loss_rel_error[3].unwrap();
    assert!(rel < 0.03, "largest width is {rel} from the DMFT");
    // the DMFT loss starts at |y|^2 / 2P (centred output) and falls
    let d = &r.dmft_loss;
    assert!(d[50].unwrap() < 0.2 * d[0].unwrap());
    // the feature kernel aligns ever better with the DMFT's
    let a: Vec<f64> = r.kernel_alignment.iter().map(|x| x.unwrap()).collect();
    assert!(a.windows(2).all(|w| w[1] > w[0]) && a[3] > 0.995, "{a:?}");
    // the spread over seeds shrinks with width
    let spread = |w: usize| r.std_loss[w][25].unwrap();
    assert!(spread(3) < 0.5 * spread(0));
}
