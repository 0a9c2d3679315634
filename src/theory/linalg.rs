//! Dense f64 linear algebra for the theory engine: a checked wrapper over
//! `matrixmultiply::dgemm`, a semidefinite Cholesky square root for sampling Gaussian
//! fields, and an LU solve. Matrices are row-major `Vec<f64>`.

use crate::error::{Error, Result};

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

/// A square root `F [n x n]` with `F F^T = K` for a symmetric positive *semi*definite
/// `K`, by Cholesky with diagonal pivoting (largest remaining pivot first): stable for
/// the rank-deficient kernels of the DMFT (equal times, duplicated points, Monte Carlo
/// estimates of rank < n). Elimination stops once every remaining pivot is below
/// `1e-12 * max diag`; a remaining pivot below `-1e-6 * max diag` means `K` is not
/// positive semidefinite and gives [`Error::Numerical`] naming `what`.
pub fn cholesky_psd(k: &[f64], n: usize, what: &str) -> Result<Vec<f64>> {
    cholesky_psd_ordered(k, n, what, None).map(|(f, _)| f)
}

/// [`cholesky_psd`] with an optional fixed elimination order (a permutation of `0..n`,
/// as returned by an earlier call). With a fixed order the factor is a continuous
/// function of `K`, which keeps a fixed-point iteration that samples through it smooth;
/// without one, the largest remaining pivot goes first. Returns the factor and the
/// order used.
pub fn cholesky_psd_ordered(
    k: &[f64],
    n: usize,
    what: &str,
    order: Option<&[usize]>,
) -> Result<(Vec<f64>, Vec<usize>)> {
    if k.len() != n * n {
        return Err(Error::Numerical(format!("{what}: expected {n} x {n}")));
    }
    if k.iter().any(|v| !v.is_finite()) {
        return Err(Error::Numerical(format!("{what} has non-finite entries")));
    }
    let dmax = (0..n).map(|i| k[i * n + i]).fold(0.0f64, f64::max);
    let mut f = vec![0.0; n * n];
    if dmax <= 0.0 {
        if (0..n).any(|i| k[i * n + i] < 0.0) {
            return Err(Error::Numerical(format!("{what} has a negative diagonal")));
        }
        return Ok((f, (0..n).collect()));
    }
    let tol = 1e-12 * dmax;
    let fixed = order.filter(|o| o.len() == n);
    let mut perm: Vec<usize> = fixed.map_or_else(|| (0..n).collect(), <[usize]>::to_vec);
    let mut d: Vec<f64> = perm.iter().map(|&i| k[i * n + i]).collect();
    // l: row i (in pivot order) holds the factor row of point perm[i]
    let mut l = vec![0.0; n * n];
    let mut rank = n;
    let mut skipped = vec![];
    for j in 0..n {
        if fixed.is_some() {
            if d[j] <= tol {
                skipped.push(d[j]);
                continue; // direction without variance: column j stays zero
            }
        } else {
            let q = (j..n).max_by(|&a, &b| d[a].total_cmp(&d[b])).unwrap_or(j);
            if d[q] <= tol {
                rank = j;
                break;
            }
            perm.swap(j, q);
            d.swap(j, q);
            for c in 0..j {
                l.swap(j * n + c, q * n + c);
            }
        }
        let ljj = d[j].sqrt();
        l[j * n + j] = ljj;
        let pj = perm[j];
        for i in j + 1..n {
            let pi = perm[i];
            let mut s = k[pi * n + pj];
            for c in 0..j {
                s -= l[i * n + c] * l[j * n + c];
            }
            let v = s / ljj;
            l[i * n + j] = v;
            d[i] -= v * v;
        }
    }
    if fixed.is_some() && skipped.iter().any(|&v| v < -1e-9 * dmax) {
        // the old order eliminates along vanishing pivots of the new kernel: re-pivot
        return cholesky_psd_ordered(k, n, what, None);
    }
    if let Some(m) = d[rank..].iter().chain(&skipped).copied().reduce(f64::min)
        && m < -1e-6 * dmax
    {
        return Err(Error::Numerical(format!(
            "{what} is not positive semidefinite (pivot {m:.3e}, max diagonal {dmax:.3e})"
        )));
    }
    for i in 0..n {
        f[perm[i] * n..perm[i] * n + n].copy_from_slice(&l[i * n..i * n + n]);
    }
    Ok((f, perm))
}

/// Solve `A X = B` for `A [n x n]`, `B [n x m]` (row-major) by LU with partial
/// pivoting; [`Error::Numerical`] if `A` is singular to working precision.
pub fn solve(a: &[f64], b: &[f64], n: usize, m: usize, what: &str) -> Result<Vec<f64>> {
    let mut a = a.to_vec();
    let mut x = b.to_vec();
    let scale = a.iter().fold(0.0f64, |s, v| s.max(v.abs())).max(1e-300);
    for col in 0..n {
        let piv = (col..n)
            .max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs()))
            .unwrap_or(col);
        if a[piv * n + col].abs() <= 1e-13 * scale {
            return Err(Error::Numerical(format!("{what} is singular")));
        }
        if piv != col {
            for j in 0..n {
                a.swap(col * n + j, piv * n + j);
            }
            for j in 0..m {
                x.swap(col * m + j, piv * m + j);
            }
        }
        let d = a[col * n + col];
        for i in col + 1..n {
            let f = a[i * n + col] / d;
            if f == 0.0 {
                continue;
            }
            for j in col..n {
                a[i * n + j] -= f * a[col * n + j];
            }
            for j in 0..m {
                x[i * m + j] -= f * x[col * m + j];
            }
        }
    }
    for col in (0..n).rev() {
        let d = a[col * n + col];
        for j in 0..m {
            let mut s = x[col * m + j];
            for p in col + 1..n {
                s -= a[col * n + p] * x[p * m + j];
            }
            x[col * m + j] = s / d;
        }
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_of_a_rank_deficient_kernel() {
        // K = v v^T + w w^T in 3-D (rank 2)
        let v = [1.0, 2.0, -1.0];
        let w = [0.5, 0.0, 1.0];
        let k: Vec<f64> = (0..9)
            .map(|i| v[i / 3] * v[i % 3] + w[i / 3] * w[i % 3])
            .collect();
        let l = cholesky_psd(&k, 3, "K").unwrap();
        let back = matmul_nt(&l, &l, 3, 3, 3);
        for (a, b) in back.iter().zip(&k) {
            assert!((a - b).abs() < 1e-9);
        }
        let bad = [1.0, 2.0, 2.0, 1.0];
        assert!(matches!(
            cholesky_psd(&bad, 2, "K"),
            Err(Error::Numerical(_))
        ));
    }

    #[test]
    fn lu_solves() {
        let a = [2.0, 1.0, 0.0, 1.0, 3.0, 1.0, 0.0, 1.0, 4.0];
        let x = [1.0, -2.0, 0.5];
        let b = matmul(&a, &x, 3, 3, 1);
        let s = solve(&a, &b, 3, 1, "A").unwrap();
        for (p, q) in s.iter().zip(&x) {
            assert!((p - q).abs() < 1e-12);
        }
        assert!(solve(&[1.0, 2.0, 2.0, 4.0], &[1.0, 1.0], 2, 1, "A").is_err());
    }
}
