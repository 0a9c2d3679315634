//! The `finite_width` kind: finite-width corrections to the statics of deep linear
//! networks, measured with Langevin-sampled networks and compared with the closed forms
//! of [`super::corrections`] (docs/theory.md section 5.5).
//!
//! - **Growing width** (`P` fixed): for each parameterisation (NTK at fixed gamma, whose
//!   limit is the NNGP kernel `I`; muP at fixed gamma0, whose limit is the saddle point
//!   `c_l` of [`super::solve`]) and width `N`, the layer overlaps along the target and
//!   orthogonal to it. The deviations from the limit are fitted as `a / N + b / N^2`
//!   (weighted by the standard errors); under NTK `a` is compared with the leading
//!   order, `l [gamma^2 / (1 + r)^2 - 1 / (1 + r)]` along the target and `-l / (1 + r)`
//!   orthogonal to it. Under muP it is measured only: there the fluctuations around the
//!   saddle point, whose curvature is of order N, add to the `1/N` term.
//! - **Proportional limit** `P = alpha N` (NTK at fixed gamma, targets `±sqrt(kappa)`):
//!   the posterior mean on the training points is `s y` with `s = c / (c + r)`; the
//!   measured `s` gives the kernel renormalisation `c = r s / (1 - s)`, compared with
//!   `c(alpha)` and with the NNGP's `c = 1`.

use super::corrections::{isotropic_dataset, overlaps, proportional, width_shift};
use super::kind::DeepLinearSample;
use super::solve;
use crate::budget::{Cost, JSON_BYTES_PER_NUMBER, saturate};
use crate::config::{Activation, Parameterization};
use crate::error::{Error, Result, check_range};
use crate::experiments::stats::opt_csv;
use crate::kind::{Kind, Sweep, check_cells, check_len, run_sweep};
use crate::progress::Progress;
use crate::statics::langevin::{LangevinConfig, mean_se, sample};
use serde::{Deserialize, Serialize};

/// Finite-width and proportional-limit corrections of deep linear Bayesian networks.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FiniteWidthConfig {
    /// Hidden layers L.
    pub depth: usize,
    /// Inverse temperature beta of the summed loss.
    pub beta: f64,
    /// `Ntk { gamma0: gamma }` (fixed gamma) and/or `Mup { gamma0 }`.
    pub params: Vec<Parameterization>,
    /// Widths N of the growing-width part.
    pub widths: Vec<usize>,
    /// Training points P of the growing-width part (whitened, unit target).
    pub points: usize,
    /// `P / N` of the proportional part (empty: none).
    pub alphas: Vec<f64>,
    /// Width N of the proportional part.
    pub alpha_width: usize,
    /// Output scale gamma (NTK) of the proportional part.
    pub alpha_gamma: f64,
    /// Inverse temperature of the proportional part.
    pub alpha_beta: f64,
    /// Mean squared target kappa of the proportional part.
    pub kappa: f64,
    /// Langevin time step of the proportional part (its `P` points pin fewer directions
    /// per point, so it tolerates a larger step than the growing-width part).
    pub alpha_lr: f64,
    /// Langevin time step eta of the growing-width part. The discrete chain's bias on the
    /// directions the loss pins is of order `eta gamma^2 (L + 1) / (2P)` relative, on
    /// fluctuations that are themselves `O(1/N)`: keep it small.
    pub lr: f64,
    pub burn_in: usize,
    pub steps: usize,
    pub every: usize,
    pub seeds: usize,
    pub seed: u64,
}

impl Default for FiniteWidthConfig {
    fn default() -> Self {
        FiniteWidthConfig {
            depth: 2,
            beta: 1.0,
            params: vec![
                Parameterization::Ntk { gamma0: 2.0 },
                Parameterization::Mup { gamma0: 1.0 },
            ],
            widths: vec![8, 16, 32],
            points: 4,
            alphas: vec![0.5, 1.0],
            alpha_width: 32,
            alpha_gamma: 1.0,
            alpha_beta: 1.0,
            kappa: 1.0,
            alpha_lr: 0.5,
            lr: 0.1,
            burn_in: 500,
            steps: 2000,
            every: 10,
            seeds: 8,
            seed: 0,
        }
    }
}

/// One cell: a growing-width sample or a proportional-limit sample.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "part", rename_all = "snake_case", deny_unknown_fields)]
pub enum FiniteWidthCell {
    Width {
        /// "ntk" or "mup".
        param: String,
        sample: DeepLinearSample,
    },
    Proportional {
        alpha: f64,
        points: usize,
        /// Measured `s = <f> . y / |y|^2` and its standard error over seeds.
        shrink: f64,
        shrink_se: f64,
    },
}

/// A fitted `1/N` coefficient and the prediction.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Coefficient {
    /// Layer l (1-based).
    pub layer: usize,
    /// "target" (along y) or "orthogonal".
    pub direction: String,
    /// `a` of the fit `a / N + b / N^2` and its standard error.
    pub fitted: Option<f64>,
    pub fitted_se: Option<f64>,
    /// The leading-order prediction, where known.
    pub predicted: Option<f64>,
}

/// One parameterisation across widths.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WidthSeries {
    pub param: String,
    /// gamma0 (muP) or gamma (NTK).
    pub gamma: f64,
    pub widths: Vec<usize>,
    /// The infinite-width overlaps per layer along the target (orthogonal: 1).
    pub limit: Vec<f64>,
    /// `target_dev[layer][width]`: `<u^T H^l u> - limit`, and its standard error.
    pub target_dev: Vec<Vec<f64>>,
    pub target_se: Vec<Vec<f64>>,
    /// `orthogonal_dev[layer][width]`: mean orthogonal eigenvalue minus 1.
    pub orthogonal_dev: Vec<Vec<f64>>,
    pub orthogonal_se: Vec<Vec<f64>>,
    pub coefficients: Vec<Coefficient>,
}

/// The proportional part.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProportionalSeries {
    pub width: usize,
    pub alphas: Vec<f64>,
    /// Measured renormalisation `c = r s / (1 - s)` and its standard error.
    pub c: Vec<Option<f64>>,
    pub c_se: Vec<Option<f64>>,
    /// Measured `s` and its standard error.
    pub shrink: Vec<f64>,
    pub shrink_se: Vec<f64>,
    /// `c(alpha)` of the theory, and its `s`.
    pub c_theory: Vec<f64>,
    pub shrink_theory: Vec<f64>,
    /// The NNGP's `s = 1 / (1 + r)`.
    pub shrink_nngp: f64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FiniteWidthResult {
    pub width: Vec<WidthSeries>,
    pub proportional: Option<ProportionalSeries>,
}

impl FiniteWidthConfig {
    fn width_cells(&self) -> usize {
        self.params.len() * self.widths.len()
    }

    fn langevin(
        &self,
        width: usize,
        param: Parameterization,
        beta: f64,
        lr: f64,
    ) -> LangevinConfig {
        LangevinConfig {
            width,
            depth: self.depth,
            activation: Activation::Linear,
            param,
            beta,
            lr,
            burn_in: self.burn_in,
            steps: self.steps,
            every: self.every,
            seeds: self.seeds,
            seed: self.seed,
            exact_prior: true,
        }
    }

    fn alpha_points(&self, alpha: f64) -> usize {
        ((alpha * self.alpha_width as f64).round() as usize).max(1)
    }

    /// The limit's overlaps along the target per layer.
    fn limit(&self, param: &Parameterization) -> Result<Vec<f64>> {
        Ok(match param {
            Parameterization::Mup { gamma0 } => solve(*gamma0, self.beta, self.depth)?.c_layers,
            _ => vec![1.0; self.depth],
        })
    }
}

impl Kind for FiniteWidthConfig {
    type Output = FiniteWidthResult;

    fn validate(&self) -> Result<()> {
        check_range("depth", self.depth, 1, 16)?;
        check_range("beta", self.beta, 1e-3, 1e6)?;
        check_range("params (count)", self.params.len(), 0, 4)?;
        for (i, p) in self.params.iter().enumerate() {
            match p {
                Parameterization::Mup { gamma0 } | Parameterization::Ntk { gamma0 } => {
                    check_range(&format!("params[{i}].gamma0"), *gamma0, 1e-3, 100.0)?
                }
                _ => return Err(Error::config(format!("params[{i}].kind"), "mup or ntk")),
            }
        }
        check_range("widths (count)", self.widths.len(), 0, 16)?;
        for (i, &w) in self.widths.iter().enumerate() {
            check_range(&format!("widths[{i}]"), w, 2, 4096)?;
        }
        check_range("points", self.points, 1, 256)?;
        check_range("alphas (count)", self.alphas.len(), 0, 16)?;
        for (i, &a) in self.alphas.iter().enumerate() {
            check_range(&format!("alphas[{i}]"), a, 1e-3, 8.0)?;
        }
        check_range("alpha_width", self.alpha_width, 2, 1024)?;
        check_range("alpha_gamma", self.alpha_gamma, 1e-3, 100.0)?;
        check_range("alpha_beta", self.alpha_beta, 1e-3, 1e3)?;
        check_range("kappa", self.kappa, 1e-6, 1e6)?;
        if self.cells() == 0 {
            return Err(Error::config("widths", "some widths or alphas to sample"));
        }
        check_cells(self.cells(), "params x widths + alphas")?;
        if self.alphas.iter().any(|&a| self.alpha_points(a) > 1024) {
            return Err(Error::config(
                "alphas",
                "alpha x alpha_width <= 1024 points",
            ));
        }
        // The chain's temperature is T = 1 / (beta P); LangevinConfig checks 2 lr T < 1
        // at P = 1, so it is asked at beta P.
        let probe = |beta: f64, p: usize, lr: f64| {
            self.langevin(
                8,
                Parameterization::Ntk { gamma0: 1.0 },
                beta * p as f64,
                lr,
            )
            .validate()
        };
        if !self.widths.is_empty() {
            probe(self.beta, self.points, self.lr)?;
        }
        if let Some(p) = self.alphas.iter().map(|&a| self.alpha_points(a)).min() {
            probe(self.alpha_beta, p, self.alpha_lr)
                .map_err(|e| e.map_field(|f| format!("alpha_{f}")))?;
        }
        Ok(())
    }

    /// The larger of a growing-width cell (as a `deep_linear` sample: `P x P` kernels per
    /// layer, seed and record) and a proportional cell (`P = alpha N` whitened points,
    /// outputs only: `P` per seed and record); the result holds four numbers per layer
    /// and width and a few per alpha.
    fn cost(&self) -> Cost {
        let (l, s) = (self.depth as f64, self.seeds as f64);
        let records = ((self.burn_in + self.steps) / self.every.max(1) + 2) as f64;
        let train = |n: f64, p: f64, kernels: bool| {
            let params = n * p + (l - 1.0) * n * n + n;
            let per_record = 2.0 + p + if kernels { 2.0 * l * p * p } else { 0.0 };
            4.0 * s * (3.0 * params + 4.0 * l * n * p)
                + 8.0 * records * s * per_record
                + 8.0 * (p * p + p)
                + if kernels {
                    8.0 * l * (s + 2.0) * p * p
                } else {
                    0.0
                }
        };
        let mut cell: f64 = 0.0;
        let mut flops = 0.0;
        let t = (self.burn_in + self.steps) as f64;
        for &w in &self.widths {
            let (n, p) = (w as f64, self.points as f64);
            cell = cell.max(train(n, p, true));
            flops += 6.0 * t * s * p * (n * p + (l - 1.0) * n * n + n) * self.params.len() as f64;
        }
        for &a in &self.alphas {
            let (n, p) = (self.alpha_width as f64, self.alpha_points(a) as f64);
            cell = cell.max(train(n, p, false));
            flops += 6.0 * t * s * p * (n * p + (l - 1.0) * n * n + n);
        }
        let result = self.width_cells() as f64 * (8.0 * l + 4.0) + 8.0 * self.alphas.len() as f64;
        Cost {
            bytes: saturate(cell + 16.0 * result),
            cell_bytes: saturate(cell),
            json_bytes: saturate(JSON_BYTES_PER_NUMBER * result),
            flops,
        }
    }

    fn run(&self, progress: &dyn Progress) -> Result<FiniteWidthResult> {
        run_sweep(self, progress)
    }

    fn csv(&self, out: &FiniteWidthResult) -> Vec<(String, String)> {
        out.csv()
    }
}

impl Sweep for FiniteWidthConfig {
    type Cell = FiniteWidthCell;

    /// Parameterisations x widths, then the alphas.
    fn cells(&self) -> usize {
        self.width_cells() + self.alphas.len()
    }

    fn run_cell(&self, k: usize, progress: &dyn Progress) -> Result<FiniteWidthCell> {
        if k < self.width_cells() {
            let nw = self.widths.len();
            let param = self.params[k / nw].clone();
            let width = self.widths[k % nw];
            let data = isotropic_dataset(self.points, 1.0 / self.points as f64)?;
            let u = data.y_train.clone();
            let lc = self.langevin(width, param.clone(), self.beta, self.lr);
            let r = sample(&lc, &data, progress)?;
            let (mut overlap, mut overlap_se, mut orthogonal, mut orthogonal_se) =
                (vec![], vec![], vec![], vec![]);
            for l in 0..self.depth {
                let rows: Vec<Vec<f64>> = r.seed_kernels[l]
                    .iter()
                    .map(|k| {
                        let (a, b) = overlaps(k, &u);
                        vec![a, b]
                    })
                    .collect();
                let (m, e) = mean_se(&rows);
                overlap.push(m[0]);
                overlap_se.push(e[0]);
                orthogonal.push(m[1]);
                orthogonal_se.push(e[1]);
            }
            return Ok(FiniteWidthCell::Width {
                param: param.name().into(),
                sample: DeepLinearSample {
                    depth: self.depth,
                    beta: self.beta,
                    gamma0: param.gamma0(),
                    width,
                    overlap,
                    overlap_se,
                    orthogonal,
                    orthogonal_se,
                    theory: self.limit(&param)?,
                },
            });
        }
        let alpha = self.alphas[k - self.width_cells()];
        let p = self.alpha_points(alpha);
        let data = isotropic_dataset(p, self.kappa)?;
        let lc = self.langevin(
            self.alpha_width,
            Parameterization::Ntk {
                gamma0: self.alpha_gamma,
            },
            self.alpha_beta,
            self.alpha_lr,
        );
        let (shrink, shrink_se) = mean_shrink(&lc, &data, progress)?;
        Ok(FiniteWidthCell::Proportional {
            alpha,
            points: p,
            shrink,
            shrink_se,
        })
    }

    fn check_cell(&self, k: usize, cell: &FiniteWidthCell) -> Result<()> {
        match cell {
            FiniteWidthCell::Width { sample, .. } if k < self.width_cells() => {
                for (name, v) in [
                    ("overlap", &sample.overlap),
                    ("overlap_se", &sample.overlap_se),
                    ("orthogonal", &sample.orthogonal),
                    ("orthogonal_se", &sample.orthogonal_se),
                    ("theory", &sample.theory),
                ] {
                    check_len(name, v.len(), self.depth)?;
                }
                Ok(())
            }
            FiniteWidthCell::Proportional { .. } if k >= self.width_cells() => Ok(()),
            _ => Err(Error::config(
                "part",
                if k < self.width_cells() {
                    "width"
                } else {
                    "proportional"
                },
            )),
        }
    }

    fn assemble(&self, cells: &[FiniteWidthCell]) -> Result<FiniteWidthResult> {
        check_len("cells", cells.len(), self.cells())?;
        let nw = self.widths.len();
        let mut width = vec![];
        for (pi, param) in self.params.iter().enumerate() {
            let samples: Vec<&DeepLinearSample> = cells[pi * nw..(pi + 1) * nw]
                .iter()
                .filter_map(|c| match c {
                    FiniteWidthCell::Width { sample, .. } => Some(sample),
                    _ => None,
                })
                .collect();
            width.push(self.series(param, &samples)?);
        }
        let proportional = (!self.alphas.is_empty())
            .then(|| self.proportional_series(&cells[self.width_cells()..]))
            .transpose()?;
        Ok(FiniteWidthResult {
            width,
            proportional,
        })
    }
}

impl FiniteWidthConfig {
    fn series(
        &self,
        param: &Parameterization,
        samples: &[&DeepLinearSample],
    ) -> Result<WidthSeries> {
        let limit = self.limit(param)?;
        let ns: Vec<f64> = self.widths.iter().map(|&w| w as f64).collect();
        let by_layer = |f: &dyn Fn(&DeepLinearSample, usize) -> f64| -> Vec<Vec<f64>> {
            (0..self.depth)
                .map(|l| samples.iter().map(|s| f(s, l)).collect())
                .collect()
        };
        let target_dev = by_layer(&|s, l| s.overlap[l] - limit[l]);
        let target_se = by_layer(&|s, l| s.overlap_se[l]);
        let orthogonal_dev = by_layer(&|s, l| s.orthogonal[l] - 1.0);
        let orthogonal_se = by_layer(&|s, l| s.orthogonal_se[l]);
        // The leading order is known at fixed gamma (NTK); under muP the 1/N correction
        // also involves the fluctuations around the saddle point (not derived here).
        let is_ntk = matches!(param, Parameterization::Ntk { .. });
        let mut coefficients = vec![];
        for l in 0..self.depth {
            let (pt, po) = width_shift(l + 1, param.gamma0(), self.beta);
            for (direction, dev, se, predicted) in [
                (
                    "target",
                    &target_dev[l],
                    &target_se[l],
                    is_ntk.then_some(pt),
                ),
                (
                    "orthogonal",
                    &orthogonal_dev[l],
                    &orthogonal_se[l],
                    is_ntk.then_some(po),
                ),
            ] {
                let fit = fit_inverse_width(&ns, dev, se);
                coefficients.push(Coefficient {
                    layer: l + 1,
                    direction: direction.into(),
                    fitted: fit.map(|f| f.0),
                    fitted_se: fit.map(|f| f.1),
                    predicted,
                });
            }
        }
        Ok(WidthSeries {
            param: param.name().into(),
            gamma: param.gamma0(),
            widths: self.widths.clone(),
            limit,
            target_dev,
            target_se,
            orthogonal_dev,
            orthogonal_se,
            coefficients,
        })
    }

    fn proportional_series(&self, cells: &[FiniteWidthCell]) -> Result<ProportionalSeries> {
        let r = 1.0 / self.alpha_beta;
        let (mut c, mut c_se, mut shrink, mut shrink_se, mut c_theory, mut shrink_theory) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        for (cell, &alpha) in cells.iter().zip(&self.alphas) {
            let FiniteWidthCell::Proportional {
                shrink: s,
                shrink_se: e,
                ..
            } = cell
            else {
                return Err(Error::config("part", "proportional"));
            };
            // c = r s / (1 - s), dc/ds = r / (1 - s)^2
            let ok = *s > 0.0 && *s < 1.0;
            c.push(ok.then(|| r * s / (1.0 - s)));
            c_se.push(ok.then(|| r * e / ((1.0 - s) * (1.0 - s))));
            shrink.push(*s);
            shrink_se.push(*e);
            let th = proportional(
                alpha,
                self.depth,
                self.alpha_gamma,
                self.alpha_beta,
                self.kappa,
            )?;
            c_theory.push(th.c);
            shrink_theory.push(th.shrink);
        }
        Ok(ProportionalSeries {
            width: self.alpha_width,
            alphas: self.alphas.clone(),
            c,
            c_se,
            shrink,
            shrink_se,
            c_theory,
            shrink_theory,
            shrink_nngp: 1.0 / (1.0 + r),
        })
    }
}

/// Weighted least squares of `dev = a / N + b / N^2` (weights `1 / se^2`, floored at a
/// small fraction of the largest): `(a, se(a))`. With fewer than three widths, `b = 0`.
pub fn fit_inverse_width(ns: &[f64], dev: &[f64], se: &[f64]) -> Option<(f64, f64)> {
    let n = ns.len().min(dev.len()).min(se.len());
    if n < 2 {
        return None;
    }
    let floor = se.iter().cloned().fold(0.0, f64::max) * 1e-3 + 1e-300;
    let w: Vec<f64> = se[..n].iter().map(|e| 1.0 / e.max(floor).powi(2)).collect();
    let x1: Vec<f64> = ns[..n].iter().map(|v| 1.0 / v).collect();
    if n < 3 {
        // one parameter: a = sum w x y / sum w x^2
        let sxx: f64 = (0..n).map(|i| w[i] * x1[i] * x1[i]).sum();
        let sxy: f64 = (0..n).map(|i| w[i] * x1[i] * dev[i]).sum();
        return Some((sxy / sxx, (1.0 / sxx).sqrt()));
    }
    // normal equations of [x, x^2] weighted
    let (mut a11, mut a12, mut a22, mut b1, mut b2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for i in 0..n {
        let (x, x2) = (x1[i], x1[i] * x1[i]);
        a11 += w[i] * x * x;
        a12 += w[i] * x * x2;
        a22 += w[i] * x2 * x2;
        b1 += w[i] * x * dev[i];
        b2 += w[i] * x2 * dev[i];
    }
    let det = a11 * a22 - a12 * a12;
    if det.abs() <= 1e-300 {
        return None;
    }
    let a = (a22 * b1 - a12 * b2) / det;
    Some((a, (a22 / det).sqrt())).filter(|f| f.0.is_finite())
}

/// The posterior mean's shrink factor `s = <f> . y / |y|^2` (outputs averaged over the
/// chain after the burn-in, per seed) and its standard error over the seeds. Only the
/// outputs are recorded.
fn mean_shrink(
    lc: &LangevinConfig,
    data: &crate::data::Dataset,
    progress: &dyn Progress,
) -> Result<(f64, f64)> {
    // (checked by the kind at the real P: LangevinConfig::validate assumes P = 1)
    let mut tc = lc.train_config(data.p_train());
    tc.observe.kernels = false;
    let res = crate::nn::train(&tc, data, progress)?;
    let y = &data.y_train;
    let yy: f64 = y.iter().map(|v| v * v).sum();
    let kept: Vec<usize> = (0..res.steps.len())
        .filter(|&i| res.steps[i] >= lc.burn_in)
        .collect();
    let rows: Vec<Vec<f64>> = (0..lc.seeds)
        .filter(|&s| res.diverged_at.get(s).is_none_or(Option::is_none))
        .map(|s| {
            let m = kept
                .iter()
                .map(|&i| {
                    res.outputs[i][s]
                        .iter()
                        .zip(y)
                        .map(|(f, y)| f * y)
                        .sum::<f64>()
                })
                .sum::<f64>()
                / kept.len().max(1) as f64;
            vec![m / yy]
        })
        .collect();
    if rows.len() < 2 || kept.is_empty() {
        return Err(Error::Numerical(
            "Langevin sampling diverged (lower the learning rate)".into(),
        ));
    }
    let (m, e) = mean_se(&rows);
    Ok((m[0], e[0]))
}

impl FiniteWidthResult {
    /// CSV tables: `widths` (param, layer, direction, width, deviation, se),
    /// `coefficients` and `proportional`.
    pub fn csv(&self) -> Vec<(String, String)> {
        let mut w = String::from("param,gamma,layer,direction,width,deviation,se\n");
        let mut co = String::from("param,gamma,layer,direction,fitted,fitted_se,predicted\n");
        for s in &self.width {
            for l in 0..s.target_dev.len() {
                for (i, n) in s.widths.iter().enumerate() {
                    for (dir, d, e) in [
                        ("target", &s.target_dev, &s.target_se),
                        ("orthogonal", &s.orthogonal_dev, &s.orthogonal_se),
                    ] {
                        w.push_str(&format!(
                            "{},{},{},{dir},{n},{},{}\n",
                            s.param,
                            s.gamma,
                            l + 1,
                            d[l][i],
                            e[l][i]
                        ));
                    }
                }
            }
            for c in &s.coefficients {
                co.push_str(&format!(
                    "{},{},{},{},{},{},{}\n",
                    s.param,
                    s.gamma,
                    c.layer,
                    c.direction,
                    opt_csv(c.fitted),
                    opt_csv(c.fitted_se),
                    opt_csv(c.predicted)
                ));
            }
        }
        let mut out = vec![("widths".into(), w), ("coefficients".into(), co)];
        if let Some(p) = &self.proportional {
            let mut t =
                String::from("alpha,c,c_se,c_theory,shrink,shrink_se,shrink_theory,shrink_nngp\n");
            for i in 0..p.alphas.len() {
                t.push_str(&format!(
                    "{},{},{},{},{},{},{},{}\n",
                    p.alphas[i],
                    opt_csv(p.c[i]),
                    opt_csv(p.c_se[i]),
                    p.c_theory[i],
                    p.shrink[i],
                    p.shrink_se[i],
                    p.shrink_theory[i],
                    p.shrink_nngp
                ));
            }
            out.push(("proportional".into(), t));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_width_fit_recovers_the_coefficients() {
        let ns = [16.0, 32.0, 64.0, 128.0];
        let dev: Vec<f64> = ns.iter().map(|n| 2.5 / n - 7.0 / (n * n)).collect();
        let (a, _) = fit_inverse_width(&ns, &dev, &[0.01; 4]).unwrap();
        assert!((a - 2.5).abs() < 1e-9, "{a}");
        let (a, _) = fit_inverse_width(&ns[..2], &[0.1, 0.05], &[0.01; 2]).unwrap();
        assert!((a - 1.6).abs() < 1e-9);
    }
}
