//! The heavy matrix products of the Monte Carlo solvers, on a backend [`Device`].
//!
//! The solvers stay f64 on the host; only their dominant `O(S n^2)` products (the
//! two-layer kernel estimates `Phi = <phi phi^T>` over S samples and field update; the
//! deep solver's sampling by a Cholesky factor, kernel estimates and Stein moments) go
//! through [`Products::gemm`] or [`Products::gemm_compensated`], which have the
//! signature of [`linalg::gemm`]. On the CPU it *is* `linalg::gemm` (f64, the numbers
//! of a plain solve). On a GPU the operands are packed to f32 (`op(A)^T [k x m]`,
//! `op(B) [k x n]`), the sum over `k` is cut into chunks of at most [`CHUNK`] terms (one
//! batched product, matrix `b` of the batch is chunk `b`), and the per-chunk f32
//! results are added in f64 on the host: no f32 sum runs over more than [`CHUNK`]
//! terms (unless the `[batch x m x n]` partial results would exceed one binding), so
//! the rounding error stays near `sqrt(CHUNK) 2^-24` of the entries' scale, far below
//! the Monte Carlo noise `S^{-1/2}`. The chunks also give the skinny kernel estimates
//! (`m, n` small, `k = S` large) one workgroup per chunk instead of one in all.
//!
//! The deep solver factors its kernel estimates (and the Stein regression inverts its
//! sample covariance) in time order, which amplifies their rounding (see `deep.rs`):
//! those go through [`Products::gemm_compensated`], three f32 products that give the
//! f64 product to about `1e-10` relative (exact fixed-point leading parts, f32
//! corrections).
//!
//! A GPU that fails (lost device, a failed readback) is dropped for the rest of the
//! solve: the product is redone on the CPU and a warning says so.

use crate::backend::{BackendReport, Device, DeviceChoice, Gemm, select};
use crate::linalg::{self, Layout};

/// Largest number of terms one f32 sum on the device adds.
pub const CHUNK: usize = 256;
/// Largest operand or result (bytes) sent to the device in one product: the default
/// WebGPU `maxStorageBufferBindingSize`. Larger products run on the CPU.
const MAX_BINDING_BYTES: usize = 128 << 20;

/// The device the heavy products run on, and what happened to it.
pub(crate) struct Products {
    device: Device,
    /// Non-fatal notes for `DmftResult::warnings`.
    pub warnings: Vec<String>,
    /// Why the GPU asked for was not used, or was dropped mid-solve.
    pub fallback: Option<String>,
    /// Products computed on the device (for tests and the report).
    pub on_device: usize,
    /// Of those, products by [`Products::gemm_compensated`].
    pub compensated_on_device: usize,
}

impl Products {
    /// Products on `device` as given.
    pub fn on(device: Device) -> Self {
        Products {
            device: device_for_solver(device),
            warnings: vec![],
            fallback: None,
            on_device: 0,
            compensated_on_device: 0,
        }
    }

    /// Products on the device [`select`] picks for `choice` and a solve whose largest
    /// product costs `flops` (the same threshold as a training step: the work between
    /// two host synchronisations).
    /// In the browser the solver cannot wait for readbacks, so the policy keeps it on
    /// the CPU there.
    pub fn select(choice: DeviceChoice, flops: f64) -> Self {
        let sel = select::select(choice, flops);
        let mut p = Products::on(sel.device);
        p.fallback = sel.fallback;
        p
    }

    /// True when the products run, or ran earlier in this solve, in f32 (on a GPU).
    pub fn single_precision(&self) -> bool {
        matches!(self.device, Device::Gpu(_)) || self.on_device > 0
    }

    /// Where the products ran: the device in use, and why the GPU was not used or was
    /// dropped, if it was.
    pub fn backend(&self) -> BackendReport {
        BackendReport {
            fallback: self.fallback.clone(),
            ..BackendReport::of(&self.device)
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
        self.product(false, m, k, n, alpha, a, la, b, lb, beta, c, lc);
    }

    /// `C = alpha A B + beta C` like [`Products::gemm`], to near f64 accuracy on a GPU too
    /// (on the CPU it is [`linalg::gemm`]); three times the device work of `gemm`.
    ///
    /// Each row `i` of `op(A)` (over `k`) is scaled by a power of two `2^{e_i - b}`,
    /// `e_i` the smallest with `max_l |A_il| <= 2^{e_i}`, and split as
    /// `A_il / 2^{e_i - b} = ah_il + al_il`: `ah` the nearest integer (`|ah| <= 2^b`),
    /// `al = (A / 2^{e_i - b} - ah)` rounded to f32 (`|al| <= 1/2`), and `a = ah + al`
    /// rounded to f32. Likewise each column `j` of `op(B)` with `2^{f_j - b}`, `bh`, `bl`.
    /// Then
    ///
    /// `(A B)_ij = 2^{e_i + f_j - 2b} sum_l [ah_il bh_lj + a_il bl_lj + al_il bh_lj]`
    ///
    /// up to `a bl` for `(ah + al) bl` (`2^-24 2^-b` relative) and f32 rounding of the
    /// two correction sums (`2^-b` of the whole, times their own rounding). The three sums
    /// are one batched product of operands stacked along `k`, `[ah | a | al]^T [3 kp x m]`
    /// and `[bh ; bl ; bh] [3 kp x n]`, in chunks of `c <= 256` terms whose f32 results
    /// are added in f64 on the host. With `2b + log2 c <= 24` (`b = 8` at `c = 256`)
    /// every partial sum of `ah bh` is an integer `<= 2^24`: that sum is exact in f32.
    ///
    /// On a Gram matrix of correlated fields the result is within `5e-10` of the f64
    /// product (relative, Frobenius), where the plain f32 `gemm` is off by more than
    /// `1e-8` (the tests below assert both); with it the deep DMFT's loss curves on the
    /// CPU and a GPU agree far inside the `1e-4` that tests/backend/dmft.rs asserts. What
    /// limits plain f32 products here is the f32 sum over `k`, not the rounding of
    /// operands and products (bench/README.md has the measurements). The host packs
    /// `3 k (m + n)` entries (plain: a third).
    #[allow(clippy::too_many_arguments)]
    pub fn gemm_compensated(
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
        self.product(true, m, k, n, alpha, a, la, b, lb, beta, c, lc);
    }

    #[allow(clippy::too_many_arguments)]
    fn product(
        &mut self,
        compensated: bool,
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
            let ab = if compensated {
                self.gpu_compensated(m, k, n, a, la, b, lb)
            } else {
                self.gpu_product(m, k, n, a, la, b, lb)
            };
            match ab {
                Ok(ab) => {
                    self.on_device += 1;
                    self.compensated_on_device += usize::from(compensated);
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
                    self.warnings.push(format!(
                        "DMFT products: the GPU failed, finished on the CPU: {why}"
                    ));
                    self.fallback = Some(why);
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
        let out = self.chunk_sums(at, bp, batch, chunk, m, n)?;
        if out.iter().any(|v| !v.is_finite()) && a.iter().chain(b).all(|v| v.is_finite()) {
            return Err(Some("the GPU product is not finite".into()));
        }
        Ok(out)
    }

    /// `sum_b A_b^T B_b` `[m x n]` in f64 of the f32 products of the `batch` chunks
    /// `A_b = at[b chunk .. (b + 1) chunk] [chunk x m]`, `B_b` likewise of `bp`.
    fn chunk_sums(
        &self,
        at: Vec<f32>,
        bp: Vec<f32>,
        batch: usize,
        chunk: usize,
        m: usize,
        n: usize,
    ) -> Result<Vec<f64>, Option<String>> {
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
        Ok(out)
    }

    /// `op(A) op(B)` `[m x n]` on the GPU by the split of [`Products::gemm_compensated`].
    /// `Err(None)`: too large for the device, or an input not finite (nothing tried);
    /// `Err(Some(why))`: the device failed.
    #[allow(clippy::too_many_arguments)]
    fn gpu_compensated(
        &self,
        m: usize,
        k: usize,
        n: usize,
        a: &[f64],
        la: Layout,
        b: &[f64],
        lb: Layout,
    ) -> Result<Vec<f64>, Option<String>> {
        let max_batch = (MAX_BINDING_BYTES / 4 / (3 * m * n)).max(1);
        let fits = |elems: usize| elems.saturating_mul(4) <= MAX_BINDING_BYTES;
        let Some(sp) = Split::pack(m, k, n, a, la, b, lb, max_batch) else {
            return Err(None);
        };
        let kp = sp.batch * sp.chunk;
        if !(fits(3 * kp * m) && fits(3 * kp * n) && fits(3 * sp.batch * m * n)) {
            return Err(None);
        }
        let sums = self.chunk_sums(sp.at, sp.bp, 3 * sp.batch, sp.chunk, m, n)?;
        let out = unscale(sums, &sp.sa, &sp.sb);
        if out.iter().any(|v| !v.is_finite()) {
            return Err(Some("the GPU product is not finite".into()));
        }
        Ok(out)
    }
}

/// The operands of [`Products::gemm_compensated`] for one batched f32 product:
/// `at = [ah | a | al]^T [3 kp x m]`, `bp = [bh ; bl ; bh] [3 kp x n]` (`kp = batch
/// chunk`, zero rows past `k`), and the row and column scales `sa [m]`, `sb [n]`.
struct Split {
    at: Vec<f32>,
    bp: Vec<f32>,
    batch: usize,
    chunk: usize,
    sa: Vec<f64>,
    sb: Vec<f64>,
}

impl Split {
    /// None when an input is not finite or the chunks would be too long for exact
    /// leading sums.
    #[allow(clippy::too_many_arguments)]
    fn pack(
        m: usize,
        k: usize,
        n: usize,
        a: &[f64],
        la: Layout,
        b: &[f64],
        lb: Layout,
        max_batch: usize,
    ) -> Option<Split> {
        let batch = k.div_ceil(CHUNK).min(max_batch);
        let chunk = k.div_ceil(batch);
        let kp = batch * chunk;
        // bits of the exact leading parts: 2b + log2(chunk) <= 24
        let bits = (24 - chunk.next_power_of_two().trailing_zeros() as i32) / 2;
        if bits < 6 {
            return None;
        }
        let sa = split_scales(m, k, |i, l| a[i * la.rs + l * la.cs], bits)?;
        let sb = split_scales(n, k, |j, l| b[l * lb.rs + j * lb.cs], bits)?;
        // transposes, in blocks of `k` (the solver's operands are contiguous along k)
        const BLOCK: usize = 64;
        let mut at = vec![0.0f32; 3 * kp * m];
        let mut bp = vec![0.0f32; 3 * kp * n];
        for l0 in (0..k).step_by(BLOCK) {
            let ls = l0..(l0 + BLOCK).min(k);
            for (i, q) in sa.iter().enumerate() {
                for l in ls.clone() {
                    let (hi, whole, lo) = split(a[i * la.rs + l * la.cs] * q);
                    at[l * m + i] = hi;
                    at[(kp + l) * m + i] = whole;
                    at[(2 * kp + l) * m + i] = lo;
                }
            }
            for (j, q) in sb.iter().enumerate() {
                for l in ls.clone() {
                    let (hi, _, lo) = split(b[l * lb.rs + j * lb.cs] * q);
                    bp[l * n + j] = hi;
                    bp[(kp + l) * n + j] = lo;
                    bp[(2 * kp + l) * n + j] = hi;
                }
            }
        }
        Some(Split {
            at,
            bp,
            batch,
            chunk,
            sa,
            sb,
        })
    }
}

/// The product `[m x n]` from the sums of the scaled split operands.
fn unscale(mut sums: Vec<f64>, sa: &[f64], sb: &[f64]) -> Vec<f64> {
    let n = sb.len();
    for (i, qa) in sa.iter().enumerate() {
        for (j, qb) in sb.iter().enumerate() {
            sums[i * n + j] = sums[i * n + j] / qa / qb;
        }
    }
    sums
}

/// The power-of-two factors `2^{b - e_i}` that bring row `i` (`0..rows`, entries
/// `x(i, l)`, `l < k`) to `max_l |x| <= 2^b`; 1 for a zero row; None when an entry is
/// not finite or a factor would leave the f64 range.
fn split_scales(
    rows: usize,
    k: usize,
    x: impl Fn(usize, usize) -> f64,
    bits: i32,
) -> Option<Vec<f64>> {
    (0..rows)
        .map(|i| {
            let mut mx = 0.0f64;
            for l in 0..k {
                let v = x(i, l).abs();
                if !v.is_finite() {
                    return None;
                }
                mx = mx.max(v);
            }
            if mx == 0.0 {
                return Some(1.0);
            }
            // smallest e with mx <= 2^e
            let mut e = mx.log2().ceil() as i32;
            while 2f64.powi(e) < mx {
                e += 1;
            }
            while 2f64.powi(e - 1) >= mx {
                e -= 1;
            }
            let q = 2f64.powi(bits - e);
            (q.is_normal() && (mx * q).is_normal()).then_some(q)
        })
        .collect()
}

/// A scaled entry `x` (`|x| <= 2^b`) as (nearest integer, `x` in f32, remainder in f32).
fn split(x: f64) -> (f32, f32, f32) {
    // nearest integer (ties to even) for |x| <= 2^51, without a libm call
    const ROUND: f64 = 6755399441055744.0; // 1.5 2^52
    let hi = (x + ROUND) - ROUND;
    (hi as f32, x as f32, (x - hi) as f32)
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
    use crate::linalg::{rm, tr};

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
        let mut comp = vec![1.0; 9];
        p.gemm_compensated(3, 4, 3, 0.5, &a, tr(3), &b, rm(3), 2.0, &mut comp, rm(3));
        assert_eq!(comp, want);
        assert_eq!(p.on_device, 0);
    }

    /// A Gram matrix `x x^T [n x n]` of `x [n x s]` like the deep solver's kernel
    /// estimates: tanh of correlated fields (neighbouring rows nearly equal, as
    /// neighbouring steps of a slow trajectory), one row 1e-30 times smaller, one zero.
    fn fields(n: usize, s: usize) -> Vec<f64> {
        let mut x = vec![0.0; n * s];
        for l in 0..s {
            let mut h = 0.0;
            for i in 0..n {
                h += ((l * 7919 + i * 104729) % 1009) as f64 / 1009.0 - 0.5;
                let v = (0.3 * h + 0.01 * i as f64).tanh();
                x[i * s + l] = match i {
                    1 => 1e-30 * v,
                    2 => 0.0,
                    _ => v,
                };
            }
        }
        x
    }

    /// `|a - b| / |b|` (Frobenius).
    fn frob_rel(a: &[f64], b: &[f64]) -> f64 {
        let num: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
        let den: f64 = b.iter().map(|y| y * y).sum();
        (num / den).sqrt()
    }

    /// Largest `|a_ij - b_ij| / sqrt(b_ii b_jj)` (entries against their rows' scales).
    fn scaled_err(a: &[f64], b: &[f64], n: usize) -> f64 {
        let mut e = 0.0f64;
        for i in 0..n {
            for j in 0..n {
                let d = (b[i * n + i] * b[j * n + j]).sqrt();
                if d > 0.0 {
                    e = e.max((a[i * n + j] - b[i * n + j]).abs() / d);
                }
            }
        }
        e
    }

    /// The split's f32 arithmetic emulated on the CPU (sequential f32 fused
    /// multiply-adds per chunk, as the device's tiles accumulate): within ~3e-10 of the
    /// f64 product relative to each entry's row scales, where plain f32 operands with the
    /// same chunks are ~1e-7 off (Frobenius).
    #[test]
    fn compensated_split_emulated_in_f32_is_near_f64() {
        let (n, s) = (40, 1300);
        let x = fields(n, s);
        let xt = Layout { rs: 1, cs: s };
        let mut want = vec![0.0; n * n];
        linalg::gemm(n, s, n, 1.0, &x, rm(s), &x, xt, 0.0, &mut want, rm(n));
        let sp = Split::pack(n, s, n, &x, rm(s), &x, xt, usize::MAX).unwrap();
        assert_eq!((sp.batch, sp.chunk), (6, 217));
        // sum over the 3 batch chunks of A_b^T B_b, each an f32 fma chain
        let mut sums = vec![0.0f64; n * n];
        for b in 0..3 * sp.batch {
            for i in 0..n {
                for j in 0..n {
                    let mut acc = 0.0f32;
                    for l in b * sp.chunk..(b + 1) * sp.chunk {
                        acc = sp.at[l * n + i].mul_add(sp.bp[l * n + j], acc);
                    }
                    sums[i * n + j] += acc as f64;
                }
            }
        }
        let got = unscale(sums, &sp.sa, &sp.sb);
        let plain: Vec<f64> = {
            let x32: Vec<f64> = x.iter().map(|v| *v as f32 as f64).collect();
            let mut c = vec![0.0; n * n];
            for i in 0..n {
                for j in 0..n {
                    let mut tot = 0.0;
                    for ch in 0..s.div_ceil(sp.chunk) {
                        let mut acc = 0.0f32;
                        for l in ch * sp.chunk..((ch + 1) * sp.chunk).min(s) {
                            acc = (x32[i * s + l] as f32).mul_add(x32[j * s + l] as f32, acc);
                        }
                        tot += acc as f64;
                    }
                    c[i * n + j] = tot;
                }
            }
            c
        };
        let (e_comp, f_comp) = (scaled_err(&got, &want, n), frob_rel(&got, &want));
        let f_plain = frob_rel(&plain, &want);
        eprintln!(
            "emulated: compensated {e_comp:.2e} (frob {f_comp:.2e}), plain f32 frob {f_plain:.2e}"
        );
        // measured 2.7e-10 and 4.4e-11; plain 8.7e-8
        assert!(e_comp < 2e-9 && f_comp < 5e-10, "{e_comp:.2e} {f_comp:.2e}");
        assert!(f_plain > 1e-8, "{f_plain:.2e}");
        // the zero row stays zero, the tiny row is as accurate as the others
        assert!(got[2 * n..3 * n].iter().all(|v| *v == 0.0));
    }

    /// On a GPU (lavapipe in CI): the compensated product of a Gram matrix and of a
    /// general `op(A) op(B)` with transposed layouts matches the f64 product to ~4e-10
    /// relative to the entries' row scales; the plain f32 one does not.
    #[test]
    fn compensated_gpu_products_are_near_f64() {
        let g = match crate::backend::Gpu::acquire(&crate::backend::GpuOptions {
            allow_software: true,
            ..Default::default()
        }) {
            Ok(g) => g,
            Err(e) => {
                println!("SKIPPING: no usable GPU adapter ({e})");
                return;
            }
        };
        let mut p = Products::on(Device::Gpu(g));
        let (n, s) = (54, 1500);
        let x = fields(n, s);
        let xt = Layout { rs: 1, cs: s };
        let inv = 1.0 / s as f64;
        let mut want = vec![0.0; n * n];
        linalg::gemm(n, s, n, inv, &x, rm(s), &x, xt, 0.0, &mut want, rm(n));
        let mut comp = vec![0.0; n * n];
        p.gemm_compensated(n, s, n, inv, &x, rm(s), &x, xt, 0.0, &mut comp, rm(n));
        let mut plain = vec![0.0; n * n];
        p.gemm(n, s, n, inv, &x, rm(s), &x, xt, 0.0, &mut plain, rm(n));
        assert_eq!(
            (p.on_device, p.compensated_on_device),
            (2, 1),
            "{:?}",
            p.warnings
        );
        let (e_comp, f_comp) = (scaled_err(&comp, &want, n), frob_rel(&comp, &want));
        let f_plain = frob_rel(&plain, &want);
        eprintln!(
            "gpu Gram: compensated {e_comp:.2e} (frob {f_comp:.2e}), plain f32 frob {f_plain:.2e}"
        );
        // measured on lavapipe 3.8e-10 and 4.6e-11; plain 1.2e-7
        assert!(e_comp < 2e-9 && f_comp < 5e-10, "{e_comp:.2e} {f_comp:.2e}");
        assert!(f_plain > 1e-8, "{f_plain:.2e}");
        // general shapes and layouts: op(A) = A^T [m x k] from A [k x m], op(B) [k x n]
        // column-major, beta != 0, alpha != 1, k past a chunk multiple
        let (m, k, nn) = (7, 600, 5);
        let a: Vec<f64> = (0..k * m).map(|i| ((i * 37) % 101) as f64 - 50.0).collect();
        let b: Vec<f64> = (0..k * nn)
            .map(|i| 1e-3 * (((i * 53) % 97) as f64 / 97.0 - 0.3))
            .collect();
        let lb = Layout { rs: 1, cs: k };
        let mut want = vec![1.0; m * nn];
        linalg::gemm(m, k, nn, 0.5, &a, tr(m), &b, lb, -2.0, &mut want, rm(nn));
        let mut got = vec![1.0; m * nn];
        p.gemm_compensated(m, k, nn, 0.5, &a, tr(m), &b, lb, -2.0, &mut got, rm(nn));
        let e = frob_rel(&got, &want);
        eprintln!("gpu general: compensated {e:.2e}");
        assert!(e < 5e-10, "{e:.2e}");
        assert_eq!(p.compensated_on_device, 2);
    }
}
