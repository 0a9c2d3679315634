//! The backend ops on the GPU: each records one kernel launch (see the `.wgsl` headers);
//! a product with its activation or its multiply is one launch too (the matmul's epilogue).

use super::kernels::Kernel;
use super::{Gpu, GpuBuffer, f, grid};
use crate::backend::{AdamStep, Gemm};
use crate::config::Activation;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether [`Gpu::gemm`] may pick the vec4-load matmul variants (on by default).
static MATMUL_VEC4: AtomicBool = AtomicBool::new(true);

/// An operand can be bound as `array<vec4<f32>>` when its stored row length and batch
/// stride are multiples of 4 (every 4-group of a row starts 16-byte aligned and lies
/// wholly inside or outside the matrix) and its buffer is whole vec4s.
fn vec4_ok(buf: &GpuBuffer, row_len: usize, stride: usize) -> bool {
    row_len.is_multiple_of(4)
        && stride.is_multiple_of(4)
        && buf.len.is_multiple_of(4)
        && buf.len >= 4
}

fn u(x: usize) -> u32 {
    u32::try_from(x).expect("GPU tensor dimension exceeds u32")
}

fn act_code(a: Activation) -> u32 {
    match a {
        Activation::Relu => 0,
        Activation::Tanh => 1,
        Activation::Erf => 2,
        Activation::Gelu => 3,
        Activation::Linear => 4,
    }
}

impl Gpu {
    /// Benchmark hook: allow (default) or forbid the vec4-load matmul variants
    /// process-wide, to compare them with the scalar loads.
    #[doc(hidden)]
    pub fn set_matmul_vec4(enabled: bool) {
        MATMUL_VEC4.store(enabled, Ordering::Relaxed);
    }

    /// Batched matrix product, see [`Gemm`] and `matmul.wgsl`.
    pub fn gemm(&self, g: &Gemm, a: &GpuBuffer, b: &GpuBuffer, c: &mut GpuBuffer) {
        let (e0, e1) = self.stand_ins();
        self.matmul(g, [a, b, c, e0, e1], [0, 0]);
    }

    /// The product into `h`, then `phi = act(h)`, `dphi = act'(h)` as each element is
    /// stored: one launch (`matmul.wgsl`'s epilogue 1), the values of [`Gpu::gemm`]
    /// then [`Gpu::activate`].
    #[allow(clippy::too_many_arguments)]
    pub fn gemm_activate(
        &self,
        g: &Gemm,
        a: &GpuBuffer,
        b: &GpuBuffer,
        act: Activation,
        h: &mut GpuBuffer,
        phi: &mut GpuBuffer,
        dphi: &mut GpuBuffer,
    ) {
        self.matmul(g, [a, b, h, phi, dphi], [1, act_code(act)]);
    }

    /// The product into `c`, then `c *= x` as each element is stored: one launch
    /// (`matmul.wgsl`'s epilogue 2), the values of [`Gpu::gemm`] then
    /// [`Gpu::mul_assign`].
    pub fn gemm_mul(
        &self,
        g: &Gemm,
        a: &GpuBuffer,
        b: &GpuBuffer,
        x: &GpuBuffer,
        c: &mut GpuBuffer,
    ) {
        let (_, e1) = self.stand_ins();
        self.matmul(g, [a, b, c, x, e1], [2, 0]);
    }

    /// Launch the matmul variant that suits the operands: `bufs` = A, B, C and the
    /// epilogue's two arrays, `epilogue` = (kind, activation code).
    fn matmul(&self, g: &Gemm, bufs: [&GpuBuffer; 5], epilogue: [u32; 2]) {
        let [a, b, ..] = bufs;
        let params = [
            u(g.m),
            u(g.n),
            u(g.k),
            g.trans_a as u32,
            g.trans_b as u32,
            u(g.stride_a),
            u(g.stride_b),
            u(g.stride_c),
            f(g.alpha),
            f(g.beta),
            epilogue[0],
            epilogue[1],
        ];
        let groups = [u(g.n.div_ceil(64)), u(g.m.div_ceil(64)), u(g.batch)];
        let vec4 = MATMUL_VEC4.load(Ordering::Relaxed);
        let a4 = vec4 && vec4_ok(a, if g.trans_a { g.m } else { g.k }, g.stride_a);
        let b4 = vec4 && vec4_ok(b, if g.trans_b { g.k } else { g.n }, g.stride_b);
        let kernel = match (a4, b4) {
            (false, false) => Kernel::Matmul,
            (true, false) => Kernel::MatmulA4,
            (false, true) => Kernel::MatmulB4,
            (true, true) => Kernel::MatmulA4B4,
        };
        self.launch(kernel, params, &bufs, groups);
    }

    pub fn activate(
        &self,
        act: Activation,
        h: &GpuBuffer,
        phi: &mut GpuBuffer,
        dphi: &mut GpuBuffer,
    ) {
        let n = h.len;
        let params = [u(n), act_code(act), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        self.launch(Kernel::Activate, params, &[h, phi, dphi], grid(n));
    }

    pub fn axpy(&self, alpha: f32, x: &GpuBuffer, y: &mut GpuBuffer) {
        let n = y.len;
        let params = [u(n), f(alpha), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        self.launch(Kernel::Axpy, params, &[x, y], grid(n));
    }

    /// `y[i] += rate[i / per] x[i]`, `per = len / rate.len()` (`axpy_members.wgsl`).
    pub fn axpy_members(&self, rate: &GpuBuffer, x: &GpuBuffer, y: &mut GpuBuffer) {
        let n = y.len;
        let per = (n / rate.len.max(1)).max(1);
        let params = [u(n), u(per), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        self.launch(Kernel::AxpyMembers, params, &[rate, x, y], grid(n));
    }

    pub fn mul_assign(&self, x: &GpuBuffer, y: &mut GpuBuffer) {
        let n = y.len;
        let params = [u(n), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        self.launch(Kernel::Mul, params, &[x, y], grid(n));
    }

    pub fn residual(
        &self,
        fx: &GpuBuffer,
        f0: Option<&GpuBuffer>,
        y: &GpuBuffer,
        scale: f32,
        e: &mut GpuBuffer,
    ) {
        let n = e.len;
        let params = [
            u(n),
            u(y.len.max(1)),
            f0.is_some() as u32,
            f(scale),
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        let f0 = f0.unwrap_or(self.dummy());
        self.launch(Kernel::Residual, params, &[fx, f0, y, e], grid(n));
    }

    pub fn adam(
        &self,
        s: &AdamStep,
        g: &GpuBuffer,
        m: &mut GpuBuffer,
        v: &mut GpuBuffer,
        w: &mut GpuBuffer,
    ) {
        let n = w.len;
        let params = [
            u(n),
            f(s.lr),
            f(s.beta1),
            f(s.beta2),
            f(s.eps),
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        self.launch(Kernel::Adam, params, &[g, m, v, w], grid(n));
    }

    pub fn langevin(
        &self,
        decay: f32,
        lr: f32,
        noise_scale: f32,
        g: &GpuBuffer,
        xi: &GpuBuffer,
        w: &mut GpuBuffer,
    ) {
        let n = w.len;
        let params = [
            u(n),
            f(decay),
            f(lr),
            f(noise_scale),
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        self.launch(Kernel::Langevin, params, &[g, xi, w], grid(n));
    }

    /// `out[s] = sum_i x[s * len + i]^2` for `s < out.len()`.
    pub fn sum_sq(&self, x: &GpuBuffer, out: &mut GpuBuffer) {
        let batch = out.len;
        let len = x.len.checked_div(batch).unwrap_or(0);
        let params = [u(len), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        self.launch(Kernel::SumSq, params, &[x, out], [u(batch), 1, 1]);
    }
}
