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

/// The kernel's exact self-check in both precisions
/// (`packed_gemm::exact_mismatches`): the number of entries that differ from the naive
/// product, 0 when the kernel is right on this target.
#[unsafe(no_mangle)]
pub extern "C" fn self_test() -> u32 {
    let f32s = packed_gemm::exact_mismatches::<f32>(packed_gemm::sgemm, |x| x as f32);
    let f64s = packed_gemm::exact_mismatches::<f64>(packed_gemm::dgemm, |x| x as f64);
    (f32s + f64s) as u32
}
