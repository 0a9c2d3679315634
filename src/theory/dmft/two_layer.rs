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
    let mut fields = Fields::sample(pr, dev)?;
    let cv = ControlVariate::new(pr, dev, &fields)?;
    let mut res = DmftResult {
        warnings: pr.warnings.clone(),
        ..Default::default()
    };
    let mut out = Output {
        m_prev: fields.zphi(pr),
        f: vec![0.0; n],
        delta: pr.y.clone(),
    };
    // Phi^0 restricted to [all points x training points]
    let kx_cols: Vec<f64> = (0..n)
        .flat_map(|i| pr.kx_all[i * n..i * n + p].to_vec())
        .collect();
    let report = (pr.steps / 50).max(1);
    for t in 0..=pr.steps {
        if t > 0 {
            out.advance(pr, &fields, &cv);
        }
        res.loss.push(pr.loss(&out.delta));
        res.outputs.push(out.f[..p].to_vec());
        if pr.is_record(t) {
            record(pr, dev, &fields, &cv, t, &mut res);
        }
        if t == pr.steps {
            break;
        }
        if !res.loss[t].is_finite() {
            break;
        }
        fields.step(pr, dev, &out.delta, &kx_cols);
        if t % report == 0 {
            tick(progress, "dmft", t as u64, pr.steps as u64)?;
        }
    }
    res.test_outputs = out.f[p..].to_vec();
    res.history = vec![0.0];
    Ok(res)
}

/// The S samples of the single-site process on all `n = P + P_test` points, row-major
/// `[S x n]` (sample `a` is one neuron): fields `h`, readout weights `z [S]`, and
/// `phi = phi(h)`, `gg = phi'(h) z`.
struct Fields {
    n: usize,
    h: Vec<f64>,
    z: Vec<f64>,
    phi: Vec<f64>,
    gg: Vec<f64>,
}

impl Fields {
    /// The static sources at t = 0: `h_a = L eps_a` with `L L^T = Phi^0` on all points,
    /// `z_a ~ N(0, 1)`.
    fn sample(pr: &Problem, dev: &mut Products) -> Result<Self> {
        let (s, n) = (pr.samples, pr.p + pr.pt);
        let chol = cholesky_psd(&pr.kx_all, n, "input kernel X X^T / D")?;
        let eps = normals(&mut stream(pr.seed, Stream::Theory, 0, 0), s * n);
        let mut h = vec![0.0; s * n];
        dev.gemm(s, n, n, 1.0, &eps, rm(n), &chol, tr(n), 0.0, &mut h, rm(n));
        let z = normals(&mut stream(pr.seed, Stream::Theory, 1, 0), s);
        let mut fields = Fields {
            n,
            h,
            z,
            phi: vec![0.0; s * n],
            gg: vec![0.0; s * n],
        };
        fields.eval(pr);
        Ok(fields)
    }

    /// `phi = phi(h)`, `gg = phi'(h) z` from the current `h`, `z`.
    fn eval(&mut self, pr: &Problem) {
        let (act, n) = (pr.act, self.n);
        for a in 0..pr.samples {
            for i in 0..n {
                let x = self.h[a * n + i];
                self.phi[a * n + i] = act.phi(x);
                self.gg[a * n + i] = act.dphi(x) * self.z[a];
            }
        }
    }

    /// `<z phi(h_i)> / gamma0` on every point `i`: the uncentred output.
    fn zphi(&self, pr: &Problem) -> Vec<f64> {
        let (s, n) = (pr.samples, self.n);
        let mut m = vec![0.0; n];
        for (za, row) in self.z.iter().zip(self.phi.chunks(n)).take(s) {
            for (mi, ph) in m.iter_mut().zip(row) {
                *mi += za * ph;
            }
        }
        m.iter_mut().for_each(|v| *v /= pr.gamma0 * s as f64);
        m
    }

    /// One GD step of every sample, `c = eta gamma0 / P`:
    /// `h += c (Delta o g) Phi^0[:, train]^T`, `z += c phi(h[train]) . Delta`.
    fn step(&mut self, pr: &Problem, dev: &mut Products, delta: &[f64], kx_cols: &[f64]) {
        let (p, s, n) = (pr.p, pr.samples, self.n);
        let c = pr.eta * pr.gamma0 / p as f64;
        let mut w = vec![0.0; s * p];
        for a in 0..s {
            for nu in 0..p {
                w[a * p + nu] = delta[nu] * self.gg[a * n + nu];
            }
        }
        dev.gemm(
            s,
            p,
            n,
            c,
            &w,
            rm(p),
            kx_cols,
            tr(p),
            1.0,
            &mut self.h,
            rm(n),
        );
        for a in 0..s {
            let dz: f64 = (0..p).map(|nu| delta[nu] * self.phi[a * n + nu]).sum();
            self.z[a] += c * dz;
        }
        self.eval(pr);
    }
}

/// Sample kernel `<m m^T>` of per-sample values `m [S x n]` against the training
/// points: `[n x P]`.
fn sample_kernel(pr: &Problem, dev: &mut Products, m: &[f64], n: usize) -> Vec<f64> {
    let (p, s) = (pr.p, pr.samples);
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
}

/// The control variate (module doc): at t = 0, the sample NTK minus the exact one,
/// `corr = K_S - K`, and the exact minus the sample kernels, `phi_fix`, `g_fix`, all
/// `[n x P]` (every point against the training points).
struct ControlVariate {
    corr: Vec<f64>,
    phi_fix: Vec<f64>,
    g_fix: Vec<f64>,
}

impl ControlVariate {
    fn new(pr: &Problem, dev: &mut Products, fields: &Fields) -> Result<Self> {
        let (p, n) = (pr.p, fields.n);
        let exact = mlp_layer_kernels(pr.act, 1, 1.0, &pr.kx_all, n)?;
        let phi_s0 = sample_kernel(pr, dev, &fields.phi, n);
        let g_s0 = sample_kernel(pr, dev, &fields.gg, n);
        let mut cv = ControlVariate {
            corr: vec![0.0; n * p],
            phi_fix: vec![0.0; n * p],
            g_fix: vec![0.0; n * p],
        };
        for i in 0..n {
            for nu in 0..p {
                let (ij, c) = (i * n + nu, i * p + nu);
                let ks = g_s0[c] * pr.kx_all[ij] + phi_s0[c];
                cv.corr[c] = ks - exact.ntk[ij];
                cv.phi_fix[c] = exact.phi[0][ij] - phi_s0[c];
                cv.g_fix[c] = exact.g[0][ij] - g_s0[c];
            }
        }
        Ok(cv)
    }
}

/// The centred output `f [n]` on every point, the training residual `Delta [P]`, and
/// the uncentred `<z phi> / gamma0` of the previous step.
struct Output {
    m_prev: Vec<f64>,
    f: Vec<f64>,
    delta: Vec<f64>,
}

impl Output {
    /// `f(t+1) = f(t) + [<z phi>(t+1) - <z phi>(t)] / gamma0 - (eta/P) (K_S - K) Delta(t)`,
    /// then `Delta = y - f` on the training points.
    fn advance(&mut self, pr: &Problem, fields: &Fields, cv: &ControlVariate) {
        let p = pr.p;
        let m = fields.zphi(pr);
        for (i, f) in self.f.iter_mut().enumerate() {
            let cd: f64 = (0..p).map(|nu| cv.corr[i * p + nu] * self.delta[nu]).sum();
            *f += m[i] - self.m_prev[i] - pr.eta / p as f64 * cd;
        }
        self.m_prev = m;
        for mu in 0..p {
            self.delta[mu] = pr.y[mu] - self.f[mu];
        }
    }
}

/// Record step t's kernels on the training points with the control variate:
/// `Phi = Phi_S + phi_fix`, `G = G_S + g_fix`, `NTK = G o Phi^0 + Phi`.
fn record(
    pr: &Problem,
    dev: &mut Products,
    fields: &Fields,
    cv: &ControlVariate,
    t: usize,
    res: &mut DmftResult,
) {
    let (p, n) = (pr.p, fields.n);
    let ph = sample_kernel(pr, dev, &fields.phi, n);
    let g = sample_kernel(pr, dev, &fields.gg, n);
    let mut kphi = vec![0.0; p * p];
    let mut kg = vec![0.0; p * p];
    let mut ntk = vec![0.0; p * p];
    for mu in 0..p {
        for nu in 0..p {
            let c = mu * p + nu;
            kphi[c] = ph[c] + cv.phi_fix[c];
            kg[c] = g[c] + cv.g_fix[c];
            ntk[c] = kg[c] * pr.kx_all[mu * n + nu] + kphi[c];
        }
    }
    res.record_steps.push(t);
    res.phi.push(vec![kphi]);
    res.g.push(vec![kg]);
    res.ntk.push(ntk);
}
