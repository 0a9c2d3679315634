//! Finite-width corrections of deep linear Bayesian networks (docs/theory.md section
//! 5.5): Langevin-sampled networks at growing width against the leading `1/N` term at
//! fixed gamma, and at `P = alpha N` against the proportional limit's kernel
//! renormalisation.

use scaling_playground::config::Parameterization;
use scaling_playground::progress::Silent;
use scaling_playground::run::{RunConfig, RunOutput, run};
use scaling_playground::statics::deep_linear::FiniteWidthConfig;

/// NTK (gamma = 2, beta = 1, two hidden layers, P = 4): the fitted `1/N` coefficients
/// of `<u^T H^l u> - 1` and of the orthogonal eigenvalues minus 1, from N = 8..64, are
/// within 3 standard errors of `l [gamma^2 / (1 + r)^2 - 1 / (1 + r)]` and
/// `-l / (1 + r)`. Measured: 0.40 +- 0.14 (0.5), -0.62 +- 0.08 (-0.5), 0.87 +- 0.19 (1),
/// -0.98 +- 0.10 (-1).
#[test]
fn one_over_width_coefficients_match_the_leading_order() {
    let cfg = FiniteWidthConfig {
        params: vec![Parameterization::Ntk { gamma0: 2.0 }],
        widths: vec![8, 16, 32, 64],
        alphas: vec![],
        lr: 0.1,
        burn_in: 1000,
        steps: 5000,
        seeds: 16,
        ..Default::default()
    };
    let RunOutput::FiniteWidth(r) = run(&RunConfig::FiniteWidth(cfg), &Silent).unwrap() else {
        panic!("not a finite_width result")
    };
    let s = &r.width[0];
    for c in &s.coefficients {
        let (a, se, want) = (
            c.fitted.unwrap(),
            c.fitted_se.unwrap(),
            c.predicted.unwrap(),
        );
        eprintln!(
            "layer {} {}: {a:.3} +- {se:.3} vs {want:.3}",
            c.layer, c.direction
        );
        assert!(
            (a - want).abs() < 3.0 * se,
            "layer {} {}: {a} +- {se} vs {want}",
            c.layer,
            c.direction
        );
        assert!(se < 0.3, "too noisy to tell: {se}");
    }
}

/// Proportional limit (NTK, gamma = 1, beta = 1, kappa = 1, two hidden layers, N = 128):
/// the renormalisation measured from the posterior mean, `c = r s / (1 - s)`, is within
/// 5% of `c(alpha)` at alpha = 0.5 and 1, and many standard errors below the NNGP's 1.
/// Measured: 0.820 +- 0.012 (0.810), 0.683 +- 0.015 (0.693).
#[test]
fn proportional_limit_renormalises_the_kernel() {
    let cfg = FiniteWidthConfig {
        params: vec![],
        widths: vec![],
        alphas: vec![0.5, 1.0],
        alpha_width: 128,
        alpha_lr: 0.2,
        burn_in: 500,
        steps: 3500,
        seeds: 8,
        ..Default::default()
    };
    let RunOutput::FiniteWidth(r) = run(&RunConfig::FiniteWidth(cfg), &Silent).unwrap() else {
        panic!("not a finite_width result")
    };
    let p = r.proportional.unwrap();
    for i in 0..p.alphas.len() {
        let (c, se, want) = (p.c[i].unwrap(), p.c_se[i].unwrap(), p.c_theory[i]);
        eprintln!(
            "alpha {}: c = {c:.3} +- {se:.3} vs c(alpha) = {want:.3}",
            p.alphas[i]
        );
        assert!(
            (c / want - 1.0).abs() < 0.05,
            "alpha {}: {c} vs {want}",
            p.alphas[i]
        );
        assert!(
            1.0 - c > 5.0 * se,
            "alpha {}: {c} +- {se} not below the NNGP's 1",
            p.alphas[i]
        );
    }
}
