//! Hyperparameter transfer (muTransfer): a learning-rate grid times widths (MLP) or
//! depths (ResNet), per parameterisation.
//!
//! Each cell trains the base config's ensemble at one `(parameterisation, width or
//! depth, learning rate)` and records the final train and test loss (mean over seeds).
//! A cell where any seed's loss became NaN, Inf or exceeded the divergence threshold
//! (the engine's `diverged_at`) is flagged `diverged` and kept in the grid; the best
//! learning rate per width or depth is the one of least final training loss among the
//! cells that did not diverge. Under muP the best rate should stay put as width grows,
//! under SP drift (roughly as 1/N); under depth-muP it should stay put as depth grows.
//!
//! `Mup` on a ResNet is muP without the `1/sqrt(L)` branch scaling (alpha = 0), the
//! contrast the depth experiment needs.
//!
//! Natively, the learning rates of one (parameterisation, size) train as one ensemble
//! of `rates x seeds` members ([`crate::nn::train::members`]): a group of cells
//! ([`Sweep::groups`]), consecutive rates, as many as fit [`GROUP_BYTES`] (at least
//! one; Langevin runs each rate alone). Its cells equal the cells run alone, so the
//! grouping changes speed and memory, never the result; it depends on the config only.
//! The page runs each cell alone (page weight: [`Sweep::GROUPED`] below).

use super::TrainingCells;
use super::stats::{finite, finite_mean, opt_csv};
use crate::backend::{BackendReport, DeviceChoice, Gpu};
use crate::budget::{Cost, data_shape};
use crate::config::{Arch, OptimizerConfig, Parameterization, TrainConfig};
use crate::error::{Error, Result, check_positive, check_range};
use crate::kind::{Kind, Sweep, check_cells, check_len, run_sweep};
use crate::nn::kind::train_cost_shaped;
use crate::nn::train::{TrainResult, train_choosing_async};
use crate::nn::{train_rates, train_rates_choosing_async};
use crate::progress::Progress;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// `(D, C, P_train, P_test)` of the data ([`data_shape`]).
type Shape = (u64, u64, u64, u64);

/// Most memory one group of learning rates trained as one ensemble may take (its
/// training run's estimate, [`train_cost_shaped`]); a single rate may take more. A
/// batched step streams every member's weights, gradients and activations through each
/// op, so the group is kept to what a core's caches hold: on the 2-core EPYC of
/// bench/README.md 11 rates at width 256 (31 MB) cost 1.34x the CPU time of the cells
/// alone, 2 rates 1.08x, 11 at width 64 (4.5 MB) 1.02x. Fewer launches are what a GPU
/// gains (9x fewer at width 64); at large widths the product is big alone.
pub const GROUP_BYTES: u64 = 8 << 20;

/// Which model size the sweep varies.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum TransferAxis {
    /// `widths` x `lrs` at the base depth.
    #[default]
    Width,
    /// `depths` x `lrs` at the base width (residual networks).
    Depth,
}

/// A learning-rate sweep across model sizes.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TransferConfig {
    /// Data, architecture, optimiser kind, steps and seeds shared by every cell; its
    /// width, depth, parameterisation and learning rate are overridden per cell.
    pub base: TrainConfig,
    pub axis: TransferAxis,
    /// Widths of the width sweep.
    pub widths: Vec<usize>,
    /// Depths of the depth sweep.
    pub depths: Vec<usize>,
    /// Base learning rates, ascending (a factor-2 grid: see [`lr_grid`]).
    pub lrs: Vec<f64>,
    /// Parameterisations compared, each a table of the result.
    pub params: Vec<Parameterization>,
    /// Training loss above which a run counts as diverged.
    pub divergence_threshold: f64,
}

impl Default for TransferConfig {
    fn default() -> Self {
        TransferConfig {
            base: TrainConfig {
                steps: 50,
                seeds: 2,
                ..Default::default()
            },
            axis: TransferAxis::Width,
            widths: vec![64, 128, 256],
            depths: vec![2, 4, 8],
            lrs: lr_grid(0.0625, 2.0, 8),
            params: vec![Parameterization::Sp, Parameterization::Mup { gamma0: 1.0 }],
            divergence_threshold: 10.0,
        }
    }
}

/// `count` learning rates `min * factor^k`.
pub fn lr_grid(min: f64, factor: f64, count: usize) -> Vec<f64> {
    (0..count).map(|k| min * factor.powi(k as i32)).collect()
}

/// The result of one cell.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TransferCell {
    /// Mean final training loss over seeds (finite seeds only; null if none).
    pub final_loss: Option<f64>,
    pub final_test_loss: Option<f64>,
    /// Any seed diverged.
    pub diverged: bool,
}

/// One parameterisation's grid, rows = widths (or depths), columns = learning rates.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TransferTable {
    /// Short name of the parameterisation (`sp`, `ntk`, `mup`, `depth_mup`, ...).
    pub param: String,
    pub parameterization: Parameterization,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub widths: Vec<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depths: Vec<usize>,
    pub lrs: Vec<f64>,
    /// `final_loss[size][lr]`.
    pub final_loss: Vec<Vec<Option<f64>>>,
    pub final_test_loss: Vec<Vec<Option<f64>>>,
    /// `diverged[size][lr]`.
    pub diverged: Vec<Vec<bool>>,
    /// Best learning rate per size (null if every cell diverged).
    pub best_lr: Vec<Option<f64>>,
    /// Its index in `lrs`.
    pub best_lr_index: Vec<Option<usize>>,
    /// Largest minus smallest `best_lr_index` across sizes: how many grid steps the
    /// optimum moves.
    pub best_lr_shift: Option<usize>,
}

/// The result of a transfer sweep: one table per parameterisation.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TransferResult {
    pub axis: TransferAxis,
    pub tables: Vec<TransferTable>,
}

/// Most parameterisations a transfer sweep compares.
pub const MAX_PARAMS: usize = 16;

impl TransferConfig {
    fn sizes(&self) -> &[usize] {
        match self.axis {
            TransferAxis::Width => &self.widths,
            TransferAxis::Depth => &self.depths,
        }
    }

    fn sizes_name(&self) -> &'static str {
        match self.axis {
            TransferAxis::Width => "widths",
            TransferAxis::Depth => "depths",
        }
    }

    /// `(parameterisation, size, lr)` indices of cell `k` (lr fastest).
    fn split(&self, k: usize) -> (usize, usize, usize) {
        let (ns, nl) = (self.sizes().len(), self.lrs.len());
        (k / (ns * nl), (k / nl) % ns, k % nl)
    }

    /// Check the counts before anything is enumerated.
    fn validate_counts(&self) -> Result<()> {
        check_range("params (count)", self.params.len(), 1, MAX_PARAMS)?;
        check_range("lrs (count)", self.lrs.len(), 1, 64)?;
        for (i, &lr) in self.lrs.iter().enumerate() {
            check_positive(&format!("lrs[{i}]"), lr)?;
        }
        if self.lrs.windows(2).any(|w| w[1] <= w[0]) {
            return Err(Error::config("lrs", "strictly ascending learning rates"));
        }
        let name = self.sizes_name();
        check_range(&format!("{name} (count)"), self.sizes().len(), 1, 64)?;
        check_positive("divergence_threshold", self.divergence_threshold)?;
        check_cells(self.cells(), "params x sizes x lrs")
    }

    /// How many consecutive rates of size `si` train as one ensemble: the most whose
    /// run fits [`GROUP_BYTES`] (memory is affine in the members: two estimates
    /// suffice), at least 1, at most all; 1 under Langevin.
    fn rates_per_group(&self, light: &TrainConfig, shape: Shape, si: usize) -> usize {
        let nl = self.lrs.len();
        if matches!(self.base.optimizer, OptimizerConfig::Langevin { .. }) {
            return 1;
        }
        let mut c = self.cell_from(light.clone(), si * nl);
        let s = c.seeds.max(1);
        let bytes = |rates: usize, c: &mut TrainConfig| {
            c.seeds = rates * s;
            train_cost_shaped(c, shape).bytes as f64
        };
        let one = bytes(1, &mut c);
        let per_rate = (bytes(2, &mut c) - one).max(1.0);
        let fit = 1.0 + ((GROUP_BYTES as f64 - one) / per_rate).floor();
        (fit.max(1.0) as usize).min(nl)
    }

    /// The groups' cell ranges in order: per (parameterisation, size), its rates in
    /// chunks of [`TransferConfig::rates_per_group`].
    fn plan(&self) -> Vec<Range<usize>> {
        let (ns, nl) = (self.sizes().len(), self.lrs.len());
        let light = self.base.without_data();
        let shape = data_shape(&self.base);
        let chunk: Vec<usize> = (0..ns)
            .map(|si| self.rates_per_group(&light, shape, si))
            .collect();
        let mut out = Vec::new();
        for pi in 0..self.params.len() {
            for (si, &k) in chunk.iter().enumerate() {
                let first = (pi * ns + si) * nl;
                out.extend(
                    (0..nl)
                        .step_by(k)
                        .map(|li| first + li..first + (li + k).min(nl)),
                );
            }
        }
        out
    }

    /// The training config of group `cells` without its data: the first cell's, with
    /// one member per rate and seed.
    fn light_group(&self, light: &TrainConfig, cells: &Range<usize>) -> TrainConfig {
        let mut c = self.cell_from(light.clone(), cells.start);
        c.seeds *= cells.len();
        c
    }
}

impl TrainingCells for TransferConfig {
    fn base(&self) -> &TrainConfig {
        &self.base
    }

    fn training_cells(&self) -> usize {
        self.cells()
    }

    /// `base` (the base config, or it without data) set up as cell `k`.
    fn cell_from(&self, mut c: TrainConfig, k: usize) -> TrainConfig {
        let (pi, si, li) = self.split(k);
        match self.axis {
            TransferAxis::Width => c.model.width = self.widths[si],
            TransferAxis::Depth => c.model.depth = self.depths[si],
        }
        c.param = self.params[pi].clone();
        c.optimizer = c.optimizer.with_lr(self.lrs[li]);
        c.observe.divergence_threshold = self.divergence_threshold;
        c.observe.test_loss = true;
        c.observe.outputs = false;
        c.observe.kernels = false;
        c.observe.ntk = false;
        c.observe.coords = false;
        // A few records, so that runs whose every seed diverged stop early.
        c.observe.every = (c.steps / 8).max(1);
        c
    }
}

impl Kind for TransferConfig {
    type Output = TransferResult;

    /// Counts first; the data once; every (parameterisation, size) pair's setup once
    /// (the learning rates only need to be positive).
    fn validate(&self) -> Result<()> {
        self.validate_counts()?;
        self.base.data.validate().map_err(|e| e.within("base"))?;
        let light = self.base.without_data();
        let points = self.base.data.train_size();
        let nl = self.lrs.len();
        for pi in 0..self.params.len() {
            for si in 0..self.sizes().len() {
                let k = (pi * self.sizes().len() + si) * nl;
                let c = self.cell_from(light.clone(), k);
                c.validate_setup(points).map_err(|e| match e.field() {
                    Some(f) if f.starts_with("param") => {
                        e.map_field(|f| format!("params[{pi}]{}", &f["param".len()..]))
                    }
                    Some("model.width") => Error::config(
                        format!("widths[{si}]"),
                        format!("a width in [1, {}]", crate::config::MAX_WIDTH),
                    ),
                    Some("model.depth") => Error::config(
                        format!("depths[{si}]"),
                        format!("a depth in [1, {}]", crate::config::MAX_DEPTH),
                    ),
                    _ => e.within("base"),
                })?;
            }
        }
        Ok(())
    }

    /// [`super::training_sweep_cost`] over every group's training run (one ensemble of
    /// its rates times the seeds; no observables but the losses, a record every
    /// `steps / 8`); a cell keeps 3 numbers, the result 4 per cell and 3 per
    /// (parameterisation, size).
    fn cost(&self) -> Cost {
        let ns = self.sizes().len() as f64;
        let result = self.params.len() as f64 * ns * (4.0 * self.lrs.len() as f64 + 3.0);
        let light = self.base.without_data();
        let plan = match Self::GROUPED {
            true => self.plan(),
            false => crate::kind::singletons(self.cells()),
        };
        let groups = plan.into_iter().map(|g| self.light_group(&light, &g));
        super::training_sweep_cost(
            &self.base,
            data_shape(&self.base),
            groups,
            3.0 * self.cells() as f64,
            result,
        )
    }

    fn run(&self, progress: &dyn Progress) -> Result<TransferResult> {
        run_sweep(self, progress)
    }

    fn csv(&self, out: &TransferResult) -> Vec<(String, String)> {
        vec![("transfer".into(), csv(out))]
    }
}

impl TransferCell {
    /// The cell of a finished training run of config `c`.
    fn of(c: &TrainConfig, r: &TrainResult) -> Self {
        let diverged = r.any_diverged();
        let last = |v: &Vec<Vec<f64>>| {
            // A run whose seeds all diverged stops early: its last record is the last row.
            v.last().and_then(|row| finite_mean(row.iter().copied()))
        };
        let ran_to_end = r.steps.last() == Some(&c.steps);
        TransferCell {
            final_loss: if ran_to_end {
                last(&r.train_loss)
            } else {
                None
            },
            final_test_loss: if ran_to_end { last(&r.test_loss) } else { None },
            diverged,
        }
    }
}

impl Sweep for TransferConfig {
    type Cell = TransferCell;

    /// Parameterisations x sizes x learning rates.
    fn cells(&self) -> usize {
        self.params.len() * self.sizes().len() * self.lrs.len()
    }

    /// Train cell `k`.
    fn run_cell(&self, k: usize, progress: &dyn Progress) -> Result<TransferCell> {
        let c = self.cell_config(k)?;
        let data = c.data.load()?;
        let r = crate::nn::train(&c, &data, progress)?;
        Ok(TransferCell::of(&c, &r))
    }

    /// Train cell `k` on the device the policy picks (the page's GPU worker).
    async fn run_cell_async(
        &self,
        k: usize,
        choice: DeviceChoice,
        gpu: std::result::Result<&Gpu, &str>,
        progress: &dyn Progress,
    ) -> Result<(TransferCell, BackendReport)> {
        let c = self.cell_config(k)?;
        let data = c.data.load()?;
        let r = train_choosing_async(choice, gpu, &c, &data, progress).await?;
        Ok((TransferCell::of(&c, &r), r.backend.clone()))
    }

    /// Natively. The page runs each cell alone: the group path (the batched trainer,
    /// its futures per kind) would add about 20 KB gzip to a page with 6 KB left under
    /// its 1 MiB budget (bench/README.md); its cells are the same either way.
    const GROUPED: bool = cfg!(not(target_arch = "wasm32"));

    /// Per (parameterisation, size), its rates in chunks that fit [`GROUP_BYTES`].
    fn groups(&self) -> Vec<Range<usize>> {
        self.plan()
    }

    /// Each group's training work ([`train_cost_shaped`]).
    fn group_works(&self, groups: &[Range<usize>]) -> Vec<f64> {
        let light = self.base.without_data();
        let shape = data_shape(&self.base);
        groups
            .iter()
            .map(|g| train_cost_shaped(&self.light_group(&light, g), shape).flops)
            .collect()
    }

    /// Train the group's rates as one ensemble ([`train_rates`]).
    fn run_group(&self, cells: Range<usize>, progress: &dyn Progress) -> Result<Vec<TransferCell>> {
        if cells.len() < 2 {
            return cells.map(|k| self.run_cell(k, progress)).collect();
        }
        let (c, lrs) = self.group_config(&cells)?;
        let data = c.data.load()?;
        let runs = train_rates(&c, &data, lrs, progress)?;
        Ok(runs.iter().map(|r| TransferCell::of(&c, r)).collect())
    }

    /// [`Sweep::run_group`] on the device the policy picks for the whole group.
    async fn run_group_async(
        &self,
        cells: Range<usize>,
        choice: DeviceChoice,
        gpu: std::result::Result<&Gpu, &str>,
        progress: &dyn Progress,
    ) -> Result<Vec<(TransferCell, BackendReport)>> {
        if cells.len() < 2 {
            let mut out = Vec::new();
            for k in cells {
                out.push(self.run_cell_async(k, choice, gpu, progress).await?);
            }
            return Ok(out);
        }
        let (c, lrs) = self.group_config(&cells)?;
        let data = c.data.load()?;
        let runs = train_rates_choosing_async(choice, gpu, &c, &data, lrs, progress).await?;
        Ok(runs
            .iter()
            .map(|r| (TransferCell::of(&c, r), r.backend.clone()))
            .collect())
    }

    /// A cell is three scalars: any values are of the right shape.
    fn check_cell(&self, _k: usize, _cell: &TransferCell) -> Result<()> {
        Ok(())
    }

    /// Tables from every cell's result (in cell order).
    fn assemble(&self, cells: &[TransferCell]) -> Result<TransferResult> {
        check_len("cells", cells.len(), self.cells())?;
        let (ns, nl) = (self.sizes().len(), self.lrs.len());
        let tables = self
            .params
            .iter()
            .enumerate()
            .map(|(pi, p)| self.table(pi, p, &cells[pi * ns * nl..(pi + 1) * ns * nl]))
            .collect();
        Ok(TransferResult {
            axis: self.axis,
            tables,
        })
    }
}

impl TransferConfig {
    /// The training config of a group's first cell (data included) and the group's
    /// learning rates.
    fn group_config(&self, cells: &Range<usize>) -> Result<(TrainConfig, &[f64])> {
        let c = self.cell_config(cells.start)?;
        let li = self.split(cells.start).2;
        Ok((c, &self.lrs[li..li + cells.len()]))
    }

    /// One parameterisation's table from its `sizes x lrs` cells.
    fn table(&self, _pi: usize, p: &Parameterization, cells: &[TransferCell]) -> TransferTable {
        let (ns, nl) = (self.sizes().len(), self.lrs.len());
        let grid = |si: usize| &cells[si * nl..(si + 1) * nl];
        let final_loss: Vec<Vec<Option<f64>>> = (0..ns)
            .map(|si| grid(si).iter().map(|c| c.final_loss).collect())
            .collect();
        let final_test_loss = (0..ns)
            .map(|si| grid(si).iter().map(|c| c.final_test_loss).collect())
            .collect();
        let diverged: Vec<Vec<bool>> = (0..ns)
            .map(|si| grid(si).iter().map(|c| c.diverged).collect())
            .collect();
        let best = BestRates::of(&final_loss, &diverged, &self.lrs);
        let (widths, depths) = match self.axis {
            TransferAxis::Width => (self.widths.clone(), vec![]),
            TransferAxis::Depth => (vec![], self.depths.clone()),
        };
        TransferTable {
            param: label(p, self.base.model.arch),
            parameterization: p.clone(),
            widths,
            depths,
            lrs: self.lrs.clone(),
            final_loss,
            final_test_loss,
            diverged,
            best_lr: best.lr,
            best_lr_index: best.index,
            best_lr_shift: best.shift,
        }
    }
}

/// Name of a parameterisation in tables: `mup` on a ResNet is `mup_no_depth_scaling`.
pub fn label(p: &Parameterization, arch: Arch) -> String {
    match (p, arch) {
        (Parameterization::Mup { .. }, Arch::Resnet) => "mup_no_depth_scaling".into(),
        _ => p.name().into(),
    }
}

/// The optimum of a learning-rate grid at each size: `index[size]` of the least
/// non-diverged loss ([`best_index`]), its rate `lr[size]`, and `shift`, the largest
/// minus the smallest index across sizes (grid steps the optimum moves; `None` when
/// every size diverged).
pub(crate) struct BestRates {
    pub lr: Vec<Option<f64>>,
    pub index: Vec<Option<usize>>,
    pub shift: Option<usize>,
}

impl BestRates {
    /// From `loss[size][lr]` and `diverged[size][lr]` over the grid `lrs`.
    pub(crate) fn of(loss: &[Vec<Option<f64>>], diverged: &[Vec<bool>], lrs: &[f64]) -> Self {
        let index: Vec<Option<usize>> = loss
            .iter()
            .zip(diverged)
            .map(|(l, d)| best_index(l, d))
            .collect();
        let found = index.iter().flatten().copied();
        let shift = found.clone().max().zip(found.min()).map(|(hi, lo)| hi - lo);
        BestRates {
            lr: index.iter().map(|i| i.map(|i| lrs[i])).collect(),
            index,
            shift,
        }
    }
}

/// Index of the least finite loss among non-diverged cells.
pub(crate) fn best_index(loss: &[Option<f64>], diverged: &[bool]) -> Option<usize> {
    loss.iter()
        .zip(diverged)
        .enumerate()
        .filter_map(|(i, (l, d))| {
            if *d {
                None
            } else {
                l.and_then(finite).map(|l| (i, l))
            }
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// CSV: `param,width|depth,lr,final_loss,final_test_loss,diverged,best`.
pub fn csv(r: &TransferResult) -> String {
    let size = match r.axis {
        TransferAxis::Width => "width",
        TransferAxis::Depth => "depth",
    };
    let mut out = format!("param,{size},lr,final_loss,final_test_loss,diverged,best\n");
    for t in &r.tables {
        let sizes = if t.widths.is_empty() {
            &t.depths
        } else {
            &t.widths
        };
        for (si, n) in sizes.iter().enumerate() {
            for (li, lr) in t.lrs.iter().enumerate() {
                out.push_str(&format!(
                    "{},{n},{lr},{},{},{},{}\n",
                    t.param,
                    opt_csv(t.final_loss[si][li]),
                    opt_csv(t.final_test_loss[si][li]),
                    t.diverged[si][li],
                    t.best_lr_index[si] == Some(li),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_index_skips_diverged_and_missing() {
        let loss = [Some(0.5), Some(0.1), None, Some(0.05)];
        assert_eq!(best_index(&loss, &[false, false, true, true]), Some(1));
        assert_eq!(best_index(&loss, &[true; 4]), None);
    }

    #[test]
    fn cells_enumerate_param_size_lr() {
        use crate::kind::Sweep;
        let c = TransferConfig::default();
        assert_eq!(c.cells(), 2 * 3 * 8);
        let k = 8 + 3; // sp, width 128, lr index 3
        let tc = c.cell_config(k).unwrap();
        assert_eq!(tc.model.width, 128);
        assert_eq!(tc.param, Parameterization::Sp);
        assert!((tc.optimizer.lr() - 0.5).abs() < 1e-12);
        assert!(c.cell_config(c.cells()).is_err());
    }
}
