//! The heavy matrix products of the Monte Carlo solvers, on a backend [`Device`].
//!
//! The solvers stay f64 on the host; only their dominant `O(S n^2)` products (the
//! two-layer kernel estimates `Phi = <phi phi^T>` over S samples and field update; the
//! deep solver's sampling by a Cholesky factor and its Stein moments) go through
//! [`Products::gemm`], which has the
//! signature of [`linalg::gemm`]. On the CPU it *is* `linalg::gemm` (f64, the numbers
//! of a plain solve). On a GPU the operands are packed to f32 (`op(A)^T [k x m]`,
//! `op(B) [k x n]`), the sum over `k` is cut into chunks of at most [`CHUNK`] terms (one
//! batched product, matrix `b` of the batch is chunk `b`), and the per-chunk f32
//! results are added in f64 on the host: no f32 sum runs over more than [`CHUNK`]
//! terms (unless the `[batch x m x n]` partial results would exceed one binding), so
//! the rounding error stays near `sqrt(CHUNK) 2^-24` of the entries' scale, far below
//! the Monte Carlo noise `S^{-1/2}`. The deep solver keeps its kernel estimates (and the
//! sample covariance of the Stein regression) in f64 on the host: it factors them in
//! time order, which amplifies f32 rounding (see `deep.rs`). The chunks also give the skinny kernel estimates
//! (`m, n` small, `k = S` large) one workgroup per chunk instead of one in all.
//!
//! A GPU that fails (lost device, a failed readback) is dropped for the rest of the
//! solve: the product is redone on the CPU and a warning says so.

use crate::backend::{Device, DeviceChoice, Gemm, select};
use crate::theory::linalg::{self, Layout};

/// Largest number of terms one f32 sum on the device adds.
pub const CHUNK: usize = 256;
/// Largest operand or result (bytes) sent to the device in one product: the default
/// WebGPU `maxStorageBufferBindingSize`. Larger products run on the CPU.
const MAX_BINDING_BYTES: usize = 128 << 20;

/// The device the heavy products run on, and what happened to it.
pub(crate) struct Products {
    device: Device,
    /// Non-fatal notes for `DmftResult::warnings` (device fallbacks).
    pub warnings: Vec<String>,
    /// Products computed on the device (for tests and the report).
    pub on_device: usize,
}

impl Products {
    /// Products on `device` as given.
    pub fn on(device: Device) -> Self {
        Products {
            device: device_for_solver(device),
            warnings: vec![],
            on_device: 0,
        }
    }

    /// Products on the device [`select`] picks for `choice` and a solve whose largest
    /// product costs `flops` (the same threshold as a training step: the work between
    /// two host synchronisations).
    pub fn select(choice: DeviceChoice, flops: f64) -> Self {
        if cfg!(target_arch = "wasm32") {
            // no blocking readback in the browser: do not even acquire a GPU there
            return Products::on(Device::Cpu);
        }
        let sel = select::select(choice, flops);
        let mut p = Products::on(sel.device);
        p.warnings
            .extend(sel.note.map(|n| format!("DMFT products: {n}")));
        p
    }

    /// True when the products run, or ran earlier in this solve, in f32 (on a GPU).
    pub fn single_precision(&self) -> bool {
        matches!(self.device, Device::Gpu(_)) || self.on_device > 0
    }

    /// Where the products ran: the device in use, and why the GPU was dropped if it was.
    pub fn backend(&self) -> String {
        let name = self.device.name();
        match self.warnings.iter().find(|w| w.contains("fallback to cpu")) {
            Some(w) => format!("{name} ({})", w.trim_start_matches("DMFT products: ")),
            None => name,
        }
    }

    /// `C = alpha A B + beta C` exactly like [`linalg::gemm`] (same arguments), on the
    /// device in use.
    #[allow(clippy::too_many_arguments)]
    pub fn gemm(
        &mut self,
        m: usize,
        k: usize,
        n: usize,
        alpha: f64,
        a: &[f64],
        la: Layout,
        b: &[f64],
        lb: Layout,
        beta: f64,
        c: &mut [f64],
        lc: Layout,
    ) {
        if let Device::Gpu(_) = &self.device
            && m > 0
            && n > 0
            && k > 0
        {
            match self.gpu_product(m, k, n, a, la, b, lb) {
                Ok(ab) => {
                    self.on_device += 1;
                    for i in 0..m {
                        for j in 0..n {
                            let o = i * lc.rs + j * lc.cs;
                            let v = alpha * ab[i * n + j];
                            c[o] = if beta == 0.0 { v } else { v + beta * c[o] };
                        }
                    }
                    return;
                }
                Err(Some(why)) => {
                    self.warnings
                        .push(format!("DMFT products: fallback to cpu: {why}"));
                    self.device = Device::Cpu;
                }
                // too large for one binding: this product only on the CPU
                Err(None) => {}
            }
        }
        linalg::gemm(m, k, n, alpha, a, la, b, lb, beta, c, lc);
    }

    /// `op(A) op(B)` `[m x n]` on the GPU with chunked f32 sums added in f64.
    /// `Err(None)`: too large for the device (nothing tried); `Err(Some(why))`: the
    /// device failed.
    #[allow(clippy::too_many_arguments)]
    fn gpu_product(
        &self,
        m: usize,
        k: usize,
        n: usize,
        a: &[f64],
        la: Layout,
        b: &[f64],
        lb: Layout,
    ) -> Result<Vec<f64>, Option<String>> {
        let max_batch = (MAX_BINDING_BYTES / 4 / (m * n)).max(1);
        let batch = k.div_ceil(CHUNK).min(max_batch);
        let chunk = k.div_ceil(batch);
        let kp = batch * chunk;
        let fits = |elems: usize| elems.saturating_mul(4) <= MAX_BINDING_BYTES;
        if !(fits(kp * m) && fits(kp * n) && fits(batch * m * n)) {
            return Err(None);
        }
        // op(A)^T as [kp x m] and op(B) as [kp x n], zero rows past k
        let mut at = vec![0.0f32; kp * m];
        for l in 0..k {
            for i in 0..m {
                at[l * m + i] = a[i * la.rs + l * la.cs] as f32;
            }
        }
        let mut bp = vec![0.0f32; kp * n];
        for l in 0..k {
            for j in 0..n {
                bp[l * n + j] = b[l * lb.rs + j * lb.cs] as f32;
            }
        }
        let dev = &self.device;
        let ta = dev.from_vec(at);
        let tb = dev.from_vec(bp);
        let mut tc = dev.zeros(batch * m * n);
        let mut g = Gemm::new(batch, m, n, chunk).ta();
        g.stride_a = chunk * m;
        g.stride_b = chunk * n;
        dev.gemm(&g, &ta, &tb, &mut tc);
        let parts = dev.download(&tc);
        if let Some(why) = dev.lost() {
            return Err(Some(why));
        }
        let mut out = vec![0.0f64; m * n];
        for part in parts.chunks_exact(m * n) {
            for (o, v) in out.iter_mut().zip(part) {
                *o += *v as f64;
            }
        }
        if out.iter().any(|v| !v.is_finite()) && a.iter().chain(b).all(|v| v.is_finite()) {
            return Err(Some("the GPU product is not finite".into()));
        }
        Ok(out)
    }
}

/// The browser cannot block on a GPU readback: there the solver stays on the CPU.
#[cfg(target_arch = "wasm32")]
fn device_for_solver(_device: Device) -> Device {
    Device::Cpu
}

#[cfg(not(target_arch = "wasm32"))]
fn device_for_solver(device: Device) -> Device {
    device
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theory::linalg::{rm, tr};

    #[test]
    fn cpu_products_are_linalg_gemm() {
        let a: Vec<f64> = (0..12).map(|i| i as f64 * 0.5 - 2.0).collect();
        let b: Vec<f64> = (0..12).map(|i| 1.0 / (1.0 + i as f64)).collect();
        let mut want = vec![1.0; 9];
        linalg::gemm(3, 4, 3, 0.5, &a, tr(3), &b, rm(3), 2.0, &mut want, rm(3));
        let mut got = vec![1.0; 9];
        let mut p = Products::on(Device::Cpu);
        p.gemm(3, 4, 3, 0.5, &a, tr(3), &b, rm(3), 2.0, &mut got, rm(3));
        assert_eq!(got, want);
        assert_eq!(p.on_device, 0);
    }
}
