//! Our own packed GEMM, written for wasm32 `simd128` (the browser's CPU path), in f32
//! ([`sgemm`], [`sgemm_batch`]: the training engine's products) and f64 ([`dgemm`]: the
//! theory's, through `linalg::gemm`). Natively the same code compiles to plain lanes;
//! `bench/run.sh` measures it against `matrixmultiply` (which has AVX2/AVX-512 kernels
//! natively), and each caller uses whichever is faster per target (see `Cpu::gemm`,
//! `linalg::gemm`).
//!
//! `C = alpha op(A) op(B) + beta C`, `op(A)` `[m x k]`, `op(B)` `[k x n]`, arbitrary
//! element strides (`rs*` between rows, `cs*` between columns), `C` row-major with row
//! stride `rsc`.
//!
//! Blocking (Goto/BLIS style): K in slabs of `KC`; for each slab B is packed once into
//! column panels of `NR` = two registers of lanes (8 f32 or 4 f64; `kc x NR`, 8 KiB,
//! stays in L1 while it is used), A in blocks of `MC` rows into row panels of `MR` = 4
//! (`MC x KC`, 96 KiB in f32 and 192 KiB in f64, stays in L2). The `4 x NR`
//! microkernel keeps its accumulators in 8 registers and reads A with one
//! `v128.load32_splat` (`load64_splat`) per row and k (no separate scalar load and
//! splat). One generic body ([`Lanes`]) serves both precisions.
//!
//! A batch of products ([`sgemm_batch`], the ensemble's seeds) is one call: scratch
//! panels allocated once, and an operand the batch shares (the data X in the first
//! layer's product and its weight gradient) packed once per slab for every matrix.
//!
//! Two builds of the page ship this kernel (the page picks one at load, `www/wasm-build.js`):
//! - simd128: no fused multiply-add, so every `2 x lanes` flops cost one multiply and
//!   one add;
//! - relaxed SIMD (`+relaxed-simd`, [`RELAXED_SIMD`]): one `f32x4.relaxed_madd`
//!   (`f64x2.relaxed_madd`), which the engine fuses where the CPU has FMA (so the
//!   products differ from simd128's by the rounding of the intermediate product, a few
//!   ulps of each partial sum) and computes as a multiply and an add elsewhere.
//!
//! The `4 x NR` tile fits the registers V8 gives wasm SIMD values (16 xmm, one kept as
//! scratch): its 8 accumulators, a B pair, the splat (and simd128's product); larger
//! tiles spill, with or without the fused multiply-add, and tiles of the same size
//! (3 x 12, 2 x 16) are no faster (bench/README.md has the rates and the variants tried).
//! Panels are zero-padded, so ragged edges need no special kernel, only a masked store.
//! The summation order over k is the plain one (one accumulator per output, k ascending
//! within a slab, slabs ascending).

use core::ops::{AddAssign, Mul, MulAssign};

/// Whether this build's products use relaxed SIMD's multiply-add (the page's relaxed
/// build, `-C target-feature=+simd128,+relaxed-simd`); false for the simd128 build and
/// natively.
pub const RELAXED_SIMD: bool = cfg!(all(
    target_arch = "wasm32",
    target_feature = "simd128",
    target_feature = "relaxed-simd"
));

/// Rows of a microkernel tile.
const MR: usize = 4;
/// Depth of a K slab.
const KC: usize = 256;
/// Rows of A per packed block.
const MC: usize = 24 * MR;

/// An element type of the products: f32 or f64.
pub trait Scalar: Copy + PartialEq + Mul<Output = Self> + MulAssign + AddAssign {
    const ZERO: Self;
    const ONE: Self;
}

impl Scalar for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

impl Scalar for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

/// One v128 register of `LANES` elements: what the microkernel needs of it.
pub trait Lanes: Copy {
    type E: Scalar;
    const LANES: usize;
    fn zero() -> Self;
    /// Load `LANES` consecutive elements from `p`.
    ///
    /// # Safety
    /// `p..p + LANES` must be readable.
    unsafe fn load(p: *const Self::E) -> Self;
    /// Store the lanes to `p..p + LANES`.
    ///
    /// # Safety
    /// `p..p + LANES` must be writable.
    unsafe fn store(self, p: *mut Self::E);
    /// One element from `p` in every lane (a single `v128.load*_splat`).
    ///
    /// # Safety
    /// `p` must be readable.
    unsafe fn load_splat(p: *const Self::E) -> Self;
    /// `self + a b`: a multiply and an add (simd128 has no fused multiply-add); in the
    /// relaxed-SIMD build the relaxed multiply-add, which the engine fuses where the CPU
    /// has FMA.
    fn mul_add(self, a: Self, b: Self) -> Self;
    fn add(self, b: Self) -> Self;
    /// Lane `i < LANES`.
    fn lane(self, i: usize) -> Self::E;
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes {
    use super::Lanes;
    use core::arch::wasm32::*;

    /// Four f32 lanes in one v128 register.
    #[derive(Clone, Copy)]
    pub struct F4(v128);
    /// Two f64 lanes in one v128 register.
    #[derive(Clone, Copy)]
    pub struct D2(v128);

    /// The [`Lanes`] of one v128 type: `$splat` zero, `$load_splat` (the
    /// `v128.loadNN_splat` of the element width, read as `$bits`), the relaxed and plain
    /// multiply-adds and the add.
    macro_rules! v128_lanes {
        ($t:ident, $e:ty, $n:expr, $bits:ty, $splat:ident, $load_splat:ident,
         $madd:ident, $mul:ident, $add:ident $(,)?) => {
            impl Lanes for $t {
                type E = $e;
                const LANES: usize = $n;
                #[inline(always)]
                fn zero() -> Self {
                    $t($splat(0.0))
                }
                #[inline(always)]
                unsafe fn load(p: *const $e) -> Self {
                    // SAFETY: the caller guarantees LANES readable elements; v128_load
                    // allows unaligned.
                    $t(unsafe { v128_load(p as *const v128) })
                }
                #[inline(always)]
                unsafe fn store(self, p: *mut $e) {
                    // SAFETY: the caller guarantees LANES writable elements.
                    unsafe { v128_store(p as *mut v128, self.0) }
                }
                #[inline(always)]
                unsafe fn load_splat(p: *const $e) -> Self {
                    // SAFETY: the caller guarantees one readable element.
                    $t(unsafe { $load_splat(p as *const $bits) })
                }
                #[inline(always)]
                fn mul_add(self, a: Self, b: Self) -> Self {
                    #[cfg(target_feature = "relaxed-simd")]
                    {
                        $t($madd(a.0, b.0, self.0))
                    }
                    #[cfg(not(target_feature = "relaxed-simd"))]
                    {
                        $t($add(self.0, $mul(a.0, b.0)))
                    }
                }
                #[inline(always)]
                fn add(self, b: Self) -> Self {
                    $t($add(self.0, b.0))
                }
                #[inline(always)]
                fn lane(self, i: usize) -> $e {
                    let mut out = [0.0; $n];
                    // SAFETY: `out` holds exactly LANES elements.
                    unsafe { self.store(out.as_mut_ptr()) };
                    out[i]
                }
            }
        };
    }

    v128_lanes!(
        F4,
        f32,
        4,
        u32,
        f32x4_splat,
        v128_load32_splat,
        f32x4_relaxed_madd,
        f32x4_mul,
        f32x4_add,
    );
    v128_lanes!(
        D2,
        f64,
        2,
        u64,
        f64x2_splat,
        v128_load64_splat,
        f64x2_relaxed_madd,
        f64x2_mul,
        f64x2_add,
    );
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod lanes {
    use super::Lanes;

    /// Four f32 lanes as a plain array (LLVM vectorises it where it can).
    #[derive(Clone, Copy)]
    pub struct F4([f32; 4]);
    /// Two f64 lanes as a plain array.
    #[derive(Clone, Copy)]
    pub struct D2([f64; 2]);

    /// The [`Lanes`] of a plain array of `$n` elements `$e`.
    macro_rules! array_lanes {
        ($t:ident, $e:ty, $n:expr) => {
            impl Lanes for $t {
                type E = $e;
                const LANES: usize = $n;
                #[inline(always)]
                fn zero() -> Self {
                    $t([0.0; $n])
                }
                #[inline(always)]
                unsafe fn load(p: *const $e) -> Self {
                    // SAFETY: the caller guarantees LANES readable elements.
                    $t(unsafe { (p as *const [$e; $n]).read_unaligned() })
                }
                #[inline(always)]
                unsafe fn store(self, p: *mut $e) {
                    // SAFETY: the caller guarantees LANES writable elements.
                    unsafe { (p as *mut [$e; $n]).write_unaligned(self.0) }
                }
                #[inline(always)]
                unsafe fn load_splat(p: *const $e) -> Self {
                    // SAFETY: the caller guarantees one readable element.
                    $t([unsafe { *p }; $n])
                }
                #[inline(always)]
                fn mul_add(self, a: Self, b: Self) -> Self {
                    let mut r = self.0;
                    for ((r, a), b) in r.iter_mut().zip(a.0).zip(b.0) {
                        *r += a * b;
                    }
                    $t(r)
                }
                #[inline(always)]
                fn add(self, b: Self) -> Self {
                    let mut r = self.0;
                    for (r, b) in r.iter_mut().zip(b.0) {
                        *r += b;
                    }
                    $t(r)
                }
                #[inline(always)]
                fn lane(self, i: usize) -> $e {
                    self.0[i]
                }
            }
        };
    }

    array_lanes!(F4, f32, 4);
    array_lanes!(D2, f64, 2);
}

use lanes::{D2, F4};

/// Strided read-only matrix view: element (i, j) at `i * rs + j * cs`.
#[derive(Clone, Copy)]
pub struct View<'a, E = f32> {
    pub data: &'a [E],
    pub rs: usize,
    pub cs: usize,
}

impl<'a, E: Copy> View<'a, E> {
    #[inline(always)]
    fn at(&self, i: usize, j: usize) -> E {
        self.data[i * self.rs + j * self.cs]
    }
    /// The same view `off` elements further into its data (matrix `s` of a batch at
    /// `off = s * stride`).
    fn skip(&self, off: usize) -> View<'a, E> {
        View {
            data: &self.data[off..],
            ..*self
        }
    }
}

/// `C[m x n] = alpha A B + beta C` in f32 with `A` `[m x k]`, `B` `[k x n]` given as
/// views, `C` row-major with row stride `rsc`. `beta = 0` never reads `C`.
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: View<f32>,
    b: View<f32>,
    beta: f32,
    c: &mut [f32],
    rsc: usize,
) {
    gemm::<F4>(m, n, k, alpha, a, b, beta, c, rsc);
}

/// [`sgemm`] in f64: the products of the theory engines on wasm32.
#[allow(clippy::too_many_arguments)]
pub fn dgemm(
    m: usize,
    n: usize,
    k: usize,
    alpha: f64,
    a: View<f64>,
    b: View<f64>,
    beta: f64,
    c: &mut [f64],
    rsc: usize,
) {
    gemm::<D2>(m, n, k, alpha, a, b, beta, c, rsc);
}

/// The batched f32 product `C_s = alpha A_s B_s + beta C_s` for `s < batch`: matrix `s`
/// of each operand starts `s * stride` elements into its view's data (stride 0: one
/// matrix shared by the whole batch), `C_s` row-major with row stride `rsc`. One call
/// for the whole ensemble: the scratch panels are allocated once, and a shared operand
/// is packed once per K slab for every matrix of the batch (a shared B's panels, or all
/// of a shared A's row panels), not once per matrix. Each `C_s` gets exactly the values
/// [`sgemm`] gives it alone (the same packed panels, the same sums in the same order).
#[allow(clippy::too_many_arguments)]
pub fn sgemm_batch(
    batch: usize,
    (m, n, k): (usize, usize, usize),
    alpha: f32,
    (a, stride_a): (View<f32>, usize),
    (b, stride_b): (View<f32>, usize),
    beta: f32,
    (c, stride_c): (&mut [f32], usize),
    rsc: usize,
) {
    gemm_batch::<F4>(
        batch,
        (m, n, k),
        alpha,
        (a, stride_a),
        (b, stride_b),
        beta,
        (c, stride_c),
        rsc,
    );
}

#[allow(clippy::too_many_arguments)]
fn gemm<V: Lanes>(
    m: usize,
    n: usize,
    k: usize,
    alpha: V::E,
    a: View<V::E>,
    b: View<V::E>,
    beta: V::E,
    c: &mut [V::E],
    rsc: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(c.len() >= (m - 1) * rsc + n, "gemm: C too short");
    gemm_batch::<V>(1, (m, n, k), alpha, (a, 0), (b, 0), beta, (c, 0), rsc);
}

/// [`sgemm_batch`] in the element type of `V`.
#[allow(clippy::too_many_arguments)]
fn gemm_batch<V: Lanes>(
    batch: usize,
    (m, n, k): (usize, usize, usize),
    alpha: V::E,
    (a, stride_a): (View<V::E>, usize),
    (b, stride_b): (View<V::E>, usize),
    beta: V::E,
    (c, stride_c): (&mut [V::E], usize),
    rsc: usize,
) {
    if m == 0 || n == 0 || batch == 0 {
        return;
    }
    assert!(
        c.len() >= (batch - 1) * stride_c + (m - 1) * rsc + n,
        "gemm_batch: C too short"
    );
    for s in 0..batch {
        for i in 0..m {
            let o = s * stride_c + i * rsc;
            let row = &mut c[o..o + n];
            if beta == V::E::ZERO {
                row.fill(V::E::ZERO);
            } else if beta != V::E::ONE {
                row.iter_mut().for_each(|x| *x *= beta);
            }
        }
    }
    if k == 0 {
        return;
    }
    let nr = 2 * V::LANES;
    let shared_a = stride_a == 0 && batch > 1;
    let shared_b = stride_b == 0 && batch > 1;
    let mut bp = vec![V::E::ZERO; n.div_ceil(nr) * nr * KC.min(k)];
    // A shared A is packed whole per slab (every row panel, for all matrices); otherwise
    // one block of MC rows at a time.
    let a_rows = if shared_a { m.next_multiple_of(MR) } else { MC };
    let mut ap = vec![V::E::ZERO; a_rows * KC.min(k)];
    for k0 in (0..k).step_by(KC) {
        let kc = KC.min(k - k0);
        if shared_b {
            pack_b(&b, (k0, kc), (n, nr), &mut bp);
        }
        if shared_a {
            for i0 in (0..m).step_by(MC) {
                let mc = MC.min(m - i0);
                pack_a(&a, i0, mc, k0, kc, alpha, &mut ap[i0 * kc..]);
            }
        }
        for s in 0..batch {
            if !shared_b {
                pack_b(&b.skip(s * stride_b), (k0, kc), (n, nr), &mut bp);
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
                block::<V>(kc, n, (i0, mc), a_block, &bp, c_s, rsc);
            }
        }
    }
}

/// Add the products of a packed block of A (rows `i0..i0 + mc`, panels of `MR`) and the
/// packed panels of B (`n` columns, panels of `NR = 2 LANES`) of one K slab of depth
/// `kc` to `C`.
fn block<V: Lanes>(
    kc: usize,
    n: usize,
    (i0, mc): (usize, usize),
    ap: &[V::E],
    bp: &[V::E],
    c: &mut [V::E],
    rsc: usize,
) {
    let (l, nr) = (V::LANES, 2 * V::LANES);
    for jp in 0..n.div_ceil(nr) {
        let b_panel = &bp[jp * nr * kc..(jp + 1) * nr * kc];
        let cols = nr.min(n - jp * nr);
        for ip in 0..mc.div_ceil(MR) {
            let a_panel = &ap[ip * MR * kc..(ip + 1) * MR * kc];
            let rows = MR.min(mc - ip * MR);
            let acc = kernel::<V>(kc, a_panel, b_panel);
            let o = (i0 + ip * MR) * rsc + jp * nr;
            if cols == nr {
                for (r, acc_r) in acc.iter().enumerate().take(rows) {
                    let row = &mut c[o + r * rsc..o + r * rsc + nr];
                    // SAFETY: `row` is exactly NR = 2 LANES elements long.
                    unsafe {
                        let p = row.as_mut_ptr();
                        V::load(p).add(acc_r[0]).store(p);
                        V::load(p.add(l)).add(acc_r[1]).store(p.add(l));
                    }
                }
            } else {
                for (r, acc_r) in acc.iter().enumerate().take(rows) {
                    let row = &mut c[o + r * rsc..o + r * rsc + cols];
                    for (q, x) in row.iter_mut().enumerate() {
                        *x += acc_r[q / l].lane(q % l);
                    }
                }
            }
        }
    }
}

/// Pack rows `k0..k0 + kc` of B into panels `bp[jp][kk][0..nr]` (zero-padded in n).
fn pack_b<E: Scalar>(b: &View<E>, (k0, kc): (usize, usize), (n, nr): (usize, usize), bp: &mut [E]) {
    for jp in 0..n.div_ceil(nr) {
        let panel = &mut bp[jp * nr * kc..(jp + 1) * nr * kc];
        let j0 = jp * nr;
        let cols = nr.min(n - j0);
        for (kk, dst) in panel.chunks_exact_mut(nr).enumerate() {
            let base = (k0 + kk) * b.rs + j0 * b.cs;
            if b.cs == 1 && cols == nr {
                dst.copy_from_slice(&b.data[base..base + nr]);
            } else {
                for (q, d) in dst.iter_mut().enumerate() {
                    *d = if q < cols {
                        b.data[base + q * b.cs]
                    } else {
                        E::ZERO
                    };
                }
            }
        }
    }
}

/// Pack `alpha A[i0..i0 + mc, k0..k0 + kc]` into panels `ap[ip][kk][0..MR]`.
fn pack_a<E: Scalar>(
    a: &View<E>,
    i0: usize,
    mc: usize,
    k0: usize,
    kc: usize,
    alpha: E,
    ap: &mut [E],
) {
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
                    panel[kk * MR + r] = E::ZERO;
                }
            }
        }
    }
}

/// The `MR x NR` microkernel: `acc[r][q] = sum_kk a[kk][r] b[kk][q]` over packed panels
/// (`a` is `kc x MR`, `b` is `kc x NR`, `NR = 2 LANES`), k ascending.
#[inline(always)]
fn kernel<V: Lanes>(kc: usize, a: &[V::E], b: &[V::E]) -> [[V; 2]; MR] {
    let (l, nr) = (V::LANES, 2 * V::LANES);
    assert!(a.len() >= kc * MR && b.len() >= kc * nr);
    let mut acc = [[V::zero(); 2]; MR];
    let (mut pa, mut pb) = (a.as_ptr(), b.as_ptr());
    for _ in 0..kc {
        // SAFETY: the assert above covers kc steps of MR (a) and NR (b) elements.
        unsafe {
            let b0 = V::load(pb);
            let b1 = V::load(pb.add(l));
            for (r, acc_r) in acc.iter_mut().enumerate() {
                let av = V::load_splat(pa.add(r));
                acc_r[0] = acc_r[0].mul_add(av, b0);
                acc_r[1] = acc_r[1].mul_add(av, b1);
            }
            pa = pa.add(MR);
            pb = pb.add(nr);
        }
    }
    acc
}

/// The signature of [`sgemm`] and [`dgemm`].
pub type Product<E> = fn(usize, usize, usize, E, View<E>, View<E>, E, &mut [E], usize);

/// The kernel's self-check: the entries where `product` differs from the naive sum, on
/// ragged shapes (across the MC row block and the KC slabs, k = 0 included), all four
/// transposes, `alpha = 3`, `beta = 2`. The data are small integers (`of` converts
/// them), so every product and sum is exact in f32 and f64, with or without fused
/// multiply-adds: 0 when the kernel is right on this target. The unit tests run it
/// natively, `bench/wasm_sgemm.rs`'s `self_test` in both wasm builds.
pub fn exact_mismatches<E: Scalar>(product: Product<E>, of: fn(i32) -> E) -> usize {
    let shapes = [
        (1, 1, 1),
        (5, 9, 3),
        (67, 13, 300),
        (4, 8, 256),
        (97, 33, 517),
        (3, 2, 0),
    ];
    let mut bad = 0;
    for (m, n, k) in shapes {
        for (ta, tb) in [(false, false), (true, true), (true, false), (false, true)] {
            let a: Vec<E> = (0..m * k).map(|i| of((i * 7 % 13) as i32 - 6)).collect();
            let b: Vec<E> = (0..k * n).map(|i| of((i * 5 % 11) as i32 - 5)).collect();
            let view = |data, trans: bool, rows: usize, cols: usize| {
                let (rs, cs) = if trans { (1, rows) } else { (cols, 1) };
                View { data, rs, cs }
            };
            let (av, bv) = (view(&a[..], ta, m, k), view(&b[..], tb, k, n));
            let c0: Vec<E> = (0..m * n).map(|i| of((i % 17) as i32)).collect();
            let mut c = c0.clone();
            product(m, n, k, of(3), av, bv, of(2), &mut c, n);
            for i in 0..m {
                for j in 0..n {
                    let mut want = of(2) * c0[i * n + j];
                    for l in 0..k {
                        want += of(3) * av.at(i, l) * bv.at(l, j);
                    }
                    bad += usize::from(c[i * n + j] != want);
                }
            }
        }
    }
    bad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_sgemm_matches_naive_on_ragged_shapes() {
        assert_eq!(exact_mismatches::<f32>(sgemm, |x| x as f32), 0);
    }

    #[test]
    fn packed_dgemm_matches_naive_on_ragged_shapes() {
        assert_eq!(exact_mismatches::<f64>(dgemm, |x| x as f64), 0);
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
