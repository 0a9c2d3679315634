//! Learning-rate transfer for transformers (`transformer_transfer`): a learning-rate grid
//! across width, depth, the number of heads at fixed head size, or the head size at fixed
//! heads, per (width parameterisation, residual exponent alpha).
//!
//! One cell is one configuration (parameterisation, alpha, size): every learning rate of
//! the grid and every seed train together as one batched ensemble (the products of all
//! rates are one batched product), each member scored by its mean training loss over the
//! last `observe.score_window` steps. The result has the `transfer` kind's schema
//! (`tables[].param`, `best_lr`, `best_lr_shift`, ...), so the page's transfer figures and
//! `merge` read it unchanged. muP should hold the optimum across width (SP moves it), and
//! alpha = 1/2 or 1 across depth (alpha = 0 moves it).

use super::config::{TfParam, TransformerConfig};
use super::cost::{run_size, sweep_cost};
use super::train::{RunOptions, train_members};
use crate::backend::DeviceChoice;
use crate::budget::Cost;
use crate::error::{Error, Result, check_positive, check_range};
use crate::experiments::stats::{finite_mean, opt_csv};
use crate::experiments::transfer::BestRates;
use crate::kind::{Kind, Sweep, check_cells, check_len, run_sweep};
use crate::progress::Progress;
use serde::{Deserialize, Serialize};

/// Which size the sweep varies.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum TfAxis {
    /// `widths` (d_model, heads fixed: the head size grows with the width).
    #[default]
    Width,
    /// `depths` (blocks).
    Depth,
    /// `heads` at the base head size (the width is heads x head size).
    Heads,
    /// `head_dims` at the base number of heads (the width is heads x head size).
    HeadDim,
}

/// A learning-rate sweep of transformers across one size.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TransformerTransferConfig {
    /// Task, model, optimiser, batch, steps and seeds shared by every cell; its size
    /// along the axis, parameterisation, alpha and learning rate are set per cell.
    pub base: TransformerConfig,
    pub axis: TfAxis,
    pub widths: Vec<usize>,
    pub depths: Vec<usize>,
    pub heads: Vec<usize>,
    pub head_dims: Vec<usize>,
    /// Base learning rates, ascending.
    pub lrs: Vec<f64>,
    /// Width parameterisations compared.
    pub params: Vec<TfParam>,
    /// Residual exponents compared (0, 1/2 depth-muP, 1 CompleteP).
    pub alphas: Vec<f64>,
}

impl Default for TransformerTransferConfig {
    fn default() -> Self {
        let mut base = TransformerConfig {
            steps: 60,
            seeds: 1,
            ..Default::default()
        };
        base.observe.attention = false;
        base.observe.test_sequences = 8;
        base.observe.every = 20;
        TransformerTransferConfig {
            base,
            axis: TfAxis::Width,
            widths: vec![16, 32, 64],
            depths: vec![2, 4, 8],
            heads: vec![1, 2, 4, 8],
            head_dims: vec![4, 8, 16, 32],
            lrs: crate::experiments::transfer::lr_grid(1.0 / 512.0, 2.0, 8),
            params: vec![TfParam::Sp, TfParam::mup()],
            alphas: vec![0.0],
        }
    }
}

/// One cell: per learning rate, the seed-mean score and test loss, and whether any seed
/// diverged.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TfTransferCell {
    pub final_loss: Vec<Option<f64>>,
    pub final_test_loss: Vec<Option<f64>>,
    pub diverged: Vec<bool>,
}

/// One (parameterisation, alpha)'s grid: rows = sizes, columns = learning rates (the
/// `transfer` kind's table, with the transformer's sizes).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TfTransferTable {
    /// `sp`, `mup`, `depth_mup` (muP, alpha 1/2), `complete_p` (muP, alpha 1), ...
    pub param: String,
    pub parameterization: TfParam,
    pub alpha: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub widths: Vec<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depths: Vec<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub heads: Vec<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub head_dims: Vec<usize>,
    pub lrs: Vec<f64>,
    /// `final_loss[size][lr]`: the score (mean training loss over the last
    /// `score_window` steps), seed mean.
    pub final_loss: Vec<Vec<Option<f64>>>,
    pub final_test_loss: Vec<Vec<Option<f64>>>,
    pub diverged: Vec<Vec<bool>>,
    pub best_lr: Vec<Option<f64>>,
    pub best_lr_index: Vec<Option<usize>>,
    /// Largest minus smallest best index across sizes: grid steps the optimum moves.
    pub best_lr_shift: Option<usize>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TfTransferResult {
    pub axis: TfAxis,
    pub tables: Vec<TfTransferTable>,
}

impl TransformerTransferConfig {
    pub fn sizes(&self) -> &[usize] {
        match self.axis {
            TfAxis::Width => &self.widths,
            TfAxis::Depth => &self.depths,
            TfAxis::Heads => &self.heads,
            TfAxis::HeadDim => &self.head_dims,
        }
    }

    fn sizes_name(&self) -> &'static str {
        match self.axis {
            TfAxis::Width => "widths",
            TfAxis::Depth => "depths",
            TfAxis::Heads => "heads",
            TfAxis::HeadDim => "head_dims",
        }
    }

    /// `(param, alpha, size)` of cell `k` (size fastest).
    fn split(&self, k: usize) -> (usize, usize, usize) {
        let (na, ns) = (self.alphas.len(), self.sizes().len());
        (k / (na * ns), (k / ns) % na, k % ns)
    }

    /// The training config of cell `k` (its learning rates are `lrs`).
    pub fn cell_config(&self, k: usize) -> TransformerConfig {
        let (pi, ai, si) = self.split(k);
        let mut c = self.base.clone();
        let size = self.sizes()[si];
        let dh = c.model.dh();
        match self.axis {
            TfAxis::Width => c.model.width = size,
            TfAxis::Depth => c.model.depth = size,
            TfAxis::Heads => {
                c.model.heads = size;
                c.model.head_dim = Some(dh);
                c.model.width = size * dh;
            }
            TfAxis::HeadDim => {
                c.model.head_dim = Some(size);
                c.model.width = c.model.heads * size;
            }
        }
        c.param = self.params[pi].clone();
        c.model.alpha = self.alphas[ai];
        c.observe.attention = false;
        c
    }

    fn validate_counts(&self) -> Result<()> {
        check_range("params (count)", self.params.len(), 1, 16)?;
        check_range("alphas (count)", self.alphas.len(), 1, 8)?;
        check_range("lrs (count)", self.lrs.len(), 1, 64)?;
        for (i, &lr) in self.lrs.iter().enumerate() {
            check_positive(&format!("lrs[{i}]"), lr)?;
        }
        if self.lrs.windows(2).any(|w| w[1] <= w[0]) {
            return Err(Error::config("lrs", "strictly ascending learning rates"));
        }
        check_range(
            &format!("{} (count)", self.sizes_name()),
            self.sizes().len(),
            1,
            32,
        )?;
        check_cells(self.cells(), "params x alphas x sizes")?;
        check_cells(
            self.cells() * self.lrs.len(),
            "params x alphas x sizes x lrs",
        )
    }
}

impl Kind for TransformerTransferConfig {
    type Output = TfTransferResult;

    fn validate(&self) -> Result<()> {
        self.validate_counts()?;
        self.base.validate().map_err(|e| e.within("base"))?;
        for k in 0..self.cells() {
            let (pi, ai, si) = self.split(k);
            self.cell_config(k)
                .validate()
                .map_err(|e| match e.field() {
                    Some("model.alpha") => e.map_field(|_| format!("alphas[{ai}]")),
                    Some(f) if f.starts_with("param") => {
                        e.map_field(|f| format!("params[{pi}]{}", &f[5..]))
                    }
                    Some(f) if f.starts_with("model.") => {
                        let name = self.sizes_name();
                        e.map_field(|f| format!("{name}[{si}] ({f})"))
                    }
                    _ => e.within("base"),
                })?;
        }
        Ok(())
    }

    /// The largest cell (all its members at once) plus every cell's result held.
    fn cost(&self) -> Cost {
        let nl = self.lrs.len();
        let cells = (0..self.cells()).map(|k| run_size(&self.cell_config(k), nl, false));
        let cell_numbers = 3.0 * (self.cells() * nl) as f64;
        let result = (self.params.len() * self.alphas.len()) as f64
            * (self.sizes().len() as f64 * (3.0 * nl as f64 + 3.0) + nl as f64 + 4.0);
        let held = 8.0 * (cell_numbers + result);
        sweep_cost(cells, held, result)
    }

    fn run(&self, progress: &dyn Progress) -> Result<TfTransferResult> {
        run_sweep(self, progress)
    }

    fn csv(&self, out: &TfTransferResult) -> Vec<(String, String)> {
        vec![("transfer".into(), csv(out))]
    }
}

impl Sweep for TransformerTransferConfig {
    type Cell = TfTransferCell;

    /// Parameterisations x alphas x sizes.
    fn cells(&self) -> usize {
        self.params.len() * self.alphas.len() * self.sizes().len()
    }

    fn run_cell(&self, k: usize, progress: &dyn Progress) -> Result<TfTransferCell> {
        let c = self.cell_config(k);
        let r = train_members(
            DeviceChoice::Auto,
            &c,
            &self.lrs,
            &RunOptions::default(),
            progress,
        )?;
        let s = c.seeds;
        let nl = self.lrs.len();
        let last_test = r.test_loss.last();
        let ran_to_end = r.steps.last() == Some(&c.steps);
        Ok(TfTransferCell {
            final_loss: (0..nl)
                .map(|i| {
                    finite_mean(
                        r.score[i * s..(i + 1) * s]
                            .iter()
                            .map(|v| v.unwrap_or(f64::NAN)),
                    )
                })
                .collect(),
            final_test_loss: (0..nl)
                .map(|i| {
                    last_test
                        .filter(|_| ran_to_end)
                        .and_then(|row| finite_mean(row[i * s..(i + 1) * s].iter().copied()))
                })
                .collect(),
            diverged: (0..nl)
                .map(|i| {
                    (i * s..(i + 1) * s).any(|e| r.diverged_at[e].is_some() || r.score[e].is_none())
                })
                .collect(),
        })
    }

    fn check_cell(&self, _k: usize, cell: &TfTransferCell) -> Result<()> {
        let nl = self.lrs.len();
        check_len("final_loss", cell.final_loss.len(), nl)?;
        check_len("final_test_loss", cell.final_test_loss.len(), nl)?;
        check_len("diverged", cell.diverged.len(), nl)
    }

    fn assemble(&self, cells: &[TfTransferCell]) -> Result<TfTransferResult> {
        check_len("cells", cells.len(), self.cells())?;
        let ns = self.sizes().len();
        let mut tables = vec![];
        for (pi, p) in self.params.iter().enumerate() {
            for (ai, &alpha) in self.alphas.iter().enumerate() {
                let k0 = (pi * self.alphas.len() + ai) * ns;
                tables.push(self.table(p, alpha, &cells[k0..k0 + ns]));
            }
        }
        Ok(TfTransferResult {
            axis: self.axis,
            tables,
        })
    }
}

impl TransformerTransferConfig {
    fn table(&self, p: &TfParam, alpha: f64, row: &[TfTransferCell]) -> TfTransferTable {
        let final_loss: Vec<Vec<Option<f64>>> = row.iter().map(|c| c.final_loss.clone()).collect();
        let diverged: Vec<Vec<bool>> = row.iter().map(|c| c.diverged.clone()).collect();
        let best = BestRates::of(&final_loss, &diverged, &self.lrs);
        let sizes = self.sizes().to_vec();
        let pick = |a: TfAxis| {
            if self.axis == a {
                sizes.clone()
            } else {
                vec![]
            }
        };
        TfTransferTable {
            param: p.label(alpha),
            parameterization: p.clone(),
            alpha,
            widths: pick(TfAxis::Width),
            depths: pick(TfAxis::Depth),
            heads: pick(TfAxis::Heads),
            head_dims: pick(TfAxis::HeadDim),
            lrs: self.lrs.clone(),
            final_test_loss: row.iter().map(|c| c.final_test_loss.clone()).collect(),
            best_lr: best.lr,
            final_loss,
            diverged,
            best_lr_index: best.index,
            best_lr_shift: best.shift,
        }
    }
}

/// CSV: `param,<size>,lr,final_loss,final_test_loss,diverged,best`.
pub fn csv(r: &TfTransferResult) -> String {
    let size = match r.axis {
        TfAxis::Width => "width",
        TfAxis::Depth => "depth",
        TfAxis::Heads => "heads",
        TfAxis::HeadDim => "head_dim",
    };
    let mut out = format!("param,{size},lr,final_loss,final_test_loss,diverged,best\n");
    for t in &r.tables {
        let sizes = [&t.widths, &t.depths, &t.heads, &t.head_dims]
            .into_iter()
            .find(|v| !v.is_empty())
            .cloned()
            .unwrap_or_default();
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
    fn cells_enumerate_param_alpha_size_and_set_the_width_of_head_sweeps() {
        let c = TransformerTransferConfig {
            axis: TfAxis::HeadDim,
            alphas: vec![0.0, 1.0],
            ..Default::default()
        };
        assert_eq!(c.cells(), 2 * 2 * 4);
        let cell = c.cell_config(4 + 2); // sp, alpha 1, head size 16
        assert_eq!(cell.param, TfParam::Sp);
        assert_eq!(cell.model.alpha, 1.0);
        assert_eq!((cell.model.head_dim, cell.model.width), (Some(16), 64));
        let h = TransformerTransferConfig {
            axis: TfAxis::Heads,
            ..Default::default()
        };
        // default width 64 with 4 heads: head size 16 kept
        let cell = h.cell_config(3);
        assert_eq!((cell.model.heads, cell.model.width), (8, 128));
    }
}
