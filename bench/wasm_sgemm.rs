//! The crate's SGEMM kernel (src/backend/sgemm.rs) as a bare wasm module for node:
//! built by bench/run.sh with `rustc --target wasm32-unknown-unknown -C
//! target-feature=+simd128`, timed by bench/wasm_sgemm.mjs.

#[allow(dead_code)]
#[path = "../src/backend/sgemm.rs"]
mod sgemm;

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
    let av = sgemm::View { data: a, rs: n, cs: 1 };
    let bv = sgemm::View { data: b, rs: n, cs: 1 };
    sgemm::sgemm(n, n, n, 1.0, av, bv, 0.0, c, n);
}
