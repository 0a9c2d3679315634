//! The CPU backend: packed SGEMM for products, plain loops for the elementwise ops.
//! Products run on, by target:
//! - x86-64: our AVX-512 or AVX2 + FMA kernels ([`super::sgemm_x86`], picked at run
//!   time) for products up to [`super::sgemm_x86::NARROW`] columns wide, where they
//!   beat `matrixmultiply`; `matrixmultiply` for wider ones (at least as fast inside a
//!   wide training step) and on CPUs without AVX2 (bench/README.md has the numbers);
//! - wasm32: our simd128 kernel ([`crate::packed_gemm`]);
//! - elsewhere: `matrixmultiply`.
//!
//! On the x86 kernels, a layer's product and its ReLU (`gemm_activate`), or a
//! backpropagated product and its `* phi'` (`gemm_mul`), are one pass: the kernel
//! applies them while each tile is in registers. Elsewhere they are two passes with the
//! same values.
//!
//! Products with `m`, `n` or `k` = 1 (the scalar readout `f = phi w^T`, its weight
//! gradient, and the backpropagation from it) skip the packing and run as dot
//! products, axpys or an outer product. Single-threaded; parallelism lives at the level
//! of sweep cells.

use super::seq::{self, Attention, Norm, SeqLoss};
use super::{AdamStep, Backend, Gemm};
use crate::config::Activation;

/// The CPU backend (stateless).
pub struct Cpu;

impl Backend for Cpu {
    fn name(&self) -> String {
        "cpu".into()
    }

    fn gemm(&self, g: &Gemm, a: &[f32], b: &[f32], c: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if let Some(isa) = x86_kernel(g) {
            x86_product(isa, g, a, b, c, super::sgemm_x86::Epilogue::None);
            return;
        }
        product(g, a, b, c, None);
    }

    fn gemm_activate(
        &self,
        g: &Gemm,
        a: &[f32],
        b: &[f32],
        act: Activation,
        h: &mut [f32],
        phi: &mut [f32],
        dphi: &mut [f32],
    ) {
        #[cfg(target_arch = "x86_64")]
        if act == Activation::Relu
            && let Some(isa) = x86_kernel(g)
        {
            let epi = super::sgemm_x86::Epilogue::Relu { phi, dphi };
            x86_product(isa, g, a, b, h, epi);
            return;
        }
        self.gemm(g, a, b, h);
        self.activate(act, h, phi, dphi);
    }

    fn gemm_mul(&self, g: &Gemm, a: &[f32], b: &[f32], x: &[f32], c: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if let Some(isa) = x86_kernel(g) {
            x86_product(isa, g, a, b, c, super::sgemm_x86::Epilogue::Mul(x));
            return;
        }
        product(g, a, b, c, Some(x));
    }

    fn activate(&self, act: Activation, h: &[f32], phi: &mut [f32], dphi: &mut [f32]) {
        let n = h.len().min(phi.len()).min(dphi.len());
        let (h, phi, dphi) = (&h[..n], &mut phi[..n], &mut dphi[..n]);
        // Branch-free loops the compiler vectorises for the piecewise-linear activations
        // (same values as `phi_dphi_f32`) and GELU (`fastmath`, within 3e-7 of it); the
        // others call `phi_dphi_f32` per element.
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
            Activation::Gelu => {
                #[cfg(target_arch = "x86_64")]
                if super::sgemm_x86::has_avx512() {
                    // SAFETY: the CPU has AVX-512F (detected above).
                    unsafe { gelu_avx512(h, phi, dphi) };
                    return;
                }
                gelu(h, phi, dphi);
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

    fn axpy_members(&self, rate: &[f32], x: &[f32], y: &mut [f32]) {
        let per = y.len() / rate.len().max(1);
        for (e, &r) in rate.iter().enumerate() {
            let block = e * per..(e + 1) * per;
            self.axpy(r, &x[block.clone()], &mut y[block]);
        }
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
            let xs = &x[s * len..(s + 1) * len];
            #[cfg(target_arch = "x86_64")]
            if super::sgemm_x86::has_avx512() {
                // SAFETY: the CPU has AVX-512F (detected above).
                *o = unsafe { sum_squares_avx512(xs) };
                continue;
            }
            *o = sum_squares(xs);
        }
    }

    fn attention(&self, a: &Attention, qkv: &[f32], probs: &mut [f32], out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if super::sgemm_x86::has_avx512() {
            // SAFETY: the CPU has AVX-512F (detected above).
            unsafe { seq::avx512::attention(a, qkv, probs, out) };
            return;
        }
        seq::attention(a, qkv, probs, out);
    }

    fn attention_backward(
        &self,
        a: &Attention,
        qkv: &[f32],
        probs: &[f32],
        dout: &[f32],
        ds: &mut [f32],
        dqkv: &mut [f32],
    ) {
        #[cfg(target_arch = "x86_64")]
        if super::sgemm_x86::has_avx512() {
            // SAFETY: the CPU has AVX-512F (detected above).
            unsafe { seq::avx512::attention_backward(a, qkv, probs, dout, ds, dqkv) };
            return;
        }
        seq::attention_backward(a, qkv, probs, dout, ds, dqkv);
    }

    fn norm(
        &self,
        n: &Norm,
        x: &[f32],
        gain: &[f32],
        y: &mut [f32],
        xhat: &mut [f32],
        rstd: &mut [f32],
    ) {
        #[cfg(target_arch = "x86_64")]
        if super::sgemm_x86::has_avx512() {
            // SAFETY: the CPU has AVX-512F (detected above).
            unsafe { seq::avx512::norm(n, x, gain, y, xhat, rstd) };
            return;
        }
        seq::norm(n, x, gain, y, xhat, rstd);
    }

    fn norm_backward(
        &self,
        n: &Norm,
        dy: &[f32],
        xhat: &[f32],
        rstd: &[f32],
        gain: &[f32],
        dx: &mut [f32],
        dgain: &mut [f32],
    ) {
        #[cfg(target_arch = "x86_64")]
        if super::sgemm_x86::has_avx512() {
            // SAFETY: the CPU has AVX-512F (detected above).
            unsafe { seq::avx512::norm_backward(n, dy, xhat, rstd, gain, dx, dgain) };
            return;
        }
        seq::norm_backward(n, dy, xhat, rstd, gain, dx, dgain);
    }

    fn seq_loss(
        &self,
        l: &SeqLoss,
        logits: &[f32],
        targets: &[f32],
        scale: f32,
        dlogits: &mut [f32],
        loss: &mut [f32],
    ) {
        #[cfg(target_arch = "x86_64")]
        if super::sgemm_x86::has_avx512() {
            // SAFETY: the CPU has AVX-512F (detected above).
            unsafe { seq::avx512::seq_loss(l, logits, targets, scale, dlogits, loss) };
            return;
        }
        seq::seq_loss(l, logits, targets, scale, dlogits, loss);
    }

    fn adam_members(
        &self,
        s: &AdamStep,
        member_lr: &[f32],
        g: &[f32],
        m: &mut [f32],
        v: &mut [f32],
        w: &mut [f32],
    ) {
        #[cfg(target_arch = "x86_64")]
        if super::sgemm_x86::has_avx512() {
            // SAFETY: the CPU has AVX-512F (detected above).
            unsafe { seq::avx512::adam_members(s, member_lr, g, m, v, w) };
            return;
        }
        seq::adam_members(s, member_lr, g, m, v, w);
    }
}

/// The products the x86 kernels do not take (thin shapes, wasm32, `matrixmultiply`),
/// then `c *= x` if given (fused into the outer product, a separate pass otherwise).
/// Thin shapes ([`thin_gemm`]) and `matrixmultiply` go one matrix of the batch at a
/// time; on wasm32 the whole batch is one call of the simd128 kernel
/// ([`crate::packed_gemm::sgemm_batch`]), which packs a shared operand once for every
/// matrix.
fn product(g: &Gemm, a: &[f32], b: &[f32], c: &mut [f32], x: Option<&[f32]>) {
    let (rsa, csa) = row_col_strides(g.trans_a, g.m, g.k);
    let (rsb, csb) = row_col_strides(g.trans_b, g.k, g.n);
    let (mn, sc) = (g.m * g.n, g.stride_c);
    let x_s = |s: usize| x.map(|x| &x[s * sc..s * sc + mn]);
    if g.k == 0 || is_thin(g, csa, (rsb, csb)) {
        for s in 0..g.batch {
            let a_s = &a[s * g.stride_a..s * g.stride_a + g.m * g.k];
            let b_s = &b[s * g.stride_b..s * g.stride_b + g.k * g.n];
            let c_s = &mut c[s * sc..s * sc + mn];
            if g.k == 0 {
                c_s.iter_mut().for_each(|v| *v *= g.beta);
                if let Some(x_s) = x_s(s) {
                    Cpu.mul_assign(x_s, c_s);
                }
                continue;
            }
            #[cfg(target_arch = "x86_64")]
            if super::sgemm_x86::has_avx512() {
                // SAFETY: the CPU has AVX-512F (detected above).
                unsafe { thin_gemm_avx512(g, (rsa, csa), (rsb, csb), a_s, b_s, c_s, x_s(s)) };
                continue;
            }
            thin_gemm(g, (rsa, csa), (rsb, csb), a_s, b_s, c_s, x_s(s));
        }
        return;
    }
    if cfg!(target_arch = "wasm32") {
        let view = |data, rs, cs| crate::packed_gemm::View { data, rs, cs };
        crate::packed_gemm::sgemm_batch(
            g.batch,
            (g.m, g.n, g.k),
            g.alpha,
            (view(a, rsa, csa), g.stride_a),
            (view(b, rsb, csb), g.stride_b),
            g.beta,
            (c, sc),
            g.n,
        );
    } else {
        for s in 0..g.batch {
            let a_s = &a[s * g.stride_a..s * g.stride_a + g.m * g.k];
            let b_s = &b[s * g.stride_b..s * g.stride_b + g.k * g.n];
            let c_s = &mut c[s * sc..s * sc + mn];
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
    if x.is_some() {
        for s in 0..g.batch {
            if let Some(x_s) = x_s(s) {
                Cpu.mul_assign(x_s, &mut c[s * sc..s * sc + mn]);
            }
        }
    }
}

/// Row-major `(row, column)` strides of `op(M)` `[rows x cols]` for a matrix stored
/// `[rows x cols]` (or `[cols x rows]` when `trans`).
fn row_col_strides(trans: bool, rows: usize, cols: usize) -> (usize, usize) {
    if trans { (1, rows) } else { (cols, 1) }
}

/// The native x86 kernel for this product, if it takes it: not the thin shapes (`m`,
/// `n` or `k` = 1, cheaper as plain loops, see [`thin_gemm`]) and not what
/// [`super::sgemm_x86::choose`] leaves to `matrixmultiply`.
#[cfg(target_arch = "x86_64")]
fn x86_kernel(g: &Gemm) -> Option<super::sgemm_x86::Isa> {
    if g.k > 1 && g.m > 1 && g.n > 1 {
        super::sgemm_x86::choose(g.n)
    } else {
        None
    }
}

/// The product on the x86 kernel `isa`, with `epi` applied as its tiles are stored.
#[cfg(target_arch = "x86_64")]
fn x86_product(
    isa: super::sgemm_x86::Isa,
    g: &Gemm,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    epi: super::sgemm_x86::Epilogue,
) {
    let (rsa, csa) = row_col_strides(g.trans_a, g.m, g.k);
    let (rsb, csb) = row_col_strides(g.trans_b, g.k, g.n);
    let view = |data, rs, cs| crate::packed_gemm::View { data, rs, cs };
    super::sgemm_x86::sgemm_batch(
        isa,
        g.batch,
        (g.m, g.n, g.k),
        g.alpha,
        (view(a, rsa, csa), g.stride_a),
        (view(b, rsb, csb), g.stride_b),
        g.beta,
        (c, g.stride_c),
        epi,
    );
}

/// GELU and its derivative by [`super::fastmath::gelu`] (branch-free: vectorised).
#[inline(always)]
fn gelu(h: &[f32], phi: &mut [f32], dphi: &mut [f32]) {
    for ((x, p), d) in h.iter().zip(phi.iter_mut()).zip(dphi.iter_mut()) {
        (*p, *d) = super::fastmath::gelu(*x);
    }
}

/// [`gelu`] compiled for 16-lane AVX-512.
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn gelu_avx512(h: &[f32], phi: &mut [f32], dphi: &mut [f32]) {
    gelu(h, phi, dphi)
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

/// `sum_i x_i^2` in 16 interleaved partial sums (lane `j` takes `i = j mod 16`), added
/// at the end: the compiler vectorises it, where one running sum waits on every add.
#[inline(always)]
fn sum_squares(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let chunks = x.chunks_exact(16);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v * v;
        }
    }
    acc.iter().sum::<f32>() + rest.iter().map(|v| v * v).sum::<f32>()
}

/// [`sum_squares`] compiled for 16-lane AVX-512.
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn sum_squares_avx512(x: &[f32]) -> f32 {
    sum_squares(x)
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

/// Whether [`thin_gemm`] takes this product: `m` or `n` equal to 1 with the operand
/// layouts its dot products and axpys read, or `k = 1`. Depends on the shape and the
/// layouts only, so it holds for every matrix of a batch or for none.
fn is_thin(g: &Gemm, csa: usize, (rsb, csb): (usize, usize)) -> bool {
    (g.n == 1 && csa == 1)
        || (g.m == 1 && csb == 1 && rsb == g.n)
        || (g.m == 1 && rsb == 1)
        || g.k == 1
}

/// Products with `m` or `n` equal to 1 as dot products or axpys, and outer products
/// (`k = 1`, the backpropagation into the last hidden layer from a scalar output) as
/// one multiply per element: packing panels for them costs more than the arithmetic.
/// Then `c *= x` if given (in the same pass for the outer product). Only for the
/// shapes [`is_thin`] accepts (it panics on others). `k > 0`.
#[inline(always)]
fn thin_gemm(
    g: &Gemm,
    (rsa, csa): (usize, usize),
    (rsb, csb): (usize, usize),
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    x: Option<&[f32]>,
) {
    let (m, n, k) = (g.m, g.n, g.k);
    let scale = |c: &mut f32, v: f32| {
        *c = if g.beta == 0.0 {
            g.alpha * v
        } else {
            g.alpha * v + g.beta * *c
        }
    };
    if n == 1 && csa == 1 {
        // c[i] = a_i . b: rows of A and the column of B are both contiguous (k x 1 or
        // 1 x k); four rows at a time, so that their sums run as independent chains.
        let row = |i: usize| &a[i * rsa..i * rsa + k];
        let quads = m / 4 * 4;
        for i in (0..quads).step_by(4) {
            let d = dot4([row(i), row(i + 1), row(i + 2), row(i + 3)], &b[..k]);
            for (ci, v) in c[i..i + 4].iter_mut().zip(d) {
                scale(ci, v);
            }
        }
        for (i, ci) in c.iter_mut().enumerate().take(m).skip(quads) {
            scale(ci, dot(row(i), &b[..k]));
        }
    } else if m == 1 && csb == 1 && rsb == n {
        // c = a B with B row-major: axpy of B's rows (a is contiguous either way),
        // accumulated in C itself when its old values are not needed
        let axpys = |acc: &mut [f32]| {
            for (l, &al) in a[..k].iter().enumerate() {
                for (x, &bv) in acc.iter_mut().zip(&b[l * n..(l + 1) * n]) {
                    *x += al * bv;
                }
            }
        };
        if g.beta == 0.0 {
            let c = &mut c[..n];
            c.fill(0.0);
            axpys(c);
            c.iter_mut().for_each(|x| *x *= g.alpha);
        } else {
            let mut acc = vec![0.0f32; n];
            axpys(&mut acc);
            for (ci, v) in c.iter_mut().zip(acc) {
                scale(ci, v);
            }
        }
    } else if m == 1 && rsb == 1 {
        // c_j = a . B[:, j] with B stored n x k: dots of contiguous rows
        for (j, cj) in c.iter_mut().enumerate().take(n) {
            scale(cj, dot(&a[..k], &b[j * csb..j * csb + k]));
        }
    } else if k == 1 {
        // c_ij = a_i b_j: the same rounding as a kernel's fma(a_i, b_j, 0)
        for (i, row) in c.chunks_exact_mut(n).take(m).enumerate() {
            let ai = a[i * rsa];
            match x {
                Some(x) if csb == 1 && g.beta == 0.0 => {
                    let x = &x[i * n..(i + 1) * n];
                    for ((cij, bj), xij) in row.iter_mut().zip(&b[..n]).zip(x) {
                        *cij = g.alpha * (ai * bj) * xij;
                    }
                }
                None if csb == 1 && g.beta == 0.0 => {
                    for (cij, bj) in row.iter_mut().zip(&b[..n]) {
                        *cij = g.alpha * (ai * bj);
                    }
                }
                _ => {
                    for (j, cij) in row.iter_mut().enumerate() {
                        scale(cij, ai * b[j * csb]);
                    }
                    if let Some(x) = x {
                        mul_assign(&x[i * n..(i + 1) * n], row);
                    }
                }
            }
        }
        return;
    } else {
        unreachable!("thin_gemm on a product is_thin refuses");
    }
    if let Some(x) = x {
        mul_assign(&x[..m * n], &mut c[..m * n]);
    }
}

/// [`thin_gemm`] compiled for 16-lane AVX-512 (the same operations in the same order:
/// Rust never fuses a multiply and an add).
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn thin_gemm_avx512(
    g: &Gemm,
    strides_a: (usize, usize),
    strides_b: (usize, usize),
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    x: Option<&[f32]>,
) {
    thin_gemm(g, strides_a, strides_b, a, b, c, x)
}

/// `x . y` with eight partial sums (so the compiler can keep them in vector lanes).
#[inline(always)]
fn dot(x: &[f32], y: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (xc, yc) = (x.chunks_exact(8), y.chunks_exact(8));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (xs, ys) in xc.zip(yc) {
        for q in 0..8 {
            acc[q] += xs[q] * ys[q];
        }
    }
    reduce8(acc, xr, yr)
}

/// [`dot`] of four rows with one `y`, each summed in exactly `dot`'s order.
#[inline(always)]
fn dot4(x: [&[f32]; 4], y: &[f32]) -> [f32; 4] {
    let k = y.len();
    let x = x.map(|r| &r[..k]);
    let full = k / 8 * 8;
    let mut acc = [[0.0f32; 8]; 4];
    for l in (0..full).step_by(8) {
        let ys = &y[l..l + 8];
        for (acc_r, x_r) in acc.iter_mut().zip(&x) {
            let xs = &x_r[l..l + 8];
            for q in 0..8 {
                acc_r[q] += xs[q] * ys[q];
            }
        }
    }
    let tail = |r: usize| reduce8(acc[r], &x[r][full..], &y[full..]);
    [tail(0), tail(1), tail(2), tail(3)]
}

/// The eight partial sums of a dot product added pairwise, then the remainder terms.
#[inline(always)]
fn reduce8(acc: [f32; 8], xr: &[f32], yr: &[f32]) -> f32 {
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
