//! Native x86-64 SGEMM with fused multiply-add: an AVX-512 microkernel (12 x 32) and an
//! AVX2 + FMA one (6 x 16), picked at run time (`is_x86_feature_detected!`). The CPU
//! backend uses it natively on x86-64 for products up to [`NARROW`] columns wide
//! ([`choose`]; wider ones go to `matrixmultiply`); wasm32 uses [`super::sgemm`]
//! (simd128, no FMA).
//!
//! `C = alpha op(A) op(B) + beta C`, `op(A)` `[m x k]`, `op(B)` `[k x n]` as strided
//! [`View`]s, `C` row-major with row stride `rsc`.
//!
//! Blocking: K in equal slabs of at most `KC`; per slab, each B panel of `NR` columns is
//! packed (zero-padded) right before its tiles use it (`kc x NR`: 24 KiB for AVX-512 at
//! `KC` = 192, kept in L1 while every row tile of A streams past it), and A is packed
//! once per block of `MC` rows. For narrow products (`n <= NARROW`) A is *not* packed
//! when its rows or its columns are contiguous and its row stride keeps a tile's rows in
//! distinct L1 sets (every operand of a width-64 training step): the microkernel
//! broadcasts `A[i, l]` straight from memory, `MR` rows at a time, which saves a
//! transposing copy of A per product (at width 64 that copy cost as much as a third of
//! the arithmetic); a ragged last row tile then runs as a full tile shifted up.
//!
//! Each `MR x NR` tile keeps its accumulators in registers (24 of the 32 zmm for
//! AVX-512: 2 B vectors and 12 broadcasts of `A[i, l]` per k), then
//! `C_tile = alpha acc + beta C_tile` with masked loads and stores on ragged edges.
//! Summation over k is the plain order (one FMA chain per output, k ascending, slabs
//! ascending).
//!
//! Batches whose B is shared (`stride_b = 0`, e.g. the data matrix X in the first-layer
//! weight gradient of every seed) pack it once per slab for all seeds: the `S` products
//! run as one GEMM over the stacked seeds (`C_s = A_s B` is the `s`-th row block of
//! `[A_1; ..; A_S] B`). A shared A is read in place for every seed, or packed per seed.

use super::sgemm::View;

/// Rows of C per AVX-512 tile.
const MR512: usize = 12;
/// Columns of C per AVX-512 tile (two zmm registers).
const NR512: usize = 32;
/// Rows of C per AVX2 tile.
const MR256: usize = 6;
/// Columns of C per AVX2 tile (two ymm registers).
const NR256: usize = 16;
/// Depth of a K slab.
const KC: usize = 192;
/// Rows of A per block (a multiple of both MRs; `MC x KC` = 774 KiB stays in L2 while
/// the B panels of a slab pass over it; width-1024 products fit in one block).
const MC: usize = 1032;

/// Which instruction set the microkernel uses on this CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    Avx512,
    Avx2Fma,
}

/// Environment variable naming the native CPU product for benchmarks: `avx512` or `avx2`
/// (this module for every product, if the CPU has it) or `matrixmultiply` (that crate
/// for every product); unset = [`choose`]'s split by shape.
pub const GEMM_ENV: &str = "SCALING_PLAYGROUND_CPU_GEMM";

/// Products at most this wide (`n`) run on this module's kernels by default, wider ones
/// on `matrixmultiply`. Measured in the training benchmark (bench/README.md): on the
/// narrow products of width 64, reading A in place makes ours 1.2-1.9x faster than
/// `matrixmultiply`; at width 1024 the two are even in isolation
/// (`examples/bench_shapes`), but inside a training step, with the 4 MiB weight matrices
/// coming from L3, `matrixmultiply`'s wide B packing (long contiguous row reads) trained
/// 10-25% faster than our per-panel packing.
pub const NARROW: usize = 128;

/// The best kernel this CPU runs (or the one [`GEMM_ENV`] names), `None` when there is
/// none or `matrixmultiply` was asked for.
pub fn detect() -> Option<Isa> {
    SETTING.get_or_init(setting).0
}

/// The kernel for a product of `n` columns: [`detect`]'s, for products up to [`NARROW`]
/// wide or when [`GEMM_ENV`] asks for it; `None` = `matrixmultiply`.
pub fn choose(n: usize) -> Option<Isa> {
    let (isa, forced) = *SETTING.get_or_init(setting);
    if forced || n <= NARROW { isa } else { None }
}

/// Whether the CPU has AVX-512F (whatever [`GEMM_ENV`] says).
pub fn has_avx512() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| std::arch::is_x86_feature_detected!("avx512f"))
}

static SETTING: std::sync::OnceLock<(Option<Isa>, bool)> = std::sync::OnceLock::new();

/// (kernel, whether [`GEMM_ENV`] forces it for every product).
fn setting() -> (Option<Isa>, bool) {
    let asked = std::env::var(GEMM_ENV).unwrap_or_default();
    let avx2 =
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma");
    let best = if has_avx512() {
        Some(Isa::Avx512)
    } else if avx2 {
        Some(Isa::Avx2Fma)
    } else {
        None
    };
    match asked.as_str() {
        "matrixmultiply" => (None, true),
        "avx2" if avx2 => (Some(Isa::Avx2Fma), true),
        "avx512" => (best, true),
        _ => (best, false),
    }
}

/// How the microkernel reads A: element `(r, l)` of a tile at `ptr + r * rs + l * ks`.
#[derive(Clone, Copy)]
struct APanel {
    ptr: *const f32,
    rs: usize,
    ks: usize,
}

/// One batched product `C_s = alpha op(A_s) op(B_s) + beta C_s` for `s < batch`, with
/// element offsets `stride_*` between the matrices of the batch (0 = shared). `isa` must
/// come from [`detect`] (the kernels need those instructions).
#[allow(clippy::too_many_arguments)]
pub fn sgemm_batch(
    isa: Isa,
    batch: usize,
    (m, n, k): (usize, usize, usize),
    alpha: f32,
    (a, stride_a): (View, usize),
    (b, stride_b): (View, usize),
    beta: f32,
    (c, stride_c): (&mut [f32], usize),
) {
    if m == 0 || n == 0 || batch == 0 {
        return;
    }
    let rsc = n;
    if k == 0 || alpha == 0.0 {
        for s in 0..batch {
            for x in &mut c[s * stride_c..s * stride_c + m * n] {
                *x = if beta == 0.0 { 0.0 } else { beta * *x };
            }
        }
        return;
    }
    let (mr, nr) = match isa {
        Isa::Avx512 => (MR512, NR512),
        Isa::Avx2Fma => (MR256, NR256),
    };
    // Bounds the kernels rely on: every A, B and C element addressed exists.
    let a_extent = (batch - 1) * stride_a + (m - 1) * a.rs + (k - 1) * a.cs + 1;
    let b_extent = (batch - 1) * stride_b + (k - 1) * b.rs + (n - 1) * b.cs + 1;
    let c_extent = (batch - 1) * stride_c + (m - 1) * rsc + n;
    assert!(a.data.len() >= a_extent && b.data.len() >= b_extent && c.len() >= c_extent);

    let n_panels = n.div_ceil(nr);
    // Slabs of equal depth (k = 256 as 2 x 128, not 192 + 64: a thin last slab pays
    // the tile's C update for little arithmetic).
    let kc_max = k.div_ceil(k.div_ceil(KC));
    let direct = reads_a_directly(&a, n, mr);
    SCRATCH.with(|scratch| {
        let (bp, ap) = &mut *scratch.borrow_mut();
        // Batches sharing B pack all its panels once per slab; otherwise each panel is
        // packed right before its tiles use it (24 KiB, still in L1 for them).
        let b_shared = stride_b == 0 && batch > 1;
        bp.resize(if b_shared { n_panels } else { 1 } * nr * kc_max, 0.0);
        ap.resize(MC.min(m.next_multiple_of(mr)) * kc_max, 0.0);
        for k0 in (0..k).step_by(kc_max) {
            let kc = kc_max.min(k - k0);
            // The first slab applies beta (C is never read when beta = 0), later ones add.
            let beta_here = if k0 == 0 { beta } else { 1.0 };
            if b_shared {
                for (jp, panel) in bp.chunks_exact_mut(nr * kc).take(n_panels).enumerate() {
                    pack_b(&b, 0, k0, kc, (jp * nr, n), nr, panel);
                }
            }
            for s in 0..batch {
                for m0 in (0..m).step_by(MC) {
                    let mb = MC.min(m - m0);
                    // A block of at least mr rows read in place computes its ragged last
                    // tile as a full one shifted up to end at the block's last row, and
                    // stores only its new rows; otherwise the panels are packed.
                    let in_place = direct && mb >= mr;
                    let full = if in_place { mb.div_ceil(mr) } else { 0 };
                    for ip in full..mb.div_ceil(mr) {
                        let i0 = m0 + ip * mr;
                        let rows = mr.min(m - i0);
                        let dst = &mut ap[(ip - full) * mr * kc..(ip - full + 1) * mr * kc];
                        pack_a(&a, s * stride_a, i0, rows, k0, kc, mr, dst);
                    }
                    for jp in 0..n_panels {
                        let cols = nr.min(n - jp * nr);
                        let b_panel = if b_shared {
                            bp[jp * nr * kc..].as_ptr()
                        } else {
                            let panel = &mut bp[..nr * kc];
                            pack_b(&b, s * stride_b, k0, kc, (jp * nr, n), nr, panel);
                            panel.as_ptr()
                        };
                        for ip in 0..mb.div_ceil(mr) {
                            let i0 = m0 + ip * mr;
                            let rows = mr.min(m - i0);
                            let panel = if ip < full {
                                let top = i0 + rows - mr;
                                let off = s * stride_a + top * a.rs + k0 * a.cs;
                                APanel {
                                    // SAFETY: within a.data by the extent assert.
                                    ptr: unsafe { a.data.as_ptr().add(off) },
                                    rs: a.rs,
                                    ks: a.cs,
                                }
                            } else {
                                APanel {
                                    ptr: ap[(ip - full) * mr * kc..].as_ptr(),
                                    rs: 1,
                                    ks: mr,
                                }
                            };
                            let tile = Tile {
                                first_row: if ip < full { mr - rows } else { 0 },
                                rows,
                                cols,
                                rsc,
                                alpha,
                                beta: beta_here,
                            };
                            // SAFETY: tile (i0.., jp * nr..) of C lies within c by the
                            // extent assert (rows, cols clip it); the A panel covers mr
                            // rows (in place: rows top..top + mr < m) and kc columns; B
                            // kc x nr.
                            unsafe {
                                let ct = c.as_mut_ptr().add(s * stride_c + i0 * rsc + jp * nr);
                                match isa {
                                    Isa::Avx512 => avx512::tile(kc, panel, b_panel, ct, tile),
                                    Isa::Avx2Fma => avx2::tile(kc, panel, b_panel, ct, tile),
                                }
                            }
                        }
                    }
                }
            }
        }
    });
}

thread_local! {
    /// Packing buffers (B panels, A panels), reused across calls: every element a
    /// kernel reads is written by the packing of the same call first.
    static SCRATCH: std::cell::RefCell<(Vec<f32>, Vec<f32>)> = Default::default();
}

/// Where a tile's result goes: `C = alpha acc + beta C` over `rows x cols` (C unread
/// when `beta = 0`), row stride `rsc`, from accumulator rows `first_row..first_row +
/// rows` (a shifted ragged tile skips the rows its neighbour already stored).
#[derive(Clone, Copy)]
struct Tile {
    first_row: usize,
    rows: usize,
    cols: usize,
    rsc: usize,
    alpha: f32,
    beta: f32,
}

/// Whether the microkernel reads A in place rather than from packed panels. Packing A
/// (a transposing copy, ~1/3 cycle per element) costs about `8 / n` of the arithmetic,
/// so it only pays off for narrow products; in place, the `mr` rows of a tile stream
/// through L1 side by side, which thrashes when they fall into few cache sets (row
/// strides of a multiple of 1 KiB: `W` of width 1024 puts all 12 rows in one set).
fn reads_a_directly(a: &View, n: usize, mr: usize) -> bool {
    if n > NARROW {
        return false;
    }
    if a.rs == 1 {
        return true;
    }
    if a.cs != 1 {
        return false;
    }
    // L1: 64 sets of 64-byte lines; at most two tile rows per set.
    let mut per_set = [0u8; 64];
    (0..mr).all(|r| {
        let set = (r * a.rs * 4 / 64) % 64;
        per_set[set] += 1;
        per_set[set] <= 2
    })
}

/// Pack rows `k0..k0 + kc`, columns `j0..j0 + nr` of B (matrix at offset `off`, `n`
/// columns) into `panel[l][0..nr]`, zero-padded past column `n`.
#[allow(clippy::too_many_arguments)]
fn pack_b(
    b: &View,
    off: usize,
    k0: usize,
    kc: usize,
    (j0, n): (usize, usize),
    nr: usize,
    panel: &mut [f32],
) {
    {
        let cols = nr.min(n - j0);
        if b.cs == 1 && cols == nr {
            for (l, dst) in panel.chunks_exact_mut(nr).enumerate() {
                let base = off + (k0 + l) * b.rs + j0;
                copy_row(dst, &b.data[base..base + nr]);
            }
        } else if b.cs == 1 {
            for (l, dst) in panel.chunks_exact_mut(nr).enumerate() {
                let base = off + (k0 + l) * b.rs + j0;
                dst[..cols].copy_from_slice(&b.data[base..base + cols]);
                dst[cols..].fill(0.0);
            }
        } else if b.rs == 1 {
            // B^T stored (contiguous along k): 16 x 16 blocks, each read as 16 runs of 16
            // and written as 16 runs of 16, so that neither side strides through memory
            // one element per cache line (rows of W are 4 KiB apart at width 1024).
            for q0 in (0..nr).step_by(16) {
                for l0 in (0..kc).step_by(16) {
                    let lw = 16.min(kc - l0);
                    let mut blk = [[0.0f32; 16]; 16];
                    for (q, row) in blk.iter_mut().enumerate().take(cols.saturating_sub(q0)) {
                        let base = off + k0 + l0 + (j0 + q0 + q) * b.cs;
                        row[..lw].copy_from_slice(&b.data[base..base + lw]);
                    }
                    for l in 0..lw {
                        let dst = &mut panel[(l0 + l) * nr + q0..(l0 + l) * nr + q0 + 16];
                        for (d, row) in dst.iter_mut().zip(&blk) {
                            *d = row[l];
                        }
                    }
                }
            }
        } else {
            for (l, dst) in panel.chunks_exact_mut(nr).enumerate() {
                let base = off + (k0 + l) * b.rs + j0 * b.cs;
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

/// `dst = src` for one panel row (16 or 32 f32), as fixed-size moves rather than a
/// `memmove` call per row.
#[inline(always)]
fn copy_row(dst: &mut [f32], src: &[f32]) {
    for (d, s) in dst.chunks_exact_mut(16).zip(src.chunks_exact(16)) {
        let d: &mut [f32; 16] = d.try_into().expect("16 lanes");
        *d = s.try_into().expect("16 lanes");
    }
}

/// Pack `A[i0..i0 + rows, k0..k0 + kc]` (matrix at offset `off`) into `ap[l][0..mr]`,
/// zero-padded in rows.
#[allow(clippy::too_many_arguments)]
fn pack_a(
    a: &View,
    off: usize,
    i0: usize,
    rows: usize,
    k0: usize,
    kc: usize,
    mr: usize,
    ap: &mut [f32],
) {
    let ap = &mut ap[..kc * mr];
    if a.cs == 1 {
        // Rows contiguous along k: each row read as one run, written with stride mr.
        for r in 0..mr {
            if r < rows {
                let base = off + (i0 + r) * a.rs + k0;
                for (dst, &v) in ap.chunks_exact_mut(mr).zip(&a.data[base..base + kc]) {
                    dst[r] = v;
                }
            } else {
                ap.chunks_exact_mut(mr).for_each(|dst| dst[r] = 0.0);
            }
        }
    } else {
        for (l, dst) in ap.chunks_exact_mut(mr).enumerate() {
            let base = off + i0 * a.rs + (k0 + l) * a.cs;
            for (r, d) in dst.iter_mut().enumerate() {
                *d = if r < rows {
                    a.data[base + r * a.rs]
                } else {
                    0.0
                };
            }
        }
    }
}

mod avx512 {
    use super::{APanel, MR512 as MR, NR512 as NR, Tile};
    use std::arch::x86_64::*;

    /// `C = alpha A B + beta C` for one 12 x 32 tile (clipped to `t.rows x t.cols`).
    ///
    /// # Safety
    /// AVX-512F must be available; `a` addresses `MR x kc` readable f32 through its
    /// strides, `b` `kc x NR`, `c` a `rows x cols` block with row stride `t.rsc`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn tile(kc: usize, a: APanel, b: *const f32, c: *mut f32, t: Tile) {
        // The C tile is read (or written) only after the k loop: start fetching it now,
        // so that its 24 lines (often out in L3 between slabs) arrive meanwhile.
        for r in 0..t.rows {
            // SAFETY: prefetching never faults; the addresses are in C's tile anyway.
            unsafe {
                let p = c.add(r * t.rsc) as *const i8;
                _mm_prefetch::<_MM_HINT_T0>(p);
                _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(64));
            }
        }
        let acc = if a.ks == 1 {
            // Rows of A contiguous along k: MR row streams, one step each per k.
            unsafe { accumulate::<false>(kc, a, b) }
        } else {
            // Columns of A contiguous (transposed A, or a packed panel): rows at +r.
            unsafe { accumulate::<true>(kc, a, b) }
        };
        unsafe { store(&acc, c, t) }
    }

    /// The k loop: 24 accumulators, two B loads and 12 broadcasts per k.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn accumulate<const ROWS_ADJACENT: bool>(
        kc: usize,
        a: APanel,
        b: *const f32,
    ) -> [[__m512; 2]; MR] {
        let mut acc = [[_mm512_setzero_ps(); 2]; MR];
        let rs = if ROWS_ADJACENT { 1 } else { a.rs };
        let ks = if ROWS_ADJACENT { a.ks } else { 1 };
        let (mut pa, mut pb) = (a.ptr, b);
        for _ in 0..kc {
            // SAFETY: the caller guarantees kc steps of the A panel and of B.
            unsafe {
                if ROWS_ADJACENT {
                    // A packed (or transposed) streams from L2: ask for it 16 k ahead.
                    _mm_prefetch::<_MM_HINT_T0>(pa.wrapping_add(16 * ks) as *const i8);
                }
                let b0 = _mm512_loadu_ps(pb);
                let b1 = _mm512_loadu_ps(pb.add(16));
                for (r, acc_r) in acc.iter_mut().enumerate() {
                    let av = _mm512_set1_ps(*pa.add(r * rs));
                    acc_r[0] = _mm512_fmadd_ps(av, b0, acc_r[0]);
                    acc_r[1] = _mm512_fmadd_ps(av, b1, acc_r[1]);
                }
                pa = pa.add(ks);
                pb = pb.add(NR);
            }
        }
        acc
    }

    /// `C = alpha acc + beta C` over `rows x cols`, masked on a ragged right edge.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn store(acc: &[[__m512; 2]; MR], c: *mut f32, t: Tile) {
        let al = _mm512_set1_ps(t.alpha);
        let bt = _mm512_set1_ps(t.beta);
        let mask = |lo: usize| -> __mmask16 {
            let w = t.cols.saturating_sub(lo).min(16);
            ((1u32 << w) - 1) as __mmask16
        };
        let masks = [mask(0), mask(16)];
        for (r, acc_r) in acc[t.first_row..].iter().enumerate().take(t.rows) {
            for (h, (&v, &mk)) in acc_r.iter().zip(&masks).enumerate() {
                // SAFETY: the caller guarantees the rows x cols block; masks clip
                // columns (a masked-off lane is neither read nor written).
                unsafe {
                    let p = c.add(r * t.rsc + 16 * h);
                    let out = if t.beta == 0.0 {
                        _mm512_mul_ps(al, v)
                    } else {
                        let old = _mm512_maskz_loadu_ps(mk, p);
                        let old = if t.beta == 1.0 {
                            old
                        } else {
                            _mm512_mul_ps(bt, old)
                        };
                        _mm512_fmadd_ps(al, v, old)
                    };
                    _mm512_mask_storeu_ps(p, mk, out);
                }
            }
        }
    }
}

mod avx2 {
    use super::{APanel, MR256 as MR, NR256 as NR, Tile};
    use std::arch::x86_64::*;

    /// `C = alpha A B + beta C` for one 6 x 16 tile (clipped to `t.rows x t.cols`).
    ///
    /// # Safety
    /// AVX2 and FMA must be available; `a` addresses `MR x kc` readable f32 through its
    /// strides, `b` `kc x NR`, `c` a `rows x cols` block with row stride `t.rsc`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn tile(kc: usize, a: APanel, b: *const f32, c: *mut f32, t: Tile) {
        let acc = if a.ks == 1 {
            unsafe { accumulate::<false>(kc, a, b) }
        } else {
            unsafe { accumulate::<true>(kc, a, b) }
        };
        let mut out = [[0.0f32; NR]; MR];
        for (o, acc_r) in out.iter_mut().zip(&acc) {
            // SAFETY: `o` holds exactly 16 f32.
            unsafe {
                _mm256_storeu_ps(o.as_mut_ptr(), acc_r[0]);
                _mm256_storeu_ps(o.as_mut_ptr().add(8), acc_r[1]);
            }
        }
        for (r, o) in out[t.first_row..].iter().enumerate().take(t.rows) {
            for (q, v) in o.iter().enumerate().take(t.cols) {
                // SAFETY: the caller guarantees the rows x cols block.
                unsafe {
                    let p = c.add(r * t.rsc + q);
                    *p = if t.beta == 0.0 {
                        t.alpha * v
                    } else {
                        t.alpha.mul_add(*v, t.beta * *p)
                    };
                }
            }
        }
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn accumulate<const ROWS_ADJACENT: bool>(
        kc: usize,
        a: APanel,
        b: *const f32,
    ) -> [[__m256; 2]; MR] {
        let mut acc = [[_mm256_setzero_ps(); 2]; MR];
        let rs = if ROWS_ADJACENT { 1 } else { a.rs };
        let ks = if ROWS_ADJACENT { a.ks } else { 1 };
        let (mut pa, mut pb) = (a.ptr, b);
        for _ in 0..kc {
            // SAFETY: the caller guarantees kc steps of the A panel and of B.
            unsafe {
                let b0 = _mm256_loadu_ps(pb);
                let b1 = _mm256_loadu_ps(pb.add(8));
                for (r, acc_r) in acc.iter_mut().enumerate() {
                    let av = _mm256_set1_ps(*pa.add(r * rs));
                    acc_r[0] = _mm256_fmadd_ps(av, b0, acc_r[0]);
                    acc_r[1] = _mm256_fmadd_ps(av, b1, acc_r[1]);
                }
                pa = pa.add(ks);
                pb = pb.add(NR);
            }
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every ISA this CPU has, against a naive f64 product, on ragged shapes, all
    /// transposes, shared operands and alpha/beta.
    #[test]
    fn x86_kernels_match_naive_products() {
        let mut isas = vec![];
        if std::arch::is_x86_feature_detected!("avx512f") {
            isas.push(Isa::Avx512);
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            isas.push(Isa::Avx2Fma);
        }
        for isa in isas {
            for &(m, n, k) in &[
                (1, 1, 1),
                (5, 9, 3),
                (12, 32, 192),
                (13, 33, 193),
                (67, 13, 300),
                (25, 70, 400),
                (30, 150, 50),
                (1040, 20, 10),
                (3, 2, 0),
            ] {
                for (ta, tb) in [(false, false), (true, true), (true, false), (false, true)] {
                    for (batch, share_a, share_b) in
                        [(1, false, false), (3, true, false), (3, false, true)]
                    {
                        check(isa, batch, (m, n, k), (ta, tb), (share_a, share_b));
                    }
                }
            }
        }
    }

    fn check(
        isa: Isa,
        batch: usize,
        (m, n, k): (usize, usize, usize),
        (ta, tb): (bool, bool),
        (share_a, share_b): (bool, bool),
    ) {
        let sa = if share_a { 0 } else { m * k };
        let sb = if share_b { 0 } else { k * n };
        let a: Vec<f32> = (0..batch.max(1) * m * k)
            .map(|i| ((i * 7) % 13) as f32 * 0.25 - 1.5)
            .collect();
        let b: Vec<f32> = (0..batch.max(1) * k * n)
            .map(|i| ((i * 5) % 11) as f32 * 0.5 - 2.5)
            .collect();
        let c0: Vec<f32> = (0..batch * m * n).map(|i| (i % 17) as f32).collect();
        // beta = 0 must never read C: start from NaN there.
        let beta = if share_b { 0.0 } else { 2.0 };
        let mut c = if beta == 0.0 {
            vec![f32::NAN; c0.len()]
        } else {
            c0.clone()
        };
        // (row, column) strides of a stored matrix that is `rows x cols` after op().
        let view = |t: bool, rows: usize, cols: usize| if t { (1, rows) } else { (cols, 1) };
        let (ars, acs) = view(ta, m, k);
        let (brs, bcs) = view(tb, k, n);
        sgemm_batch(
            isa,
            batch,
            (m, n, k),
            0.5,
            (
                View {
                    data: &a,
                    rs: ars,
                    cs: acs,
                },
                sa,
            ),
            (
                View {
                    data: &b,
                    rs: brs,
                    cs: bcs,
                },
                sb,
            ),
            beta,
            (&mut c, m * n),
        );
        for s in 0..batch {
            for i in 0..m {
                for j in 0..n {
                    let dot: f64 = (0..k)
                        .map(|l| {
                            let x = a[s * sa + i * ars + l * acs] as f64;
                            x * b[s * sb + l * brs + j * bcs] as f64
                        })
                        .sum();
                    let want = 0.5 * dot + beta as f64 * c0[s * m * n + i * n + j] as f64;
                    let got = c[s * m * n + i * n + j] as f64;
                    assert!(
                        (got - want).abs() <= 1e-5 * (1.0 + want.abs()),
                        "{isa:?} batch {batch} ({m},{n},{k}) ta={ta} tb={tb} \
                         share=({share_a},{share_b}) [{s},{i},{j}]: {got} vs {want}"
                    );
                }
            }
        }
    }
}
