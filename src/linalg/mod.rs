//! Dense f64 linear algebra on row-major `Vec<f64>` matrices: the one home of the
//! routines the theory and statics engines share.
//!
//! - products (this file): [`gemm`], a checked wrapper over `matrixmultiply::dgemm`
//!   (natively) and [`packed_gemm::dgemm`] (wasm32) on strided [`Layout`]s, and
//!   [`matmul`], [`matmul_nt`], [`transpose`], [`dot`], [`identity`], [`frobenius`];
//! - [`cholesky`](mod@cholesky): Cholesky factors of symmetric matrices: the strict one
//!   with its solves and log-determinant (positive definite), and the semidefinite
//!   square root with diagonal pivoting that samples Gaussian fields
//!   ([`cholesky_psd`]);
//! - [`lu`]: `A X = B` for a general square `A` by LU with partial pivoting;
//! - [`eigen`]: the symmetric eigendecomposition (cyclic Jacobi) and the factor of a
//!   possibly singular covariance built on it;
//! - [`eigh`](mod@eigh): the fast symmetric eigendecomposition (Householder + implicit
//!   QL), with eigenvectors or with only the projections of given vectors.

pub mod cholesky;
pub mod eigen;
pub mod eigh;
pub mod lu;

pub use cholesky::{
    cholesky, cholesky_logdet, cholesky_psd, cholesky_psd_ordered, cholesky_solve,
    cholesky_solve_columns, forward_substitute,
};
pub use eigen::{psd_factor, sym_eigen};
pub use eigh::{eigh, eigh_project};
pub use lu::solve;

use crate::packed_gemm::{self, View};

/// A strided view description of a matrix operand: `rows x cols` with row stride `rs`
/// and column stride `cs` (row-major `[r x c]` is `(c, 1)`, its transpose `(1, c)`).
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub rs: usize,
    pub cs: usize,
}

/// Row-major layout with `cols` columns.
pub const fn rm(cols: usize) -> Layout {
    Layout { rs: cols, cs: 1 }
}

/// The transpose of a row-major matrix with `cols` columns.
pub const fn tr(cols: usize) -> Layout {
    Layout { rs: 1, cs: cols }
}

fn extent(rows: usize, cols: usize, l: Layout) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * l.rs + (cols - 1) * l.cs + 1
    }
}

/// `C = alpha A B + beta C` with `A [m x k]`, `B [k x n]`, `C [m x n]` in the given
/// layouts. Panics only on a programming error (operand slices too short).
///
/// Natively `matrixmultiply`'s AVX2/AVX-512 kernels; on wasm32 (the page) our packed
/// f64x2 kernel ([`packed_gemm::dgemm`]) for a row-major `C`, 2.2x (simd128) and 2.7x
/// (relaxed SIMD) the rate of `matrixmultiply`'s scalar fallback there (bench/README.md).
#[allow(clippy::too_many_arguments)]
pub fn gemm(
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
    if m == 0 || n == 0 {
        return;
    }
    assert!(a.len() >= extent(m, k, la), "gemm: A too short");
    assert!(b.len() >= extent(k, n, lb), "gemm: B too short");
    assert!(c.len() >= extent(m, n, lc), "gemm: C too short");
    if k == 0 {
        for i in 0..m {
            for j in 0..n {
                c[i * lc.rs + j * lc.cs] *= beta;
            }
        }
        return;
    }
    if cfg!(target_arch = "wasm32") && lc.cs == 1 {
        let view = |data, l: Layout| View {
            data,
            rs: l.rs,
            cs: l.cs,
        };
        packed_gemm::dgemm(m, n, k, alpha, view(a, la), view(b, lb), beta, c, lc.rs);
        return;
    }
    // SAFETY: the asserts above guarantee every addressed element is in bounds.
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            la.rs as isize,
            la.cs as isize,
            b.as_ptr(),
            lb.rs as isize,
            lb.cs as isize,
            beta,
            c.as_mut_ptr(),
            lc.rs as isize,
            lc.cs as isize,
        );
    }
}

/// `A B` for row-major `A [m x k]`, `B [k x n]`.
pub fn matmul(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    gemm(m, k, n, 1.0, a, rm(k), b, rm(n), 0.0, &mut c, rm(n));
    c
}

/// `A B^T` for row-major `A [m x k]`, `B [n x k]`.
pub fn matmul_nt(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    gemm(m, k, n, 1.0, a, rm(k), b, tr(k), 0.0, &mut c, rm(n));
    c
}

/// Transpose of a row-major `[m x n]` matrix.
pub fn transpose(a: &[f64], m: usize, n: usize) -> Vec<f64> {
    let mut t = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            t[j * m + i] = a[i * n + j];
        }
    }
    t
}

/// `a . b` over the common length.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The identity `[n x n]`.
pub fn identity(n: usize) -> Vec<f64> {
    let mut m = vec![0.0; n * n];
    for i in 0..n {
        m[i * n + i] = 1.0;
    }
    m
}

/// Frobenius norm of a matrix (any shape).
pub fn frobenius(a: &[f64]) -> f64 {
    a.iter().map(|x| x * x).sum::<f64>().sqrt()
}
