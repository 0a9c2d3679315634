//! Small dense linear algebra on row-major `f64` matrices, enough for the statics
//! engine's P x P kernels: Cholesky factorisation and solves, and the symmetric
//! eigendecomposition (cyclic Jacobi) used to factor possibly singular covariances.

use crate::error::{Error, Result};

/// Lower-triangular Cholesky factor `L` of a symmetric positive definite `a [n x n]`,
/// `a = L L^T`. Fails when a pivot is not positive.
pub fn cholesky(a: &[f64], n: usize) -> Result<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if !(s > 0.0 && s.is_finite()) {
                    return Err(Error::Numerical(format!(
                        "matrix not positive definite (pivot {i} = {s:e})"
                    )));
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    Ok(l)
}

/// Solve `L L^T x = b` for one right-hand side, given the Cholesky factor `l`.
pub fn cholesky_solve(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut z = b.to_vec();
    for i in 0..n {
        for k in 0..i {
            z[i] -= l[i * n + k] * z[k];
        }
        z[i] /= l[i * n + i];
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            z[i] -= l[k * n + i] * z[k];
        }
        z[i] /= l[i * n + i];
    }
    z
}

/// `log det (L L^T) = 2 sum_i log L_ii`.
pub fn cholesky_logdet(l: &[f64], n: usize) -> f64 {
    (0..n).map(|i| 2.0 * l[i * n + i].ln()).sum()
}

/// Solve `(a + ridge I) X = B` for `B [n x m]` (column-major in the sense of `m`
/// right-hand sides stored as rows of `b_rows`, each of length `n`).
pub fn solve_spd(a: &[f64], n: usize, ridge: f64, b_rows: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
    let mut m = a.to_vec();
    for i in 0..n {
        m[i * n + i] += ridge;
    }
    let l = cholesky(&m, n)?;
    Ok(b_rows.iter().map(|b| cholesky_solve(&l, n, b)).collect())
}

/// Eigendecomposition of a symmetric `a [n x n]` by cyclic Jacobi rotations:
/// returns `(eigenvalues, V)` with `a = V diag(lambda) V^T`, the eigenvectors the
/// columns of the row-major `V`.
pub fn sym_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m = a.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let scale: f64 = m.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-300);
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j] * m[i * n + j])
            .sum::<f64>()
            .sqrt();
        if off <= 1e-15 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let mkp = m[k * n + p];
                    let mkq = m[k * n + q];
                    m[k * n + p] = c * mkp - s * mkq;
                    m[k * n + q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let mpk = m[p * n + k];
                    let mqk = m[q * n + k];
                    m[p * n + k] = c * mpk - s * mqk;
                    m[q * n + k] = s * mpk + c * mqk;
                }
                for k in 0..n {
                    let vkp = v[k * n + p];
                    let vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| m[i * n + i]).collect(), v)
}

/// A factor `A [n x r]` with `A A^T = c` for a symmetric positive semi-definite `c`,
/// keeping the `r` eigen-directions with eigenvalue above `rel_tol * max eigenvalue`.
pub fn psd_factor(c: &[f64], n: usize, rel_tol: f64) -> (Vec<f64>, usize) {
    let (lam, v) = sym_eigen(c, n);
    let max = lam.iter().cloned().fold(0.0, f64::max);
    let keep: Vec<usize> = (0..n).filter(|&i| lam[i] > rel_tol * max).collect();
    let r = keep.len();
    let mut a = vec![0.0; n * r];
    for (col, &i) in keep.iter().enumerate() {
        let s = lam[i].sqrt();
        for row in 0..n {
            a[row * r + col] = v[row * n + i] * s;
        }
    }
    (a, r)
}

/// Frobenius norm of a matrix (any shape).
pub fn frobenius(a: &[f64]) -> f64 {
    a.iter().map(|x| x * x).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_and_eigen_reconstructs() {
        let a = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
        let l = cholesky(&a, 3).unwrap();
        let x = cholesky_solve(&l, 3, &[1.0, 2.0, 3.0]);
        for i in 0..3 {
            let r: f64 = (0..3).map(|j| a[i * 3 + j] * x[j]).sum();
            assert!((r - [1.0, 2.0, 3.0][i]).abs() < 1e-12);
        }
        let (lam, v) = sym_eigen(&a, 3);
        for i in 0..3 {
            for j in 0..3 {
                let r: f64 = (0..3).map(|k| v[i * 3 + k] * lam[k] * v[j * 3 + k]).sum();
                assert!((r - a[i * 3 + j]).abs() < 1e-12);
            }
        }
        let det: f64 = lam.iter().product();
        assert!((cholesky_logdet(&l, 3) - det.ln()).abs() < 1e-12);
        // rank-1 factor
        let c = [1.0, 2.0, 2.0, 4.0];
        let (f, r) = psd_factor(&c, 2, 1e-10);
        assert_eq!(r, 1);
        assert!((f[0] * f[0] - 1.0).abs() < 1e-12 && (f[0] * f[1] - 2.0).abs() < 1e-12);
    }
}
