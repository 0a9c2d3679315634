//! The ops a transformer needs beyond products and elementwise maps: multi-head causal
//! self-attention and its backward pass, layer / RMS norm and theirs, the sequence
//! losses (next-token cross-entropy, masked squared loss) and Adam with one learning
//! rate per ensemble member. This file holds their shapes and the CPU implementations,
//! which are the oracle the WGSL kernels (`gpu/attention*.wgsl`, `gpu/norm*.wgsl`,
//! `gpu/seq_loss.wgsl`, `gpu/adam_members.wgsl`) are tested against.
//!
//! Layouts (row-major, ensemble members outermost, as everywhere in the backend):
//! - `qkv [G x T x 3 Da]`: for each of `G` sequences (all members' batches) and position
//!   `t`, the query, key and value of every head side by side: head `h` reads columns
//!   `h dh .. (h+1) dh` of the query block, `Da + h dh ..` of the key block and
//!   `2 Da + h dh ..` of the value block (`Da = H dh`);
//! - `probs [G x H x T x T]`: the attention weights `P[g, h, i, j]`, zero for `j > i`;
//! - `out [G x T x Da]`: the heads' outputs side by side;
//! - norms act on rows of `width` numbers; member `e` owns rows
//!   `e R .. (e+1) R` and its gain is row `e` of `gain [E x width]`.

use super::AdamStep;

/// Multi-head causal self-attention over `groups` sequences of `t` positions:
/// `S = scale Q_h K_h^T` (masked to `j <= i`), `P = softmax_j(S)`, `O_h = P V_h`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Attention {
    pub groups: usize,
    pub t: usize,
    pub heads: usize,
    pub head_dim: usize,
    /// Logit multiplier: `1/sqrt(dh)` under SP, `sqrt(dh0)/dh` under muP.
    pub scale: f32,
}

impl Attention {
    /// `Da = H dh`, the width of the heads side by side.
    pub fn inner(&self) -> usize {
        self.heads * self.head_dim
    }
    /// Elements of `qkv`.
    pub fn qkv_len(&self) -> usize {
        self.groups * self.t * 3 * self.inner()
    }
    /// Elements of `probs`.
    pub fn probs_len(&self) -> usize {
        self.groups * self.heads * self.t * self.t
    }
    /// Elements of `out`.
    pub fn out_len(&self) -> usize {
        self.groups * self.t * self.inner()
    }
}

/// Which normalisation of a row `x` of `width` numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormKind {
    /// `xhat = (x - mean x) / sqrt(var x + eps)`.
    Layer,
    /// `xhat = x / sqrt(mean x^2 + eps)`.
    Rms,
}

/// A norm over `rows` rows of `width` numbers, `rows_per_member` rows per ensemble
/// member (each member has its own gain): `y = gain o xhat`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Norm {
    pub kind: NormKind,
    pub rows: usize,
    pub width: usize,
    pub rows_per_member: usize,
    pub eps: f32,
}

/// Which loss a row of outputs takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossKind {
    /// Next-token cross-entropy over `classes` logits; the target of a row is a class
    /// id stored as f32, negative for "no target here".
    CrossEntropy,
    /// `1/2 |f - y|^2` over `classes` outputs; a row's target is `classes + 1` numbers:
    /// its weight (1, or 0 for "no target here") then `y`.
    Squared,
}

/// The loss of `rows` rows of `classes` outputs, `rows_per_member` per ensemble member;
/// the targets of the `rows_per_member` rows of one member are shared by all members.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeqLoss {
    pub kind: LossKind,
    pub rows: usize,
    pub classes: usize,
    pub rows_per_member: usize,
}

impl SeqLoss {
    /// Numbers of the target of one row.
    pub fn target_width(&self) -> usize {
        match self.kind {
            LossKind::CrossEntropy => 1,
            LossKind::Squared => self.classes + 1,
        }
    }
}

/// [`Attention`] forward on the CPU.
pub fn attention(a: &Attention, qkv: &[f32], probs: &mut [f32], out: &mut [f32]) {
    let (t, h, dh, da) = (a.t, a.heads, a.head_dim, a.inner());
    let row = 3 * da;
    for g in 0..a.groups {
        let q_at = |i: usize, hh: usize| (g * t + i) * row + hh * dh;
        for hh in 0..h {
            let pbase = (g * h + hh) * t * t;
            for i in 0..t {
                let p = &mut probs[pbase + i * t..pbase + (i + 1) * t];
                let qi = &qkv[q_at(i, hh)..q_at(i, hh) + dh];
                let mut max = f32::NEG_INFINITY;
                for (j, pj) in p.iter_mut().enumerate().take(i + 1) {
                    let kj = &qkv[q_at(j, hh) + da..q_at(j, hh) + da + dh];
                    let s = a.scale * dot(qi, kj);
                    *pj = s;
                    max = max.max(s);
                }
                let mut sum = 0.0;
                for pj in p.iter_mut().take(i + 1) {
                    *pj = (*pj - max).exp();
                    sum += *pj;
                }
                let inv = 1.0 / sum;
                for pj in p.iter_mut().take(i + 1) {
                    *pj *= inv;
                }
                p[i + 1..].fill(0.0);
                let o = &mut out[(g * t + i) * da + hh * dh..(g * t + i) * da + (hh + 1) * dh];
                o.fill(0.0);
                for (j, &pj) in p.iter().enumerate().take(i + 1) {
                    let vj = &qkv[q_at(j, hh) + 2 * da..q_at(j, hh) + 2 * da + dh];
                    for (oc, vc) in o.iter_mut().zip(vj) {
                        *oc += pj * vc;
                    }
                }
            }
        }
    }
}

/// [`Attention`] backward on the CPU: from `dout = dL/dO` to `dqkv = dL/d(qkv)`
/// (overwritten), with `ds [G x H x T x T]` as scratch for `dL/dS`:
///
/// ```text
/// dP_ij = dO_i . v_j,   dS_ij = P_ij (dP_ij - sum_k P_ik dP_ik)
/// dq_i = scale sum_j dS_ij k_j,   dk_j = scale sum_i dS_ij q_i,   dv_j = sum_i P_ij dO_i
/// ```
pub fn attention_backward(
    a: &Attention,
    qkv: &[f32],
    probs: &[f32],
    dout: &[f32],
    ds: &mut [f32],
    dqkv: &mut [f32],
) {
    let (t, h, dh, da) = (a.t, a.heads, a.head_dim, a.inner());
    let row = 3 * da;
    dqkv.fill(0.0);
    for g in 0..a.groups {
        let at = |i: usize, hh: usize| (g * t + i) * row + hh * dh;
        let o_at = |i: usize, hh: usize| (g * t + i) * da + hh * dh;
        for hh in 0..h {
            let pbase = (g * h + hh) * t * t;
            for i in 0..t {
                let doi = &dout[o_at(i, hh)..o_at(i, hh) + dh];
                let p = &probs[pbase + i * t..pbase + (i + 1) * t];
                let d = &mut ds[pbase + i * t..pbase + (i + 1) * t];
                let mut sum = 0.0;
                for j in 0..=i {
                    let vj = &qkv[at(j, hh) + 2 * da..at(j, hh) + 2 * da + dh];
                    d[j] = dot(doi, vj);
                    sum += p[j] * d[j];
                }
                for j in 0..=i {
                    d[j] = p[j] * (d[j] - sum);
                }
                d[i + 1..].fill(0.0);
            }
            for i in 0..t {
                for j in 0..=i {
                    let dsij = a.scale * ds[pbase + i * t + j];
                    let pij = probs[pbase + i * t + j];
                    for c in 0..dh {
                        let (qi, kj, vj) =
                            (at(i, hh) + c, at(j, hh) + da + c, at(j, hh) + 2 * da + c);
                        dqkv[qi] += dsij * qkv[kj];
                        dqkv[kj] += dsij * qkv[qi];
                        dqkv[vj] += pij * dout[o_at(i, hh) + c];
                    }
                }
            }
        }
    }
}

/// [`Norm`] forward on the CPU: `xhat`, `rstd [rows]` (the factor `1/sqrt(.. + eps)`)
/// and `y = gain o xhat`.
pub fn norm(n: &Norm, x: &[f32], gain: &[f32], y: &mut [f32], xhat: &mut [f32], rstd: &mut [f32]) {
    let w = n.width;
    for r in 0..n.rows {
        let xr = &x[r * w..(r + 1) * w];
        let mean = match n.kind {
            NormKind::Layer => xr.iter().sum::<f32>() / w as f32,
            NormKind::Rms => 0.0,
        };
        let var = xr.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / w as f32;
        let rs = 1.0 / (var + n.eps).sqrt();
        rstd[r] = rs;
        let g = &gain[(r / n.rows_per_member) * w..(r / n.rows_per_member + 1) * w];
        for c in 0..w {
            let xh = (xr[c] - mean) * rs;
            xhat[r * w + c] = xh;
            y[r * w + c] = g[c] * xh;
        }
    }
}

/// [`Norm`] backward on the CPU from `dy = dL/dy`: `dx += dL/dx` and `dgain = dL/dgain`
/// (overwritten, one row per member). With `u = gain o dy`:
///
/// ```text
/// layer: dx = rstd (u - mean u - xhat mean(u o xhat))
/// rms:   dx = rstd (u - xhat mean(u o xhat))
/// dgain  = sum over the member's rows of dy o xhat
/// ```
#[allow(clippy::too_many_arguments)]
pub fn norm_backward(
    n: &Norm,
    dy: &[f32],
    xhat: &[f32],
    rstd: &[f32],
    gain: &[f32],
    dx: &mut [f32],
    dgain: &mut [f32],
) {
    let w = n.width;
    dgain.fill(0.0);
    for r in 0..n.rows {
        let e = r / n.rows_per_member;
        let g = &gain[e * w..(e + 1) * w];
        let (dyr, xr) = (&dy[r * w..(r + 1) * w], &xhat[r * w..(r + 1) * w]);
        let mut mean_u = 0.0;
        let mut mean_ux = 0.0;
        for c in 0..w {
            let u = g[c] * dyr[c];
            mean_u += u;
            mean_ux += u * xr[c];
            dgain[e * w + c] += dyr[c] * xr[c];
        }
        mean_u /= w as f32;
        mean_ux /= w as f32;
        if n.kind == NormKind::Rms {
            mean_u = 0.0;
        }
        for c in 0..w {
            dx[r * w + c] += rstd[r] * (g[c] * dyr[c] - mean_u - xr[c] * mean_ux);
        }
    }
}

/// [`SeqLoss`] on the CPU: `loss[r]` the row's loss (0 without a target) and
/// `dlogits = scale dloss/dlogits`.
pub fn seq_loss(
    l: &SeqLoss,
    logits: &[f32],
    targets: &[f32],
    scale: f32,
    dlogits: &mut [f32],
    loss: &mut [f32],
) {
    let (c, tw) = (l.classes, l.target_width());
    for r in 0..l.rows {
        let z = &logits[r * c..(r + 1) * c];
        let d = &mut dlogits[r * c..(r + 1) * c];
        let tr = &targets[(r % l.rows_per_member) * tw..(r % l.rows_per_member + 1) * tw];
        match l.kind {
            LossKind::CrossEntropy => {
                if tr[0] < 0.0 {
                    d.fill(0.0);
                    loss[r] = 0.0;
                    continue;
                }
                let target = tr[0] as usize;
                let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let sum: f32 = z.iter().map(|v| (v - max).exp()).sum();
                loss[r] = sum.ln() + max - z[target];
                for (k, (dk, zk)) in d.iter_mut().zip(z).enumerate() {
                    let p = (zk - max).exp() / sum;
                    *dk = scale * (p - if k == target { 1.0 } else { 0.0 });
                }
            }
            LossKind::Squared => {
                let wgt = tr[0];
                let mut s = 0.0;
                for k in 0..c {
                    let diff = z[k] - tr[1 + k];
                    d[k] = scale * wgt * diff;
                    s += diff * diff;
                }
                loss[r] = 0.5 * wgt * s;
            }
        }
    }
}

/// Adam with a learning rate per ensemble member: element `i` of `w` belongs to member
/// `i / (len / E)` (`E = member_lr.len()`) and steps with `s.lr * member_lr[e]`.
pub fn adam_members(
    s: &AdamStep,
    member_lr: &[f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    w: &mut [f32],
) {
    let per = w.len() / member_lr.len().max(1);
    for (e, lr_e) in member_lr.iter().enumerate() {
        let lr = s.lr * lr_e;
        let range = e * per..(e + 1) * per;
        for (((g, m), v), w) in g[range.clone()]
            .iter()
            .zip(&mut m[range.clone()])
            .zip(&mut v[range.clone()])
            .zip(&mut w[range])
        {
            *m = s.beta1 * *m + (1.0 - s.beta1) * g;
            *v = s.beta2 * *v + (1.0 - s.beta2) * g * g;
            *w -= lr * *m / (v.sqrt() + s.eps);
        }
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The attention backward against central differences of `sum(out o w)`.
    #[test]
    fn attention_backward_matches_finite_differences() {
        let a = Attention {
            groups: 2,
            t: 5,
            heads: 2,
            head_dim: 3,
            scale: 0.7,
        };
        let qkv: Vec<f32> = (0..a.qkv_len())
            .map(|i| ((i * 37 % 23) as f32 / 11.0) - 1.0)
            .collect();
        let wts: Vec<f32> = (0..a.out_len())
            .map(|i| ((i * 13 % 7) as f32 / 3.0) - 1.0)
            .collect();
        let f = |q: &[f32]| -> f64 {
            let mut p = vec![0.0; a.probs_len()];
            let mut o = vec![0.0; a.out_len()];
            attention(&a, q, &mut p, &mut o);
            o.iter().zip(&wts).map(|(x, y)| (x * y) as f64).sum()
        };
        let mut p = vec![0.0; a.probs_len()];
        let mut o = vec![0.0; a.out_len()];
        attention(&a, &qkv, &mut p, &mut o);
        let mut ds = vec![0.0; a.probs_len()];
        let mut dq = vec![0.0; a.qkv_len()];
        attention_backward(&a, &qkv, &p, &wts, &mut ds, &mut dq);
        for k in 0..qkv.len() {
            let mut q = qkv.clone();
            q[k] += 1e-2;
            let up = f(&q);
            q[k] -= 2e-2;
            let fd = (up - f(&q)) / 2e-2;
            assert!(
                (fd - dq[k] as f64).abs() < 2e-3,
                "{k}: fd {fd} vs {}",
                dq[k]
            );
        }
    }

    #[test]
    fn norm_backward_matches_finite_differences() {
        for kind in [NormKind::Layer, NormKind::Rms] {
            let n = Norm {
                kind,
                rows: 4,
                width: 6,
                rows_per_member: 2,
                eps: 1e-5,
            };
            let x: Vec<f32> = (0..24).map(|i| ((i * 7 % 11) as f32 / 5.0) - 1.0).collect();
            let gain: Vec<f32> = (0..12).map(|i| 0.5 + i as f32 / 10.0).collect();
            let wts: Vec<f32> = (0..24).map(|i| ((i * 5 % 9) as f32 / 4.0) - 1.0).collect();
            let f = |x: &[f32], g: &[f32]| -> f64 {
                let (mut y, mut xh, mut rs) = (vec![0.0; 24], vec![0.0; 24], vec![0.0; 4]);
                norm(&n, x, g, &mut y, &mut xh, &mut rs);
                y.iter().zip(&wts).map(|(a, b)| (a * b) as f64).sum()
            };
            let (mut y, mut xh, mut rs) = (vec![0.0; 24], vec![0.0; 24], vec![0.0; 4]);
            norm(&n, &x, &gain, &mut y, &mut xh, &mut rs);
            let (mut dx, mut dg) = (vec![0.0; 24], vec![0.0; 12]);
            norm_backward(&n, &wts, &xh, &rs, &gain, &mut dx, &mut dg);
            for k in 0..24 {
                let mut xp = x.clone();
                xp[k] += 1e-2;
                let up = f(&xp, &gain);
                xp[k] -= 2e-2;
                let fd = (up - f(&xp, &gain)) / 2e-2;
                assert!(
                    (fd - dx[k] as f64).abs() < 3e-3,
                    "{kind:?} x{k}: {fd} vs {}",
                    dx[k]
                );
            }
            for k in 0..12 {
                let mut gp = gain.clone();
                gp[k] += 1e-2;
                let up = f(&x, &gp);
                gp[k] -= 2e-2;
                let fd = (up - f(&x, &gp)) / 2e-2;
                assert!(
                    (fd - dg[k] as f64).abs() < 3e-3,
                    "{kind:?} g{k}: {fd} vs {}",
                    dg[k]
                );
            }
        }
    }

    #[test]
    fn cross_entropy_is_minus_log_softmax() {
        let l = SeqLoss {
            kind: LossKind::CrossEntropy,
            rows: 4,
            classes: 3,
            rows_per_member: 2,
        };
        let z = [1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 5.0, -1.0, 0.0];
        let t = [2.0, -1.0];
        let (mut d, mut loss) = (vec![9.0; 12], vec![9.0; 4]);
        seq_loss(&l, &z, &t, 0.5, &mut d, &mut loss);
        let lse = (1f32.exp() + 2f32.exp() + 3f32.exp()).ln();
        assert!((loss[0] - (lse - 3.0)).abs() < 1e-6);
        assert_eq!(loss[1], 0.0);
        assert_eq!(&d[3..6], &[0.0; 3]);
        assert!((d[2] - 0.5 * ((3.0 - lse).exp() - 1.0)).abs() < 1e-6);
        assert!((loss[2] - loss[0]).abs() < 1e-6);
    }
}
