//! The random-feature model at finite width `N` and data `P` (docs/theory.md section
//! 7.1), trained by gradient flow from zero and solved exactly in the eigenbasis of its
//! kernel: one draw of the projection `A [N x M]` and the data `Psi [P x M]` per seed.
//!
//! ```text
//! f(x) = w . A psi(x) / sqrt(N) = v . psi(x),     v = A^T w / sqrt(N),   Delta = w* - v
//! test loss  = (w* - v)^T Lambda (w* - v),         train loss = |Psi v - y|^2 / P,   y = Psi w*
//! dw/dt      = -grad_w (train loss / 2)            (P = infinity: the test loss / 2)
//! ```
//!
//! A kernel `K = U diag(s) U^T` trained from zero on targets `z` gives
//! `w(t) = U diag(g_t(s)) U^T z` with `g_t(s) = (1 - e^{-s t}) / s`, so each time costs
//! `O(n^2)` after one eigendecomposition. `N = infinity` trains `v` on the features
//! themselves (kernel regression with `Lambda`), `P = infinity` on the population loss
//! (fresh data at every step in the continuous-time limit).

use super::spectrum::Spectrum;
use crate::error::{Error, Result};
use crate::linalg::{Layout, eigh, eigh_project, gemm, rm, tr};
use crate::rng::{Stream, normal, stream};

/// Eigenvalues below this fraction of the largest are the kernel's null space, which
/// gradient flow from zero never enters.
const NULL: f64 = 1e-11;

/// Loss curves of one finite model: `test[i]`, `train[i]` at `times[i]`, and as
/// `t -> infinity`.
#[derive(Clone, Debug, PartialEq)]
pub struct FiniteCurve {
    pub test: Vec<f64>,
    pub train: Vec<f64>,
    pub test_final: f64,
    pub train_final: f64,
}

/// `g_t(s) = (1 - e^{-s t}) / s` (`t = infinity`: `1 / s`), 0 on the null space.
fn g(s: f64, t: f64, floor: f64) -> f64 {
    if s <= floor {
        0.0
    } else if t.is_infinite() {
        1.0 / s
    } else {
        -(-s * t).exp_m1() / s
    }
}

/// `rows x M` standard normals, row by row from one stream, so the first rows of a
/// bigger draw are the rows of a smaller one (widths and data sizes share their draws).
fn normal_rows(seed: u64, purpose: Stream, index: u64, rows: usize, m: usize) -> Vec<f64> {
    let mut rng = stream(seed, purpose, index, 0);
    (0..rows * m).map(|_| normal(&mut rng)).collect()
}

/// The projection `A [N x M]` of seed `index`: standard normals, row by row.
pub fn draw_projection(spec: &Spectrum, seed: u64, index: u64, n: usize) -> Vec<f64> {
    normal_rows(seed, Stream::Init, index, n, spec.modes)
}

/// The data of seed `index`: `Psi [P x M]` with columns of variance `lambda_k`, and the
/// targets `y = Psi w*`.
pub fn draw_data(spec: &Spectrum, seed: u64, index: u64, p: usize) -> (Vec<f64>, Vec<f64>) {
    let m = spec.modes;
    let mut psi = normal_rows(seed, Stream::Data, index, p, m);
    let sl: Vec<f64> = (1..=m).map(|k| spec.lambda(k as f64).sqrt()).collect();
    scale_columns(&mut psi, m, &sl);
    let w: Vec<f64> = (1..=m).map(|k| spec.target(k as f64)).collect();
    let y = matvec(&psi, &w, p);
    (psi, y)
}

/// Multiply column `k` of a row-major `[rows x m]` matrix by `scale[k]`.
fn scale_columns(a: &mut [f64], m: usize, scale: &[f64]) {
    for row in a.chunks_mut(m) {
        for (x, s) in row.iter_mut().zip(scale) {
            *x *= s;
        }
    }
}

/// `A B^T` for row-major `A [m x k]`, `B [n x k]`, times `alpha`.
fn ab_t(a: &[f64], b: &[f64], m: usize, k: usize, n: usize, alpha: f64) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    gemm(m, k, n, alpha, a, rm(k), b, tr(k), 0.0, &mut c, rm(n));
    c
}

/// `A B` for row-major `A [m x k]`, `B [k x n]`, times `alpha`.
fn ab(a: &[f64], b: &[f64], m: usize, k: usize, n: usize, alpha: f64) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    gemm(m, k, n, alpha, a, rm(k), b, rm(n), 0.0, &mut c, rm(n));
    c
}

fn matvec(a: &[f64], x: &[f64], rows: usize) -> Vec<f64> {
    let cols = x.len();
    (0..rows)
        .map(|i| crate::linalg::dot(&a[i * cols..(i + 1) * cols], x))
        .collect()
}

/// `U^T S U` in the eigenbasis rows `ut [n x n]` of a symmetric `S [n x n]`.
fn rotate(ut: &[f64], s: &[f64], n: usize) -> Vec<f64> {
    let us = ab(ut, s, n, n, n, 1.0);
    ab_t(&us, ut, n, n, n, 1.0)
}

/// The model of width `width` and `samples` training points (`None`: infinite), seed
/// `index` of master seed `seed`, at `times` (each >= 0).
pub fn simulate(
    spec: &Spectrum,
    width: Option<usize>,
    samples: Option<usize>,
    seed: u64,
    index: u64,
    times: &[f64],
) -> Result<FiniteCurve> {
    let m = spec.modes;
    let ks: Vec<f64> = (1..=m).map(|k| k as f64).collect();
    let lambda: Vec<f64> = ks.iter().map(|&k| spec.lambda(k)).collect();
    let sqrt_lambda: Vec<f64> = lambda.iter().map(|l| l.sqrt()).collect();
    let w_star: Vec<f64> = ks.iter().map(|&k| spec.target(k)).collect();
    // sqrt(p_k) = sqrt(lambda_k) w*_k: the target in whitened coordinates
    let sqrt_p: Vec<f64> = ks.iter().map(|&k| spec.power(k).sqrt()).collect();
    let c0: f64 = ks.iter().map(|&k| spec.power(k)).sum();
    let data = |p: usize| draw_data(spec, seed, index, p);
    let projection = |n: usize| draw_projection(spec, seed, index, n);
    let curve = match (width, samples) {
        (None, None) => {
            let at = |t: f64| -> f64 {
                (0..m)
                    .map(|k| {
                        let d = if t.is_infinite() {
                            0.0
                        } else {
                            (-lambda[k] * t).exp()
                        };
                        lambda[k] * w_star[k] * w_star[k] * d * d
                    })
                    .sum()
            };
            let test: Vec<f64> = times.iter().map(|&t| at(t)).collect();
            FiniteCurve {
                train: test.clone(),
                test,
                test_final: 0.0,
                train_final: 0.0,
            }
        }
        (Some(n), None) => {
            // B = A Lambda^{1/2} / sqrt(N); Sigma_N = B B^T, b = B sqrt(p)
            let mut b_mat = projection(n);
            scale_columns(&mut b_mat, m, &sqrt_lambda);
            let sigma = ab_t(&b_mat, &b_mat, n, m, n, 1.0 / n as f64);
            let b = matvec(&b_mat, &sqrt_p, n)
                .into_iter()
                .map(|x| x / (n as f64).sqrt())
                .collect::<Vec<_>>();
            drop(b_mat);
            let (s, proj) = eigh_project(&sigma, n, &[&b]);
            let floor = NULL * s.iter().cloned().fold(0.0, f64::max);
            let at = |t: f64| -> f64 {
                let learned: f64 = s
                    .iter()
                    .zip(&proj[0])
                    .map(|(&si, &ci)| ci * ci * g(si, t, floor) * (2.0 - si * g(si, t, floor)))
                    .sum();
                c0 - learned
            };
            let test: Vec<f64> = times.iter().map(|&t| at(t)).collect();
            let fin = at(f64::INFINITY);
            FiniteCurve {
                train: test.clone(),
                test,
                test_final: fin,
                train_final: fin,
            }
        }
        (width, Some(p)) => {
            let (psi, y) = data(p);
            match width {
                None => dual(&psi, &psi, &y, p, m, &lambda, &w_star, c0, times),
                Some(n) => {
                    let a = projection(n);
                    // G = Psi A^T / sqrt(N): the trained features at the data
                    let gmat = ab_t(&psi, &a, p, m, n, 1.0 / (n as f64).sqrt());
                    if p <= n {
                        // v = A^T G^T a / sqrt(N) = Y^T a with Y = G A / sqrt(N)
                        let ymat = ab(&gmat, &a, p, n, m, 1.0 / (n as f64).sqrt());
                        drop(a);
                        dual(&gmat, &ymat, &y, p, n, &lambda, &w_star, c0, times)
                    } else {
                        primal(&gmat, &a, &y, p, n, m, &sqrt_lambda, &sqrt_p, c0, times)
                    }
                }
            }?
        }
    };
    for v in curve.test.iter().chain(&curve.train) {
        if !v.is_finite() {
            return Err(Error::Numerical(
                "a finite model's loss is not finite".into(),
            ));
        }
    }
    Ok(curve)
}

/// Training on `P <= D` points through the `[P x P]` kernel `X X^T / P` of features
/// `X [P x D]`; the learned weights in feature space are `v = Y^T a` with `Y [P x M]`.
#[allow(clippy::too_many_arguments)]
fn dual(
    x: &[f64],
    ymat: &[f64],
    y: &[f64],
    p: usize,
    d: usize,
    lambda: &[f64],
    w_star: &[f64],
    c0: f64,
    times: &[f64],
) -> Result<FiniteCurve> {
    let m = lambda.len();
    let k = ab_t(x, x, p, d, p, 1.0 / p as f64);
    let (s, vt) = eigh(&k, p);
    drop(k);
    let floor = NULL * s.iter().cloned().fold(0.0, f64::max);
    let yt = matvec(&vt, y, p);
    // test quadratic: d = Y Lambda w*, Q = (Y Lambda^{1/2})(Y Lambda^{1/2})^T
    let lw: Vec<f64> = lambda.iter().zip(w_star).map(|(l, w)| l * w).collect();
    let dvec = matvec(ymat, &lw, p);
    let mut yl = ymat.to_vec();
    let sl: Vec<f64> = lambda.iter().map(|l| l.sqrt()).collect();
    scale_columns(&mut yl, m, &sl);
    let q = ab_t(&yl, &yl, p, m, p, 1.0);
    drop(yl);
    let dt = matvec(&vt, &dvec, p);
    let qt = rotate(&vt, &q, p);
    let at = |t: f64| -> (f64, f64) {
        let a: Vec<f64> = (0..p)
            .map(|i| g(s[i], t, floor) * yt[i] / p as f64)
            .collect();
        let qa = matvec(&qt, &a, p);
        let test = c0 - 2.0 * crate::linalg::dot(&a, &dt) + crate::linalg::dot(&a, &qa);
        let train: f64 = (0..p)
            .map(|i| {
                let keep = if s[i] <= floor {
                    1.0
                } else if t.is_infinite() {
                    0.0
                } else {
                    (-s[i] * t).exp()
                };
                yt[i] * yt[i] * keep * keep
            })
            .sum::<f64>()
            / p as f64;
        (test, train)
    };
    let (test, train): (Vec<f64>, Vec<f64>) = times.iter().map(|&t| at(t)).unzip();
    let (test_final, train_final) = at(f64::INFINITY);
    Ok(FiniteCurve {
        test,
        train,
        test_final,
        train_final,
    })
}

/// Training `N < P` weights through the `[N x N]` kernel `G^T G / P`; the test loss is
/// `c0 - 2 w.b + w^T Sigma_N w` with `b = A Lambda w* / sqrt(N)`, `Sigma_N = A Lambda A^T / N`.
#[allow(clippy::too_many_arguments)]
fn primal(
    gmat: &[f64],
    a: &[f64],
    y: &[f64],
    p: usize,
    n: usize,
    m: usize,
    sqrt_lambda: &[f64],
    sqrt_p: &[f64],
    c0: f64,
    times: &[f64],
) -> Result<FiniteCurve> {
    // K_w = G^T G / P
    let mut kw = vec![0.0; n * n];
    gemm(
        n,
        p,
        n,
        1.0 / p as f64,
        gmat,
        tr(n),
        gmat,
        rm(n),
        0.0,
        &mut kw,
        rm(n),
    );
    let (s, ut) = eigh(&kw, n);
    drop(kw);
    let floor = NULL * s.iter().cloned().fold(0.0, f64::max);
    // z = U^T G^T y / P
    let mut gty = vec![0.0; n];
    gemm(
        n,
        p,
        1,
        1.0 / p as f64,
        gmat,
        tr(n),
        y,
        Layout { rs: 1, cs: 1 },
        0.0,
        &mut gty,
        Layout { rs: 1, cs: 1 },
    );
    let z = matvec(&ut, &gty, n);
    let y2 = crate::linalg::dot(y, y) / p as f64;
    let mut bm = a.to_vec();
    scale_columns(&mut bm, m, sqrt_lambda);
    let sigma = ab_t(&bm, &bm, n, m, n, 1.0 / n as f64);
    let b: Vec<f64> = matvec(&bm, sqrt_p, n)
        .into_iter()
        .map(|x| x / (n as f64).sqrt())
        .collect();
    drop(bm);
    let bt = matvec(&ut, &b, n);
    let st = rotate(&ut, &sigma, n);
    let at = |t: f64| -> (f64, f64) {
        let w: Vec<f64> = (0..n).map(|i| g(s[i], t, floor) * z[i]).collect();
        let sw = matvec(&st, &w, n);
        let test = c0 - 2.0 * crate::linalg::dot(&w, &bt) + crate::linalg::dot(&w, &sw);
        let learned: f64 = (0..n)
            .map(|i| {
                let gi = g(s[i], t, floor);
                z[i] * z[i] * gi * (2.0 - s[i] * gi)
            })
            .sum();
        (test, y2 - learned)
    };
    let (test, train): (Vec<f64>, Vec<f64>) = times.iter().map(|&t| at(t)).unzip();
    let (test_final, train_final) = at(f64::INFINITY);
    Ok(FiniteCurve {
        test,
        train,
        test_final,
        train_final,
    })
}
