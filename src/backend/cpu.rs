//! The CPU backend: packed SGEMM for products, plain loops for the elementwise ops.
//! Products run on, by target:
//! - x86-64: our AVX-512 or AVX2 + FMA kernels ([`super::sgemm_x86`], picked at run
//!   time) for products up to [`super::sgemm_x86::NARROW`] columns wide, where they
//!   beat `matrixmultiply` by 1.2-1.9x; `matrixmultiply` for wider ones (faster inside
//!   a width-1024 training step) and on CPUs without AVX2;
//! - wasm32: our simd128 kernel ([`super::sgemm`]);
//! - elsewhere: `matrixmultiply`.
//!
//! Products with `m` or `n` = 1 (the scalar readout `f = phi w^T` and its weight
//! gradient) skip the packing and run as dot products or axpys. Single-threaded;
//! parallelism lives at the level of sweep cells.

use super::{AdamStep, Backend, Gemm};
use crate::config::Activation;

/// The CPU backend (stateless).
pub struct Cpu;

impl Backend for Cpu {
    fn name(&self) -> String {
        "cpu".into()
    }

    fn gemm(&self, g: &Gemm, a: &[f32], b: &[f32], c: &mut [f32]) {
        // Row-major strides of op(A) [m x k] and op(B) [k x n].
        let (rsa, csa) = if g.trans_a { (1, g.m) } else { (g.k, 1) };
        let (rsb, csb) = if g.trans_b { (1, g.k) } else { (g.n, 1) };
        #[cfg(target_arch = "x86_64")]
        if g.k > 0
            && g.m > 1
            && g.n > 1
            && let Some(isa) = super::sgemm_x86::choose(g.n)
        {
            let view = |data, rs, cs| super::sgemm::View { data, rs, cs };
            super::sgemm_x86::sgemm_batch(
                isa,
                g.batch,
                (g.m, g.n, g.k),
                g.alpha,
                (view(a, rsa, csa), g.stride_a),
                (view(b, rsb, csb), g.stride_b),
                g.beta,
                (c, g.stride_c),
            );
            return;
        }
        for s in 0..g.batch {
            let a_s = &a[s * g.stride_a..s * g.stride_a + g.m * g.k];
            let b_s = &b[s * g.stride_b..s * g.stride_b + g.k * g.n];
            let c_s = &mut c[s * g.stride_c..s * g.stride_c + g.m * g.n];
            if g.k == 0 {
                c_s.iter_mut().for_each(|x| *x *= g.beta);
                continue;
            }
            if thin_gemm(g, (rsa, csa), (rsb, csb), a_s, b_s, c_s) {
                continue;
            }
            if cfg!(target_arch = "wasm32") {
                let av = super::sgemm::View {
                    data: a_s,
                    rs: rsa,
                    cs: csa,
                };
                let bv = super::sgemm::View {
                    data: b_s,
                    rs: rsb,
                    cs: csb,
                };
                super::sgemm::sgemm(g.m, g.n, g.k, g.alpha, av, bv, g.beta, c_s, g.n);
                continue;
            }
            // SAFETY: the slices above have exactly the extents the strides address.
            unsafe {
                matrixmultiply::sgemm(
                    g.m,
                    g.k,
                    g.n,
                    g.alpha,
                    a_s.as_ptr(),
                    rsa as isize,
                    csa as isize,
                    b_s.as_ptr(),
                    rsb as isize,
                    csb as isize,
                    g.beta,
                    c_s.as_mut_ptr(),
                    g.n as isize,
                    1,
                );
            }
        }
    }

    fn activate(&self, act: Activation, h: &[f32], phi: &mut [f32], dphi: &mut [f32]) {
        let n = h.len().min(phi.len()).min(dphi.len());
        let (h, phi, dphi) = (&h[..n], &mut phi[..n], &mut dphi[..n]);
        // Branch-free loops the compiler vectorises for the piecewise-linear activations
        // (same values as `phi_dphi_f32`); the others call it per element.
        match act {
            Activation::Relu => {
                #[cfg(target_arch = "x86_64")]
                if super::sgemm_x86::has_avx512() {
                    // SAFETY: the CPU has AVX-512F (detected above).
                    unsafe { relu_avx512(h, phi, dphi) };
                    return;
                }
                relu(h, phi, dphi);
            }
            Activation::Linear => {
                phi.copy_from_slice(h);
                dphi.fill(1.0);
            }
            _ => {
                for ((x, p), d) in h.iter().zip(phi.iter_mut()).zip(dphi.iter_mut()) {
                    (*p, *d) = act.phi_dphi_f32(*x);
                }
            }
        }
    }

    fn axpy(&self, alpha: f32, x: &[f32], y: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if super::sgemm_x86::has_avx512() {
            // SAFETY: the CPU has AVX-512F (detected above).
            unsafe { axpy_avx512(alpha, x, y) };
            return;
        }
        axpy(alpha, x, y);
    }

    fn mul_assign(&self, x: &[f32], y: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if super::sgemm_x86::has_avx512() {
            // SAFETY: the CPU has AVX-512F (detected above).
            unsafe { mul_assign_avx512(x, y) };
            return;
        }
        mul_assign(x, y);
    }

    fn residual(&self, f: &[f32], f0: &[f32], y: &[f32], scale: f32, e: &mut [f32]) {
        let n = y.len();
        for (i, (e, f)) in e.iter_mut().zip(f).enumerate() {
            let c = if f0.is_empty() { 0.0 } else { f0[i] };
            *e = scale * (f - c - y[i % n]);
        }
    }

    fn adam(&self, s: &AdamStep, g: &[f32], m: &mut [f32], v: &mut [f32], w: &mut [f32]) {
        for (((g, m), v), w) in g
            .iter()
            .zip(m.iter_mut())
            .zip(v.iter_mut())
            .zip(w.iter_mut())
        {
            *m = s.beta1 * *m + (1.0 - s.beta1) * g;
            *v = s.beta2 * *v + (1.0 - s.beta2) * g * g;
            *w -= s.lr * *m / (v.sqrt() + s.eps);
        }
    }

    fn langevin(
        &self,
        decay: f32,
        lr: f32,
        noise_scale: f32,
        g: &[f32],
        xi: &[f32],
        w: &mut [f32],
    ) {
        for ((w, g), xi) in w.iter_mut().zip(g).zip(xi) {
            *w = (1.0 - decay) * *w - lr * g + noise_scale * xi;
        }
    }

    fn sum_sq(&self, x: &[f32], out: &mut [f32]) {
        let len = if out.is_empty() {
            0
        } else {
            x.len() / out.len()
        };
        for (s, o) in out.iter_mut().enumerate() {
            *o = x[s * len..(s + 1) * len].iter().map(|v| v * v).sum();
        }
    }
}

/// `y += alpha x` (a multiply and an add per element: Rust never fuses them, so every
/// lane width gives the same numbers).
#[inline(always)]
fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}

/// `y *= x`, elementwise.
#[inline(always)]
fn mul_assign(x: &[f32], y: &mut [f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y *= x;
    }
}

/// [`axpy`] compiled for 16-lane AVX-512.
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn axpy_avx512(alpha: f32, x: &[f32], y: &mut [f32]) {
    axpy(alpha, x, y)
}

/// [`mul_assign`] compiled for 16-lane AVX-512.
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn mul_assign_avx512(x: &[f32], y: &mut [f32]) {
    mul_assign(x, y)
}

/// ReLU and its derivative, branch-free (the compiler vectorises it).
#[inline(always)]
fn relu(h: &[f32], phi: &mut [f32], dphi: &mut [f32]) {
    for ((x, p), d) in h.iter().zip(phi.iter_mut()).zip(dphi.iter_mut()) {
        let pos = *x > 0.0;
        *p = if pos { *x } else { 0.0 };
        *d = if pos { 1.0 } else { 0.0 };
    }
}

/// [`relu`] compiled for 16-lane AVX-512 (the default x86-64 target has 4 lanes).
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn relu_avx512(h: &[f32], phi: &mut [f32], dphi: &mut [f32]) {
    relu(h, phi, dphi)
}

/// Products with `m` or `n` equal to 1 as dot products or axpys (packing a panel for them
/// costs more than the arithmetic; an outer product, `k = 1`, measured no faster than
/// `matrixmultiply`). Returns false for every other shape. `k > 0`.
fn thin_gemm(
    g: &Gemm,
    (rsa, csa): (usize, usize),
    (rsb, csb): (usize, usize),
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
) -> bool {
    let (m, n, k) = (g.m, g.n, g.k);
    let scale = |c: &mut f32, v: f32| {
        *c = if g.beta == 0.0 {
            g.alpha * v
        } else {
            g.alpha * v + g.beta * *c
        }
    };
    if n == 1 && csa == 1 {
        // c[i] = a_i . b: rows of A and the column of B are both contiguous (k x 1 or 1 x k)
        for (i, ci) in c.iter_mut().enumerate().take(m) {
            scale(ci, dot(&a[i * rsa..i * rsa + k], &b[..k]));
        }
    } else if m == 1 && csb == 1 && rsb == n {
        // c = a B with B row-major: axpy of B's rows (a is contiguous either way)
        let mut acc = vec![0.0f32; n];
        for (l, &al) in a[..k].iter().enumerate() {
            for (x, &bv) in acc.iter_mut().zip(&b[l * n..(l + 1) * n]) {
                *x += al * bv;
            }
        }
        for (ci, v) in c.iter_mut().zip(acc) {
            scale(ci, v);
        }
    } else if m == 1 && rsb == 1 {
        // c_j = a . B[:, j] with B stored n x k: dots of contiguous rows
        for (j, cj) in c.iter_mut().enumerate().take(n) {
            scale(cj, dot(&a[..k], &b[j * csb..j * csb + k]));
        }
    } else {
        return false;
    }
    true
}

/// `x . y` with eight partial sums (so the compiler can keep them in vector lanes).
fn dot(x: &[f32], y: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (xc, yc) = (x.chunks_exact(8), y.chunks_exact(8));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (xs, ys) in xc.zip(yc) {
        for q in 0..8 {
            acc[q] += xs[q] * ys[q];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (a, b) in xr.iter().zip(yr) {
        s += a * b;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Naive reference product for one matrix.
    fn naive(g: &Gemm, a: &[f32], b: &[f32], c0: &[f32]) -> Vec<f32> {
        let mut c = c0.to_vec();
        for i in 0..g.m {
            for j in 0..g.n {
                let mut acc = 0.0;
                for l in 0..g.k {
                    let x = if g.trans_a {
                        a[l * g.m + i]
                    } else {
                        a[i * g.k + l]
                    };
                    let y = if g.trans_b {
                        b[j * g.k + l]
                    } else {
                        b[l * g.n + j]
                    };
                    acc += x * y;
                }
                c[i * g.n + j] = g.alpha * acc + g.beta * c0[i * g.n + j];
            }
        }
        c
    }

    #[test]
    fn gemm_all_transposes_match_naive() {
        for (m, n, k) in [(5, 7, 3), (37, 1, 19), (1, 23, 41), (13, 11, 1), (1, 1, 9)] {
            all_transposes(m, n, k);
        }
    }

    /// Every transpose combination of one shape (dimensions of 1 take the thin paths).
    fn all_transposes(m: usize, n: usize, k: usize) {
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.71).cos()).collect();
        let c0: Vec<f32> = (0..m * n).map(|i| i as f32 * 0.1).collect();
        for ta in [false, true] {
            for tb in [false, true] {
                let mut g = Gemm::new(1, m, n, k).alpha(0.5).beta(2.0);
                g.trans_a = ta;
                g.trans_b = tb;
                let mut c = c0.clone();
                Cpu.gemm(&g, &a, &b, &mut c);
                let r = naive(&g, &a, &b, &c0);
                for (x, y) in c.iter().zip(&r) {
                    assert!(
                        (x - y).abs() < 1e-5 * (1.0 + y.abs()),
                        "({m},{n},{k}) ta={ta} tb={tb}"
                    );
                }
                // beta = 0 never reads C (NaN there must not leak)
                let mut c = vec![f32::NAN; m * n];
                let g0 = g.beta(0.0);
                Cpu.gemm(&g0, &a, &b, &mut c);
                let r = naive(&g0, &a, &b, &vec![0.0; m * n]);
                for (x, y) in c.iter().zip(&r) {
                    assert!(
                        (x - y).abs() < 1e-5 * (1.0 + y.abs()),
                        "beta 0 ({m},{n},{k}) ta={ta} tb={tb}"
                    );
                }
            }
        }
    }
}
