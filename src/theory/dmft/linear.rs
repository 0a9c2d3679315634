//! Linear networks (phi = identity): the DMFT closes without sampling.
//!
//! Two layers: every field is linear in the Gaussian sources `(u, r)`,
//! `h(t) = A_t u + b_t r`, `z(t) = c_t . u + d_t r`, `u ~ N(0, Phi^0)`, `r ~ N(0, 1)`:
//!
//! ```text
//! A_{t+1} = A_t + k Phi^0 Delta(t) c_t^T      b_{t+1} = b_t + k Phi^0 Delta(t) d_t
//! c_{t+1} = c_t + k A_t^T Delta(t)            d_{t+1} = d_t + k Delta(t) . b_t
//! f(t)    = (A_t Phi^0 c_t + b_t d_t) / gamma0,   k = eta gamma0 / P
//! ```
//!
//! (exact in discrete time, `O(T (P + P_test)^2)`). Deep (L >= 2): with the causal
//! operators `C_h = R^{l-1} + k Phi^{l-1} Delta`, `C_z = B^l + k G^{l+1} Delta` on the
//! `P (T+1)`-dimensional space of (step, point), `h = M (u + C_h r)`, `M = (I - C_h C_z)^{-1}`,
//! `z = r + C_z h`, so
//!
//! ```text
//! Phi^l = M (Phi^{l-1} + C_h G^{l+1} C_h^T) M^T,    R^l = M C_h,    B^{l-1} = C_z M
//! G^l   = G^{l+1} + C_z X + X^T C_z^T + C_z Phi^l C_z^T,   X = M C_h G^{l+1}
//! f(t)  = < z^L(t) h^L(t) > / gamma0
//! ```
//!
//! iterated (layers in order, `Delta` from the last layer) to a fixed point.

use super::{DmftResult, Problem};
use crate::error::{Error, Result};
use crate::linalg::{dot, identity, matmul, matmul_nt, solve, transpose};
use crate::progress::{Progress, tick};

/// Two-layer linear network, exact recursion.
pub(crate) fn two_layer(pr: &Problem, progress: &dyn Progress) -> Result<DmftResult> {
    let (p, n) = (pr.p, pr.p + pr.pt);
    pr.budget("linear DMFT", 8.0 * pr.steps as f64 * (n * n) as f64)?;
    let kx = &pr.kx_all;
    let k = pr.eta * pr.gamma0 / p as f64;
    let mut a = identity(n);
    let mut b = vec![0.0; n];
    let mut c = vec![0.0; n];
    let mut d = 1.0f64;
    let mut res = DmftResult {
        warnings: pr.warnings.clone(),
        history: vec![0.0],
        ..Default::default()
    };
    let mut f = vec![0.0; n];
    let mut delta = pr.y.clone();
    let report = (pr.steps / 50).max(1);
    for t in 0..=pr.steps {
        // f = (A Phi0 c + b d) / gamma0
        let kc: Vec<f64> = (0..n).map(|i| dot(&kx[i * n..(i + 1) * n], &c)).collect();
        for i in 0..n {
            f[i] = (dot(&a[i * n..(i + 1) * n], &kc) + b[i] * d) / pr.gamma0;
        }
        for mu in 0..p {
            delta[mu] = pr.y[mu] - f[mu];
        }
        res.loss.push(pr.loss(&delta));
        res.outputs.push(f[..p].to_vec());
        if pr.is_record(t) {
            // Phi = A Phi0 A^T + b b^T, G = c^T Phi0 c + d^2 (all entries)
            let ak = matmul(&a, kx, n, n, n);
            let phi_all = matmul_nt(&ak, &a, n, n, n);
            let g = dot(&c, &kc) + d * d;
            let mut phi = vec![0.0; p * p];
            let mut ntk = vec![0.0; p * p];
            for mu in 0..p {
                for nu in 0..p {
                    let v = phi_all[mu * n + nu] + b[mu] * b[nu];
                    phi[mu * p + nu] = v;
                    ntk[mu * p + nu] = g * kx[mu * n + nu] + v;
                }
            }
            res.record_steps.push(t);
            res.phi.push(vec![phi]);
            res.g.push(vec![vec![g; p * p]]);
            res.ntk.push(ntk);
        }
        if t == pr.steps || !res.loss[t].is_finite() {
            break;
        }
        // v = Phi0[:, train] Delta
        let v: Vec<f64> = (0..n).map(|i| dot(&kx[i * n..i * n + p], &delta)).collect();
        // c_new = c + k A[train rows]^T Delta ; d_new = d + k Delta . b[train]
        let mut c_new = c.clone();
        for mu in 0..p {
            for j in 0..n {
                c_new[j] += k * a[mu * n + j] * delta[mu];
            }
        }
        let d_new = d + k * dot(&delta, &b[..p]);
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] += k * v[i] * c[j];
            }
            b[i] += k * v[i] * d;
        }
        c = c_new;
        d = d_new;
        if t % report == 0 {
            tick(progress, "dmft", t as u64, pr.steps as u64)?;
        }
    }
    res.test_outputs = f[p..].to_vec();
    Ok(res)
}

/// Deep linear network (L >= 2), closed-form kernels iterated to a fixed point.
pub(crate) fn deep(pr: &Problem, progress: &dyn Progress) -> Result<DmftResult> {
    let (p, tt, l_count) = (pr.p, pr.steps + 1, pr.depth);
    let n = p * tt;
    if n > super::MAX_PT {
        return Err(Error::Budget(format!(
            "deep DMFT needs P (T + 1) <= {}, got {n}",
            super::MAX_PT
        )));
    }
    let nf = n as f64;
    pr.budget(
        "deep linear DMFT",
        12.0 * nf.powi(3) * (l_count * pr.iterations) as f64,
    )?;
    let kx = pr.kx();
    // Static input kernel tiled over steps, lazy kernels Phi^l = Phi^0, G^l = 1 at init.
    let phi0 = tile(&kx, p, n);
    let mut phi = vec![phi0.clone(); l_count];
    let mut g = vec![vec![1.0; n * n]; l_count + 1]; // g[l] = G^{l+1}; g[L] = 1
    let mut resp_r = vec![vec![0.0; n * n]; l_count]; // R^l (l = 1..L-1 at index l-1)
    let mut resp_b = vec![vec![0.0; n * n]; l_count]; // B^l
    let mut delta_all = lazy_delta(pr, &kx, l_count);
    let mut res = DmftResult {
        warnings: pr.warnings.clone(),
        ..Default::default()
    };
    for it in 0..pr.iterations {
        let mut change = 0.0f64;
        let delta_start = delta_all.clone();
        for l in 0..l_count {
            let layer = LinearLayer {
                pr,
                n,
                phi_prev: if l == 0 { &phi0 } else { &phi[l - 1] },
                g_next: &g[l + 1],
                r_prev: (l > 0).then(|| resp_r[l - 1].as_slice()),
                b_here: (l + 1 < l_count).then(|| resp_b[l].as_slice()),
            };
            let up = layer.solve(&mut delta_all, l + 1 == l_count)?;
            change = change
                .max(rel_change(&phi[l], &up.phi))
                .max(rel_change(&g[l], &up.g));
            let a_mix = pr.damping;
            mix(&mut phi[l], &up.phi, a_mix);
            mix(&mut g[l], &up.g, a_mix);
            if l + 1 < l_count {
                mix(&mut resp_r[l], &up.mch, a_mix);
            }
            if l > 0 {
                mix(&mut resp_b[l - 1], &up.czm, a_mix);
            }
        }
        change = change.max(rel_change(&delta_start, &delta_all));
        res.history.push(change);
        tick(progress, "dmft", it as u64 + 1, pr.iterations as u64)?;
        if change < 1e-12 {
            break;
        }
    }
    finish(pr, &mut res, &delta_all, &phi, &g, &kx);
    Ok(res)
}

/// One layer of the deep linear network on the `n = P (T + 1)` grid, with the kernels
/// it reads: `Phi^{l-1}`, `G^{l+1}`, and the responses `R^{l-1}` (absent in the first
/// layer) and `B^l` (absent in the last).
struct LinearLayer<'a> {
    pr: &'a Problem,
    n: usize,
    phi_prev: &'a [f64],
    g_next: &'a [f64],
    r_prev: Option<&'a [f64]>,
    b_here: Option<&'a [f64]>,
}

/// A layer's closed form: `Phi^l`, `G^l`, `R^l = M C_h` and `B^{l-1} = C_z M`, and for
/// the output `X = M C_h G^{l+1}` and `C_z Phi^l`.
struct LinearUpdate {
    phi: Vec<f64>,
    g: Vec<f64>,
    mch: Vec<f64>,
    czm: Vec<f64>,
    x: Vec<f64>,
    czp: Vec<f64>,
}

impl LinearLayer<'_> {
    /// The layer's new kernels (module doc). The last layer also forms `Delta` from its
    /// own fields, `f(t) = [X^T + C_z Phi^L](t, t) / gamma0`: Picard sweeps over the
    /// trajectory, each re-reading `Delta` into `C_h, C_z`, exact after at most T + 1
    /// (causality); `delta` is overwritten by each sweep's.
    fn solve(&self, delta: &mut Vec<f64>, last: bool) -> Result<LinearUpdate> {
        let (n, p, pr) = (self.n, self.pr.p, self.pr);
        let inner = if last { pr.steps + 2 } else { 1 };
        let mut sweep = 0;
        loop {
            sweep += 1;
            let (ch, cz) = self.causal_operators(delta);
            let up = self.closed_form(&ch, &cz)?;
            if last {
                let mut new_delta = delta.clone();
                for (i, d) in new_delta.iter_mut().enumerate() {
                    // Cov(z, h) = X^T + C_z Phi^L; f = its diagonal / gamma0
                    let v = up.x[i * n + i] + up.czp[i * n + i];
                    *d = pr.y[i % p] - v / pr.gamma0;
                }
                let dc = rel_change(delta, &new_delta);
                *delta = new_delta;
                if dc > 1e-13 && sweep < inner {
                    continue;
                }
            }
            return Ok(up);
        }
    }

    /// The causal operators `C_h = R^{l-1} + k Phi^{l-1} Delta` (steps `s < t`) and
    /// `C_z = B^l + k G^{l+1} Delta` (`B^l` for `s <= t`, the `Delta` term for `s < t`),
    /// `k = eta gamma0 / P`, `[n x n]` each.
    fn causal_operators(&self, delta: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let (n, p) = (self.n, self.pr.p);
        let k = self.pr.eta * self.pr.gamma0 / p as f64;
        let mut ch = vec![0.0; n * n];
        let mut cz = vec![0.0; n * n];
        for i in 0..n {
            let t = i / p;
            for j in 0..n {
                let (s, nu) = (j / p, j % p);
                let dl = delta[s * p + nu];
                if s < t {
                    let rr = self.r_prev.map_or(0.0, |r| r[i * n + j]);
                    ch[i * n + j] = rr + k * self.phi_prev[i * n + j] * dl;
                    cz[i * n + j] = k * self.g_next[i * n + j] * dl;
                }
                if s <= t
                    && let Some(b) = self.b_here
                {
                    cz[i * n + j] += b[i * n + j];
                }
            }
        }
        (ch, cz)
    }

    /// `M = (I - C_h C_z)^{-1}`, `Phi^l = M Phi^{l-1} M^T + X (M C_h)^T` and
    /// `G^l = G^{l+1} + C_z X + X^T C_z^T + C_z Phi^l C_z^T`, `X = M C_h G^{l+1}`.
    fn closed_form(&self, ch: &[f64], cz: &[f64]) -> Result<LinearUpdate> {
        let n = self.n;
        let mut a = matmul(ch, cz, n, n, n);
        a.iter_mut().for_each(|v| *v = -*v);
        for i in 0..n {
            a[i * n + i] += 1.0;
        }
        let m = solve(&a, &identity(n), n, n, "I - C_h C_z")?;
        let mch = matmul(&m, ch, n, n, n); // R^l = M C_h
        let czm = matmul(cz, &m, n, n, n); // B^{l-1} = C_z M
        // Phi^l = M Phi^{l-1} M^T + (M C_h) G (M C_h)^T
        let mp = matmul(&m, self.phi_prev, n, n, n);
        let mut phi = matmul_nt(&mp, &m, n, n, n);
        let x = matmul(&mch, self.g_next, n, n, n); // X = M C_h G^{l+1}
        let xx = matmul_nt(&x, &mch, n, n, n);
        add(&mut phi, &xx, 1.0);
        // G^l = G^{l+1} + C_z X + X^T C_z^T + C_z Phi^l C_z^T
        let czx = matmul(cz, &x, n, n, n);
        let mut g = self.g_next.to_vec();
        add(&mut g, &czx, 1.0);
        add(&mut g, &transpose(&czx, n, n), 1.0);
        let czp = matmul(cz, &phi, n, n, n);
        add(&mut g, &matmul_nt(&czp, cz, n, n, n), 1.0);
        Ok(LinearUpdate {
            phi,
            g,
            mch,
            czm,
            x,
            czp,
        })
    }
}

/// A kernel on the points `[P x P]` held constant in time: `[n x n]` on the grid of
/// `n = P (T + 1)` (step, point) coordinates, `K(t P + mu, s P + nu) = m(mu, nu)`.
pub(crate) fn tile(m: &[f64], p: usize, n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            out[i * n + j] = m[(i % p) * p + j % p];
        }
    }
    out
}

/// Lazy Delta(t) (kernel regression with the NTK `sum_l G^l o Phi^{l-1}`), `[(T+1) P]`.
pub(crate) fn lazy_delta(pr: &Problem, kx: &[f64], depth: usize) -> Vec<f64> {
    let p = pr.p;
    let lk = crate::theory::kernels::mlp_layer_kernels(pr.act, depth, 1.0, kx, p)
        .map(|k| k.ntk)
        .unwrap_or_else(|_| kx.to_vec());
    let mut out = Vec::with_capacity(p * (pr.steps + 1));
    let mut d = pr.y.clone();
    for _ in 0..=pr.steps {
        out.extend_from_slice(&d);
        let kd: Vec<f64> = (0..p).map(|i| dot(&lk[i * p..(i + 1) * p], &d)).collect();
        for (x, y) in d.iter_mut().zip(kd) {
            *x -= pr.eta / p as f64 * y;
        }
    }
    out
}

/// Fill loss, outputs and recorded equal-time kernels from `Delta [(T+1) P]` and the
/// `[n x n]` kernels (`phi[l]`, `g[l]` for hidden layers `l = 0..L-1`).
pub(crate) fn finish(
    pr: &Problem,
    res: &mut DmftResult,
    delta: &[f64],
    phi: &[Vec<f64>],
    g: &[Vec<f64>],
    kx: &[f64],
) {
    let p = pr.p;
    let n = p * (pr.steps + 1);
    let depth = phi.len();
    for t in 0..=pr.steps {
        let d = &delta[t * p..(t + 1) * p];
        res.loss.push(pr.loss(d));
        res.outputs
            .push((0..p).map(|mu| pr.y[mu] - d[mu]).collect());
        if pr.is_record(t) {
            let block = |m: &[f64]| {
                let mut b = vec![0.0; p * p];
                for mu in 0..p {
                    for nu in 0..p {
                        b[mu * p + nu] = m[(t * p + mu) * n + t * p + nu];
                    }
                }
                b
            };
            let phis: Vec<Vec<f64>> = phi.iter().take(depth).map(|m| block(m)).collect();
            let gs: Vec<Vec<f64>> = g.iter().take(depth).map(|m| block(m)).collect();
            let mut ntk: Vec<f64> = gs[0].iter().zip(kx).map(|(a, b)| a * b).collect();
            for l in 0..depth {
                let gn = if l + 1 < depth {
                    gs[l + 1].clone()
                } else {
                    vec![1.0; p * p]
                };
                for (k, (a, b)) in ntk.iter_mut().zip(gn.iter().zip(&phis[l])) {
                    *k += a * b;
                }
            }
            res.record_steps.push(t);
            res.phi.push(phis);
            res.g.push(gs);
            res.ntk.push(ntk);
        }
    }
}

pub(crate) fn add(a: &mut [f64], b: &[f64], c: f64) {
    a.iter_mut().zip(b).for_each(|(x, y)| *x += c * y);
}

#[inline(never)]
pub(crate) fn mix(old: &mut [f64], new: &[f64], alpha: f64) {
    old.iter_mut()
        .zip(new)
        .for_each(|(o, n)| *o = alpha * n + (1.0 - alpha) * *o);
}

/// `|new - old| / max(|old|, tiny)` in the Frobenius norm.
#[inline(never)]
pub(crate) fn rel_change(old: &[f64], new: &[f64]) -> f64 {
    let num: f64 = old.iter().zip(new).map(|(a, b)| (a - b).powi(2)).sum();
    let den: f64 = old.iter().map(|a| a * a).sum();
    (num / den.max(1e-300)).sqrt()
}
