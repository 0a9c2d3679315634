//! The crate's SGEMM kernel (src/backend/sgemm_simd128.rs) as a bare wasm module for node:
//! built by bench/run.sh with `rustc --target wasm32-unknown-unknown -C
//! target-feature=+simd128` (and `+simd128,+relaxed-simd`), timed by bench/wasm_sgemm.mjs;
//! tests/wasm_builds.mjs checks both builds against a naive product.

#[allow(dead_code)]
#[path = "../src/backend/sgemm_simd128.rs"]
mod sgemm_simd128;

/// Allocate `n` f32 in linear memory (leaked; the bench keeps them).
#[unsafe(no_mangle)]
pub extern "C" fn alloc_f32(n: usize) -> *mut f32 {
    Box::leak(vec![0.0f32; n].into_boxed_slice()).as_mut_ptr()
}

/// `C = A B` for row-major n x n matrices.
///
/// # Safety
/// The pointers come from `alloc_f32(n * n)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn matmul(n: usize, a: *const f32, b: *const f32, c: *mut f32) {
    let (a, b, c) = unsafe {
        (
            std::slice::from_raw_parts(a, n * n),
            std::slice::from_raw_parts(b, n * n),
            std::slice::from_raw_parts_mut(c, n * n),
        )
    };
    let av = sgemm_simd128::View {
        data: a,
        rs: n,
        cs: 1,
    };
    let bv = sgemm_simd128::View {
        data: b,
        rs: n,
        cs: 1,
    };
    sgemm_simd128::sgemm(n, n, n, 1.0, av, bv, 0.0, c, n);
}

/// `C = alpha op(A) op(B) + beta C` with `op(A)` `[m x k]`, `op(B)` `[k x n]`, stored
/// row-major (`ta`/`tb` nonzero: stored transposed, `[k x m]` / `[n x k]`), `C` `[m x n]`
/// row-major: the kernel on any shape, for tests/wasm_builds.mjs.
///
/// # Safety
/// The pointers come from `alloc_f32` with at least `m k`, `k n` and `m n` entries.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn gemm(
    m: usize,
    n: usize,
    k: usize,
    ta: u32,
    tb: u32,
    alpha: f32,
    a: *const f32,
    b: *const f32,
    beta: f32,
    c: *mut f32,
) {
    let (a, b, c) = unsafe {
        (
            std::slice::from_raw_parts(a, m * k),
            std::slice::from_raw_parts(b, k * n),
            std::slice::from_raw_parts_mut(c, m * n),
        )
    };
    let (rs, cs) = if ta != 0 { (1, m) } else { (k, 1) };
    let av = sgemm_simd128::View { data: a, rs, cs };
    let (rs, cs) = if tb != 0 { (1, k) } else { (n, 1) };
    let bv = sgemm_simd128::View { data: b, rs, cs };
    sgemm_simd128::sgemm(m, n, k, alpha, av, bv, beta, c, n);
}

/// 1 when this module's products use relaxed SIMD's multiply-add, else 0.
#[unsafe(no_mangle)]
pub extern "C" fn relaxed_simd() -> u32 {
    sgemm_simd128::RELAXED_SIMD as u32
}

/// Ragged shapes and all four transposes against a naive product on integer-valued
/// data (exact in f32, with or without fused multiply-adds): returns the number of
/// mismatching entries, 0 when the kernel is right on this target.
#[unsafe(no_mangle)]
pub extern "C" fn self_test() -> u32 {
    let mut bad = 0;
    for &(m, n, k) in &[
        (1, 1, 1),
        (5, 9, 3),
        (67, 13, 300),
        (4, 8, 256),
        (97, 33, 517),
    ] {
        for (ta, tb) in [(false, false), (true, true), (true, false), (false, true)] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7) % 13) as f32 - 6.0).collect();
            let b: Vec<f32> = (0..k * n).map(|i| ((i * 5) % 11) as f32 - 5.0).collect();
            let (rsa, csa) = if ta { (1, m) } else { (k, 1) };
            let (rsb, csb) = if tb { (1, k) } else { (n, 1) };
            let av = sgemm_simd128::View {
                data: &a,
                rs: rsa,
                cs: csa,
            };
            let bv = sgemm_simd128::View {
                data: &b,
                rs: rsb,
                cs: csb,
            };
            let c0: Vec<f32> = (0..m * n).map(|i| (i % 17) as f32).collect();
            let mut c = c0.clone();
            sgemm_simd128::sgemm(m, n, k, 0.5, av, bv, 2.0, &mut c, n);
            for i in 0..m {
                for j in 0..n {
                    let s: f32 = (0..k)
                        .map(|l| a[i * rsa + l * csa] * b[l * rsb + j * csb])
                        .sum();
                    if c[i * n + j] != 0.5 * s + 2.0 * c0[i * n + j] {
                        bad += 1;
                    }
                }
            }
        }
    }
    bad
}
