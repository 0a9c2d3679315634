//! Experiments that put the finite-width engine and the theory side by side, as in the
//! talk: hyperparameter transfer across width and depth ([`transfer`]), coordinate
//! checks ([`coord_check`]), the lazy-to-rich sweep ([`richness`]), convergence of
//! finite networks to the DMFT ([`width_convergence`]), and [`presets`] reproducing the
//! talk's claims.
//!
//! Every experiment is a sweep over independent cells ([`sweep`]): [`cells`] counts them,
//! [`run_cell`] runs one by index, [`assemble`] builds the result from all of them. So
//! the same sweep runs in parallel on one machine ([`run`]), in shards across machines
//! ([`run_shard`] then [`merge`]), or cell by cell in the page's worker pool, and the
//! result is the same.

pub mod coord_check;
pub mod presets;
pub mod richness;
pub mod sweep;
pub mod transfer;
pub mod width_convergence;

pub use coord_check::{CoordCheckConfig, CoordCheckResult};
pub use richness::{RichnessConfig, RichnessResult};
pub use sweep::{IndexedCell, ShardOutput};
pub use transfer::{TransferAxis, TransferConfig, TransferResult};
pub use width_convergence::{WidthConvergenceConfig, WidthConvergenceResult};

use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::run::{RunConfig, RunOutput, RunRecord, SCHEMA_VERSION};
use serde::{Deserialize, Serialize};

/// The result of one cell of any experiment.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "cell", rename_all = "snake_case")]
pub enum CellResult {
    Transfer(transfer::TransferCell),
    CoordCheck(coord_check::CoordCell),
    Richness(richness::RichnessCell),
    WidthConvergence(width_convergence::WidthCell),
}

/// Number of cells of a sweep config (0 for kinds that are not sweeps).
pub fn cells(cfg: &RunConfig) -> usize {
    match cfg {
        RunConfig::Transfer(c) => c.cells(),
        RunConfig::CoordCheck(c) => c.cells(),
        RunConfig::Richness(c) => c.cells(),
        RunConfig::WidthConvergence(c) => c.cells(),
        _ => 0,
    }
}

/// True for the kinds this module runs.
pub fn is_sweep(cfg: &RunConfig) -> bool {
    matches!(
        cfg,
        RunConfig::Transfer(_)
            | RunConfig::CoordCheck(_)
            | RunConfig::Richness(_)
            | RunConfig::WidthConvergence(_)
    )
}

fn not_a_sweep() -> Error {
    Error::config(
        "kind",
        "a sweep (transfer, coord_check, richness, width_convergence)",
    )
}

/// Run cell `index` of a sweep.
pub fn run_cell(cfg: &RunConfig, index: usize, progress: &dyn Progress) -> Result<CellResult> {
    Ok(match cfg {
        RunConfig::Transfer(c) => CellResult::Transfer(c.run_cell(index, progress)?),
        RunConfig::CoordCheck(c) => CellResult::CoordCheck(c.run_cell(index, progress)?),
        RunConfig::Richness(c) => CellResult::Richness(c.run_cell(index, progress)?),
        RunConfig::WidthConvergence(c) => {
            CellResult::WidthConvergence(c.run_cell(index, progress)?)
        }
        _ => return Err(not_a_sweep()),
    })
}

/// Unwrap cells of one kind, or say which cell is of another.
fn unwrap_cells<T: Clone>(
    cells: &[CellResult],
    get: impl Fn(&CellResult) -> Option<&T>,
) -> Result<Vec<T>> {
    cells
        .iter()
        .enumerate()
        .map(|(i, c)| {
            get(c)
                .cloned()
                .ok_or_else(|| Error::config(format!("cells[{i}]"), "a cell of the config's kind"))
        })
        .collect()
}

/// Build a sweep's result from all its cells, in index order.
pub fn assemble(cfg: &RunConfig, cells: &[CellResult]) -> Result<RunOutput> {
    Ok(match cfg {
        RunConfig::Transfer(c) => RunOutput::Transfer(c.assemble(&unwrap_cells(cells, |x| {
            if let CellResult::Transfer(v) = x {
                Some(v)
            } else {
                None
            }
        })?)?),
        RunConfig::CoordCheck(c) => {
            RunOutput::CoordCheck(c.assemble(&unwrap_cells(cells, |x| {
                if let CellResult::CoordCheck(v) = x {
                    Some(v)
                } else {
                    None
                }
            })?)?)
        }
        RunConfig::Richness(c) => RunOutput::Richness(c.assemble(&unwrap_cells(cells, |x| {
            if let CellResult::Richness(v) = x {
                Some(v)
            } else {
                None
            }
        })?)?),
        RunConfig::WidthConvergence(c) => {
            RunOutput::WidthConvergence(c.assemble(&unwrap_cells(cells, |x| {
                if let CellResult::WidthConvergence(v) = x {
                    Some(v)
                } else {
                    None
                }
            })?)?)
        }
        _ => return Err(not_a_sweep()),
    })
}

/// Run a whole sweep, its cells in parallel (natively).
pub fn run(cfg: &RunConfig, progress: &dyn Progress) -> Result<RunOutput> {
    cfg.validate()?;
    if !is_sweep(cfg) {
        return Err(not_a_sweep());
    }
    let all: Vec<usize> = (0..cells(cfg)).collect();
    let results = sweep::map_cells(&all, progress, |k, p| run_cell(cfg, k, p))?;
    assemble(cfg, &results)
}

/// Run shard `index` of `count` (the cells `k` with `k % count == index`), in
/// parallel; the output is a [`RunOutput::Shard`] for [`merge`].
pub fn run_shard(
    cfg: &RunConfig,
    index: usize,
    count: usize,
    progress: &dyn Progress,
) -> Result<RunOutput> {
    cfg.validate()?;
    if !is_sweep(cfg) {
        return Err(not_a_sweep());
    }
    let total = cells(cfg);
    let mine = sweep::shard_indices(total, index, count)?;
    let results = sweep::map_cells(&mine, progress, |k, p| run_cell(cfg, k, p))?;
    Ok(RunOutput::Shard(ShardOutput {
        shard_index: index,
        shard_count: count,
        total_cells: total,
        cells: mine
            .into_iter()
            .zip(results)
            .map(|(index, result)| IndexedCell { index, result })
            .collect(),
    }))
}

/// Combine shard records of one config into the record of the whole sweep. Every
/// part must carry the same config; together they must cover every cell (a cell may
/// appear twice only with the same result).
pub fn merge(parts: &[RunRecord]) -> Result<RunRecord> {
    let first = parts
        .first()
        .ok_or_else(|| Error::config("parts", "at least one shard"))?;
    let cfg = &first.config;
    let total = cells(cfg);
    if total == 0 {
        return Err(not_a_sweep());
    }
    let mut slots: Vec<Option<CellResult>> = vec![None; total];
    for (pi, part) in parts.iter().enumerate() {
        if part.config != *cfg {
            return Err(Error::config(
                format!("parts[{pi}].config"),
                "the same config as the first part",
            ));
        }
        let RunOutput::Shard(s) = &part.result else {
            return Err(Error::config(
                format!("parts[{pi}].result"),
                "a shard result (from run --shard i/n)",
            ));
        };
        if s.total_cells != total {
            return Err(Error::config(
                format!("parts[{pi}].result.total_cells"),
                format!("{total}"),
            ));
        }
        for c in &s.cells {
            let slot = slots.get_mut(c.index).ok_or_else(|| {
                Error::config(format!("parts[{pi}].cells.index"), format!("< {total}"))
            })?;
            match slot {
                Some(prev) if *prev != c.result => {
                    return Err(Error::config(
                        format!("parts[{pi}].cells[{}]", c.index),
                        "the same result as the other part holding this cell",
                    ));
                }
                _ => *slot = Some(c.result.clone()),
            }
        }
    }
    let missing: Vec<usize> = (0..total).filter(|&k| slots[k].is_none()).collect();
    if !missing.is_empty() {
        return Err(Error::config(
            "parts",
            format!(
                "shards covering every cell; missing {} of {total} (first {})",
                missing.len(),
                missing[0]
            ),
        ));
    }
    let cells: Vec<CellResult> = slots.into_iter().flatten().collect();
    Ok(RunRecord {
        version: SCHEMA_VERSION,
        config: cfg.clone(),
        result: assemble(cfg, &cells)?,
    })
}

/// CSV tables of a sweep's result.
pub fn csv(out: &RunOutput) -> Vec<(String, String)> {
    match out {
        RunOutput::Transfer(r) => vec![("transfer".into(), transfer::csv(r))],
        RunOutput::CoordCheck(r) => vec![("coords".into(), coord_check::csv(r))],
        RunOutput::Richness(r) => richness::csv(r),
        RunOutput::WidthConvergence(r) => width_convergence::csv(r),
        RunOutput::Shard(s) => vec![(
            "shard".into(),
            format!(
                "shard_index,shard_count,total_cells,cells\n{},{},{},{}\n",
                s.shard_index,
                s.shard_count,
                s.total_cells,
                s.cells.len()
            ),
        )],
        _ => vec![],
    }
}
