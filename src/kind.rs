//! What every kind of computation provides: the [`Kind`] trait, implemented beside each
//! engine, and [`Sweep`] for the kinds whose work is independent cells.
//!
//! A kind is one serde config (the JSON object tagged `kind` in
//! [`crate::run::RunConfig`]). It knows how to check itself ([`Kind::validate`]), what
//! it will cost before anything is allocated ([`Kind::cost`]), how to compute its
//! result ([`Kind::run`]) and how to write that result as CSV tables ([`Kind::csv`]).
//! `run.rs` lists the kinds once and dispatches every call; nothing else matches on
//! them. Adding a kind: see `docs/kinds.md`.
//!
//! A sweep's result is a pure function of `(config, cell index)` per cell, assembled in
//! index order. Cells run in groups ([`Sweep::groups`]: consecutive cells a kind trains
//! as one batched ensemble, such as the learning rates of one width; one cell each by
//! default), and a group's cells equal the cells run alone. So the same sweep runs all
//! at once ([`run_sweep`]: groups in parallel natively, one after another on wasm), as
//! shard `i` of `n` (`run --shard`, the page's workers: whole groups dealt by their work,
//! [`shard_groups`]), and `merge` of the shards gives the same result.

use crate::backend::{BackendReport, DeviceChoice, Gpu};
use crate::budget::Cost;
use crate::error::{Error, Result};
use crate::progress::Progress;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

/// One kind of computation: its config is `Self`.
pub trait Kind: Serialize + DeserializeOwned + Clone + PartialEq + Default + Send + Sync {
    /// The result, serialised beside the config in a run record.
    type Output: Serialize + DeserializeOwned + Clone + PartialEq + Send;

    /// Range-check every field, and everything the engine would refuse later (so that a
    /// config is refused before any work starts). Errors name the field path relative
    /// to this config (`model.width`, `base.steps`).
    fn validate(&self) -> Result<()>;

    /// Estimated peak memory and work of [`Kind::run`], counting everything it
    /// allocates (data, test points, depth, samples, the result). Cheap (no data is
    /// parsed or cloned per cell); call after [`Kind::validate`].
    fn cost(&self) -> Cost;

    /// Compute the result. Assumes [`Kind::validate`] passed.
    fn run(&self, progress: &dyn Progress) -> Result<Self::Output>;

    /// CSV tables of a result: `(file stem, CSV text)` pairs.
    fn csv(&self, out: &Self::Output) -> Vec<(String, String)>;
}

/// A kind whose work is independent cells, each a pure function of the config and its
/// index, assembled in index order.
pub trait Sweep: Kind {
    /// The result of one cell (what a shard file carries per cell).
    type Cell: Serialize + DeserializeOwned + Clone + PartialEq + Send;

    /// Number of cells.
    fn cells(&self) -> usize;

    /// Compute cell `k < cells()`.
    fn run_cell(&self, k: usize, progress: &dyn Progress) -> Result<Self::Cell>;

    /// Compute cell `k` as a future, its training on the device the policy
    /// ([`crate::backend::select::decide`]) picks for `choice` among the CPU and `gpu`;
    /// returns the cell and where its training ran. The page's GPU worker runs cells
    /// this way. The default runs [`Sweep::run_cell`] on the CPU (kinds whose cells do
    /// not train on a device).
    fn run_cell_async<'a>(
        &'a self,
        k: usize,
        choice: DeviceChoice,
        gpu: std::result::Result<&'a Gpu, &'a str>,
        progress: &'a dyn Progress,
    ) -> impl Future<Output = Result<(Self::Cell, BackendReport)>> + 'a {
        let _ = (choice, gpu);
        async move { Ok((self.run_cell(k, progress)?, BackendReport::default())) }
    }

    /// Whether this kind computes runs of consecutive cells together ([`Sweep::groups`],
    /// [`Sweep::run_group`]). The others run cell by cell, and their group methods are
    /// never called (nor compiled into the page).
    const GROUPED: bool = false;

    /// The groups: runs of consecutive cells computed together (a kind trains them as
    /// one batched ensemble), covering every cell once, in order. One per cell by
    /// default. Fixed by the config alone (never by the number of workers).
    fn groups(&self) -> Vec<Range<usize>> {
        singletons(self.cells())
    }

    /// Relative work of each of `groups` (this config's), which [`shard_groups`]
    /// balances; 1 each by default.
    fn group_works(&self, groups: &[Range<usize>]) -> Vec<f64> {
        vec![1.0; groups.len()]
    }

    /// Compute the cells of one group, each equal to [`Sweep::run_cell`] of it (within
    /// the rounding of a batched product). By default one after another.
    fn run_group(&self, cells: Range<usize>, progress: &dyn Progress) -> Result<Vec<Self::Cell>> {
        cells.map(|k| self.run_cell(k, progress)).collect()
    }

    /// [`Sweep::run_group`] as a future on the device the policy picks (as
    /// [`Sweep::run_cell_async`]); each cell with where it ran. By default the cells'
    /// [`Sweep::run_cell_async`] one after another.
    fn run_group_async<'a>(
        &'a self,
        cells: Range<usize>,
        choice: DeviceChoice,
        gpu: std::result::Result<&'a Gpu, &'a str>,
        progress: &'a dyn Progress,
    ) -> impl Future<Output = Result<Vec<(Self::Cell, BackendReport)>>> + 'a {
        async move {
            let mut out = Vec::new();
            for k in cells {
                out.push(self.run_cell_async(k, choice, gpu, progress).await?);
            }
            Ok(out)
        }
    }

    /// Check that `cell` has the shape cell `k` of this config has (array lengths,
    /// variant): `merge` reads cells from files, and [`Sweep::assemble`] may index
    /// them without further checks once every cell passed.
    fn check_cell(&self, k: usize, cell: &Self::Cell) -> Result<()>;

    /// The result from every cell's result, in index order (each already checked).
    fn assemble(&self, cells: &[Self::Cell]) -> Result<Self::Output>;
}

/// Largest number of cells a sweep may have: bounds validation, costing and the shard
/// files whatever the config asks.
pub const MAX_CELLS: usize = 4096;

/// Refuse a cell count over [`MAX_CELLS`], naming what multiplies to it.
pub fn check_cells(count: usize, what: &str) -> Result<()> {
    if count > MAX_CELLS {
        return Err(Error::config(
            what,
            format!("at most {MAX_CELLS} cells in all, got {count}"),
        ));
    }
    Ok(())
}

/// Run every cell (or group, [`Sweep::GROUPED`]) of a sweep (in parallel natively) and
/// assemble the result.
pub fn run_sweep<S: Sweep>(sweep: &S, progress: &dyn Progress) -> Result<S::Output> {
    if !S::GROUPED {
        let all: Vec<usize> = (0..sweep.cells()).collect();
        let cells = map_cells(&all, progress, |k, p| sweep.run_cell(k, p))?;
        return sweep.assemble(&cells);
    }
    let groups = sweep.groups();
    let all: Vec<usize> = (0..groups.len()).collect();
    let cells = map_cells(&all, progress, |g, p| sweep.run_group(groups[g].clone(), p))?;
    sweep.assemble(&cells.concat())
}

/// One group per cell, `k..k + 1` for `k < cells`.
pub fn singletons(cells: usize) -> Vec<Range<usize>> {
    (0..cells).map(|k| k..k + 1).collect()
}

/// The groups of shard `index` of `count`, ascending: the groups are dealt largest work
/// first ([`Sweep::group_works`], ties in index order), each to the shard with the least
/// work so far (the lowest index among equals). With equal works that is `g % count ==
/// index`, interleaving cheap and costly groups. A pure function of the works and the
/// count, so every shard computes the same deal.
pub fn shard_groups(works: &[f64], index: usize, count: usize) -> Result<Vec<usize>> {
    if count == 0 || index >= count {
        return Err(Error::config(
            "shard",
            format!("i/n with n >= 1 and 0 <= i < n, got {index}/{count}"),
        ));
    }
    // largest first, ties in index order: an insertion sort (a few lines of wasm where
    // the library's sorts would add kilobytes to the page for a list of at most 4096)
    let mut order: Vec<usize> = Vec::with_capacity(works.len());
    for g in 0..works.len() {
        let at = order.partition_point(|&o| works[o] >= works[g]);
        order.insert(at, g);
    }
    let mut load = vec![0.0f64; count];
    let mut owner = vec![0; works.len()];
    for g in order {
        let mut least = 0;
        for s in 1..count {
            if load[s] < load[least] {
                least = s;
            }
        }
        load[least] += works[g];
        owner[g] = least;
    }
    Ok((0..works.len()).filter(|&g| owner[g] == index).collect())
}

/// Run `f` on each index, in parallel natively, and return the results in index order.
/// Progress reports the number of finished cells; the first error (in index order) is
/// returned.
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

/// How many groups of cells run at once here: rayon's threads natively, one on wasm (each page
/// worker runs its shard's cells one after another).
pub fn cells_in_flight(cells: usize) -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    let threads = rayon::current_num_threads();
    #[cfg(target_arch = "wasm32")]
    let threads = 1;
    threads.min(cells).max(1)
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

/// Check that a cell's array has the length the config implies.
pub fn check_len(what: &str, len: usize, want: usize) -> Result<()> {
    if len != want {
        return Err(Error::config(
            what,
            format!("{want} entries (as the config implies), got {len}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_deal_groups_by_work() {
        // equal works: round robin, as the cells' interleaving
        assert_eq!(shard_groups(&[1.0; 5], 1, 2).unwrap(), [1, 3]);
        // two heavy groups at even indices go to different shards
        let works = [1.0, 1.0, 8.0, 1.0, 8.0, 1.0];
        let a = shard_groups(&works, 0, 2).unwrap();
        let b = shard_groups(&works, 1, 2).unwrap();
        assert_eq!(a, [0, 2, 3]);
        assert_eq!(b, [1, 4, 5]);
        assert!(shard_groups(&works, 2, 2).is_err());
    }

    #[test]
    fn shards_partition_the_cells() {
        let mut all: Vec<usize> = (0..3)
            .flat_map(|i| shard_groups(&[1.0; 10], i, 3).unwrap())
            .collect();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(shard_groups(&[1.0; 10], 1, 3).unwrap(), [1, 4, 7]);
        assert!(shard_groups(&[1.0; 10], 3, 3).is_err());
        assert!(shard_groups(&[1.0; 10], 0, 0).is_err());
    }
}
