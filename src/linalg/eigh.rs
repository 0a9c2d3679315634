//! The symmetric eigendecomposition in `O(n^3)` with a small constant: Householder
//! reduction to tridiagonal form, then the implicit QL iteration with Wilkinson shifts.
//! About `9 n^3` flops with eigenvectors and `(4/3) n^3` without (against tens of
//! `n^3` for the cyclic Jacobi of [`super::sym_eigen`]), so matrices of a few hundred
//! rows decompose in well under a second, in the browser too.
//!
//! Without eigenvectors, [`eigh_project`] still returns the projections `U^T b` of any
//! vectors `b`: they follow the same reflections and rotations, at `O(n^2)` each.

/// One Householder reflector `(k, v, tau)`: `H_k = I - tau v v^T` on indices `k + 1..n`.
type Reflector = (usize, Vec<f64>, f64);

/// Householder reduction of a symmetric `a [n x n]` (row-major, overwritten) to the
/// tridiagonal `T = Q^T a Q`: returns `(d, e, reflectors)` with the diagonal `d`, the
/// off-diagonal `e` (`e[i]` couples `i` and `i + 1`, `e[n - 1] = 0`) and the reflectors
/// `(k, v, tau)`: `H_k = I - tau v v^T` acting on indices `k + 1..n`, `Q = H_0 H_1 ...`.
fn tridiagonalise(a: &mut [f64], n: usize) -> (Vec<f64>, Vec<f64>, Vec<Reflector>) {
    let mut e = vec![0.0; n];
    let mut refl = Vec::new();
    let mut p = vec![0.0; n];
    for k in 0..n.saturating_sub(2) {
        let m = n - k - 1;
        let mut v: Vec<f64> = (0..m).map(|i| a[(k + 1 + i) * n + k]).collect();
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm == 0.0 {
            e[k] = 0.0;
            continue;
        }
        let alpha = if v[0] > 0.0 { -norm } else { norm };
        v[0] -= alpha;
        let vv: f64 = v.iter().map(|x| x * x).sum();
        let tau = 2.0 / vv;
        // p = tau B v over the trailing block B = a[k+1.., k+1..] (symmetric)
        for i in 0..m {
            let row = &a[(k + 1 + i) * n + k + 1..(k + 1 + i) * n + n];
            p[i] = tau * row.iter().zip(&v).map(|(x, y)| x * y).sum::<f64>();
        }
        // w = p - (tau/2)(p.v) v;  B <- B - v w^T - w v^T
        let pv: f64 = p[..m].iter().zip(&v).map(|(x, y)| x * y).sum();
        let half = 0.5 * tau * pv;
        for i in 0..m {
            p[i] -= half * v[i];
        }
        for i in 0..m {
            let (vi, wi) = (v[i], p[i]);
            let row = &mut a[(k + 1 + i) * n + k + 1..(k + 1 + i) * n + n];
            for (j, x) in row.iter_mut().enumerate() {
                *x -= vi * p[j] + wi * v[j];
            }
        }
        e[k] = alpha;
        refl.push((k, v, tau));
    }
    if n >= 2 {
        e[n - 2] = a[(n - 1) * n + n - 2];
    }
    let d = (0..n).map(|i| a[i * n + i]).collect();
    (d, e, refl)
}

/// Apply the transpose of `Q = H_0 H_1 ...` to a vector: `b <- Q^T b`.
fn apply_qt(refl: &[Reflector], b: &mut [f64]) {
    for (k, v, tau) in refl {
        let tail = &mut b[k + 1..];
        let s = tau * tail.iter().zip(v).map(|(x, y)| x * y).sum::<f64>();
        for (x, y) in tail.iter_mut().zip(v) {
            *x -= s * y;
        }
    }
}

/// `Q^T` as a row-major `[n x n]`, accumulated from the last reflector back so that each
/// one touches only the block it acts on.
fn form_qt(refl: &[Reflector], n: usize) -> Vec<f64> {
    let mut qt = vec![0.0; n * n];
    for i in 0..n {
        qt[i * n + i] = 1.0;
    }
    let mut u = vec![0.0; n];
    // Q^T = H_m ... H_0: right-multiply by H_k for k = m down to 0; the product so far is
    // the identity outside rows and columns k + 1.. .
    for (k, v, tau) in refl.iter().rev() {
        let k1 = k + 1;
        for i in k1..n {
            let row = &qt[i * n + k1..i * n + n];
            u[i] = tau * row.iter().zip(v).map(|(x, y)| x * y).sum::<f64>();
        }
        for i in k1..n {
            let ui = u[i];
            let row = &mut qt[i * n + k1..i * n + n];
            for (x, y) in row.iter_mut().zip(v) {
                *x -= ui * y;
            }
        }
    }
    qt
}

/// Implicit QL with Wilkinson shifts on the tridiagonal `(d, e)`: `d` becomes the
/// eigenvalues; every rotation is also applied to the rows `i, i + 1` of `zt` (`[n x
/// cols]`, rows = components) when given.
fn tridiagonal_ql(d: &mut [f64], e: &mut [f64], mut zt: Option<(&mut [f64], usize)>) {
    let n = d.len();
    for l in 0..n {
        let mut iter = 0;
        loop {
            // the first negligible off-diagonal at or after l
            let mut m = l;
            while m + 1 < n {
                let dd = d[m].abs() + d[m + 1].abs();
                if e[m].abs() <= f64::EPSILON * dd {
                    break;
                }
                m += 1;
            }
            if m == l {
                break;
            }
            iter += 1;
            if iter > 60 {
                break; // converged as far as f64 allows
            }
            let mut g = (d[l + 1] - d[l]) / (2.0 * e[l]);
            let mut r = g.hypot(1.0);
            g = d[m] - d[l] + e[l] / (g + r.copysign(g));
            let (mut s, mut c, mut p) = (1.0, 1.0, 0.0);
            let mut early = false;
            for i in (l..m).rev() {
                let f = s * e[i];
                let b = c * e[i];
                r = f.hypot(g);
                e[i + 1] = r;
                if r == 0.0 {
                    d[i + 1] -= p;
                    e[m] = 0.0;
                    early = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + 2.0 * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
                if let Some((z, cols)) = zt.as_mut() {
                    let cols = *cols;
                    let (lo, hi) = z.split_at_mut((i + 1) * cols);
                    let zi = &mut lo[i * cols..];
                    let zi1 = &mut hi[..cols];
                    for (a, b) in zi.iter_mut().zip(zi1.iter_mut()) {
                        let f = *b;
                        *b = s * *a + c * f;
                        *a = c * *a - s * f;
                    }
                }
            }
            if early {
                continue;
            }
            d[l] -= p;
            e[l] = g;
            e[m] = 0.0;
        }
    }
}

/// Eigendecomposition of a symmetric `a [n x n]` (row-major): `(eigenvalues, Ut)` with
/// `a = U diag(lambda) U^T` and the eigenvectors the *rows* of the row-major `Ut`
/// (`Ut[i]` belongs to `lambda[i]`). Eigenvalues are in no particular order.
pub fn eigh(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut work = a.to_vec();
    let (mut d, mut e, refl) = tridiagonalise(&mut work, n);
    let mut zt = form_qt(&refl, n);
    tridiagonal_ql(&mut d, &mut e, Some((&mut zt, n)));
    (d, zt)
}

/// Eigenvalues of a symmetric `a [n x n]` and the projections `U^T b` of each vector in
/// `bs` (each of length `n`) onto the eigenvectors, without forming them: `O(n^3)` for
/// the reduction and `O(n^2)` per vector.
pub fn eigh_project(a: &[f64], n: usize, bs: &[&[f64]]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let mut work = a.to_vec();
    let (mut d, mut e, refl) = tridiagonalise(&mut work, n);
    // the vectors become the columns of an [n x k] block that the rotations act on
    let k = bs.len();
    let mut cols: Vec<Vec<f64>> = bs.iter().map(|b| b.to_vec()).collect();
    for c in &mut cols {
        apply_qt(&refl, c);
    }
    let mut block = vec![0.0; n * k];
    for (j, c) in cols.iter().enumerate() {
        for i in 0..n {
            block[i * k + j] = c[i];
        }
    }
    if k > 0 {
        tridiagonal_ql(&mut d, &mut e, Some((&mut block, k)));
    } else {
        tridiagonal_ql(&mut d, &mut e, None);
    }
    let out = (0..k)
        .map(|j| (0..n).map(|i| block[i * k + j]).collect())
        .collect();
    (d, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, normals, stream};

    fn random_symmetric(n: usize, seed: u64) -> Vec<f64> {
        let g = normals(&mut stream(seed, Stream::Theory, 0, 0), n * n);
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = g[i * n + j] + g[j * n + i];
            }
        }
        a
    }

    /// `A u = lambda u` for every pair, and the rows of `Ut` orthonormal, to 1e-10 of the
    /// matrix's scale; the eigenvalues equal cyclic Jacobi's.
    #[test]
    fn decomposes_random_symmetric_matrices() {
        for &n in &[1usize, 2, 3, 7, 40] {
            let a = random_symmetric(n, n as u64);
            let (lam, ut) = eigh(&a, n);
            let scale = crate::linalg::frobenius(&a).max(1.0);
            for i in 0..n {
                let u = &ut[i * n..i * n + n];
                for r in 0..n {
                    let au: f64 = (0..n).map(|c| a[r * n + c] * u[c]).sum();
                    assert!((au - lam[i] * u[r]).abs() < 1e-10 * scale, "n={n} i={i}");
                }
                for j in 0..n {
                    let dot = crate::linalg::dot(u, &ut[j * n..j * n + n]);
                    let want = if i == j { 1.0 } else { 0.0 };
                    assert!((dot - want).abs() < 1e-10, "n={n} orthonormal {i},{j}");
                }
            }
            let mut mine = lam.clone();
            mine.sort_by(f64::total_cmp);
            let (mut jac, _) = crate::linalg::sym_eigen(&a, n);
            jac.sort_by(f64::total_cmp);
            for (x, y) in mine.iter().zip(&jac) {
                assert!((x - y).abs() < 1e-9 * scale);
            }
        }
    }

    /// The projections without eigenvectors equal `U^T b` from the full decomposition
    /// (up to each eigenvector's sign: compared squared), to 1e-10.
    #[test]
    fn projections_match_the_eigenvectors() {
        let n = 30;
        let a = random_symmetric(n, 9);
        let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        let (lam, ut) = eigh(&a, n);
        let (lam2, proj) = eigh_project(&a, n, &[&b]);
        for i in 0..n {
            assert!((lam[i] - lam2[i]).abs() < 1e-10);
            let full = crate::linalg::dot(&ut[i * n..i * n + n], &b);
            assert!((full * full - proj[0][i] * proj[0][i]).abs() < 1e-10);
        }
    }
}
