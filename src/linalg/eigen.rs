//! The symmetric eigendecomposition (cyclic Jacobi) and, built on it, a factor of a
//! possibly singular covariance that keeps only its significant directions.

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::{cholesky, cholesky_logdet, cholesky_solve};

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
