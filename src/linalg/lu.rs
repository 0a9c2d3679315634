//! `A X = B` for a general square `A` by LU with partial pivoting.

use crate::error::{Error, Result};

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
    use crate::linalg::matmul;

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
