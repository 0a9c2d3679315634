//! The transformer's coordinate check (`transformer_coord_check`, after microsoft/mup's
//! `coord_check`): train a few steps at several widths with one learning rate and record,
//! at every step on a fixed probe batch, the mean |coordinate| of the attention logits
//! `S = scale q.k`, of the residual stream after each block and of the readout `f`, and
//! their change since initialisation. Under muP no curve grows with width; under SP
//! the logits and the readout's change grow with width (a dense update sums N correlated
//! terms).

use super::config::{TfParam, TransformerConfig};
use super::cost::{run_size, sweep_cost};
use super::train::{Coords, RunOptions, train_members};
use crate::backend::DeviceChoice;
use crate::budget::Cost;
use crate::error::{Error, Result, check_range};
use crate::experiments::stats::{finite, fit_slope};
use crate::kind::{Kind, Sweep, check_cells, check_len, run_sweep};
use crate::progress::Progress;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TransformerCoordCheckConfig {
    /// Task, model, optimiser (its rate is used at every width), batch, a few steps and
    /// seeds; width and parameterisation are set per cell.
    pub base: TransformerConfig,
    pub widths: Vec<usize>,
    pub params: Vec<TfParam>,
}

impl Default for TransformerCoordCheckConfig {
    fn default() -> Self {
        let mut base = TransformerConfig {
            steps: 5,
            seeds: 2,
            batch: 8,
            ..Default::default()
        };
        base.model.base_width = 32;
        base.optimizer = base.optimizer.with_lr(0.01);
        base.observe.every = 1;
        base.observe.test_sequences = 0;
        base.observe.attention = false;
        base.observe.score_window = 1;
        TransformerCoordCheckConfig {
            base,
            widths: vec![32, 64, 128, 256, 512],
            params: vec![TfParam::Sp, TfParam::mup()],
        }
    }
}

/// One cell: the seed-mean statistics at every step `0..=steps`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TfCoordCell {
    pub coords: Vec<Coords>,
}

/// One parameterisation across widths.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TfCoordTable {
    pub param: String,
    pub parameterization: TfParam,
    pub widths: Vec<usize>,
    pub steps: Vec<usize>,
    /// `logits[step][block][width]`: mean |S|.
    pub logits: Vec<Vec<Vec<f64>>>,
    /// `logits_change[step][block][width]`: mean |S(t) - S(0)|.
    pub logits_change: Vec<Vec<Vec<f64>>>,
    /// `residual[step][block][width]`: mean |x| after each block.
    pub residual: Vec<Vec<Vec<f64>>>,
    pub residual_change: Vec<Vec<Vec<f64>>>,
    /// `readout[step][width]`: mean |f|, and its change.
    pub readout: Vec<Vec<f64>>,
    pub readout_change: Vec<Vec<f64>>,
    /// At the last step, the slope of log mean |.| against log width: per block for the
    /// logits and the residual stream's change, and the readout's change (0: flat in
    /// width, as muP promises; positive: growing, as under SP).
    pub slope_logits: Vec<Option<f64>>,
    pub slope_residual_change: Vec<Option<f64>>,
    pub slope_readout_change: Option<f64>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TfCoordCheckResult {
    pub tables: Vec<TfCoordTable>,
}

impl TransformerCoordCheckConfig {
    pub fn cell_config(&self, k: usize) -> TransformerConfig {
        let nw = self.widths.len();
        let mut c = self.base.clone();
        c.param = self.params[k / nw].clone();
        c.model.width = self.widths[k % nw];
        c.observe.every = 1;
        c.observe.attention = false;
        c.observe.test_sequences = 0;
        c.observe.score_window = 1;
        // only NaN or Inf stop a coordinate check: large values are what it measures
        c.observe.divergence_threshold = f64::MAX;
        c
    }
}

impl Kind for TransformerCoordCheckConfig {
    type Output = TfCoordCheckResult;

    fn validate(&self) -> Result<()> {
        check_range("params (count)", self.params.len(), 1, 16)?;
        check_range("widths (count)", self.widths.len(), 1, 32)?;
        check_range("base.steps", self.base.steps, 1, 100)?;
        check_cells(self.cells(), "params x widths")?;
        self.base.validate().map_err(|e| e.within("base"))?;
        for k in 0..self.cells() {
            let (pi, wi) = (k / self.widths.len(), k % self.widths.len());
            self.cell_config(k)
                .validate()
                .map_err(|e| match e.field() {
                    Some(f) if f.starts_with("param") => {
                        e.map_field(|f| format!("params[{pi}]{}", &f[5..]))
                    }
                    Some(f) if f.starts_with("model.") => {
                        e.map_field(|f| format!("widths[{wi}] ({f})"))
                    }
                    _ => e.within("base"),
                })?;
        }
        Ok(())
    }

    fn cost(&self) -> Cost {
        let cells = (0..self.cells()).map(|k| run_size(&self.cell_config(k), 1, true));
        let (t, l) = (self.base.steps as f64 + 1.0, self.base.model.depth as f64);
        let per_cell = t * (4.0 * l + 2.0);
        let result =
            self.params.len() as f64 * (per_cell * self.widths.len() as f64 + 2.0 * l + 1.0);
        let held = 8.0 * (per_cell * self.cells() as f64 + result);
        sweep_cost(cells, held, result)
    }

    fn run(&self, progress: &dyn Progress) -> Result<TfCoordCheckResult> {
        run_sweep(self, progress)
    }

    fn csv(&self, out: &TfCoordCheckResult) -> Vec<(String, String)> {
        let mut s = String::from("param,step,what,block,width,mean_abs,mean_abs_change\n");
        for t in &out.tables {
            for (si, step) in t.steps.iter().enumerate() {
                for (wi, w) in t.widths.iter().enumerate() {
                    for (b, (v, d)) in t.logits[si].iter().zip(&t.logits_change[si]).enumerate() {
                        s.push_str(&format!(
                            "{},{step},logits,{b},{w},{},{}\n",
                            t.param, v[wi], d[wi]
                        ));
                    }
                    for (b, (v, d)) in t.residual[si]
                        .iter()
                        .zip(&t.residual_change[si])
                        .enumerate()
                    {
                        s.push_str(&format!(
                            "{},{step},residual,{b},{w},{},{}\n",
                            t.param, v[wi], d[wi]
                        ));
                    }
                    s.push_str(&format!(
                        "{},{step},readout,,{w},{},{}\n",
                        t.param, t.readout[si][wi], t.readout_change[si][wi]
                    ));
                }
            }
        }
        vec![("coords".into(), s)]
    }
}

impl Sweep for TransformerCoordCheckConfig {
    type Cell = TfCoordCell;

    fn cells(&self) -> usize {
        self.params.len() * self.widths.len()
    }

    fn run_cell(&self, k: usize, progress: &dyn Progress) -> Result<TfCoordCell> {
        let c = self.cell_config(k);
        let opts = RunOptions {
            coords: true,
            ..Default::default()
        };
        let lr = c.optimizer.lr();
        let r = train_members(DeviceChoice::Auto, &c, &[lr], &opts, progress)?;
        let bad = r.coords.len() != c.steps + 1
            || r.coords
                .iter()
                .any(|s| s.residual.iter().chain(&s.logits).any(|v| !v.is_finite()));
        if bad {
            return Err(Error::Numerical(format!(
                "transformer coordinate check cell {k} diverged before step {}",
                c.steps
            )));
        }
        Ok(TfCoordCell { coords: r.coords })
    }

    fn check_cell(&self, _k: usize, cell: &TfCoordCell) -> Result<()> {
        check_len("coords", cell.coords.len(), self.base.steps + 1)?;
        let l = self.base.model.depth;
        for (i, s) in cell.coords.iter().enumerate() {
            check_len(&format!("coords[{i}].logits"), s.logits.len(), l)?;
            check_len(
                &format!("coords[{i}].logits_change"),
                s.logits_change.len(),
                l,
            )?;
            check_len(&format!("coords[{i}].residual"), s.residual.len(), l)?;
            check_len(
                &format!("coords[{i}].residual_change"),
                s.residual_change.len(),
                l,
            )?;
        }
        Ok(())
    }

    fn assemble(&self, cells: &[TfCoordCell]) -> Result<TfCoordCheckResult> {
        check_len("cells", cells.len(), self.cells())?;
        let nw = self.widths.len();
        let steps: Vec<usize> = (0..=self.base.steps).collect();
        let l = self.base.model.depth;
        let logw: Vec<f64> = self.widths.iter().map(|&w| (w as f64).ln()).collect();
        let slope = |v: &[f64]| {
            let y: Vec<f64> = v.iter().map(|x| x.ln()).collect();
            fit_slope(&logw, &y).and_then(finite)
        };
        let tables = self
            .params
            .iter()
            .enumerate()
            .map(|(pi, p)| {
                let row = &cells[pi * nw..(pi + 1) * nw];
                let per_block = |get: &dyn Fn(&Coords) -> &Vec<f64>| -> Vec<Vec<Vec<f64>>> {
                    steps
                        .iter()
                        .map(|&t| {
                            (0..l)
                                .map(|b| row.iter().map(|c| get(&c.coords[t])[b]).collect())
                                .collect()
                        })
                        .collect()
                };
                let per_width = |get: &dyn Fn(&Coords) -> f64| -> Vec<Vec<f64>> {
                    steps
                        .iter()
                        .map(|&t| row.iter().map(|c| get(&c.coords[t])).collect())
                        .collect()
                };
                let logits = per_block(&|c| &c.logits);
                let residual_change = per_block(&|c| &c.residual_change);
                let readout_change = per_width(&|c| c.readout_change);
                let last = steps.len() - 1;
                TfCoordTable {
                    param: p.label(self.base.model.alpha),
                    parameterization: p.clone(),
                    widths: self.widths.clone(),
                    steps: steps.clone(),
                    slope_logits: logits[last].iter().map(|v| slope(v)).collect(),
                    slope_residual_change: residual_change[last].iter().map(|v| slope(v)).collect(),
                    slope_readout_change: slope(&readout_change[last]),
                    logits,
                    logits_change: per_block(&|c| &c.logits_change),
                    residual: per_block(&|c| &c.residual),
                    residual_change,
                    readout: per_width(&|c| c.readout),
                    readout_change,
                }
            })
            .collect();
        Ok(TfCoordCheckResult { tables })
    }
}
