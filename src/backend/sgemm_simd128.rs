//! Our own packed SGEMM, written for wasm32 `simd128` (the browser's CPU path). Natively
//! the same code compiles to plain 4-wide lanes; `bench/run.sh` measures it against
//! `matrixmultiply` (which has AVX2/AVX-512 kernels natively), and the CPU backend uses
//! whichever is faster per target (see `Cpu::gemm`).
//!
//! `C = alpha op(A) op(B) + beta C`, `op(A)` `[m x k]`, `op(B)` `[k x n]`, arbitrary
//! element strides (`rs*` between rows, `cs*` between columns), `C` row-major with row
//! stride `rsc`.
//!
//! Blocking (Goto/BLIS style): K in slabs of `KC`; for each slab B is packed once into
//! column panels of `NR` = 8 (`kc x 8`, 8 KiB, stays in L1 while it is used), A in blocks
//! of `MC` rows into row panels of `MR` = 4 (`MC x KC` = 96 KiB, stays in L2). The 4 x 8
//! microkernel keeps its 32 accumulators in 8 four-lane registers and reads A with one
//! `v128.load32_splat` per row and k (no separate scalar load and splat).
//!
//! A batch of products ([`sgemm_batch`], the ensemble's seeds) is one call: scratch
//! panels allocated once, and an operand the batch shares (the data X in the first
//! layer's product and its weight gradient) packed once per slab for every matrix.
//!
//! Two builds of the page ship this kernel (the page picks one at load, `www/wasm-build.js`):
//! - simd128: no fused multiply-add, so every 8 flops cost one multiply and one add;
//! - relaxed SIMD (`+relaxed-simd`, [`RELAXED_SIMD`]): one `f32x4.relaxed_madd`, which
//!   the engine fuses where the CPU has FMA (so the products differ from simd128's by the
//!   rounding of the intermediate product, a few ulps of each partial sum) and computes as
//!   a multiply and an add elsewhere.
//!
//! The 4 x 8 tile fits the registers V8 gives wasm SIMD values (16 xmm, one kept as
//! scratch): its 8 accumulators, a B pair, the splat (and simd128's product); larger
//! tiles spill, with or without the fused multiply-add, and tiles of the same size
//! (3 x 12, 2 x 16) are no faster (bench/README.md has the rates and the variants tried).
//! Panels are zero-padded, so ragged edges need no special kernel, only a masked store.
//! The summation order over k is the plain one (one accumulator per output, k ascending
//! within a slab, slabs ascending).

/// Whether this build's products use relaxed SIMD's multiply-add (the page's relaxed
/// build, `-C target-feature=+simd128,+relaxed-simd`); false for the simd128 build and
/// natively.
pub const RELAXED_SIMD: bool = cfg!(all(
    target_arch = "wasm32",
    target_feature = "simd128",
    target_feature = "relaxed-simd"
));

const MR: usize = 4;
const NR: usize = 8;
const KC: usize = 256;
const MC: usize = 24 * MR;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes {
    use core::arch::wasm32::*;

    /// Four f32 lanes in one v128 register.
    #[derive(Clone, Copy)]
    pub struct F4(v128);

    impl F4 {
        #[inline(always)]
        pub fn zero() -> Self {
            F4(f32x4_splat(0.0))
        }
        /// Load 4 consecutive f32 from `p`.
        ///
        /// # Safety
        /// `p..p + 4` must be readable.
        #[inline(always)]
        pub unsafe fn load(p: *const f32) -> Self {
            // SAFETY: the caller guarantees 4 readable f32; v128_load allows unaligned.
            F4(unsafe { v128_load(p as *const v128) })
        }
        /// Store 4 lanes to `p..p + 4`.
        ///
        /// # Safety
        /// `p..p + 4` must be writable.
        #[inline(always)]
        pub unsafe fn store(self, p: *mut f32) {
            // SAFETY: the caller guarantees 4 writable f32.
            unsafe { v128_store(p as *mut v128, self.0) }
        }
        /// One f32 from `p` in all four lanes (a single `v128.load32_splat`).
        ///
        /// # Safety
        /// `p` must be readable.
        #[inline(always)]
        pub unsafe fn load_splat(p: *const f32) -> Self {
            // SAFETY: the caller guarantees one readable f32.
            F4(unsafe { v128_load32_splat(p as *const u32) })
        }
        /// `self + a b`: a multiply and an add (simd128 has no fused multiply-add); in
        /// the relaxed-SIMD build the relaxed multiply-add, which the engine fuses where
        /// the CPU has FMA.
        #[inline(always)]
        pub fn mul_add(self, a: F4, b: F4) -> Self {
            #[cfg(target_feature = "relaxed-simd")]
            {
                F4(f32x4_relaxed_madd(a.0, b.0, self.0))
            }
            #[cfg(not(target_feature = "relaxed-simd"))]
            {
                F4(f32x4_add(self.0, f32x4_mul(a.0, b.0)))
            }
        }
        #[inline(always)]
        pub fn add(self, b: F4) -> Self {
            F4(f32x4_add(self.0, b.0))
        }
        #[inline(always)]
        pub fn to_array(self) -> [f32; 4] {
            [
                f32x4_extract_lane::<0>(self.0),
                f32x4_extract_lane::<1>(self.0),
                f32x4_extract_lane::<2>(self.0),
                f32x4_extract_lane::<3>(self.0),
            ]
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod lanes {
    /// Four f32 lanes as a plain array (LLVM vectorises it where it can).
    #[derive(Clone, Copy)]
    pub struct F4([f32; 4]);

    impl F4 {
        #[inline(always)]
        pub fn zero() -> Self {
            F4([0.0; 4])
        }
        /// # Safety
        /// `p..p + 4` must be readable.
        #[inline(always)]
        pub unsafe fn load(p: *const f32) -> Self {
            // SAFETY: the caller guarantees 4 readable f32.
            F4(unsafe { (p as *const [f32; 4]).read_unaligned() })
        }
        /// # Safety
        /// `p..p + 4` must be writable.
        #[inline(always)]
        pub unsafe fn store(self, p: *mut f32) {
            // SAFETY: the caller guarantees 4 writable f32.
            unsafe { (p as *mut [f32; 4]).write_unaligned(self.0) }
        }
        /// # Safety
        /// `p` must be readable.
        #[inline(always)]
        pub unsafe fn load_splat(p: *const f32) -> Self {
            // SAFETY: the caller guarantees one readable f32.
            F4([unsafe { *p }; 4])
        }
        #[inline(always)]
        pub fn mul_add(self, a: F4, b: F4) -> Self {
            let mut r = self.0;
            for ((r, a), b) in r.iter_mut().zip(a.0).zip(b.0) {
                *r += a * b;
            }
            F4(r)
        }
        #[inline(always)]
        pub fn add(self, b: F4) -> Self {
            let mut r = self.0;
            for (r, b) in r.iter_mut().zip(b.0) {
                *r += b;
            }
            F4(r)
        }
        #[inline(always)]
        pub fn to_array(self) -> [f32; 4] {
            self.0
        }
    }
}

use lanes::F4;

/// Strided read-only matrix view: element (i, j) at `i * rs + j * cs`.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub data: &'a [f32],
    pub rs: usize,
    pub cs: usize,
}

impl<'a> View<'a> {
    #[inline(always)]
    fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.rs + j * self.cs]
    }
    /// The same view `off` elements further into its data (matrix `s` of a batch at
    /// `off = s * stride`).
    fn skip(&self, off: usize) -> View<'a> {
        View {
            data: &self.data[off..],
            ..*self
        }
    }
}

/// `C[m x n] = alpha A B + beta C` with `A` `[m x k]`, `B` `[k x n]` given as views,
/// `C` row-major with row stride `rsc`. `beta = 0` never reads `C`.
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: View,
    b: View,
    beta: f32,
    c: &mut [f32],
    rsc: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(c.len() >= (m - 1) * rsc + n, "sgemm: C too short");
    sgemm_batch(1, (m, n, k), alpha, (a, 0), (b, 0), beta, (c, 0), rsc);
}

/// The batched product `C_s = alpha A_s B_s + beta C_s` for `s < batch`: matrix `s` of
/// each operand starts `s * stride` elements into its view's data (stride 0: one matrix
/// shared by the whole batch), `C_s` row-major with row stride `rsc`. One call for the
/// whole ensemble: the scratch panels are allocated once, and a shared operand is packed
/// once per K slab for every matrix of the batch (a shared B's panels, or all of a
/// shared A's row panels), not once per matrix. Each `C_s` gets exactly the values
/// [`sgemm`] gives it alone (the same packed panels, the same sums in the same order).
#[allow(clippy::too_many_arguments)]
pub fn sgemm_batch(
    batch: usize,
    (m, n, k): (usize, usize, usize),
    alpha: f32,
    (a, stride_a): (View, usize),
    (b, stride_b): (View, usize),
    beta: f32,
    (c, stride_c): (&mut [f32], usize),
    rsc: usize,
) {
    if m == 0 || n == 0 || batch == 0 {
        return;
    }
    assert!(
        c.len() >= (batch - 1) * stride_c + (m - 1) * rsc + n,
        "sgemm_batch: C too short"
    );
    for s in 0..batch {
        for i in 0..m {
            let o = s * stride_c + i * rsc;
            let row = &mut c[o..o + n];
            if beta == 0.0 {
                row.fill(0.0);
            } else if beta != 1.0 {
                row.iter_mut().for_each(|x| *x *= beta);
            }
        }
    }
    if k == 0 {
        return;
    }
    let shared_a = stride_a == 0 && batch > 1;
    let shared_b = stride_b == 0 && batch > 1;
    let n_panels = n.div_ceil(NR);
    let mut bp = vec![0.0f32; n_panels * NR * KC.min(k)];
    // A shared A is packed whole per slab (every row panel, for all matrices); otherwise
    // one block of MC rows at a time.
    let a_rows = if shared_a { m.next_multiple_of(MR) } else { MC };
    let mut ap = vec![0.0f32; a_rows * KC.min(k)];
    for k0 in (0..k).step_by(KC) {
        let kc = KC.min(k - k0);
        if shared_b {
            pack_b(&b, k0, kc, n, &mut bp);
        }
        if shared_a {
            for i0 in (0..m).step_by(MC) {
                let mc = MC.min(m - i0);
                pack_a(&a, i0, mc, k0, kc, alpha, &mut ap[i0 * kc..]);
            }
        }
        for s in 0..batch {
            if !shared_b {
                pack_b(&b.skip(s * stride_b), k0, kc, n, &mut bp);
            }
            let c_s = &mut c[s * stride_c..];
            for i0 in (0..m).step_by(MC) {
                let mc = MC.min(m - i0);
                let a_block = if shared_a {
                    // row panel i0 / MR of the whole packing (MC is a multiple of MR)
                    &ap[i0 * kc..]
                } else {
                    pack_a(&a.skip(s * stride_a), i0, mc, k0, kc, alpha, &mut ap);
                    &ap[..]
                };
                block(kc, n, (i0, mc), a_block, &bp, c_s, rsc);
            }
        }
    }
}

/// Add the products of a packed block of A (rows `i0..i0 + mc`, panels of `MR`) and the
/// packed panels of B (`n` columns) of one K slab of depth `kc` to `C`.
fn block(
    kc: usize,
    n: usize,
    (i0, mc): (usize, usize),
    ap: &[f32],
    bp: &[f32],
    c: &mut [f32],
    rsc: usize,
) {
    for jp in 0..n.div_ceil(NR) {
        let b_panel = &bp[jp * NR * kc..(jp + 1) * NR * kc];
        let cols = NR.min(n - jp * NR);
        for ip in 0..mc.div_ceil(MR) {
            let a_panel = &ap[ip * MR * kc..(ip + 1) * MR * kc];
            let rows = MR.min(mc - ip * MR);
            let acc = kernel(kc, a_panel, b_panel);
            let o = (i0 + ip * MR) * rsc + jp * NR;
            if cols == NR {
                for (r, acc_r) in acc.iter().enumerate().take(rows) {
                    let row = &mut c[o + r * rsc..o + r * rsc + NR];
                    // SAFETY: `row` is exactly NR = 8 f32 long.
                    unsafe {
                        let p = row.as_mut_ptr();
                        F4::load(p).add(acc_r[0]).store(p);
                        F4::load(p.add(4)).add(acc_r[1]).store(p.add(4));
                    }
                }
            } else {
                for (r, acc_r) in acc.iter().enumerate().take(rows) {
                    let vals = [acc_r[0].to_array(), acc_r[1].to_array()];
                    let row = &mut c[o + r * rsc..o + r * rsc + cols];
                    for (q, x) in row.iter_mut().enumerate() {
                        *x += vals[q / 4][q % 4];
                    }
                }
            }
        }
    }
}

/// Pack rows `k0..k0 + kc` of B into panels `bp[jp][kk][0..NR]` (zero-padded in n).
fn pack_b(b: &View, k0: usize, kc: usize, n: usize, bp: &mut [f32]) {
    for jp in 0..n.div_ceil(NR) {
        let panel = &mut bp[jp * NR * kc..(jp + 1) * NR * kc];
        let j0 = jp * NR;
        let cols = NR.min(n - j0);
        for (kk, dst) in panel.chunks_exact_mut(NR).enumerate() {
            let base = (k0 + kk) * b.rs + j0 * b.cs;
            if b.cs == 1 && cols == NR {
                dst.copy_from_slice(&b.data[base..base + NR]);
            } else {
                for (q, d) in dst.iter_mut().enumerate() {
                    *d = if q < cols {
                        b.data[base + q * b.cs]
                    } else {
                        0.0
                    };
                }
            }
        }
    }
}

/// Pack `alpha A[i0..i0 + mc, k0..k0 + kc]` into panels `ap[ip][kk][0..MR]`.
fn pack_a(a: &View, i0: usize, mc: usize, k0: usize, kc: usize, alpha: f32, ap: &mut [f32]) {
    for ip in 0..mc.div_ceil(MR) {
        let panel = &mut ap[ip * MR * kc..(ip + 1) * MR * kc];
        let rows = MR.min(mc - ip * MR);
        for r in 0..MR {
            if r < rows {
                let i = i0 + ip * MR + r;
                for kk in 0..kc {
                    panel[kk * MR + r] = alpha * a.at(i, k0 + kk);
                }
            } else {
                for kk in 0..kc {
                    panel[kk * MR + r] = 0.0;
                }
            }
        }
    }
}

/// The `MR x 8` microkernel: `acc[r][q] = sum_kk a[kk][r] b[kk][q]` over packed panels
/// (`a` is `kc x MR`, `b` is `kc x NR`), k ascending.
#[inline(always)]
fn kernel(kc: usize, a: &[f32], b: &[f32]) -> [[F4; 2]; MR] {
    assert!(a.len() >= kc * MR && b.len() >= kc * NR);
    let mut acc = [[F4::zero(); 2]; MR];
    let (mut pa, mut pb) = (a.as_ptr(), b.as_ptr());
    for _ in 0..kc {
        // SAFETY: the assert above covers kc steps of MR (a) and NR (b) f32.
        unsafe {
            let b0 = F4::load(pb);
            let b1 = F4::load(pb.add(4));
            for (r, acc_r) in acc.iter_mut().enumerate() {
                let av = F4::load_splat(pa.add(r));
                acc_r[0] = acc_r[0].mul_add(av, b0);
                acc_r[1] = acc_r[1].mul_add(av, b1);
            }
            pa = pa.add(MR);
            pb = pb.add(NR);
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_sgemm_matches_naive_on_ragged_shapes() {
        for &(m, n, k) in &[(1, 1, 1), (5, 9, 3), (67, 13, 300), (4, 8, 256), (3, 2, 0)] {
            for (ta, tb) in [(false, false), (true, true), (true, false), (false, true)] {
                let a: Vec<f32> = (0..m * k).map(|i| ((i * 7) % 13) as f32 - 6.0).collect();
                let b: Vec<f32> = (0..k * n).map(|i| ((i * 5) % 11) as f32 - 5.0).collect();
                let av = if ta {
                    View {
                        data: &a,
                        rs: 1,
                        cs: m,
                    }
                } else {
                    View {
                        data: &a,
                        rs: k,
                        cs: 1,
                    }
                };
                let bv = if tb {
                    View {
                        data: &b,
                        rs: 1,
                        cs: k,
                    }
                } else {
                    View {
                        data: &b,
                        rs: n,
                        cs: 1,
                    }
                };
                let c0: Vec<f32> = (0..m * n).map(|i| i as f32).collect();
                let mut c = c0.clone();
                sgemm(m, n, k, 0.5, av, bv, 2.0, &mut c, n);
                for i in 0..m {
                    for j in 0..n {
                        let s: f32 = (0..k).map(|l| av.at(i, l) * bv.at(l, j)).sum();
                        let want = 0.5 * s + 2.0 * c0[i * n + j];
                        assert_eq!(c[i * n + j], want, "({m},{n},{k}) ta={ta} tb={tb}");
                    }
                }
            }
        }
    }

    /// A batch in one call equals its matrices one call each, bit for bit: 1 and 3
    /// matrices, A or B shared or neither, ragged shapes across the MC row block and the
    /// KC slab, every transpose.
    #[test]
    fn a_batch_equals_its_matrices_one_by_one() {
        for &(m, n, k) in &[(1, 1, 1), (5, 9, 3), (100, 13, 300), (97, 17, 16)] {
            for batch in [1, 3] {
                for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                    for (share_a, share_b) in [(false, false), (true, false), (false, true)] {
                        check_batch(batch, (m, n, k), (ta, tb), (share_a, share_b));
                    }
                }
            }
        }
    }

    fn check_batch(
        batch: usize,
        (m, n, k): (usize, usize, usize),
        (ta, tb): (bool, bool),
        (share_a, share_b): (bool, bool),
    ) {
        let (sa, sb) = (
            if share_a { 0 } else { m * k },
            if share_b { 0 } else { k * n },
        );
        let count = |shared: bool| if shared { 1 } else { batch };
        let a: Vec<f32> = (0..count(share_a) * m * k)
            .map(|i| ((i * 7) % 13) as f32 * 0.37 - 2.0)
            .collect();
        let b: Vec<f32> = (0..count(share_b) * k * n)
            .map(|i| ((i * 5) % 11) as f32 * 0.71 - 3.0)
            .collect();
        let view = |data, trans: bool, rows: usize, cols: usize| {
            if trans {
                View {
                    data,
                    rs: 1,
                    cs: rows,
                }
            } else {
                View {
                    data,
                    rs: cols,
                    cs: 1,
                }
            }
        };
        let (av, bv) = (view(&a[..], ta, m, k), view(&b[..], tb, k, n));
        let c0: Vec<f32> = (0..batch * m * n).map(|i| (i % 17) as f32).collect();
        let mut c = c0.clone();
        sgemm_batch(
            batch,
            (m, n, k),
            0.5,
            (av, sa),
            (bv, sb),
            1.5,
            (&mut c, m * n),
            n,
        );
        for s in 0..batch {
            let mut one = c0[s * m * n..(s + 1) * m * n].to_vec();
            let (a_s, b_s) = (av.skip(s * sa), bv.skip(s * sb));
            sgemm(m, n, k, 0.5, a_s, b_s, 1.5, &mut one, n);
            assert_eq!(
                &c[s * m * n..(s + 1) * m * n],
                &one[..],
                "batch {batch} ({m},{n},{k}) ta={ta} tb={tb} shared a={share_a} b={share_b}, matrix {s}"
            );
        }
    }
}
