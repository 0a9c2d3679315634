//! Deep linear muP networks at equilibrium: the closed-form overlaps of docs/theory.md
//! section 5.4, the two-layer saddle point with a linear activation, and Langevin-sampled
//! finite networks.

use scaling_playground::config::{Activation, Parameterization};
use scaling_playground::progress::Silent;
use scaling_playground::statics::deep_linear::{
    self, c_one_layer_zero_temperature, whitened_dataset,
};
use scaling_playground::statics::langevin::{self, LangevinConfig};
use scaling_playground::statics::saddle::{self, SaddleConfig};

#[test]
fn overlaps_match_the_reference_values() {
    let inf = f64::INFINITY;
    for (l, want) in [(1, 1.618034), (2, 2.147899), (4, 3.079596)] {
        let s = deep_linear::solve(1.0, inf, l).unwrap();
        assert!((s.c - want).abs() < 1e-5, "L = {l}: c = {}", s.c);
        assert!((s.c_layers[l - 1] - s.c).abs() < 1e-12);
    }
    let s = deep_linear::solve(1.0, 100.0, 1).unwrap();
    assert!((s.c - 1.612525).abs() < 1e-5, "beta = 100: c = {}", s.c);
    for g in [0.5, 1.0, 2.0] {
        let s = deep_linear::solve(g, inf, 1).unwrap();
        assert!((s.c - c_one_layer_zero_temperature(g)).abs() < 1e-12);
    }
    // gamma0 = 0: no feature learning.
    assert!((deep_linear::solve(0.0, 10.0, 3).unwrap().c - 1.0).abs() < 1e-12);
}

/// The two-layer saddle point with phi = identity on whitened data is the deep linear
/// theory with L = 1: H = I + (c - 1) y y^T.
#[test]
fn linear_saddle_point_is_the_deep_linear_kernel() {
    let y = [1.0, 0.5, -1.0, -0.5];
    let data = whitened_dataset(&y).unwrap();
    for beta in [f64::INFINITY, 10.0] {
        let want = deep_linear::solve(1.0, beta, 1).unwrap();
        let h = &want.layer_kernels(&data.y_train)[0];
        let cfg = SaddleConfig {
            samples: 4000,
            widen: 1.0,
            ..Default::default()
        };
        let s = saddle::solve(Activation::Linear, &data, 1.0, beta, None, &cfg, &Silent).unwrap();
        let err = s
            .phi
            .iter()
            .zip(h)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        eprintln!(
            "beta {beta}: c {} err {err} iters {} converged {}",
            want.c,
            s.history.len(),
            s.converged
        );
        assert!(err < 1e-4, "beta = {beta}: max |Phi - H| = {err}");
    }
}

/// Langevin-sampled finite deep linear muP networks (whitened inputs, unit target) at
/// large width: the layer overlaps `y^T H^l y` agree with `c_l = (1 - chi)^l` within
/// 3 standard errors over seeds (plus an allowance of 2/N for the O(1/N) finite-width
/// correction), and differ from the lazy value 1 by many error bars.
#[test]
fn langevin_deep_linear_approaches_the_overlap() {
    let y = [1.0, 1.0, -1.0, -1.0];
    let data = whitened_dataset(&y).unwrap();
    let beta = 10.0;
    for (depth, width) in [(1usize, 512usize), (2, 160)] {
        let theory = deep_linear::solve(1.0, beta, depth).unwrap();
        let cfg = LangevinConfig {
            width,
            depth,
            activation: Activation::Linear,
            param: Parameterization::Mup { gamma0: 1.0 },
            beta,
            lr: 0.5,
            burn_in: 500,
            steps: 2000,
            every: 10,
            seeds: 8,
            seed: 1,
            exact_prior: true,
        };
        let r = langevin::sample(&cfg, &data, &Silent).unwrap();
        let u = &data.y_train;
        for l in 0..depth {
            let (c, se) = langevin::functional(&r, l, |k| {
                (0..4)
                    .map(|i| u[i] * (0..4).map(|j| k[i * 4 + j] * u[j]).sum::<f64>())
                    .sum()
            });
            let want = theory.c_layers[l];
            eprintln!(
                "L = {depth}, N = {width}, layer {l}: c = {c:.4} +- {se:.4}, theory {want:.4}"
            );
            assert!(
                (c - want).abs() < 3.0 * se + 2.0 / width as f64,
                "L = {depth}, layer {l}: {c} +- {se} vs {want}"
            );
            assert!((c - 1.0) > 10.0 * se);
        }
    }
}

/// The `deep_linear` kind at depth 3 (beyond the depths above): every layer's overlap
/// along the target within 3 standard errors (plus 2/N) of `c_l = (1 - chi)^l`, and
/// far from the lazy value 1. Measured (N = 128, beta = 10, gamma0 = 1): 1.377 +- 0.018,
/// 1.868 +- 0.023, 2.546 +- 0.041 against 1.364, 1.862, 2.540.
#[test]
fn deep_linear_kind_matches_the_closed_form_at_depth_three() {
    use scaling_playground::kind::Sweep;
    use scaling_playground::statics::deep_linear::DeepLinearConfig;
    use scaling_playground::statics::deep_linear::kind::DeepLinearCell;
    let cfg = DeepLinearConfig {
        depths: vec![3],
        betas: vec![10.0],
        gamma0s: vec![0.0, 1.0],
        sample_gamma0s: vec![1.0],
        width: 128,
        ..Default::default()
    };
    let DeepLinearCell::Theory { curves } = cfg.run_cell(0, &Silent).unwrap() else {
        panic!("cell 0 is the theory")
    };
    let s1 = deep_linear::solve(1.0, 10.0, 3).unwrap();
    assert_eq!(curves[0].c, vec![1.0, s1.c]);
    let DeepLinearCell::Sample(s) = cfg.run_cell(1, &Silent).unwrap() else {
        panic!("cell 1 is a sample")
    };
    for l in 0..3 {
        let (c, se, want) = (s.overlap[l], s.overlap_se[l], s1.c_layers[l]);
        eprintln!(
            "layer {}: {c:.4} +- {se:.4} vs {want:.4}; orthogonal {:.4} +- {:.4}",
            l + 1,
            s.orthogonal[l],
            s.orthogonal_se[l]
        );
        assert!(
            (c - want).abs() < 3.0 * se + 2.0 / 128.0,
            "layer {l}: {c} +- {se} vs {want}"
        );
        assert!(c - 1.0 > 10.0 * se);
        // orthogonal directions keep (nearly) their prior value 1
        assert!((s.orthogonal[l] - 1.0).abs() < 3.0 * s.orthogonal_se[l] + 4.0 / 128.0);
    }
}
