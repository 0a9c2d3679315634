//! The lazy (fixed-gamma) limit of the Bayesian network: GP regression with the NNGP
//! kernel at the temperature of the Gibbs measure.
//!
//! With the readout `f = w . phi(h^L) / (gamma sqrt N)` and the Gibbs measure
//! `p(W) ∝ exp(-beta gamma^2 (1/2) sum_mu (f_mu - y_mu)^2 - |W|^2 / 2)` (docs/theory.md
//! section 5.1), the prior of `f` at `N -> infinity` and fixed `gamma` is a GP with
//! covariance `Sigma / gamma^2` (`Sigma` the NNGP kernel of docs/theory.md section 2.2 with
//! `sigma_w = 1`) and the likelihood is Gaussian with variance `1 / (beta gamma^2)`.
//! The posterior of `f` at test points is therefore Gaussian with
//!
//! ```text
//! mean(x) = Sigma(x, X) (Sigma + I / beta)^{-1} y
//! var(x)  = [ Sigma(x, x) - Sigma(x, X) (Sigma + I / beta)^{-1} Sigma(X, x) ] / gamma^2
//! ```
//!
//! The mean does not depend on `gamma`; `beta = infinity` gives kernel interpolation.
//! Under the finite engine's Langevin optimiser at temperature `T` on the mean loss
//! `(1/2P) sum (f - y)^2` the matching value is `beta = 1 / (T P)` (see
//! [`super::langevin`]).

use crate::config::Activation;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::linalg::{cholesky, cholesky_solve, cholesky_solve_columns};
use serde::{Deserialize, Serialize};

/// Posterior mean and variance of `f` on training and test points.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct GpPosterior {
    /// Number of outputs C.
    pub outputs: usize,
    /// Posterior mean on the training points, `[P x C]`.
    pub mean_train: Vec<f64>,
    /// Posterior variance on the training points (the same for every output), `[P]`.
    pub var_train: Vec<f64>,
    /// Posterior mean on the test points, `[P_test x C]`.
    pub mean_test: Vec<f64>,
    /// Posterior variance on the test points, `[P_test]`.
    pub var_test: Vec<f64>,
}

/// GP regression with prior covariance `prior_scale * k` and noise variance
/// `prior_scale * ridge`: `k_train [P x P]`, `k_cross [P_test x P]`, `k_test_diag
/// [P_test]`, targets `y [P x C]`. The ridge is `1 / beta`, `prior_scale` is `1 / gamma^2`.
/// A singular `k_train` at zero ridge gets a jitter of `1e-10` times its mean diagonal.
pub fn gp_regression(
    k_train: &[f64],
    k_cross: &[f64],
    k_test_diag: &[f64],
    y: &[f64],
    outputs: usize,
    ridge: f64,
    prior_scale: f64,
) -> Result<GpPosterior> {
    let p = (k_train.len() as f64).sqrt().round() as usize;
    if p * p != k_train.len() || y.len() != p * outputs || outputs == 0 {
        return Err(Error::Data("kernel and target shapes disagree".into()));
    }
    let pt = k_test_diag.len();
    if k_cross.len() != pt * p {
        return Err(Error::Data("cross kernel shape disagrees".into()));
    }
    let mean_diag = (0..p).map(|i| k_train[i * p + i]).sum::<f64>() / p as f64;
    let factor = |jitter: f64| {
        let mut m = k_train.to_vec();
        for i in 0..p {
            m[i * p + i] += ridge + jitter;
        }
        cholesky(&m, p)
    };
    let l = match factor(0.0) {
        Ok(l) => l,
        Err(_) => factor(1e-10 * mean_diag.abs().max(1e-300))?,
    };
    // alpha_c = (K + ridge)^{-1} y_c per output.
    let alphas = cholesky_solve_columns(&l, p, y, outputs);
    let predict = |rows: &[f64], n: usize| -> Vec<f64> {
        let mut out = vec![0.0; n * outputs];
        for i in 0..n {
            let k = &rows[i * p..(i + 1) * p];
            for (c, a) in alphas.iter().enumerate() {
                out[i * outputs + c] = k.iter().zip(a).map(|(u, v)| u * v).sum();
            }
        }
        out
    };
    let variance = |rows: &[f64], diag: &[f64]| -> Vec<f64> {
        diag.iter()
            .enumerate()
            .map(|(i, d)| {
                let k = &rows[i * p..(i + 1) * p];
                let s = cholesky_solve(&l, p, k);
                let q: f64 = k.iter().zip(&s).map(|(u, v)| u * v).sum();
                (prior_scale * (d - q)).max(0.0)
            })
            .collect()
    };
    let train_diag: Vec<f64> = (0..p).map(|i| k_train[i * p + i]).collect();
    Ok(GpPosterior {
        outputs,
        mean_train: predict(k_train, p),
        var_train: variance(k_train, &train_diag),
        mean_test: predict(k_cross, pt),
        var_test: variance(k_cross, k_test_diag),
    })
}

/// The NNGP kernel (docs/theory.md section 2.2, `sigma_w = 1`, `hidden_layers` hidden
/// layers) of the training points followed by the test points: `[n x n]`, `n = P + P_test`.
pub fn nngp_gram(act: Activation, hidden_layers: usize, data: &Dataset) -> Result<Vec<f64>> {
    let mut x = data.x_train.clone();
    x.extend_from_slice(&data.x_test);
    let n = x.len() / data.dim.max(1);
    let kx = crate::data::gram(&x, &x, data.dim);
    Ok(crate::theory::kernels::mlp_layer_kernels(act, hidden_layers, 1.0, &kx, n)?.nngp)
}

/// Split an `[n x n]` Gram matrix over train-then-test points into the train block
/// `[P x P]`, the cross block `[P_test x P]` and the test diagonal `[P_test]`.
pub fn split_gram(k: &[f64], p: usize, pt: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = p + pt;
    let mut tr = vec![0.0; p * p];
    for i in 0..p {
        tr[i * p..(i + 1) * p].copy_from_slice(&k[i * n..i * n + p]);
    }
    let mut cross = vec![0.0; pt * p];
    let mut diag = vec![0.0; pt];
    for i in 0..pt {
        let row = (p + i) * n;
        cross[i * p..(i + 1) * p].copy_from_slice(&k[row..row + p]);
        diag[i] = k[row + p + i];
    }
    (tr, cross, diag)
}

/// The NNGP posterior of a network with `hidden_layers` hidden layers of activation
/// `act` at inverse temperature `beta` (`f64::INFINITY` allowed) and output scale
/// `gamma` (the posterior variance scales as `1 / gamma^2`).
pub fn nngp_posterior(
    act: Activation,
    hidden_layers: usize,
    data: &Dataset,
    beta: f64,
    gamma: f64,
) -> Result<GpPosterior> {
    if beta.is_nan() || beta <= 0.0 {
        return Err(Error::config("beta", "a positive number or infinity"));
    }
    if !(gamma.is_finite() && gamma > 0.0) {
        return Err(Error::config("gamma", "a positive number"));
    }
    let k = nngp_gram(act, hidden_layers, data)?;
    let (tr, cross, diag) = split_gram(&k, data.p_train(), data.p_test());
    gp_regression(
        &tr,
        &cross,
        &diag,
        &data.y_train,
        data.outputs,
        1.0 / beta,
        1.0 / (gamma * gamma),
    )
}
