//! Cells of a sweep: the unit of parallel work and of sharding.
//!
//! Every experiment enumerates its cells (one training run of an ensemble, or one
//! theory solve) in a fixed order; a cell's result depends only on the config and the
//! cell's index, never on which thread or machine ran it. So a sweep can be run:
//! - all at once, cells in parallel across cores ([`map_cells`]; rayon natively,
//!   sequential on wasm),
//! - as shard `i` of `n` ([`shard_indices`]: the cells `k` with `k % n == i`, which
//!   interleaves cheap and costly cells so shards take similar times), each shard
//!   writing a [`ShardOutput`] that [`crate::experiments::merge`] combines.

use crate::error::{Error, Result};
use crate::progress::Progress;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};

/// The indices of shard `index` of `count` over `total` cells: `k % count == index`.
pub fn shard_indices(total: usize, index: usize, count: usize) -> Result<Vec<usize>> {
    if count == 0 || index >= count {
        return Err(Error::config(
            "shard",
            format!("i/n with n >= 1 and 0 <= i < n, got {index}/{count}"),
        ));
    }
    Ok((index..total).step_by(count).collect())
}

/// Run `f` on each index, in parallel natively, and return the results in index order.
/// Progress reports the number of finished cells; the first error (in index order)
/// is returned.
pub fn map_cells<T: Send>(
    indices: &[usize],
    progress: &dyn Progress,
    f: impl Fn(usize, &dyn Progress) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let done = AtomicU64::new(0);
    let total = indices.len() as u64;
    progress.update("cells", 0, total);
    let inner = CancelOnly(progress);
    let one = |&k: &usize| -> Result<T> {
        if progress.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let r = f(k, &inner)?;
        let d = done.fetch_add(1, Ordering::Relaxed) + 1;
        progress.update("cells", d, total);
        Ok(r)
    };
    #[cfg(not(target_arch = "wasm32"))]
    let out: Vec<Result<T>> = {
        use rayon::prelude::*;
        indices.par_iter().map(one).collect()
    };
    #[cfg(target_arch = "wasm32")]
    let out: Vec<Result<T>> = indices.iter().map(one).collect();
    out.into_iter().collect()
}

/// Passes cancellation through to a cell but not its fine-grained progress (cells run
/// concurrently; the sweep reports whole cells).
struct CancelOnly<'a>(&'a dyn Progress);

impl Progress for CancelOnly<'_> {
    fn update(&self, _stage: &str, _done: u64, _total: u64) {}
    fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

/// The result of one shard: the cells it ran, by index.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ShardOutput {
    /// This shard's `i` in `i/n`.
    pub shard_index: usize,
    /// The `n` in `i/n`.
    pub shard_count: usize,
    /// Cells in the whole sweep.
    pub total_cells: usize,
    /// The cells this shard ran, in index order.
    pub cells: Vec<IndexedCell>,
}

/// One cell's result with its index in the sweep.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IndexedCell {
    pub index: usize,
    pub result: super::CellResult,
}

/// Mean of the finite values, `None` when there are none.
pub fn finite_mean(v: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (s, n) = v
        .into_iter()
        .filter(|x| x.is_finite())
        .fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| s / n as f64)
}

/// `Some(x)` when finite.
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Least-squares slope of `y` against `x`.
pub fn fit_slope(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 2 {
        return None;
    }
    let mx = x[..n].iter().sum::<f64>() / n as f64;
    let my = y[..n].iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for i in 0..n {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx).powi(2);
    }
    (sxx > 0.0).then(|| sxy / sxx).and_then(finite)
}

/// Format an optional number for CSV (empty when missing).
pub fn opt_csv(x: Option<f64>) -> String {
    x.map_or(String::new(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_cells() {
        let mut all: Vec<usize> = (0..3)
            .flat_map(|i| shard_indices(10, i, 3).unwrap())
            .collect();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert!(shard_indices(10, 3, 3).is_err());
        assert!(shard_indices(10, 0, 0).is_err());
    }

    #[test]
    fn slope_of_a_line() {
        let x = [1.0, 2.0, 3.0];
        let y = [3.0, 1.0, -1.0];
        assert!((fit_slope(&x, &y).unwrap() + 2.0).abs() < 1e-12);
    }
}
