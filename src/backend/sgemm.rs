//! Our own packed SGEMM, written for wasm32 `simd128` (the browser's CPU path, where the
//! `matrixmultiply` crate falls back to scalar code). Natively the same code compiles to
//! plain 4-wide lanes; `bench/run.sh` measures it against `matrixmultiply`, and the CPU
//! backend uses whichever is faster per target (see `Cpu::gemm`).
//!
//! `C = alpha op(A) op(B) + beta C`, `op(A)` `[m x k]`, `op(B)` `[k x n]`, arbitrary
//! element strides (`rs*` between rows, `cs*` between columns), `C` row-major with row
//! stride `rsc`.
//!
//! Blocking (Goto style): K in slabs of `KC`, for each slab B is packed once into
//! column panels of `NR` = 8, A into row panels of `MR` = 4 (`MC` rows at a time); a
//! 4 x 8 microkernel keeps its 32 accumulators in 8 four-lane registers. Panels are
//! zero-padded, so ragged edges need no special kernel, only a masked store.

const MR: usize = 4;
const NR: usize = 8;
const KC: usize = 256;
const MC: usize = 64;

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
        #[inline(always)]
        pub fn splat(x: f32) -> Self {
            F4(f32x4_splat(x))
        }
        /// Load 4 consecutive f32 from `s[i..i + 4]`.
        #[inline(always)]
        pub fn load(s: &[f32], i: usize) -> Self {
            let s = &s[i..i + 4];
            // SAFETY: the slice above is exactly 4 f32 long; v128_load allows unaligned.
            F4(unsafe { v128_load(s.as_ptr() as *const v128) })
        }
        /// `self + a b` (simd128 has no fused multiply-add).
        #[inline(always)]
        pub fn mul_add(self, a: F4, b: F4) -> Self {
            F4(f32x4_add(self.0, f32x4_mul(a.0, b.0)))
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
        #[inline(always)]
        pub fn splat(x: f32) -> Self {
            F4([x; 4])
        }
        #[inline(always)]
        pub fn load(s: &[f32], i: usize) -> Self {
            let mut v = [0.0; 4];
            v.copy_from_slice(&s[i..i + 4]);
            F4(v)
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

impl View<'_> {
    #[inline(always)]
    fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.rs + j * self.cs]
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
    for i in 0..m {
        let row = &mut c[i * rsc..i * rsc + n];
        if beta == 0.0 {
            row.fill(0.0);
        } else if beta != 1.0 {
            row.iter_mut().for_each(|x| *x *= beta);
        }
    }
    if k == 0 || m == 0 || n == 0 {
        return;
    }
    let n_panels = n.div_ceil(NR);
    let mut bp = vec![0.0f32; n_panels * NR * KC];
    let mut ap = vec![0.0f32; MC.div_ceil(MR) * MR * KC];
    for k0 in (0..k).step_by(KC) {
        let kc = KC.min(k - k0);
        pack_b(&b, k0, kc, n, &mut bp);
        for i0 in (0..m).step_by(MC) {
            let mc = MC.min(m - i0);
            pack_a(&a, i0, mc, k0, kc, alpha, &mut ap);
            for ip in 0..mc.div_ceil(MR) {
                let a_panel = &ap[ip * MR * kc..(ip + 1) * MR * kc];
                let rows = MR.min(mc - ip * MR);
                for jp in 0..n_panels {
                    let b_panel = &bp[jp * NR * kc..(jp + 1) * NR * kc];
                    let acc = kernel_4x8(kc, a_panel, b_panel);
                    let cols = NR.min(n - jp * NR);
                    for (r, acc_r) in acc.iter().enumerate().take(rows) {
                        let o = (i0 + ip * MR + r) * rsc + jp * NR;
                        let vals = [acc_r[0].to_array(), acc_r[1].to_array()];
                        for q in 0..cols {
                            c[o + q] += vals[q / 4][q % 4];
                        }
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
        for kk in 0..kc {
            for q in 0..NR {
                let j = jp * NR + q;
                panel[kk * NR + q] = if j < n { b.at(k0 + kk, j) } else { 0.0 };
            }
        }
    }
}

/// Pack `alpha A[i0..i0 + mc, k0..k0 + kc]` into panels `ap[ip][kk][0..MR]`.
fn pack_a(a: &View, i0: usize, mc: usize, k0: usize, kc: usize, alpha: f32, ap: &mut [f32]) {
    for ip in 0..mc.div_ceil(MR) {
        let panel = &mut ap[ip * MR * kc..(ip + 1) * MR * kc];
        for kk in 0..kc {
            for r in 0..MR {
                let i = ip * MR + r;
                panel[kk * MR + r] = if i < mc {
                    alpha * a.at(i0 + i, k0 + kk)
                } else {
                    0.0
                };
            }
        }
    }
}

/// The 4 x 8 microkernel: `sum_kk a[kk][r] b[kk][q]` over packed panels.
#[inline(always)]
fn kernel_4x8(kc: usize, a: &[f32], b: &[f32]) -> [[F4; 2]; MR] {
    let mut acc = [[F4::zero(); 2]; MR];
    for kk in 0..kc {
        let b0 = F4::load(b, kk * NR);
        let b1 = F4::load(b, kk * NR + 4);
        let ar = &a[kk * MR..kk * MR + MR];
        for r in 0..MR {
            let av = F4::splat(ar[r]);
            acc[r][0] = acc[r][0].mul_add(av, b0);
            acc[r][1] = acc[r][1].mul_add(av, b1);
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
}
