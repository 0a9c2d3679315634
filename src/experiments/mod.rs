//! Experiments that put the finite-width engine and the theory side by side, as in the
//! talk: hyperparameter transfer across width and depth ([`transfer`]), coordinate
//! checks ([`coord_check`]), the lazy-to-rich sweep ([`richness`]), the (gamma0, eta)
//! landscape ([`landscape`]) and convergence of
//! finite networks to the DMFT ([`width_convergence`]).
//!
//! Each is a [`crate::kind::Sweep`]: independent cells (one training run of an
//! ensemble, or one theory solve) assembled in index order, so the same sweep runs in
//! parallel on one machine, in shards across machines, or cell by cell in the page's
//! worker pool, with the same result.

pub mod coord_check;
pub mod landscape;
pub mod richness;
pub mod stats;
pub mod transfer;
pub mod width_convergence;

pub use coord_check::{CoordCheckConfig, CoordCheckResult};
pub use landscape::{LandscapeConfig, LandscapeResult};
pub use richness::{RichnessConfig, RichnessResult};
pub use transfer::{TransferAxis, TransferConfig, TransferResult};
pub use width_convergence::{WidthConvergenceConfig, WidthConvergenceResult};

use crate::budget::{
    Cost, JSON_BYTES_PER_NUMBER, data_shape, payload_bytes, payload_json_bytes, saturate,
};
use crate::config::TrainConfig;
use crate::error::{Error, Result};
use crate::nn::kind::train_cost_shaped;

/// Cost of a sweep whose cells are training runs of `cell_configs` (built without their
/// data: the base's data shape `shape`, [`crate::budget::data_shape`], is used for all,
/// read once), whose cells' results hold
/// `cell_numbers` numbers in all and whose assembled result holds `result_numbers`.
/// A cell's peak is the largest training run ([`train_cost_shaped`]: its data, network,
/// observables and result) plus the clone of the base config it runs from (its CSV
/// text or inline rows); the cells' results are all held until they are assembled, and
/// then beside the result. The JSON echoes the base config's data.
pub(crate) fn training_sweep_cost(
    base: &TrainConfig,
    shape: (u64, u64, u64, u64),
    cell_configs: impl Iterator<Item = TrainConfig>,
    cell_numbers: f64,
    result_numbers: f64,
) -> Cost {
    let mut cell = Cost::default();
    for c in cell_configs {
        cell = cell.then(train_cost_shaped(&c, shape));
    }
    let cell_bytes = cell
        .bytes
        .saturating_add(saturate(payload_bytes(&base.data)));
    let held = 8.0 * (cell_numbers + result_numbers);
    Cost {
        bytes: cell_bytes.saturating_add(saturate(held)),
        cell_bytes,
        json_bytes: saturate(
            JSON_BYTES_PER_NUMBER * result_numbers + payload_json_bytes(&base.data),
        ),
        flops: cell.flops,
    }
}

/// A sweep whose first [`TrainingCells::training_cells`] cells are training runs of one
/// base config, cell `k` changed by [`TrainingCells::cell_from`] (its width, rate,
/// parameterisation, ...). The cells' configs, their data-free copies for validation
/// and costing, and the sweep's training cost are all made here from those three.
pub trait TrainingCells {
    /// The config every training cell starts from.
    fn base(&self) -> &TrainConfig;

    /// How many cells are training runs (they come first).
    fn training_cells(&self) -> usize;

    /// `c` (the base config, or it without data) set up as training cell `k`.
    fn cell_from(&self, c: TrainConfig, k: usize) -> TrainConfig;

    /// The training config of cell `k`, its data included.
    fn cell_config(&self, k: usize) -> Result<TrainConfig> {
        let n = self.training_cells();
        if k >= n {
            return Err(Error::config(
                "cell",
                format!("a training cell index < {n}"),
            ));
        }
        Ok(self.cell_from(self.base().clone(), k))
    }

    /// Every training cell's config without its data, in index order.
    fn light_cells(&self) -> impl Iterator<Item = TrainConfig> {
        let light = self.base().without_data();
        (0..self.training_cells()).map(move |k| self.cell_from(light.clone(), k))
    }

    /// [`training_sweep_cost`] over every training cell, whose results hold
    /// `cell_numbers` numbers in all and whose assembled result holds `result_numbers`.
    fn training_cost(&self, cell_numbers: f64, result_numbers: f64) -> Cost {
        let base = self.base();
        training_sweep_cost(
            base,
            data_shape(base),
            self.light_cells(),
            cell_numbers,
            result_numbers,
        )
    }
}
