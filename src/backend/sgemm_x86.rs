//! Native x86-64 SGEMM with fused multiply-add: AVX-512 microkernels (12 x 32, 8 x 32
//! and 16 x 16 tiles, picked per product by [`avx512_tile`]) and an AVX2 + FMA one
//! (6 x 16), picked at run time (`is_x86_feature_detected!`). The CPU backend uses it
//! natively on x86-64 for products up to [`NARROW`] columns wide ([`choose`]; wider
//! ones go to `matrixmultiply`); wasm32 uses [`crate::packed_gemm`] (simd128, no FMA).
//!
//! `C = alpha op(A) op(B) + beta C`, `op(A)` `[m x k]`, `op(B)` `[k x n]` as strided
//! [`View`]s, `C` row-major with row stride `rsc`, optionally followed by an
//! [`Epilogue`] (ReLU, or a product with another array) applied while each tile is
//! still in registers.
//!
//! Blocking: K in equal slabs of at most `KC`; per slab, each B panel of `NR` columns is
//! packed (zero-padded) right before its tiles use it (`kc x NR`: 24 KiB for AVX-512 at
//! `KC` = 192, kept in L1 while every row tile of A streams past it), and A is packed
//! once per block of `MC` rows. Narrow products (`n <= NARROW`, every product of a
//! width-64 training step) skip both copies where they can:
//! - A is read in place when its rows or its columns are contiguous and its row stride
//!   keeps a tile's rows in distinct L1 sets: the microkernel broadcasts `A[i, l]`
//!   straight from memory, `MR` rows at a time (at width 64 the transposing copy cost
//!   as much as a third of the arithmetic); a ragged last row tile then runs as a full
//!   tile shifted up;
//! - a full B panel is read in place when B's rows are contiguous and the panel's rows
//!   spread over enough L1 sets ([`reads_b_directly`]).
//!
//! Each `MR x NR` tile keeps its accumulators in registers (24 or 16 of the 32 zmm for
//! AVX-512: `NR / 16` B vectors and `MR` broadcasts of `A[i, l]` per k), then
//! `C_tile = alpha acc + beta C_tile` with masked loads and stores on ragged edges.
//! Summation over k is the plain order (one FMA chain per output, k ascending, slabs
//! ascending), so every tile shape gives the same numbers.
//!
//! Batches whose B is shared (`stride_b = 0`, e.g. the data matrix X in the first-layer
//! weight gradient of every seed) pack it once per slab for all seeds: the `S` products
//! run as one GEMM over the stacked seeds (`C_s = A_s B` is the `s`-th row block of
//! `[A_1; ..; A_S] B`). A shared A is read in place for every seed, or packed per seed.

use crate::packed_gemm::View;

/// Rows of C per AVX2 tile.
const MR256: usize = 6;
/// Columns of C per AVX2 tile (two ymm registers).
const NR256: usize = 16;
/// Depth of a K slab.
const KC: usize = 192;
/// Rows of A per block (a multiple of every tile's rows: 6, 8, 12, 16; `MC x KC` =
/// 756 KiB stays in L2 while the B panels of a slab pass over it).
const MC: usize = 1008;

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
/// on `matrixmultiply`: on narrow products, reading A (and B) in place beats
/// `matrixmultiply`'s packing; on wide ones inside a training step, with the weight
/// matrices coming from L3, `matrixmultiply`'s wide B packing (long contiguous row
/// reads) beats our per-panel packing. The measurements are in bench/README.md.
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

/// How the microkernel reads B: row `l` of a panel (`NR` contiguous f32) at
/// `ptr + l * ks` (`ks = NR` when packed, B's row stride when read in place).
#[derive(Clone, Copy)]
struct BPanel {
    ptr: *const f32,
    ks: usize,
}

/// An elementwise op applied to the product as each tile of C is written, on the last
/// K slab while the tile is still in registers: it saves a separate pass over C (and,
/// for ReLU, over the pre-activations it would reread). The arrays are laid out like C
/// (batch stride `stride_c`, row stride `n`). The values equal those of the separate
/// pass: the same f32 operations on the same stored C.
pub enum Epilogue<'e> {
    /// C holds the product.
    None,
    /// ReLU of the result, `phi = max(C, 0)` and `dphi = [C > 0]` (NaN gives 0 in
    /// both); C keeps the pre-activation.
    Relu {
        phi: &'e mut [f32],
        dphi: &'e mut [f32],
    },
    /// `C = (alpha op(A) op(B) + beta C) * x`, elementwise.
    Mul(&'e [f32]),
}

/// [`Epilogue`] as raw pointers to the element that C's tile origin maps to.
#[derive(Clone, Copy)]
enum Epi {
    None,
    Relu(*mut f32, *mut f32),
    Mul(*const f32),
}

impl Epi {
    /// The raw form of `epilogue`, after checking that its arrays cover `c_extent`
    /// elements like C.
    fn checked(epilogue: Epilogue, c_extent: usize) -> Epi {
        match epilogue {
            Epilogue::None => Epi::None,
            Epilogue::Relu { phi, dphi } => {
                assert!(phi.len() >= c_extent && dphi.len() >= c_extent);
                Epi::Relu(phi.as_mut_ptr(), dphi.as_mut_ptr())
            }
            Epilogue::Mul(x) => {
                assert!(x.len() >= c_extent);
                Epi::Mul(x.as_ptr())
            }
        }
    }

    /// The same epilogue `off` elements further on (pointer arithmetic only: nothing
    /// is dereferenced until a tile stores).
    fn at(self, off: usize) -> Epi {
        match self {
            Epi::None => Epi::None,
            Epi::Relu(p, d) => Epi::Relu(p.wrapping_add(off), d.wrapping_add(off)),
            Epi::Mul(x) => Epi::Mul(x.wrapping_add(off)),
        }
    }

    /// Apply the epilogue to the value `v` that C gets at `off` from the origin;
    /// returns what C stores.
    ///
    /// # Safety
    /// `off` must address an element of the epilogue's arrays (the caller's C tile).
    #[inline(always)]
    unsafe fn finish(self, off: usize, v: f32) -> f32 {
        // SAFETY: the caller guarantees `off` is within the arrays.
        unsafe {
            match self {
                Epi::None => v,
                Epi::Relu(phi, dphi) => {
                    let pos = v > 0.0;
                    *phi.add(off) = if pos { v } else { 0.0 };
                    *dphi.add(off) = if pos { 1.0 } else { 0.0 };
                    v
                }
                Epi::Mul(x) => v * *x.add(off),
            }
        }
    }
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
    epilogue: Epilogue,
) {
    if m == 0 || n == 0 || batch == 0 {
        return;
    }
    let c_extent = (batch - 1) * stride_c + (m - 1) * n + n;
    assert!(c.len() >= c_extent);
    let epi = Epi::checked(epilogue, c_extent);
    if k == 0 || alpha == 0.0 {
        scale_only(c, batch, stride_c, m * n, beta, epi);
        return;
    }
    let (mr, nr) = match isa {
        Isa::Avx512 => avx512_tile(m, n),
        Isa::Avx2Fma => (MR256, NR256),
    };
    // Bounds the kernels rely on: every A, B and C element addressed exists.
    let a_extent = (batch - 1) * stride_a + (m - 1) * a.rs + (k - 1) * a.cs + 1;
    let b_extent = (batch - 1) * stride_b + (k - 1) * b.rs + (n - 1) * b.cs + 1;
    assert!(a.data.len() >= a_extent && b.data.len() >= b_extent);

    let n_panels = n.div_ceil(nr);
    // Slabs of equal depth (k = 256 as 2 x 128, not 192 + 64: a thin last slab pays
    // the tile's C update for little arithmetic).
    let kc_max = k.div_ceil(k.div_ceil(KC));
    let whole = Slab {
        isa,
        mr,
        nr,
        m,
        n,
        n_panels,
        a,
        stride_a,
        b,
        stride_b,
        stride_c,
        alpha,
        a_direct: reads_a_directly(&a, n, mr),
        b_direct: reads_b_directly(&b, n, kc_max),
        // Batches sharing B pack all its panels once per slab; otherwise each panel is
        // packed right before its tiles use it (24 KiB, still in L1 for them). Full
        // panels read in place are not packed at all.
        b_shared: stride_b == 0 && batch > 1,
        k0: 0,
        kc: kc_max,
        beta,
        epi,
    };
    SCRATCH.with(|scratch| {
        let (bp, ap) = &mut *scratch.borrow_mut();
        grow(bp, if whole.b_shared { n_panels } else { 1 } * nr * kc_max);
        grow(ap, MC.min(m.next_multiple_of(mr)) * kc_max);
        for k0 in (0..k).step_by(kc_max) {
            let kc = kc_max.min(k - k0);
            // The first slab applies beta (C is never read when beta = 0), later ones
            // add; the last one applies the epilogue.
            let slab = Slab {
                k0,
                kc,
                beta: if k0 == 0 { beta } else { 1.0 },
                epi: if k0 + kc == k { epi } else { Epi::None },
                ..whole
            };
            if slab.b_shared {
                slab.pack_shared_b(bp);
            }
            for s in 0..batch {
                for m0 in (0..m).step_by(MC) {
                    slab.block(s, m0, bp, ap, c);
                }
            }
        }
    });
}

/// `C_s = beta C_s` (0 when `beta = 0`: C is never read) then the epilogue, for the
/// `len` elements of each of the `batch` matrices: a product with `k = 0` or
/// `alpha = 0`.
fn scale_only(c: &mut [f32], batch: usize, stride_c: usize, len: usize, beta: f32, epi: Epi) {
    for s in 0..batch {
        let start = s * stride_c;
        for (i, x) in c[start..start + len].iter_mut().enumerate() {
            let v = if beta == 0.0 { 0.0 } else { beta * *x };
            // SAFETY: start + i < c_extent, which the epilogue's arrays cover.
            *x = unsafe { epi.finish(start + i, v) };
        }
    }
}

/// One K slab `k0..k0 + kc` of a batched product: the shape, operands and tiling that
/// all its tiles share, and what the slab's tiles do with C (`beta`, `epi`).
#[derive(Clone, Copy)]
struct Slab<'v> {
    isa: Isa,
    /// Tile rows and columns.
    mr: usize,
    nr: usize,
    m: usize,
    n: usize,
    /// Column panels of B, `n / nr` rounded up.
    n_panels: usize,
    a: View<'v>,
    stride_a: usize,
    b: View<'v>,
    stride_b: usize,
    stride_c: usize,
    alpha: f32,
    /// A's blocks of at least `mr` rows are read in place ([`reads_a_directly`]).
    a_direct: bool,
    /// B's full panels are read in place ([`reads_b_directly`]).
    b_direct: bool,
    /// One B for the whole batch, its panels packed once per slab.
    b_shared: bool,
    k0: usize,
    kc: usize,
    beta: f32,
    epi: Epi,
}

impl Slab<'_> {
    /// Pack every panel of the shared B (those not read in place) into `bp`.
    fn pack_shared_b(&self, bp: &mut [f32]) {
        let (nr, kc) = (self.nr, self.kc);
        for (jp, panel) in bp.chunks_exact_mut(nr * kc).take(self.n_panels).enumerate() {
            if !(self.b_direct && (jp + 1) * nr <= self.n) {
                pack_b(&self.b, 0, self.k0, kc, (jp * nr, self.n), nr, panel);
            }
        }
    }

    /// Rows `m0..m0 + MC` of matrix `s`: pack the block's row panels of A (unless read
    /// in place), then for each column panel of B (packed now, packed for the slab, or
    /// read in place) run the microkernel over the block's row tiles. A block of at
    /// least `mr` rows read in place computes its ragged last tile as a full one
    /// shifted up to end at the block's last row, and stores only its new rows.
    fn block(&self, s: usize, m0: usize, bp: &mut [f32], ap: &mut [f32], c: &mut [f32]) {
        let (mr, kc) = (self.mr, self.kc);
        let mb = MC.min(self.m - m0);
        let in_place = self.a_direct && mb >= mr;
        let full = if in_place { mb.div_ceil(mr) } else { 0 };
        for ip in full..mb.div_ceil(mr) {
            let i0 = m0 + ip * mr;
            let rows = mr.min(self.m - i0);
            let dst = &mut ap[(ip - full) * mr * kc..(ip - full + 1) * mr * kc];
            pack_a(&self.a, s * self.stride_a, i0, rows, self.k0, kc, mr, dst);
        }
        for jp in 0..self.n_panels {
            let cols = self.nr.min(self.n - jp * self.nr);
            let b_panel = self.b_panel(s, jp, cols, bp);
            for ip in 0..mb.div_ceil(mr) {
                let i0 = m0 + ip * mr;
                let rows = mr.min(self.m - i0);
                let panel = if ip < full {
                    let top = i0 + rows - mr;
                    let off = s * self.stride_a + top * self.a.rs + self.k0 * self.a.cs;
                    APanel {
                        // SAFETY: within a.data by the extent assert.
                        ptr: unsafe { self.a.data.as_ptr().add(off) },
                        rs: self.a.rs,
                        ks: self.a.cs,
                    }
                } else {
                    APanel {
                        ptr: ap[(ip - full) * mr * kc..].as_ptr(),
                        rs: 1,
                        ks: mr,
                    }
                };
                let origin = s * self.stride_c + i0 * self.n + jp * self.nr;
                let tile = Tile {
                    first_row: if ip < full { mr - rows } else { 0 },
                    rows,
                    cols,
                    rsc: self.n,
                    alpha: self.alpha,
                    beta: self.beta,
                    epi: self.epi.at(origin),
                };
                // SAFETY: tile (i0.., jp * nr..) of C (and of the epilogue's arrays)
                // lies within c by the extent asserts (rows, cols clip it); the A panel
                // covers mr rows (in place: rows top..top + mr < m) and kc columns; B
                // kc x nr.
                unsafe { self.tile(panel, b_panel, c.as_mut_ptr().add(origin), tile) };
            }
        }
    }

    /// Column panel `jp` (`cols` wide) of matrix `s`'s B for this slab: read in place
    /// when full and [`Slab::b_direct`], the slab's shared packing, or packed into `bp`
    /// now.
    fn b_panel(&self, s: usize, jp: usize, cols: usize, bp: &mut [f32]) -> BPanel {
        let (nr, kc) = (self.nr, self.kc);
        if self.b_direct && cols == nr {
            let off = s * self.stride_b + self.k0 * self.b.rs + jp * nr;
            BPanel {
                // SAFETY: within b.data by the extent assert.
                ptr: unsafe { self.b.data.as_ptr().add(off) },
                ks: self.b.rs,
            }
        } else if self.b_shared {
            BPanel {
                ptr: bp[jp * nr * kc..].as_ptr(),
                ks: nr,
            }
        } else {
            let panel = &mut bp[..nr * kc];
            pack_b(
                &self.b,
                s * self.stride_b,
                self.k0,
                kc,
                (jp * nr, self.n),
                nr,
                panel,
            );
            BPanel {
                ptr: panel.as_ptr(),
                ks: nr,
            }
        }
    }

    /// The microkernel of this slab's instruction set and tile shape.
    ///
    /// # Safety
    /// As [`avx2::tile`] and [`avx512::tile`]: the panels cover the tile and `ct` its
    /// origin in C, and the CPU has the instructions of `isa`.
    #[inline(always)]
    unsafe fn tile(&self, panel: APanel, b_panel: BPanel, ct: *mut f32, tile: Tile) {
        let kc = self.kc;
        // SAFETY: forwarded from the caller.
        unsafe {
            match (self.isa, self.mr) {
                (Isa::Avx2Fma, _) => avx2::tile(kc, panel, b_panel, ct, tile),
                (Isa::Avx512, 12) => avx512::tile::<12, 2>(kc, panel, b_panel, ct, tile),
                (Isa::Avx512, 8) => avx512::tile::<8, 2>(kc, panel, b_panel, ct, tile),
                (Isa::Avx512, _) => avx512::tile::<16, 1>(kc, panel, b_panel, ct, tile),
            }
        }
    }
}

/// The AVX-512 tile `(rows, columns)` for a product of `m x n`: 16 x 16 when `n <= 16`
/// (a 32-wide tile would compute zeros in half its lanes: the first-layer weight
/// gradient at D = 16); otherwise 12 x 32, or 8 x 32 when that wastes at least 3% less
/// on the ragged last row tile (m = 64: 64 rows against 72).
fn avx512_tile(m: usize, n: usize) -> (usize, usize) {
    if n <= 16 {
        (16, 16)
    } else if m.div_ceil(8) * 8 * 100 <= m.div_ceil(12) * 12 * 97 {
        (8, 32)
    } else {
        (12, 32)
    }
}

/// Lengthen `v` to at least `len` (never shorten: products of alternating sizes would
/// otherwise zero the regrown part on every call).
fn grow(v: &mut Vec<f32>, len: usize) {
    if v.len() < len {
        v.resize(len, 0.0);
    }
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
    /// Applied as the tile is stored (at the tile's origin; `None` before the last slab).
    epi: Epi,
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

/// Whether full B panels are read in place rather than packed: for narrow products whose
/// rows of B are contiguous (`op(B)` not transposed), when the `kc` rows of a panel
/// (`NR` f32 each, one row stride apart) stay resident in L1 while every row tile of A
/// passes. They do when they span at most 32 KiB: L1 maps every 4 KiB of addresses
/// onto its 64 sets, so no set then holds more than 9 of the panel's lines (of 12
/// ways). Packing costs about `8 / m` of the arithmetic: 3% at m = 256, as much again
/// in a width-64 training step.
fn reads_b_directly(b: &View, n: usize, kc: usize) -> bool {
    n <= NARROW && b.cs == 1 && kc * b.rs * 4 <= 32 * 1024
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
                        if lw == 16 {
                            // a fixed-size move, not a memmove call per row
                            *row = b.data[base..base + 16].try_into().expect("16 lanes");
                        } else {
                            row[..lw].copy_from_slice(&b.data[base..base + lw]);
                        }
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
    use super::{APanel, BPanel, Epi, Tile};
    use std::arch::x86_64::*;

    /// `C = alpha A B + beta C` for one `MR x 16 NV` tile (clipped to
    /// `t.rows x t.cols`), then `t.epi`. `MR x NV` accumulators: 24 for 12 x 32, 16 for
    /// 8 x 32 and 16 x 16 (enough independent FMA chains to cover the FMA latency).
    ///
    /// # Safety
    /// AVX-512F must be available; `a` addresses `MR x kc` readable f32 through its
    /// strides, `b` `kc x 16 NV`, `c` (and `t.epi`'s arrays) a `rows x cols` block with
    /// row stride `t.rsc`. `MR <= 16`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn tile<const MR: usize, const NV: usize>(
        kc: usize,
        a: APanel,
        b: BPanel,
        c: *mut f32,
        t: Tile,
    ) {
        // The C tile is read (or written) only after the k loop: start fetching it now,
        // so that its lines (often out in L3 between slabs) arrive meanwhile.
        for r in 0..t.rows {
            for h in 0..NV {
                // SAFETY: prefetching never faults; the addresses are in C's tile.
                unsafe {
                    let p = c.add(r * t.rsc + 16 * h) as *const i8;
                    _mm_prefetch::<_MM_HINT_T0>(p);
                }
            }
        }
        let acc = if a.ks == 1 {
            // Rows of A contiguous along k: MR row streams, one step each per k.
            unsafe { accumulate::<false, MR, NV>(kc, a, b) }
        } else {
            // Columns of A contiguous (transposed A, or a packed panel): rows at +r.
            unsafe { accumulate::<true, MR, NV>(kc, a, b) }
        };
        unsafe { store(&acc, c, t) }
    }

    /// The k loop: `MR x NV` accumulators, `NV` B loads and `MR` broadcasts per k.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn accumulate<const ROWS_ADJACENT: bool, const MR: usize, const NV: usize>(
        kc: usize,
        a: APanel,
        b: BPanel,
    ) -> [[__m512; NV]; MR] {
        let mut acc = [[_mm512_setzero_ps(); NV]; MR];
        let rs = if ROWS_ADJACENT { 1 } else { a.rs };
        let ks = if ROWS_ADJACENT { a.ks } else { 1 };
        let (mut pa, mut pb) = (a.ptr, b.ptr);
        for _ in 0..kc {
            // SAFETY: the caller guarantees kc steps of the A panel and of B.
            unsafe {
                if ROWS_ADJACENT {
                    // A packed (or transposed) streams from L2: ask for it 16 k ahead.
                    _mm_prefetch::<_MM_HINT_T0>(pa.wrapping_add(16 * ks) as *const i8);
                }
                let bv: [__m512; NV] = std::array::from_fn(|h| _mm512_loadu_ps(pb.add(16 * h)));
                for (r, acc_r) in acc.iter_mut().enumerate() {
                    let av = _mm512_set1_ps(*pa.add(r * rs));
                    for (acc_rh, &bh) in acc_r.iter_mut().zip(&bv) {
                        *acc_rh = _mm512_fmadd_ps(av, bh, *acc_rh);
                    }
                }
                pa = pa.add(ks);
                pb = pb.add(b.ks);
            }
        }
        acc
    }

    /// `C = alpha acc + beta C` over `rows x cols`, masked on a ragged right edge, then
    /// the epilogue (same f32 operations as `finish`, 16 lanes at a time).
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn store<const MR: usize, const NV: usize>(
        acc: &[[__m512; NV]; MR],
        c: *mut f32,
        t: Tile,
    ) {
        let al = _mm512_set1_ps(t.alpha);
        let bt = _mm512_set1_ps(t.beta);
        let masks: [__mmask16; NV] = std::array::from_fn(|h| {
            let w = t.cols.saturating_sub(16 * h).min(16);
            ((1u32 << w) - 1) as __mmask16
        });
        // Every row spelled out, so that `acc` is indexed by constants and stays in
        // registers (a loop over the stored rows alone indexes it at run time and spills
        // all of it to the stack).
        macro_rules! each_row {
            ($($i:literal)*) => {$(
                if let Some(acc_r) = acc.get($i)
                    && $i >= t.first_row
                    && $i < t.first_row + t.rows
                {
                    let off = ($i - t.first_row) * t.rsc;
                    for (h, (&v, &mk)) in acc_r.iter().zip(&masks).enumerate() {
                        // SAFETY: row $i - first_row of the caller's rows x cols block.
                        unsafe { store_vec(v, mk, c, off + 16 * h, &t, al, bt) };
                    }
                }
            )*};
        }
        const { assert!(MR <= 16) };
        each_row!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    }

    /// `C = alpha v + beta C` for 16 columns at `c + off` (lanes outside `mk` neither
    /// read nor written), then the epilogue.
    ///
    /// # Safety
    /// AVX-512F; the `mk` lanes at `off` lie in C and in the epilogue's arrays.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn store_vec(
        v: __m512,
        mk: __mmask16,
        c: *mut f32,
        off: usize,
        t: &Tile,
        al: __m512,
        bt: __m512,
    ) {
        // SAFETY: the caller guarantees the lanes.
        unsafe {
            let p = c.add(off);
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
            match t.epi {
                Epi::None => _mm512_mask_storeu_ps(p, mk, out),
                Epi::Relu(phi, dphi) => {
                    _mm512_mask_storeu_ps(p, mk, out);
                    // max(out, 0) returns 0 where out is not > 0 (NaN too), as `finish`.
                    let zero = _mm512_setzero_ps();
                    _mm512_mask_storeu_ps(phi.add(off), mk, _mm512_max_ps(out, zero));
                    let pos = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(out, zero);
                    let one = _mm512_set1_ps(1.0);
                    _mm512_mask_storeu_ps(dphi.add(off), mk, _mm512_maskz_mov_ps(pos, one));
                }
                Epi::Mul(x) => {
                    let xv = _mm512_maskz_loadu_ps(mk, x.add(off));
                    _mm512_mask_storeu_ps(p, mk, _mm512_mul_ps(out, xv));
                }
            }
        }
    }
}

mod avx2 {
    use super::{APanel, BPanel, MR256 as MR, NR256 as NR, Tile};
    use std::arch::x86_64::*;

    /// `C = alpha A B + beta C` for one 6 x 16 tile (clipped to `t.rows x t.cols`),
    /// then `t.epi`.
    ///
    /// # Safety
    /// AVX2 and FMA must be available; `a` addresses `MR x kc` readable f32 through its
    /// strides, `b` `kc x NR`, `c` (and `t.epi`'s arrays) a `rows x cols` block with
    /// row stride `t.rsc`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn tile(kc: usize, a: APanel, b: BPanel, c: *mut f32, t: Tile) {
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
                // SAFETY: the caller guarantees the rows x cols block of C and of the
                // epilogue's arrays.
                unsafe {
                    let off = r * t.rsc + q;
                    let p = c.add(off);
                    let out = if t.beta == 0.0 {
                        t.alpha * v
                    } else {
                        t.alpha.mul_add(*v, t.beta * *p)
                    };
                    *p = t.epi.finish(off, out);
                }
            }
        }
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn accumulate<const ROWS_ADJACENT: bool>(
        kc: usize,
        a: APanel,
        b: BPanel,
    ) -> [[__m256; 2]; MR] {
        let mut acc = [[_mm256_setzero_ps(); 2]; MR];
        let rs = if ROWS_ADJACENT { 1 } else { a.rs };
        let ks = if ROWS_ADJACENT { a.ks } else { 1 };
        let (mut pa, mut pb) = (a.ptr, b.ptr);
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
                pb = pb.add(b.ks);
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
                (64, 64, 256),
                (256, 64, 64),
                (64, 16, 256),
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
        let va = View {
            data: &a,
            rs: ars,
            cs: acs,
        };
        let vb = View {
            data: &b,
            rs: brs,
            cs: bcs,
        };
        let c_in = c.clone();
        let run = |c: &mut Vec<f32>, epi: Epilogue| {
            sgemm_batch(
                isa,
                batch,
                (m, n, k),
                0.5,
                (va, sa),
                (vb, sb),
                beta,
                (c, m * n),
                epi,
            );
        };
        run(&mut c, Epilogue::None);
        // The epilogues give exactly the separate passes' values.
        let (mut c_relu, mut phi, mut dphi) =
            (c_in.clone(), vec![7.0; c.len()], vec![7.0; c.len()]);
        let relu = Epilogue::Relu {
            phi: &mut phi,
            dphi: &mut dphi,
        };
        run(&mut c_relu, relu);
        let x: Vec<f32> = (0..c.len()).map(|i| (i % 5) as f32 - 1.5).collect();
        let mut c_mul = c_in.clone();
        run(&mut c_mul, Epilogue::Mul(&x));
        for i in 0..c.len() {
            let what = format!("{isa:?} batch {batch} ({m},{n},{k}) ta={ta} tb={tb} [{i}]");
            assert_eq!(c_relu[i].to_bits(), c[i].to_bits(), "relu h {what}");
            let pos = c[i] > 0.0;
            assert_eq!(phi[i], if pos { c[i] } else { 0.0 }, "relu phi {what}");
            assert_eq!(dphi[i], if pos { 1.0 } else { 0.0 }, "relu dphi {what}");
            assert_eq!(c_mul[i].to_bits(), (c[i] * x[i]).to_bits(), "mul {what}");
        }
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
