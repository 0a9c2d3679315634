//! The infinite-head-size limit (`transformer_heads`): at a fixed number of heads, train
//! at growing head size `dh` (width `H dh`) and measure the spread between the heads'
//! attention maps on held-out sequences ([`super::train::head_spread`]), at initialisation
//! and after training. Under muP (logits `sqrt(dh0)/dh`) the spread collapses as `dh`
//! grows: every head converges to the same deterministic dynamics (Bordelon, Chaudhry &
//! Pehlevan 2024, "Infinite limits of multi-head transformer dynamics", arXiv 2405.15712);
//! under SP (`1/sqrt(dh)`) the heads keep O(1) differences.

use super::config::{TfParam, TransformerConfig};
use super::cost::{run_size, sweep_cost};
use super::train::{RunOptions, train_members};
use crate::backend::DeviceChoice;
use crate::budget::Cost;
use crate::error::{Error, Result, check_range};
use crate::experiments::stats::{finite, finite_mean, fit_slope};
use crate::kind::{Kind, Sweep, check_cells, check_len, run_sweep};
use crate::progress::Progress;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TransformerHeadsConfig {
    /// Task, model (its heads), optimiser, batch, steps, seeds and test sequences; head
    /// size, width and parameterisation are set per cell.
    pub base: TransformerConfig,
    /// Head sizes dh (the width of each cell is heads x dh).
    pub head_dims: Vec<usize>,
    pub params: Vec<TfParam>,
}

impl Default for TransformerHeadsConfig {
    fn default() -> Self {
        let mut base = TransformerConfig {
            steps: 100,
            seeds: 2,
            ..Default::default()
        };
        base.model.base_width = 16;
        base.model.base_head_dim = 4;
        base.observe.attention = false;
        base.observe.test_sequences = 8;
        base.observe.every = 50;
        base.optimizer = base.optimizer.with_lr(0.01);
        TransformerHeadsConfig {
            base,
            head_dims: vec![4, 8, 16, 32, 64],
            params: vec![
                TfParam::Sp,
                TfParam::Mup {
                    zero_query: false,
                    zero_readout: true,
                },
            ],
        }
    }
}

/// One cell: per seed, the heads' spread at initialisation and at the end, and the final
/// test loss.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TfHeadsCell {
    pub spread_init: Vec<f64>,
    pub spread: Vec<f64>,
    pub test_loss: Option<f64>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TfHeadsTable {
    pub param: String,
    pub parameterization: TfParam,
    pub head_dims: Vec<usize>,
    /// Seed-mean spread between heads' maps at initialisation and after training.
    pub spread_init: Vec<f64>,
    pub spread: Vec<f64>,
    /// Per head size, the spread of each seed (`spread_seeds[dh][seed]`).
    pub spread_seeds: Vec<Vec<f64>>,
    pub test_loss: Vec<Option<f64>>,
    /// Slope of log spread against log dh after training (muP: negative, the collapse;
    /// SP: about 0).
    pub slope: Option<f64>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TfHeadsResult {
    pub heads: usize,
    pub tables: Vec<TfHeadsTable>,
}

impl TransformerHeadsConfig {
    pub fn cell_config(&self, k: usize) -> TransformerConfig {
        let nd = self.head_dims.len();
        let mut c = self.base.clone();
        c.param = self.params[k / nd].clone();
        let dh = self.head_dims[k % nd];
        c.model.head_dim = Some(dh);
        c.model.width = c.model.heads * dh;
        c.observe.attention = false;
        c
    }
}

impl Kind for TransformerHeadsConfig {
    type Output = TfHeadsResult;

    fn validate(&self) -> Result<()> {
        check_range("params (count)", self.params.len(), 1, 16)?;
        check_range("head_dims (count)", self.head_dims.len(), 2, 32)?;
        check_cells(self.cells(), "params x head_dims")?;
        self.base.validate().map_err(|e| e.within("base"))?;
        check_range(
            "base.observe.test_sequences",
            self.base.observe.test_sequences,
            1,
            4096,
        )?;
        check_range("base.model.heads", self.base.model.heads, 2, 256)?;
        for k in 0..self.cells() {
            let (pi, di) = (k / self.head_dims.len(), k % self.head_dims.len());
            self.cell_config(k)
                .validate()
                .map_err(|e| match e.field() {
                    Some(f) if f.starts_with("param") => {
                        e.map_field(|f| format!("params[{pi}]{}", &f[5..]))
                    }
                    Some(f) if f.starts_with("model.") => {
                        e.map_field(|f| format!("head_dims[{di}] ({f})"))
                    }
                    _ => e.within("base"),
                })?;
        }
        Ok(())
    }

    fn cost(&self) -> Cost {
        let m = &self.base.model;
        let cells = (0..self.cells()).map(|k| {
            let mut s = run_size(&self.cell_config(k), 1, false);
            // the attention maps of one layer downloaded for the spread
            s.bytes += 4.0
                * self.base.seeds as f64
                * (self.base.observe.test_sequences * m.heads * m.context * m.context) as f64;
            s
        });
        let (nd, sd) = (self.head_dims.len() as f64, self.base.seeds as f64);
        let per_cell = 2.0 * sd + 1.0;
        let result = self.params.len() as f64 * (nd * (4.0 + sd) + 1.0);
        let held = 8.0 * (per_cell * self.cells() as f64 + result);
        sweep_cost(cells, held, result)
    }

    fn run(&self, progress: &dyn Progress) -> Result<TfHeadsResult> {
        run_sweep(self, progress)
    }

    fn csv(&self, out: &TfHeadsResult) -> Vec<(String, String)> {
        let mut s = String::from("param,head_dim,seed,spread_init,spread\n");
        for t in &out.tables {
            for (di, dh) in t.head_dims.iter().enumerate() {
                for (seed, v) in t.spread_seeds[di].iter().enumerate() {
                    s.push_str(&format!(
                        "{},{dh},{seed},{},{v}\n",
                        t.param, t.spread_init[di]
                    ));
                }
            }
        }
        vec![("heads".into(), s)]
    }
}

impl Sweep for TransformerHeadsConfig {
    type Cell = TfHeadsCell;

    fn cells(&self) -> usize {
        self.params.len() * self.head_dims.len()
    }

    fn run_cell(&self, k: usize, progress: &dyn Progress) -> Result<TfHeadsCell> {
        let c = self.cell_config(k);
        let opts = RunOptions {
            head_spread: true,
            ..Default::default()
        };
        let lr = c.optimizer.lr();
        let r = train_members(DeviceChoice::Auto, &c, &[lr], &opts, progress)?;
        if r.head_spread.len() != c.seeds {
            return Err(Error::Numerical(format!(
                "head-size cell {k}: every seed diverged before the end"
            )));
        }
        Ok(TfHeadsCell {
            spread_init: r.head_spread_init,
            spread: r.head_spread,
            test_loss: r
                .test_loss
                .last()
                .and_then(|row| finite_mean(row.iter().copied())),
        })
    }

    fn check_cell(&self, _k: usize, cell: &TfHeadsCell) -> Result<()> {
        check_len("spread_init", cell.spread_init.len(), self.base.seeds)?;
        check_len("spread", cell.spread.len(), self.base.seeds)
    }

    fn assemble(&self, cells: &[TfHeadsCell]) -> Result<TfHeadsResult> {
        check_len("cells", cells.len(), self.cells())?;
        let nd = self.head_dims.len();
        let logd: Vec<f64> = self.head_dims.iter().map(|&d| (d as f64).ln()).collect();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let tables = self
            .params
            .iter()
            .enumerate()
            .map(|(pi, p)| {
                let row = &cells[pi * nd..(pi + 1) * nd];
                let spread: Vec<f64> = row.iter().map(|c| mean(&c.spread)).collect();
                let y: Vec<f64> = spread.iter().map(|v| v.ln()).collect();
                TfHeadsTable {
                    param: p.label(self.base.model.alpha),
                    parameterization: p.clone(),
                    head_dims: self.head_dims.clone(),
                    spread_init: row.iter().map(|c| mean(&c.spread_init)).collect(),
                    spread_seeds: row.iter().map(|c| c.spread.clone()).collect(),
                    test_loss: row.iter().map(|c| c.test_loss).collect(),
                    slope: fit_slope(&logd, &y).and_then(finite),
                    spread,
                }
            })
            .collect();
        Ok(TfHeadsResult {
            heads: self.base.model.heads,
            tables,
        })
    }
}
