//! Two-layer Bayesian networks: the NNGP posterior, the muP saddle point and
//! Langevin-sampled finite networks (docs/theory.md section 5).

use crate::common::teacher;
use scaling_playground::config::{Activation, Parameterization};
use scaling_playground::data::{Dataset, Teacher};
use scaling_playground::progress::Silent;
use scaling_playground::statics::langevin::{self, LangevinConfig, LangevinResult};
use scaling_playground::statics::nngp_posterior::{self, split_gram};
use scaling_playground::statics::saddle::{self, SaddleConfig, SaddleResult};

const BETA: f64 = 10.0;

/// ReLU arc-cosine kernel E[relu(u) relu(v)], written out here independently of the library.
fn relu_kernel(k11: f64, k12: f64, k22: f64) -> f64 {
    let s = (k11 * k22).sqrt();
    let cos = (k12 / s).clamp(-1.0, 1.0);
    let th = cos.acos();
    s / (2.0 * std::f64::consts::PI) * (th.sin() + (std::f64::consts::PI - th) * cos)
}

/// NNGP Gram matrix of a one-hidden-layer ReLU network over train then test points.
fn relu_gram(data: &Dataset) -> Vec<f64> {
    let mut x = data.x_train.clone();
    x.extend_from_slice(&data.x_test);
    let d = data.dim;
    let n = x.len() / d;
    let dot =
        |i: usize, j: usize| (0..d).map(|k| x[i * d + k] * x[j * d + k]).sum::<f64>() / d as f64;
    let mut k = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            k[i * n + j] = relu_kernel(dot(i, i), dot(i, j), dot(j, j));
        }
    }
    k
}

/// Inverse by Gauss-Jordan elimination with partial pivoting (independent of the library).
fn inverse(a: &[f64], n: usize) -> Vec<f64> {
    let mut m = a.to_vec();
    let mut inv = vec![0.0; n * n];
    for i in 0..n {
        inv[i * n + i] = 1.0;
    }
    for col in 0..n {
        let piv = (col..n)
            .max_by(|&i, &j| m[i * n + col].abs().total_cmp(&m[j * n + col].abs()))
            .unwrap();
        for k in 0..n {
            m.swap(col * n + k, piv * n + k);
            inv.swap(col * n + k, piv * n + k);
        }
        let d = m[col * n + col];
        for k in 0..n {
            m[col * n + k] /= d;
            inv[col * n + k] /= d;
        }
        for i in 0..n {
            if i != col {
                let f = m[i * n + col];
                for k in 0..n {
                    m[i * n + k] -= f * m[col * n + k];
                    inv[i * n + k] -= f * inv[col * n + k];
                }
            }
        }
    }
    inv
}

fn data() -> Dataset {
    teacher(Teacher::SingleIndex, 8, 6, 8, 3).load().unwrap()
}

/// Closed-form GP regression: mean k(x,X) (K + I/beta)^{-1} y and variance
/// [k(x,x) - k(x,X) (K + I/beta)^{-1} k(X,x)] / gamma^2.
fn gp_by_hand(data: &Dataset, gram: &[f64], beta: f64, gamma: f64) -> (Vec<f64>, Vec<f64>) {
    let p = data.p_train();
    let n = p + data.p_test();
    let mut k = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..p {
            k[i * p + j] = gram[i * n + j] + if i == j { 1.0 / beta } else { 0.0 };
        }
    }
    let kinv = inverse(&k, p);
    let (mut mean, mut var) = (vec![], vec![]);
    for t in p..n {
        let kx: Vec<f64> = (0..p).map(|j| gram[t * n + j]).collect();
        let w: Vec<f64> = (0..p)
            .map(|i| (0..p).map(|j| kinv[i * p + j] * kx[j]).sum())
            .collect();
        mean.push(w.iter().zip(&data.y_train).map(|(a, b)| a * b).sum::<f64>());
        var.push(
            (gram[t * n + t] - w.iter().zip(&kx).map(|(a, b)| a * b).sum::<f64>())
                / (gamma * gamma),
        );
    }
    (mean, var)
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn upper(k: &[f64], p: usize) -> Vec<f64> {
    (0..p)
        .flat_map(|i| (i..p).map(move |j| k[i * p + j]))
        .collect()
}

/// The NNGP posterior (library kernel and GP solve) equals GP regression with the ReLU
/// arc-cosine kernel and a Gauss-Jordan inverse written out here.
#[test]
fn nngp_posterior_is_closed_form_gp_regression() {
    let data = data();
    let gram = relu_gram(&data);
    for (beta, gamma) in [(BETA, 1.0), (1e4, 0.5), (f64::INFINITY, 2.0)] {
        let post = nngp_posterior::nngp_posterior(Activation::Relu, 1, &data, beta, gamma).unwrap();
        let (mean, var) = gp_by_hand(&data, &gram, beta, gamma);
        let (dm, dv) = (
            max_abs_diff(&post.mean_test, &mean),
            max_abs_diff(&post.var_test, &var),
        );
        assert!(
            dm < 1e-8 && dv < 1e-8,
            "beta = {beta}: mean {dm:e}, var {dv:e}"
        );
    }
    // The library's GP solve alone, on the by-hand kernel.
    let (p, pt) = (data.p_train(), data.p_test());
    let (tr, cross, diag) = split_gram(&gram, p, pt);
    let post = nngp_posterior::gp_regression(&tr, &cross, &diag, &data.y_train, 1, 1.0 / BETA, 1.0)
        .unwrap();
    let (mean, var) = gp_by_hand(&data, &gram, BETA, 1.0);
    assert!(max_abs_diff(&post.mean_test, &mean) < 1e-10);
    assert!(max_abs_diff(&post.var_test, &var) < 1e-10);
}

fn saddle_at(
    data: &Dataset,
    gamma0: f64,
    cv: bool,
    samples: usize,
    replicas: usize,
) -> SaddleResult {
    let gram = relu_gram(data);
    let cfg = SaddleConfig {
        samples,
        control_variate: cv,
        replicas,
        ..Default::default()
    };
    saddle::solve(
        Activation::Relu,
        data,
        gamma0,
        BETA,
        Some(&gram),
        &cfg,
        &Silent,
    )
    .unwrap()
}

#[test]
fn saddle_point_at_small_gamma0_is_nngp_regression() {
    let data = data();
    let (nngp_mean, _) = gp_by_hand(&data, &relu_gram(&data), BETA, 1.0);
    let s = saddle_at(&data, 1e-3, true, 4000, 1);
    assert!(s.converged);
    let err = max_abs_diff(&s.posterior.mean_test, &nngp_mean);
    eprintln!("cv: {err:e}");
    assert!(err < 1e-3, "saddle at gamma0 -> 0 vs NNGP: {err}");
    // Plain importance sampling (no control variate) agrees to its Monte-Carlo error.
    let s = saddle_at(&data, 1e-3, false, 20_000, 1);
    let err = max_abs_diff(&s.posterior.mean_test, &nngp_mean);
    eprintln!("plain: {err:e}");
    assert!(err < 3e-2, "plain saddle at gamma0 -> 0 vs NNGP: {err}");
}

fn sample(data: &Dataset, param: Parameterization, width: usize, seeds: usize) -> LangevinResult {
    let cfg = LangevinConfig {
        width,
        depth: 1,
        activation: Activation::Relu,
        param,
        beta: BETA,
        lr: 0.5,
        burn_in: 500,
        steps: 3000,
        every: 10,
        seeds,
        seed: 7,
        exact_prior: true,
    };
    langevin::sample(&cfg, data, &Silent).unwrap()
}

fn combine(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x * x + y * y).sqrt())
        .collect()
}

/// Largest and root-mean-square |a - b| / se over entries.
fn z_scores(a: &[f64], b: &[f64], se: &[f64]) -> (f64, f64) {
    let z: Vec<f64> = a
        .iter()
        .zip(b)
        .zip(se)
        .map(|((x, y), e)| (x - y).abs() / e)
        .collect();
    let max = z.iter().cloned().fold(0.0, f64::max);
    let rms = (z.iter().map(|v| v * v).sum::<f64>() / z.len() as f64).sqrt();
    (max, rms)
}

/// Agreement within Monte-Carlo error bars: the error bars are standard errors over 12
/// Langevin chains (and 4 saddle-point replicas), so individual z-scores follow a
/// Student-t law; every |z| below 5 and the root-mean-square z below 2.
fn assert_agree(what: &str, a: &[f64], b: &[f64], se: &[f64]) {
    let (max, rms) = z_scores(a, b, se);
    eprintln!("{what}: max z {max:.2}, rms z {rms:.2}");
    assert!(max < 5.0 && rms < 2.0, "{what}: max z {max}, rms z {rms}");
}

/// At the largest affordable width (N = 512) Langevin-sampled muP networks agree with
/// the saddle point and fixed-gamma (NTK) networks with the NNGP posterior, in kernels
/// and test predictions; at gamma0 = 1 the two limits are far apart (so a saddle point
/// that collapsed to the NNGP would fail).
#[test]
fn langevin_networks_approach_the_saddle_point_and_the_nngp() {
    let data = data();
    let p = data.p_train();
    let gram = relu_gram(&data);
    let (k_nngp, _, _) = split_gram(&gram, p, data.p_test());
    let (nngp_mean, _) = gp_by_hand(&data, &gram, BETA, 1.0);
    let s = saddle_at(&data, 1.0, true, 20_000, 4);
    assert!(s.converged);
    let (ks, kn) = (upper(&s.phi, p), upper(&k_nngp, p));
    let ks_se = upper(&s.phi_se, p);

    // The two limits differ: by far more than the saddle point's error bars.
    let (z_limits, _) = z_scores(&ks, &kn, &ks_se);
    let rel = ks
        .iter()
        .zip(&kn)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt()
        / kn.iter().map(|a| a * a).sum::<f64>().sqrt();
    let pred_gap = max_abs_diff(&s.posterior.mean_test, &nngp_mean);
    eprintln!(
        "saddle vs NNGP: kernel rel. distance {rel:.3}, max z {z_limits:.0}, test gap {pred_gap:.3}"
    );
    assert!(rel > 0.3 && z_limits > 50.0 && pred_gap > 0.1);

    let width = 512;
    let mup = sample(&data, Parameterization::Mup { gamma0: 1.0 }, width, 12);
    let km = upper(&mup.kernels[0], p);
    let km_se = upper(&mup.kernels_se[0], p);
    assert_agree("muP kernel vs saddle", &km, &ks, &combine(&km_se, &ks_se));
    assert_agree(
        "muP test predictions vs saddle",
        &mup.mean_test,
        &s.posterior.mean_test,
        &combine(&mup.se_test, &s.mean_test_se),
    );
    let (z_mup_nngp, _) = z_scores(&km, &kn, &km_se);
    eprintln!("muP kernel vs NNGP: max z {z_mup_nngp:.0}");
    assert!(z_mup_nngp > 50.0);

    let ntk = sample(&data, Parameterization::Ntk { gamma0: 1.0 }, width, 12);
    let kt = upper(&ntk.kernels[0], p);
    let kt_se = upper(&ntk.kernels_se[0], p);
    assert_agree("NTK kernel vs NNGP", &kt, &kn, &kt_se);
    assert_agree(
        "NTK test predictions vs NNGP",
        &ntk.mean_test,
        &nngp_mean,
        &ntk.se_test,
    );
    let (z_ntk_saddle, _) = z_scores(&kt, &ks, &combine(&kt_se, &ks_se));
    eprintln!("NTK kernel vs saddle: max z {z_ntk_saddle:.0}");
    assert!(z_ntk_saddle > 50.0);
}
