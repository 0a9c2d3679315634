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

use super::{AdamStep, fastmath};

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

/// Per (sequence, head) scratch of the CPU attention: the head's queries, keys and
/// values gathered into contiguous tiles, keys and values also transposed, so that
/// every inner loop runs over a contiguous row of `T` or `dh` numbers (vectorised).
struct Tiles {
    q: Vec<f32>,
    k: Vec<f32>,
    kt: Vec<f32>,
    vt: Vec<f32>,
}

impl Tiles {
    fn new(t: usize, dh: usize) -> Self {
        Tiles {
            q: vec![0.0; t * dh],
            k: vec![0.0; t * dh],
            kt: vec![0.0; dh * t],
            vt: vec![0.0; dh * t],
        }
    }

    /// Gather head `hh` of sequence `g` from `qkv`.
    fn gather(&mut self, a: &Attention, qkv: &[f32], g: usize, hh: usize) {
        let (t, dh, da) = (a.t, a.head_dim, a.inner());
        for i in 0..t {
            let base = (g * t + i) * 3 * da + hh * dh;
            self.q[i * dh..(i + 1) * dh].copy_from_slice(&qkv[base..base + dh]);
            self.k[i * dh..(i + 1) * dh].copy_from_slice(&qkv[base + da..base + da + dh]);
            for c in 0..dh {
                self.kt[c * t + i] = qkv[base + da + c];
                self.vt[c * t + i] = qkv[base + 2 * da + c];
            }
        }
    }
}

/// [`Attention`] forward on the CPU.
#[inline(always)]
pub fn attention(a: &Attention, qkv: &[f32], probs: &mut [f32], out: &mut [f32]) {
    let (t, h, dh, da) = (a.t, a.heads, a.head_dim, a.inner());
    let mut tl = Tiles::new(t, dh);
    for g in 0..a.groups {
        for hh in 0..h {
            tl.gather(a, qkv, g, hh);
            let p = &mut probs[(g * h + hh) * t * t..][..t * t];
            for i in 0..t {
                // S[i, :] = scale q_i K^T over all keys, then the causal mask
                let row = &mut p[i * t..(i + 1) * t];
                row.fill(0.0);
                for c in 0..dh {
                    axpy(a.scale * tl.q[i * dh + c], &tl.kt[c * t..(c + 1) * t], row);
                }
                softmax_causal(row, i);
            }
            // O_h = P V_h, one output coordinate (a row of V^T) at a time (whole rows: P
            // is zero past the diagonal)
            for i in 0..t {
                let o = &mut out[(g * t + i) * da + hh * dh..][..dh];
                let pi = &p[i * t..(i + 1) * t];
                for (c, oc) in o.iter_mut().enumerate() {
                    *oc = dot(pi, &tl.vt[c * t..(c + 1) * t]);
                }
            }
        }
    }
}

/// `row[..=i] = softmax(row[..=i])`, `row[i+1..] = 0`, over whole rows (masked) so that
/// every loop has the row's full length.
#[inline(always)]
fn softmax_causal(row: &mut [f32], i: usize) {
    let mut max = f32::NEG_INFINITY;
    for (j, v) in row.iter().enumerate() {
        max = if j <= i { max.max(*v) } else { max };
    }
    for (j, v) in row.iter_mut().enumerate() {
        *v = if j <= i { fastmath::exp(*v - max) } else { 0.0 };
    }
    let inv = 1.0 / sum(row);
    for v in row.iter_mut() {
        *v *= inv;
    }
}

/// [`Attention`] backward on the CPU: from `dout = dL/dO` to `dqkv = dL/d(qkv)`
/// (overwritten), with `ds [G x H x T x T]` as scratch for `dL/dS`:
///
/// ```text
/// dP_ij = dO_i . v_j,   dS_ij = P_ij (dP_ij - sum_k P_ik dP_ik)
/// dq_i = scale sum_j dS_ij k_j,   dk_j = scale sum_i dS_ij q_i,   dv_j = sum_i P_ij dO_i
/// ```
#[inline(always)]
pub fn attention_backward(
    a: &Attention,
    qkv: &[f32],
    probs: &[f32],
    dout: &[f32],
    ds: &mut [f32],
    dqkv: &mut [f32],
) {
    let (t, h, dh, da) = (a.t, a.heads, a.head_dim, a.inner());
    let mut tl = Tiles::new(t, dh);
    // dO_h, and dK^T, dV^T accumulated as rows of T
    let mut dout_h = vec![0.0f32; t * dh];
    let mut dkt = vec![0.0f32; dh * t];
    let mut dvt = vec![0.0f32; dh * t];
    for g in 0..a.groups {
        for hh in 0..h {
            tl.gather(a, qkv, g, hh);
            for i in 0..t {
                let o = (g * t + i) * da + hh * dh;
                dout_h[i * dh..(i + 1) * dh].copy_from_slice(&dout[o..o + dh]);
            }
            let p = &probs[(g * h + hh) * t * t..][..t * t];
            let d = &mut ds[(g * h + hh) * t * t..][..t * t];
            for i in 0..t {
                // dP[i, :] = dO_i V^T, then dS[i, :] = P o (dP - P.dP)
                let row = &mut d[i * t..(i + 1) * t];
                row.fill(0.0);
                for c in 0..dh {
                    axpy(dout_h[i * dh + c], &tl.vt[c * t..(c + 1) * t], row);
                }
                let pi = &p[i * t..(i + 1) * t];
                let sum = dot(pi, row);
                for (v, pv) in row.iter_mut().zip(pi) {
                    *v = pv * (*v - sum);
                }
            }
            dkt.fill(0.0);
            dvt.fill(0.0);
            for i in 0..t {
                let (di, pi) = (&d[i * t..(i + 1) * t], &p[i * t..(i + 1) * t]);
                for c in 0..dh {
                    // dK^T[c, :] += scale q_i[c] dS[i, :],  dV^T[c, :] += dO_i[c] P[i, :]
                    axpy(a.scale * tl.q[i * dh + c], di, &mut dkt[c * t..(c + 1) * t]);
                    axpy(dout_h[i * dh + c], pi, &mut dvt[c * t..(c + 1) * t]);
                }
            }
            for i in 0..t {
                let base = (g * t + i) * 3 * da + hh * dh;
                // dq_i = scale dS[i, :] K
                let dq = &mut dqkv[base..base + dh];
                for (c, v) in dq.iter_mut().enumerate() {
                    *v = a.scale * dot(&d[i * t..(i + 1) * t], &tl.kt[c * t..(c + 1) * t]);
                }
                for c in 0..dh {
                    dqkv[base + da + c] = dkt[c * t + i];
                    dqkv[base + 2 * da + c] = dvt[c * t + i];
                }
            }
        }
    }
}

/// [`Norm`] forward on the CPU: `xhat`, `rstd [rows]` (the factor `1/sqrt(.. + eps)`)
/// and `y = gain o xhat`.
#[inline(always)]
pub fn norm(n: &Norm, x: &[f32], gain: &[f32], y: &mut [f32], xhat: &mut [f32], rstd: &mut [f32]) {
    let w = n.width;
    for r in 0..n.rows {
        let xr = &x[r * w..(r + 1) * w];
        let mean = match n.kind {
            NormKind::Layer => sum(xr) / w as f32,
            NormKind::Rms => 0.0,
        };
        let var = sum_sq_dev(xr, mean) / w as f32;
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
#[inline(always)]
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
        let mut ux = [0.0f32; 2 * 8];
        for c in 0..w {
            let u = g[c] * dyr[c];
            ux[c % 8] += u;
            ux[8 + c % 8] += u * xr[c];
        }
        let dg = &mut dgain[e * w..(e + 1) * w];
        for ((d, y), x) in dg.iter_mut().zip(dyr).zip(xr) {
            *d += y * x;
        }
        let mut mean_u = ux[..8].iter().sum::<f32>() / w as f32;
        let mean_ux = ux[8..].iter().sum::<f32>() / w as f32;
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
#[inline(always)]
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
                let sum: f32 = z.iter().map(|v| fastmath::exp(v - max)).sum();
                loss[r] = sum.ln() + max - z[target];
                for (k, (dk, zk)) in d.iter_mut().zip(z).enumerate() {
                    let p = fastmath::exp(zk - max) / sum;
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
#[inline(always)]
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

/// `sum x` in eight interleaved partial sums.
#[inline(always)]
fn sum(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let c = x.chunks_exact(8);
    let tail: f32 = c.remainder().iter().sum();
    for v in c {
        for k in 0..8 {
            acc[k] += v[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `sum (x - m)^2` in eight interleaved partial sums.
#[inline(always)]
fn sum_sq_dev(x: &[f32], m: f32) -> f32 {
    let mut acc = [0.0f32; 8];
    let c = x.chunks_exact(8);
    let tail: f32 = c.remainder().iter().map(|v| (v - m) * (v - m)).sum();
    for v in c {
        for k in 0..8 {
            acc[k] += (v[k] - m) * (v[k] - m);
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `a . b` in eight interleaved partial sums (so that it vectorises).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `y += alpha x`.
#[inline(always)]
fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}

/// The ops above compiled for AVX-512 (their loops vectorise 16 wide and `exp`'s rounding
/// becomes one instruction); the CPU backend calls these when the CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
pub(super) mod avx512 {
    use super::{AdamStep, Attention, Norm, SeqLoss};

    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn attention(a: &Attention, qkv: &[f32], probs: &mut [f32], out: &mut [f32]) {
        super::attention(a, qkv, probs, out)
    }

    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn attention_backward(
        a: &Attention,
        qkv: &[f32],
        probs: &[f32],
        dout: &[f32],
        ds: &mut [f32],
        dqkv: &mut [f32],
    ) {
        super::attention_backward(a, qkv, probs, dout, ds, dqkv)
    }

    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn norm(
        n: &Norm,
        x: &[f32],
        gain: &[f32],
        y: &mut [f32],
        xhat: &mut [f32],
        rstd: &mut [f32],
    ) {
        super::norm(n, x, gain, y, xhat, rstd)
    }

    /// # Safety
    /// The CPU must have AVX-512F.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f")]
    pub unsafe fn norm_backward(
        n: &Norm,
        dy: &[f32],
        xhat: &[f32],
        rstd: &[f32],
        gain: &[f32],
        dx: &mut [f32],
        dgain: &mut [f32],
    ) {
        super::norm_backward(n, dy, xhat, rstd, gain, dx, dgain)
    }

    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn seq_loss(
        l: &SeqLoss,
        logits: &[f32],
        targets: &[f32],
        scale: f32,
        dlogits: &mut [f32],
        loss: &mut [f32],
    ) {
        super::seq_loss(l, logits, targets, scale, dlogits, loss)
    }

    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn adam_members(
        s: &AdamStep,
        member_lr: &[f32],
        g: &[f32],
        m: &mut [f32],
        v: &mut [f32],
        w: &mut [f32],
    ) {
        super::adam_members(s, member_lr, g, m, v, w)
    }
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
