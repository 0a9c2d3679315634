//! The backend seam: a small set of f32 array ops that the training engine and the
//! solvers need, behind a runtime [`Device`] enum: `Cpu` (packed SGEMM, plain loops) or
//! `Gpu` (WGSL compute shaders through wgpu, see [`gpu`]). Arrays live on their device as
//! [`Tensor`]s; the engines only read numbers back with [`Device::download`] when they
//! record. [`select`] picks the device (size threshold, user override, CPU fallback).
//!
//! Every op is batched over the ensemble: a tensor of `batch` matrices is one contiguous
//! buffer, matrix `s` at offset `s * stride`; a stride of 0 broadcasts one matrix to the
//! whole batch (the shared data X).

mod cpu;
pub mod fastmath;
pub mod gpu;
pub mod select;
pub mod seq;
#[cfg(target_arch = "x86_64")]
pub mod sgemm_x86;

pub use cpu::Cpu;
pub use gpu::{Gpu, GpuOptions};
pub use select::{BackendReport, DeviceChoice, DeviceKind, Selection};
pub use seq::{Attention, LossKind, Norm, NormKind, SeqLoss};

use crate::config::Activation;

/// A dense f32 array resident on a device.
#[derive(Clone, Debug)]
pub struct Tensor {
    storage: Storage,
}

#[derive(Clone, Debug)]
enum Storage {
    Cpu(Vec<f32>),
    Gpu(gpu::GpuBuffer),
}

impl Tensor {
    /// Number of f32 elements.
    pub fn len(&self) -> usize {
        match &self.storage {
            Storage::Cpu(v) => v.len(),
            Storage::Gpu(b) => b.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn cpu(&self) -> &[f32] {
        match &self.storage {
            Storage::Cpu(v) => v,
            Storage::Gpu(_) => panic!("GPU tensor used by the CPU backend"),
        }
    }
    fn cpu_mut(&mut self) -> &mut [f32] {
        match &mut self.storage {
            Storage::Cpu(v) => v,
            Storage::Gpu(_) => panic!("GPU tensor used by the CPU backend"),
        }
    }
    fn gpu(&self) -> &gpu::GpuBuffer {
        match &self.storage {
            Storage::Gpu(b) => b,
            Storage::Cpu(_) => panic!("CPU tensor used by the GPU backend"),
        }
    }
    fn gpu_mut(&mut self) -> &mut gpu::GpuBuffer {
        match &mut self.storage {
            Storage::Gpu(b) => b,
            Storage::Cpu(_) => panic!("CPU tensor used by the GPU backend"),
        }
    }
}

/// A batched matrix product `C[s] = alpha op(A[s]) op(B[s]) + beta C[s]` for
/// `s < batch`, with `op(A)` `[m x k]` and `op(B)` `[k x n]`, all row-major.
/// `trans_a` means A is stored `[k x m]`; `trans_b` means B is stored `[n x k]`.
/// Strides are in elements between consecutive matrices of the batch (0 = broadcast).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gemm {
    pub batch: usize,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub trans_a: bool,
    pub trans_b: bool,
    pub alpha: f32,
    pub beta: f32,
    pub stride_a: usize,
    pub stride_b: usize,
    pub stride_c: usize,
}

impl Gemm {
    /// A plain batched product with dense strides (`m*k`, `k*n`, `m*n`).
    pub fn new(batch: usize, m: usize, n: usize, k: usize) -> Self {
        Gemm {
            batch,
            m,
            n,
            k,
            trans_a: false,
            trans_b: false,
            alpha: 1.0,
            beta: 0.0,
            stride_a: m * k,
            stride_b: k * n,
            stride_c: m * n,
        }
    }
    pub fn ta(mut self) -> Self {
        self.trans_a = true;
        self
    }
    pub fn tb(mut self) -> Self {
        self.trans_b = true;
        self
    }
    pub fn alpha(mut self, a: f32) -> Self {
        self.alpha = a;
        self
    }
    pub fn beta(mut self, b: f32) -> Self {
        self.beta = b;
        self
    }
    /// Use one A for every matrix of the batch.
    pub fn broadcast_a(mut self) -> Self {
        self.stride_a = 0;
        self
    }
    /// Use one B for every matrix of the batch.
    pub fn broadcast_b(mut self) -> Self {
        self.stride_b = 0;
        self
    }
}

/// Hyperparameters of one Adam step (bias corrections already folded into `lr`).
#[derive(Clone, Copy, Debug)]
pub struct AdamStep {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
}

/// The ops of a backend. Implemented by [`Cpu`]; a GPU backend implements the same.
pub trait Backend {
    /// Name shown to the user ("cpu", "gpu: <adapter>").
    fn name(&self) -> String;
    /// Batched matrix product, see [`Gemm`].
    fn gemm(&self, g: &Gemm, a: &[f32], b: &[f32], c: &mut [f32]);
    /// `phi = act(h)`, `dphi = act'(h)`, elementwise.
    fn activate(&self, act: Activation, h: &[f32], phi: &mut [f32], dphi: &mut [f32]);
    /// The product `h = alpha op(A) op(B) + beta h` ([`Gemm`]), then
    /// `phi = act(h)`, `dphi = act'(h)`: a layer's pre-activations and activations in one
    /// call, so that a backend can apply the activation while it writes the product
    /// (same values as [`Backend::gemm`] then [`Backend::activate`]).
    #[allow(clippy::too_many_arguments)]
    fn gemm_activate(
        &self,
        g: &Gemm,
        a: &[f32],
        b: &[f32],
        act: Activation,
        h: &mut [f32],
        phi: &mut [f32],
        dphi: &mut [f32],
    );
    /// The product `c = alpha op(A) op(B) + beta c` ([`Gemm`]), then `c *= x`
    /// elementwise (backpropagation through an activation: `dh = (dL/dphi) phi'`; same
    /// values as [`Backend::gemm`] then [`Backend::mul_assign`]).
    fn gemm_mul(&self, g: &Gemm, a: &[f32], b: &[f32], x: &[f32], c: &mut [f32]);
    /// `y += alpha x`.
    fn axpy(&self, alpha: f32, x: &[f32], y: &mut [f32]);
    /// `y[i] += rate[e] x[i]` with one rate per ensemble member: element `i` belongs to
    /// member `e = i / (len / E)` (`E = rate.len()`); the same numbers as
    /// [`Backend::axpy`] with `alpha = rate[e]` on each member's block.
    fn axpy_members(&self, rate: &[f32], x: &[f32], y: &mut [f32]);
    /// `y *= x`, elementwise.
    fn mul_assign(&self, x: &[f32], y: &mut [f32]);
    /// `e[s, i] = scale (f[s, i] - f0[s, i] - y[i])` with `y` broadcast over `s`
    /// (`f0` may be empty: no centring).
    fn residual(&self, f: &[f32], f0: &[f32], y: &[f32], scale: f32, e: &mut [f32]);
    /// Adam moment update and step on `w`.
    fn adam(&self, s: &AdamStep, g: &[f32], m: &mut [f32], v: &mut [f32], w: &mut [f32]);
    /// `w = (1 - decay) w - lr g + noise_scale xi`.
    fn langevin(&self, decay: f32, lr: f32, noise_scale: f32, g: &[f32], xi: &[f32], w: &mut [f32]);
    /// `out[s] = sum_i x[s * len + i]^2` with `len = x.len() / out.len()`.
    fn sum_sq(&self, x: &[f32], out: &mut [f32]);
    /// Multi-head causal self-attention ([`Attention`]; layouts in [`seq`]).
    fn attention(&self, a: &Attention, qkv: &[f32], probs: &mut [f32], out: &mut [f32]);
    /// Its backward pass: `dqkv` from `dout`, `ds` scratch of the size of `probs`.
    fn attention_backward(
        &self,
        a: &Attention,
        qkv: &[f32],
        probs: &[f32],
        dout: &[f32],
        ds: &mut [f32],
        dqkv: &mut [f32],
    );
    /// Layer or RMS norm ([`Norm`]): `y = gain o xhat`, keeping `xhat` and `rstd`.
    fn norm(
        &self,
        n: &Norm,
        x: &[f32],
        gain: &[f32],
        y: &mut [f32],
        xhat: &mut [f32],
        rstd: &mut [f32],
    );
    /// Its backward pass: `dx += dL/dx`, `dgain = dL/dgain`.
    #[allow(clippy::too_many_arguments)]
    fn norm_backward(
        &self,
        n: &Norm,
        dy: &[f32],
        xhat: &[f32],
        rstd: &[f32],
        gain: &[f32],
        dx: &mut [f32],
        dgain: &mut [f32],
    );
    /// Per-row loss and `scale` times its gradient ([`SeqLoss`]).
    fn seq_loss(
        &self,
        l: &SeqLoss,
        logits: &[f32],
        targets: &[f32],
        scale: f32,
        dlogits: &mut [f32],
        loss: &mut [f32],
    );
    /// Adam with the rate `s.lr * member_lr[e]` for ensemble member `e`.
    fn adam_members(
        &self,
        s: &AdamStep,
        member_lr: &[f32],
        g: &[f32],
        m: &mut [f32],
        v: &mut [f32],
        w: &mut [f32],
    );
}

/// The runtime choice of backend.
#[derive(Clone, Debug, Default)]
pub enum Device {
    #[default]
    Cpu,
    Gpu(Gpu),
}

impl Device {
    pub fn name(&self) -> String {
        match self {
            Device::Cpu => Cpu.name(),
            Device::Gpu(g) => g.name(),
        }
    }

    /// Why the device can no longer compute (a lost or failed GPU); None while healthy.
    pub fn lost(&self) -> Option<String> {
        match self {
            Device::Cpu => None,
            Device::Gpu(g) => g.lost(),
        }
    }

    /// Copy host numbers to the device.
    pub fn upload(&self, v: &[f32]) -> Tensor {
        match self {
            Device::Cpu => self.from_vec(v.to_vec()),
            Device::Gpu(g) => Tensor {
                storage: Storage::Gpu(g.upload(v)),
            },
        }
    }
    /// Take ownership of host numbers (no copy on the CPU).
    pub fn from_vec(&self, v: Vec<f32>) -> Tensor {
        match self {
            Device::Cpu => Tensor {
                storage: Storage::Cpu(v),
            },
            Device::Gpu(_) => self.upload(&v),
        }
    }
    pub fn zeros(&self, n: usize) -> Tensor {
        match self {
            Device::Cpu => self.from_vec(vec![0.0; n]),
            Device::Gpu(g) => Tensor {
                storage: Storage::Gpu(g.zeros(n)),
            },
        }
    }
    /// Copy device numbers back to the host (on the GPU: waits for the recorded work).
    pub fn download(&self, t: &Tensor) -> Vec<f32> {
        match self {
            Device::Cpu => t.cpu().to_vec(),
            Device::Gpu(g) => g.download(t.gpu()),
        }
    }
    /// Copy device numbers back to the host without blocking: the CPU is immediate, a
    /// native GPU polls to completion, WebGPU in the browser resolves from the event loop.
    /// The only readback that works in the browser.
    pub async fn download_async(&self, t: &Tensor) -> Vec<f32> {
        match self {
            Device::Cpu => t.cpu().to_vec(),
            Device::Gpu(g) => g.download_async(t.gpu()).await,
        }
    }
    /// Overwrite `dst` with `src` (same length).
    pub fn copy(&self, src: &Tensor, dst: &mut Tensor) {
        match self {
            Device::Cpu => dst.cpu_mut().copy_from_slice(src.cpu()),
            Device::Gpu(g) => g.copy(src.gpu(), dst.gpu_mut()),
        }
    }
    /// Overwrite a tensor with host numbers.
    pub fn write(&self, dst: &mut Tensor, v: &[f32]) {
        match self {
            Device::Cpu => dst.cpu_mut().copy_from_slice(v),
            Device::Gpu(g) => g.write(dst.gpu_mut(), v),
        }
    }

    pub fn gemm(&self, g: &Gemm, a: &Tensor, b: &Tensor, c: &mut Tensor) {
        match self {
            Device::Cpu => Cpu.gemm(g, a.cpu(), b.cpu(), c.cpu_mut()),
            Device::Gpu(d) => d.gemm(g, a.gpu(), b.gpu(), c.gpu_mut()),
        }
    }
    /// [`Backend::gemm_activate`]: the CPU kernels and the GPU's matmul apply the
    /// activation as they store the product (one kernel launch on the GPU).
    #[allow(clippy::too_many_arguments)]
    pub fn gemm_activate(
        &self,
        g: &Gemm,
        a: &Tensor,
        b: &Tensor,
        act: Activation,
        h: &mut Tensor,
        phi: &mut Tensor,
        dphi: &mut Tensor,
    ) {
        match self {
            Device::Cpu => Cpu.gemm_activate(
                g,
                a.cpu(),
                b.cpu(),
                act,
                h.cpu_mut(),
                phi.cpu_mut(),
                dphi.cpu_mut(),
            ),
            Device::Gpu(d) => d.gemm_activate(
                g,
                a.gpu(),
                b.gpu(),
                act,
                h.gpu_mut(),
                phi.gpu_mut(),
                dphi.gpu_mut(),
            ),
        }
    }
    /// [`Backend::gemm_mul`]: the CPU kernels and the GPU's matmul apply the multiply
    /// as they store the product (one kernel launch on the GPU).
    pub fn gemm_mul(&self, g: &Gemm, a: &Tensor, b: &Tensor, x: &Tensor, c: &mut Tensor) {
        match self {
            Device::Cpu => Cpu.gemm_mul(g, a.cpu(), b.cpu(), x.cpu(), c.cpu_mut()),
            Device::Gpu(d) => d.gemm_mul(g, a.gpu(), b.gpu(), x.gpu(), c.gpu_mut()),
        }
    }
    pub fn activate(&self, act: Activation, h: &Tensor, phi: &mut Tensor, dphi: &mut Tensor) {
        match self {
            Device::Cpu => Cpu.activate(act, h.cpu(), phi.cpu_mut(), dphi.cpu_mut()),
            Device::Gpu(g) => g.activate(act, h.gpu(), phi.gpu_mut(), dphi.gpu_mut()),
        }
    }
    pub fn axpy(&self, alpha: f32, x: &Tensor, y: &mut Tensor) {
        match self {
            Device::Cpu => Cpu.axpy(alpha, x.cpu(), y.cpu_mut()),
            Device::Gpu(g) => g.axpy(alpha, x.gpu(), y.gpu_mut()),
        }
    }
    /// [`Backend::axpy_members`].
    pub fn axpy_members(&self, rate: &Tensor, x: &Tensor, y: &mut Tensor) {
        match self {
            Device::Cpu => Cpu.axpy_members(rate.cpu(), x.cpu(), y.cpu_mut()),
            Device::Gpu(g) => g.axpy_members(rate.gpu(), x.gpu(), y.gpu_mut()),
        }
    }
    pub fn mul_assign(&self, x: &Tensor, y: &mut Tensor) {
        match self {
            Device::Cpu => Cpu.mul_assign(x.cpu(), y.cpu_mut()),
            Device::Gpu(g) => g.mul_assign(x.gpu(), y.gpu_mut()),
        }
    }
    pub fn residual(
        &self,
        f: &Tensor,
        f0: Option<&Tensor>,
        y: &Tensor,
        scale: f32,
        e: &mut Tensor,
    ) {
        match self {
            Device::Cpu => Cpu.residual(
                f.cpu(),
                f0.map_or(&[], |t| t.cpu()),
                y.cpu(),
                scale,
                e.cpu_mut(),
            ),
            Device::Gpu(g) => g.residual(f.gpu(), f0.map(|t| t.gpu()), y.gpu(), scale, e.gpu_mut()),
        }
    }
    pub fn adam(&self, s: &AdamStep, g: &Tensor, m: &mut Tensor, v: &mut Tensor, w: &mut Tensor) {
        match self {
            Device::Cpu => Cpu.adam(s, g.cpu(), m.cpu_mut(), v.cpu_mut(), w.cpu_mut()),
            Device::Gpu(d) => d.adam(s, g.gpu(), m.gpu_mut(), v.gpu_mut(), w.gpu_mut()),
        }
    }
    pub fn langevin(
        &self,
        decay: f32,
        lr: f32,
        noise_scale: f32,
        g: &Tensor,
        xi: &Tensor,
        w: &mut Tensor,
    ) {
        match self {
            Device::Cpu => Cpu.langevin(decay, lr, noise_scale, g.cpu(), xi.cpu(), w.cpu_mut()),
            Device::Gpu(d) => d.langevin(decay, lr, noise_scale, g.gpu(), xi.gpu(), w.gpu_mut()),
        }
    }
    /// Per-matrix sum of squares: `out[s] = sum_i x[s * len + i]^2`, `len = |x| / |out|`.
    pub fn sum_sq(&self, x: &Tensor, out: &mut Tensor) {
        match self {
            Device::Cpu => Cpu.sum_sq(x.cpu(), out.cpu_mut()),
            Device::Gpu(g) => g.sum_sq(x.gpu(), out.gpu_mut()),
        }
    }

    /// [`Backend::attention`].
    pub fn attention(&self, a: &Attention, qkv: &Tensor, probs: &mut Tensor, out: &mut Tensor) {
        match self {
            Device::Cpu => Cpu.attention(a, qkv.cpu(), probs.cpu_mut(), out.cpu_mut()),
            Device::Gpu(g) => g.attention(a, qkv.gpu(), probs.gpu_mut(), out.gpu_mut()),
        }
    }
    /// [`Backend::attention_backward`].
    pub fn attention_backward(
        &self,
        a: &Attention,
        qkv: &Tensor,
        probs: &Tensor,
        dout: &Tensor,
        ds: &mut Tensor,
        dqkv: &mut Tensor,
    ) {
        match self {
            Device::Cpu => Cpu.attention_backward(
                a,
                qkv.cpu(),
                probs.cpu(),
                dout.cpu(),
                ds.cpu_mut(),
                dqkv.cpu_mut(),
            ),
            Device::Gpu(g) => g.attention_backward(
                a,
                qkv.gpu(),
                probs.gpu(),
                dout.gpu(),
                ds.gpu_mut(),
                dqkv.gpu_mut(),
            ),
        }
    }
    /// [`Backend::norm`].
    pub fn norm(
        &self,
        n: &Norm,
        x: &Tensor,
        gain: &Tensor,
        y: &mut Tensor,
        xhat: &mut Tensor,
        rstd: &mut Tensor,
    ) {
        match self {
            Device::Cpu => Cpu.norm(
                n,
                x.cpu(),
                gain.cpu(),
                y.cpu_mut(),
                xhat.cpu_mut(),
                rstd.cpu_mut(),
            ),
            Device::Gpu(g) => g.norm(
                n,
                x.gpu(),
                gain.gpu(),
                y.gpu_mut(),
                xhat.gpu_mut(),
                rstd.gpu_mut(),
            ),
        }
    }
    /// [`Backend::norm_backward`].
    #[allow(clippy::too_many_arguments)]
    pub fn norm_backward(
        &self,
        n: &Norm,
        dy: &Tensor,
        xhat: &Tensor,
        rstd: &Tensor,
        gain: &Tensor,
        dx: &mut Tensor,
        dgain: &mut Tensor,
    ) {
        match self {
            Device::Cpu => Cpu.norm_backward(
                n,
                dy.cpu(),
                xhat.cpu(),
                rstd.cpu(),
                gain.cpu(),
                dx.cpu_mut(),
                dgain.cpu_mut(),
            ),
            Device::Gpu(g) => g.norm_backward(
                n,
                dy.gpu(),
                xhat.gpu(),
                rstd.gpu(),
                gain.gpu(),
                dx.gpu_mut(),
                dgain.gpu_mut(),
            ),
        }
    }
    /// [`Backend::seq_loss`].
    pub fn seq_loss(
        &self,
        l: &SeqLoss,
        logits: &Tensor,
        targets: &Tensor,
        scale: f32,
        dlogits: &mut Tensor,
        loss: &mut Tensor,
    ) {
        match self {
            Device::Cpu => Cpu.seq_loss(
                l,
                logits.cpu(),
                targets.cpu(),
                scale,
                dlogits.cpu_mut(),
                loss.cpu_mut(),
            ),
            Device::Gpu(g) => g.seq_loss(
                l,
                logits.gpu(),
                targets.gpu(),
                scale,
                dlogits.gpu_mut(),
                loss.gpu_mut(),
            ),
        }
    }
    /// [`Backend::adam_members`].
    pub fn adam_members(
        &self,
        s: &AdamStep,
        member_lr: &Tensor,
        g: &Tensor,
        m: &mut Tensor,
        v: &mut Tensor,
        w: &mut Tensor,
    ) {
        match self {
            Device::Cpu => Cpu.adam_members(
                s,
                member_lr.cpu(),
                g.cpu(),
                m.cpu_mut(),
                v.cpu_mut(),
                w.cpu_mut(),
            ),
            Device::Gpu(d) => d.adam_members(
                s,
                member_lr.gpu(),
                g.gpu(),
                m.gpu_mut(),
                v.gpu_mut(),
                w.gpu_mut(),
            ),
        }
    }
}
