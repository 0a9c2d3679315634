//! Cholesky factors of symmetric matrices `[n x n]` (row-major): the strict factor of a
//! positive definite matrix with its solves and log-determinant, and a square root of a
//! positive *semi*definite one (diagonal pivoting, or a fixed elimination order) for
//! sampling Gaussian fields with rank-deficient covariances.

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
    forward_substitute(l, n, &mut z);
    for i in (0..n).rev() {
        for k in i + 1..n {
            z[i] -= l[k * n + i] * z[k];
        }
        z[i] /= l[i * n + i];
    }
    z
}

/// `z <- L^{-1} z` in place (forward substitution) for a lower-triangular `l [n x n]`.
pub fn forward_substitute(l: &[f64], n: usize, z: &mut [f64]) {
    for i in 0..n {
        for k in 0..i {
            z[i] -= l[i * n + k] * z[k];
        }
        z[i] /= l[i * n + i];
    }
}

/// `log det (L L^T) = 2 sum_i log L_ii`.
pub fn cholesky_logdet(l: &[f64], n: usize) -> f64 {
    (0..n).map(|i| 2.0 * l[i * n + i].ln()).sum()
}

/// `a_c = (L L^T)^{-1} y_c` for every column `c` of `y [n x outputs]` (row-major), given
/// the Cholesky factor `l`: one solve per output.
pub fn cholesky_solve_columns(l: &[f64], n: usize, y: &[f64], outputs: usize) -> Vec<Vec<f64>> {
    (0..outputs)
        .map(|c| {
            let yc: Vec<f64> = (0..n).map(|mu| y[mu * outputs + c]).collect();
            cholesky_solve(l, n, &yc)
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::matmul_nt;

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
}
