//! The crate's SGEMM kernel (src/packed_gemm.rs) as a bare wasm module for node:
//! built by bench/run.sh with `rustc --target wasm32-unknown-unknown -C
//! target-feature=+simd128` (and `+simd128,+relaxed-simd`), timed by bench/wasm_sgemm.mjs;
//! tests/wasm_builds.mjs checks both builds against a naive product.

#[allow(dead_code)]
#[path = "../src/packed_gemm.rs"]
mod packed_gemm;

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
    let av = packed_gemm::View {
        data: a,
        rs: n,
        cs: 1,
    };
    let bv = packed_gemm::View {
        data: b,
        rs: n,
        cs: 1,
    };
    packed_gemm::sgemm(n, n, n, 1.0, av, bv, 0.0, c, n);
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
    let av = packed_gemm::View { data: a, rs, cs };
    let (rs, cs) = if tb != 0 { (1, k) } else { (n, 1) };
    let bv = packed_gemm::View { data: b, rs, cs };
    packed_gemm::sgemm(m, n, k, alpha, av, bv, beta, c, n);
}

/// 1 when this module's products use relaxed SIMD's multiply-add, else 0.
#[unsafe(no_mangle)]
pub extern "C" fn relaxed_simd() -> u32 {
    packed_gemm::RELAXED_SIMD as u32
}

/// Allocate `n` f64 in linear memory (leaked; the bench keeps them).
#[unsafe(no_mangle)]
pub extern "C" fn alloc_f64(n: usize) -> *mut f64 {
    Box::leak(vec![0.0f64; n].into_boxed_slice()).as_mut_ptr()
}

/// `C = A B` in f64 for row-major n x n matrices (the theory's products in the page).
///
/// # Safety
/// The pointers come from `alloc_f64(n * n)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dmatmul(n: usize, a: *const f64, b: *const f64, c: *mut f64) {
    let (a, b, c) = unsafe {
        (
            std::slice::from_raw_parts(a, n * n),
            std::slice::from_raw_parts(b, n * n),
            std::slice::from_raw_parts_mut(c, n * n),
        )
    };
    let view = |data| packed_gemm::View { data, rs: n, cs: 1 };
    packed_gemm::dgemm(n, n, n, 1.0, view(a), view(b), 0.0, c, n);
}

/// The signature of `sgemm` and `dgemm`.
type Product<E> =
    fn(usize, usize, usize, E, packed_gemm::View<E>, packed_gemm::View<E>, E, &mut [E], usize);

/// Ragged shapes and all four transposes against a naive product on integer-valued
/// data (exact in f32 and f64, with or without fused multiply-adds): returns the number
/// of mismatching entries of both precisions, 0 when the kernel is right on this target.
#[unsafe(no_mangle)]
pub extern "C" fn self_test() -> u32 {
    mismatches::<f32>(packed_gemm::sgemm, |x| x as f32)
        + mismatches::<f64>(packed_gemm::dgemm, |x| x as f64)
}

fn mismatches<E: packed_gemm::Scalar>(product: Product<E>, of: fn(i32) -> E) -> u32 {
    let mut bad = 0;
    for &(m, n, k) in &[
        (1, 1, 1),
        (5, 9, 3),
        (67, 13, 300),
        (4, 8, 256),
        (97, 33, 517),
    ] {
        for (ta, tb) in [(false, false), (true, true), (true, false), (false, true)] {
            let a: Vec<E> = (0..m * k).map(|i| of((i * 7 % 13) as i32 - 6)).collect();
            let b: Vec<E> = (0..k * n).map(|i| of((i * 5 % 11) as i32 - 5)).collect();
            let (rsa, csa) = if ta { (1, m) } else { (k, 1) };
            let (rsb, csb) = if tb { (1, k) } else { (n, 1) };
            let av = packed_gemm::View {
                data: &a,
                rs: rsa,
                cs: csa,
            };
            let bv = packed_gemm::View {
                data: &b,
                rs: rsb,
                cs: csb,
            };
            let c0: Vec<E> = (0..m * n).map(|i| of((i % 17) as i32)).collect();
            let mut c = c0.clone();
            product(m, n, k, of(3), av, bv, of(2), &mut c, n);
            for i in 0..m {
                for j in 0..n {
                    let mut want = of(2) * c0[i * n + j];
                    for l in 0..k {
                        want += of(3) * a[i * rsa + l * csa] * b[l * rsb + j * csb];
                    }
                    if c[i * n + j] != want {
                        bad += 1;
                    }
                }
            }
        }
    }
    bad
}
