//! Two-layer DMFT (L = 1), any activation: one causal sweep over S samples.
//!
//! With one hidden layer the sources are static, `u ~ N(0, Phi^0)` over the points and
//! `r ~ N(0, 1)` (the readout weight), and there are no responses:
//!
//! ```text
//! h(t+1) = h(t) + (eta gamma0 / P) Phi^0 (Delta(t) o phi'(h(t)) z(t))     [P (+ P_test)]
//! z(t+1) = z(t) + (eta gamma0 / P) Delta(t) . phi(h(t))                   scalar
//! f(t)   = < z(t) phi(h(t)) > / gamma0 - (same at t = 0)
//! ```
//!
//! Each sample is one neuron; the Monte Carlo average is exact as S -> infinity.
//! Control variate: the t = 0 NTK of the samples is replaced by the exact one, i.e.
//! `f(t+1) = f(t) + [<z phi>(t+1) - <z phi>(t)] / gamma0 - (eta/P) (K_S - K) Delta(t)`,
//! where `K_S` is the sample NTK at initialisation and `K` the closed-form kernel.
//! This leaves the S -> infinity limit unchanged, removes the O(S^{-1/2}) noise of
//! the lazy part (so gamma0 -> 0 reproduces kernel regression to O(gamma0)), and
//! leaves only the noise of the feature-learning correction. The reported kernels use
//! the same correction. Test points ride along passively (their fields move with the
//! training Delta). Cost `O(S T P (P + P_test))`.

use super::products::Products;
use super::{DmftResult, Problem};
use crate::error::Result;
use crate::linalg::{cholesky_psd, rm, tr};
use crate::progress::{Progress, tick};
use crate::rng::{Stream, normals, stream};
use crate::theory::kernels::mlp_layer_kernels;

/// Solve a two-layer DMFT.
/// The products over samples (sampling, kernel estimates, the field update) run on `dev`.
pub(crate) fn solve(
    pr: &Problem,
    dev: &mut Products,
    progress: &dyn Progress,
) -> Result<DmftResult> {
    let (p, s) = (pr.p, pr.samples);
    let n = p + pr.pt;
    pr.budget(
        "two-layer DMFT",
        6.0 * s as f64 * pr.steps as f64 * (n * p + n) as f64,
    )?;
    let act = pr.act;
    let chol = cholesky_psd(&pr.kx_all, n, "input kernel X X^T / D")?;
    // u_a = L eps_a for every sample, row-major [S x n].
    let eps = normals(&mut stream(pr.seed, Stream::Theory, 0, 0), s * n);
    let mut h = vec![0.0; s * n];
    dev.gemm(s, n, n, 1.0, &eps, rm(n), &chol, tr(n), 0.0, &mut h, rm(n));
    let mut z = normals(&mut stream(pr.seed, Stream::Theory, 1, 0), s);
    // exact kernels at initialisation on all points
    let exact = mlp_layer_kernels(act, 1, 1.0, &pr.kx_all, n)?;

    let mut phi = vec![0.0; s * n];
    let mut gg = vec![0.0; s * n];
    let eval = |h: &[f64], z: &[f64], phi: &mut [f64], gg: &mut [f64]| {
        for a in 0..s {
            for i in 0..n {
                let x = h[a * n + i];
                phi[a * n + i] = act.phi(x);
                gg[a * n + i] = act.dphi(x) * z[a];
            }
        }
    };
    eval(&h, &z, &mut phi, &mut gg);
    // sample kernels at t = 0: Phi_S [n x P], G_S [n x P]
    let sample_kernel = |dev: &mut Products, m: &[f64]| {
        let mut k = vec![0.0; n * p];
        dev.gemm(
            n,
            s,
            p,
            1.0 / s as f64,
            m,
            tr(n),
            m,
            rm(n),
            0.0,
            &mut k,
            rm(p),
        );
        k
    };
    let phi_s0 = sample_kernel(dev, &phi);
    let g_s0 = sample_kernel(dev, &gg);
    // correction (K_S - K)[i, nu] for all points i, training nu
    let mut corr = vec![0.0; n * p];
    let mut phi_fix = vec![0.0; n * p];
    let mut g_fix = vec![0.0; n * p];
    for i in 0..n {
        for nu in 0..p {
            let (ij, c) = (i * n + nu, i * p + nu);
            let ks = g_s0[c] * pr.kx_all[ij] + phi_s0[c];
            corr[c] = ks - exact.ntk[ij];
            phi_fix[c] = exact.phi[0][ij] - phi_s0[c];
            g_fix[c] = exact.g[0][ij] - g_s0[c];
        }
    }
    let zphi = |phi: &[f64], z: &[f64]| {
        let mut m = vec![0.0; n];
        for a in 0..s {
            for i in 0..n {
                m[i] += z[a] * phi[a * n + i];
            }
        }
        m.iter_mut().for_each(|v| *v /= pr.gamma0 * s as f64);
        m
    };
    let mut res = DmftResult {
        warnings: pr.warnings.clone(),
        ..Default::default()
    };
    let mut m_prev = zphi(&phi, &z);
    let mut f = vec![0.0; n];
    let mut delta = pr.y.clone();
    let c = pr.eta * pr.gamma0 / p as f64;
    let mut w = vec![0.0; s * p];
    // Phi^0 restricted to [all points x training points]
    let kx_cols: Vec<f64> = (0..n)
        .flat_map(|i| pr.kx_all[i * n..i * n + p].to_vec())
        .collect();
    let report = (pr.steps / 50).max(1);
    for t in 0..=pr.steps {
        if t > 0 {
            let m = zphi(&phi, &z);
            for i in 0..n {
                let cd: f64 = (0..p).map(|nu| corr[i * p + nu] * delta[nu]).sum();
                f[i] += m[i] - m_prev[i] - pr.eta / p as f64 * cd;
            }
            m_prev = m;
            for mu in 0..p {
                delta[mu] = pr.y[mu] - f[mu];
            }
        }
        res.loss.push(pr.loss(&delta));
        res.outputs.push(f[..p].to_vec());
        if pr.is_record(t) {
            let ph = sample_kernel(dev, &phi);
            let g = sample_kernel(dev, &gg);
            let mut kphi = vec![0.0; p * p];
            let mut kg = vec![0.0; p * p];
            let mut ntk = vec![0.0; p * p];
            for mu in 0..p {
                for nu in 0..p {
                    let c = mu * p + nu;
                    kphi[c] = ph[c] + phi_fix[c];
                    kg[c] = g[c] + g_fix[c];
                    ntk[c] = kg[c] * pr.kx_all[mu * n + nu] + kphi[c];
                }
            }
            res.record_steps.push(t);
            res.phi.push(vec![kphi]);
            res.g.push(vec![kg]);
            res.ntk.push(ntk);
        }
        if t == pr.steps {
            break;
        }
        if !res.loss[t].is_finite() {
            break;
        }
        // w_a = Delta o g_a on training points; h += c w Phi^0[:, train]^T; z += c phi Delta
        for a in 0..s {
            for nu in 0..p {
                w[a * p + nu] = delta[nu] * gg[a * n + nu];
            }
        }
        dev.gemm(s, p, n, c, &w, rm(p), &kx_cols, tr(p), 1.0, &mut h, rm(n));
        for a in 0..s {
            let dz: f64 = (0..p).map(|nu| delta[nu] * phi[a * n + nu]).sum();
            z[a] += c * dz;
        }
        eval(&h, &z, &mut phi, &mut gg);
        if t % report == 0 {
            tick(progress, "dmft", t as u64, pr.steps as u64)?;
        }
    }
    res.test_outputs = f[p..].to_vec();
    res.history = vec![0.0];
    Ok(res)
}
