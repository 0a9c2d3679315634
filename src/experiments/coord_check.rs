//! Coordinate check (as in microsoft/mup's `coord_check`): train a few steps at several
//! widths and record, per hidden layer, the mean |h^l| and the mean |h^l(t) - h^l(0)|
//! over points and neurons (and seeds). Under muP every curve is flat in width; under
//! SP with a fixed learning rate the change of the hidden pre-activations grows with
//! width (the update of a dense layer adds up N correlated terms).

use super::TrainingCells;
use crate::budget::Cost;
use crate::config::{Parameterization, TrainConfig};
use crate::error::{Error, Result, check_range};
use crate::kind::{Kind, Sweep, check_cells, check_len, run_sweep};
use crate::progress::Progress;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CoordCheckConfig {
    /// Data, model, optimiser, steps (a few) and seeds; width and parameterisation are
    /// overridden per cell.
    pub base: TrainConfig,
    pub widths: Vec<usize>,
    pub params: Vec<Parameterization>,
}

impl Default for CoordCheckConfig {
    fn default() -> Self {
        let mut base = TrainConfig {
            steps: 4,
            seeds: 4,
            ..Default::default()
        };
        base.model.depth = 3;
        base.optimizer = crate::config::OptimizerConfig::Gd { lr: 0.1 };
        CoordCheckConfig {
            base,
            widths: vec![64, 128, 256, 512, 1024],
            params: vec![Parameterization::Sp, Parameterization::Mup { gamma0: 1.0 }],
        }
    }
}

/// One cell: statistics at every step `0..=steps`, averaged over seeds.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CoordCell {
    /// `mean_abs_h[step][layer]`.
    pub mean_abs_h: Vec<Vec<f64>>,
    /// `mean_abs_dh[step][layer]`.
    pub mean_abs_dh: Vec<Vec<f64>>,
    /// Mean |f(t)| and |f(t) - f(0)| over points and seeds, per step.
    pub mean_abs_f: Vec<f64>,
    pub mean_abs_df: Vec<f64>,
}

/// One parameterisation across widths.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CoordTable {
    pub param: String,
    pub parameterization: Parameterization,
    pub widths: Vec<usize>,
    /// Recorded steps `0..=steps`.
    pub steps: Vec<usize>,
    /// `mean_abs_h[step][layer][width]`.
    pub mean_abs_h: Vec<Vec<Vec<f64>>>,
    /// `mean_abs_dh[step][layer][width]`.
    pub mean_abs_dh: Vec<Vec<Vec<f64>>>,
    /// `mean_abs_f[step][width]`, `mean_abs_df[step][width]`.
    pub mean_abs_f: Vec<Vec<f64>>,
    pub mean_abs_df: Vec<Vec<f64>>,
    /// At the last step, per layer: max over widths / min over widths of mean |h|.
    pub ratio_h: Vec<Option<f64>>,
    /// The same for mean |h(t) - h(0)|.
    pub ratio_dh: Vec<Option<f64>>,
    /// Least-squares slope of log mean |h(T) - h(0)| against log width, per layer
    /// (0 when flat, 1/2 or more when it grows).
    pub slope_dh: Vec<Option<f64>>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CoordCheckResult {
    pub tables: Vec<CoordTable>,
}

/// Most parameterisations a coordinate check compares.
pub const MAX_PARAMS: usize = 16;

impl CoordCheckConfig {
    /// Hidden representations per network (the layers of each cell's statistics).
    fn layers(&self) -> usize {
        self.base.model.arch.weight_matrices(self.base.model.depth) - 1
    }
}

impl TrainingCells for CoordCheckConfig {
    fn base(&self) -> &TrainConfig {
        &self.base
    }

    fn training_cells(&self) -> usize {
        self.cells()
    }

    /// `c` (the base config, or it without data) set up as cell `k`.
    fn cell_from(&self, mut c: TrainConfig, k: usize) -> TrainConfig {
        let nw = self.widths.len();
        c.param = self.params[k / nw].clone();
        c.model.width = self.widths[k % nw];
        c.observe.coords = true;
        c.observe.every = 1;
        c.observe.kernels = false;
        c.observe.ntk = false;
        c.observe.outputs = true;
        c.observe.test_loss = false;
        // Only NaN or Inf stop a coordinate check: large values are what it measures.
        c.observe.divergence_threshold = f64::MAX;
        c
    }
}

impl Kind for CoordCheckConfig {
    type Output = CoordCheckResult;

    fn validate(&self) -> Result<()> {
        check_range("params (count)", self.params.len(), 1, MAX_PARAMS)?;
        check_range("widths (count)", self.widths.len(), 1, 64)?;
        check_range("base.steps", self.base.steps, 1, 1000)?;
        check_cells(self.cells(), "params x widths")?;
        self.base.data.validate().map_err(|e| e.within("base"))?;
        let light = self.base.without_data();
        let points = self.base.data.train_size();
        for k in 0..self.cells() {
            let (pi, wi) = (k / self.widths.len(), k % self.widths.len());
            self.cell_from(light.clone(), k)
                .validate_setup(points)
                .map_err(|e| match e.field() {
                    Some(f) if f.starts_with("param") => {
                        e.map_field(|f| format!("params[{pi}]{}", &f["param".len()..]))
                    }
                    Some("model.width") => e.map_field(|_| format!("widths[{wi}]")),
                    _ => e.within("base"),
                })?;
        }
        Ok(())
    }

    /// [`super::training_sweep_cost`] over every cell's training run (outputs and coordinate
    /// statistics at every step); a cell keeps `(T + 1)(2 H + 2)` numbers, the result
    /// those of every cell and 3 per layer per parameterisation.
    fn cost(&self) -> Cost {
        let (t, l) = (self.base.steps as f64 + 1.0, self.layers() as f64);
        let per_cell = t * (2.0 * l + 2.0);
        let result = self.params.len() as f64 * (per_cell * self.widths.len() as f64 + 3.0 * l);
        self.training_cost(per_cell * self.cells() as f64, result)
    }

    fn run(&self, progress: &dyn Progress) -> Result<CoordCheckResult> {
        run_sweep(self, progress)
    }

    fn csv(&self, out: &CoordCheckResult) -> Vec<(String, String)> {
        vec![("coords".into(), csv(out))]
    }
}

impl Sweep for CoordCheckConfig {
    type Cell = CoordCell;

    /// Parameterisations x widths.
    fn cells(&self) -> usize {
        self.params.len() * self.widths.len()
    }

    fn run_cell(&self, k: usize, progress: &dyn Progress) -> Result<CoordCell> {
        let c = self.cell_config(k)?;
        let data = c.data.load()?;
        let r = crate::nn::train(&c, &data, progress)?;
        let seed_mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let per_layer = |v: &Vec<Vec<f64>>| v.iter().map(|s| seed_mean(s)).collect::<Vec<_>>();
        let mut cell = CoordCell {
            mean_abs_h: vec![],
            mean_abs_dh: vec![],
            mean_abs_f: vec![],
            mean_abs_df: vec![],
        };
        // Output statistics from the recorded outputs `[step][seed][P x C]`.
        let abs_mean = |rows: &[Vec<f64>], base: Option<&[Vec<f64>]>| {
            let mut s = 0.0;
            let mut n = 0usize;
            for (si, row) in rows.iter().enumerate() {
                for (i, v) in row.iter().enumerate() {
                    let b = base.map_or(0.0, |b| b[si][i]);
                    s += (v - b).abs();
                    n += 1;
                }
            }
            s / n.max(1) as f64
        };
        for (snap, f) in r.coords.iter().zip(&r.outputs) {
            cell.mean_abs_h.push(per_layer(&snap.mean_abs_h));
            cell.mean_abs_dh.push(per_layer(&snap.mean_abs_dh));
            cell.mean_abs_f.push(abs_mean(f, None));
            cell.mean_abs_df.push(abs_mean(f, Some(&r.outputs[0])));
        }
        // A run that reached NaN or Inf stops early and has no statistics past it.
        if r.coords.len() != c.steps + 1 || cell.mean_abs_h.iter().flatten().any(|x| !x.is_finite())
        {
            return Err(Error::Numerical(format!(
                "coordinate check cell {k} diverged before step {}",
                c.steps
            )));
        }
        Ok(cell)
    }

    /// Every statistic has `steps + 1` rows, the hidden ones one entry per layer.
    fn check_cell(&self, _k: usize, cell: &CoordCell) -> Result<()> {
        let t = self.base.steps + 1;
        check_len("mean_abs_h", cell.mean_abs_h.len(), t)?;
        check_len("mean_abs_dh", cell.mean_abs_dh.len(), t)?;
        check_len("mean_abs_f", cell.mean_abs_f.len(), t)?;
        check_len("mean_abs_df", cell.mean_abs_df.len(), t)?;
        for (i, (h, dh)) in cell.mean_abs_h.iter().zip(&cell.mean_abs_dh).enumerate() {
            check_len(&format!("mean_abs_h[{i}]"), h.len(), self.layers())?;
            check_len(&format!("mean_abs_dh[{i}]"), dh.len(), self.layers())?;
        }
        Ok(())
    }

    fn assemble(&self, cells: &[CoordCell]) -> Result<CoordCheckResult> {
        check_len("cells", cells.len(), self.cells())?;
        let nw = self.widths.len();
        let steps: Vec<usize> = (0..=self.base.steps).collect();
        let tables = self
            .params
            .iter()
            .enumerate()
            .map(|(pi, p)| {
                let row = &cells[pi * nw..(pi + 1) * nw];
                let layers = row[0].mean_abs_h.first().map_or(0, Vec::len);
                let by_width = |get: &dyn Fn(&CoordCell) -> &Vec<Vec<f64>>| {
                    steps
                        .iter()
                        .map(|&t| {
                            (0..layers)
                                .map(|l| row.iter().map(|c| get(c)[t][l]).collect())
                                .collect::<Vec<Vec<f64>>>()
                        })
                        .collect::<Vec<_>>()
                };
                let mean_abs_h = by_width(&|c| &c.mean_abs_h);
                let mean_abs_dh = by_width(&|c| &c.mean_abs_dh);
                let last = steps.len() - 1;
                let ratio = |v: &Vec<f64>| {
                    let max = v.iter().copied().fold(f64::MIN, f64::max);
                    let min = v.iter().copied().fold(f64::MAX, f64::min);
                    (min > 0.0)
                        .then(|| max / min)
                        .and_then(super::stats::finite)
                };
                let logw: Vec<f64> = self.widths.iter().map(|&w| (w as f64).ln()).collect();
                TableParts {
                    ratio_h: mean_abs_h[last].iter().map(ratio).collect(),
                    ratio_dh: mean_abs_dh[last].iter().map(ratio).collect(),
                    slope_dh: mean_abs_dh[last]
                        .iter()
                        .map(|v| {
                            let y: Vec<f64> = v.iter().map(|x| x.ln()).collect();
                            super::stats::fit_slope(&logw, &y)
                        })
                        .collect(),
                    mean_abs_f: steps
                        .iter()
                        .map(|&t| row.iter().map(|c| c.mean_abs_f[t]).collect())
                        .collect(),
                    mean_abs_df: steps
                        .iter()
                        .map(|&t| row.iter().map(|c| c.mean_abs_df[t]).collect())
                        .collect(),
                    mean_abs_h,
                    mean_abs_dh,
                }
                .table(p, self, &steps)
            })
            .collect();
        Ok(CoordCheckResult { tables })
    }
}

/// Columns of a [`CoordTable`] before labelling.
struct TableParts {
    mean_abs_h: Vec<Vec<Vec<f64>>>,
    mean_abs_dh: Vec<Vec<Vec<f64>>>,
    mean_abs_f: Vec<Vec<f64>>,
    mean_abs_df: Vec<Vec<f64>>,
    ratio_h: Vec<Option<f64>>,
    ratio_dh: Vec<Option<f64>>,
    slope_dh: Vec<Option<f64>>,
}

impl TableParts {
    fn table(self, p: &Parameterization, cfg: &CoordCheckConfig, steps: &[usize]) -> CoordTable {
        CoordTable {
            param: super::transfer::label(p, cfg.base.model.arch),
            parameterization: p.clone(),
            widths: cfg.widths.clone(),
            steps: steps.to_vec(),
            mean_abs_h: self.mean_abs_h,
            mean_abs_dh: self.mean_abs_dh,
            mean_abs_f: self.mean_abs_f,
            mean_abs_df: self.mean_abs_df,
            ratio_h: self.ratio_h,
            ratio_dh: self.ratio_dh,
            slope_dh: self.slope_dh,
        }
    }
}

/// CSV: `param,step,layer,width,mean_abs_h,mean_abs_dh` (layer `out` is the output f).
pub fn csv(r: &CoordCheckResult) -> String {
    let mut out = String::from("param,step,layer,width,mean_abs_h,mean_abs_dh\n");
    for t in &r.tables {
        for (si, step) in t.steps.iter().enumerate() {
            for (l, per_w) in t.mean_abs_h[si].iter().enumerate() {
                for (wi, w) in t.widths.iter().enumerate() {
                    out.push_str(&format!(
                        "{},{step},{l},{w},{},{}\n",
                        t.param, per_w[wi], t.mean_abs_dh[si][l][wi]
                    ));
                }
            }
            for (wi, w) in t.widths.iter().enumerate() {
                out.push_str(&format!(
                    "{},{step},out,{w},{},{}\n",
                    t.param, t.mean_abs_f[si][wi], t.mean_abs_df[si][wi]
                ));
            }
        }
    }
    out
}
