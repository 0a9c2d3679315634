//! Width convergence: finite networks of growing width N against the DMFT on the same
//! data and hyperparameters (docs/theory.md section 6, check 4).
//!
//! Cells: one per width (an ensemble of `base.seeds` networks) and one more for the
//! DMFT solve. Per width the result gives the mean and spread over seeds of the loss
//! curves; the mean squared deviation from the DMFT,
//!
//! ```text
//! deviation(N) = mean_{seed, t} (L_seed(t) - L_DMFT(t))^2
//! ```
//!
//! whose log against log N has slope -1 (fluctuations of O(1/sqrt N), bias O(1/N));
//! the relative error of the seed-mean loss curve; and the alignment of the final
//! feature kernels, `<Phi_NN, Phi_DMFT>_F / (|Phi_NN|_F |Phi_DMFT|_F)` (last hidden layer).

use super::TrainingCells;
use super::stats::{finite, finite_mean, fit_slope, opt_csv};
use crate::budget::{Cost, data_shape, payload_bytes, saturate};
use crate::config::{Activation, OptimizerConfig, Parameterization, TrainConfig};
use crate::error::{Error, Result, check_positive, check_range};
use crate::kind::{Kind, Sweep, check_len, run_sweep};
use crate::progress::Progress;
use crate::theory::dmft::{check_solvable, dmft_cost_shaped};
use serde::{Deserialize, Serialize};

/// Settings of the DMFT solve (the training setup is the base config's).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DmftSettings {
    /// Monte Carlo samples of the single-site process per iteration.
    pub samples: usize,
    /// Most fixed-point iterations (deep solvers stop once settled, see
    /// [`crate::theory::dmft::DmftConfig::iterations`]).
    pub iterations: usize,
    /// Mixing of the new kernel estimate into the old one.
    pub damping: f64,
}

impl Default for DmftSettings {
    fn default() -> Self {
        DmftSettings {
            samples: 4000,
            iterations: crate::theory::dmft::DEFAULT_ITERATIONS,
            damping: 0.7,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WidthConvergenceConfig {
    /// The training setup (its width is overridden per cell); train the centred
    /// output under muP/mean-field with full-batch GD, as the DMFT assumes.
    pub base: TrainConfig,
    pub widths: Vec<usize>,
    pub dmft: DmftSettings,
    /// Other parameterisations trained at the same widths and learning rate for
    /// contrast, e.g. `ntk` (the talk's gamma = O(1): lazier, and slower, as N grows).
    pub contrast: Vec<Parameterization>,
}

impl Default for WidthConvergenceConfig {
    fn default() -> Self {
        let mut base = TrainConfig {
            steps: 50,
            seeds: 8,
            param: Parameterization::Mup { gamma0: 1.0 },
            optimizer: OptimizerConfig::Gd { lr: 0.5 },
            ..Default::default()
        };
        base.model.depth = 1;
        base.model.activation = Activation::Tanh;
        base.model.centered = true;
        base.data = crate::data::DataConfig::Teacher {
            teacher: crate::data::Teacher::Linear,
            dim: 8,
            train: 8,
            test: 0,
            noise: 0.0,
            seed: 0,
        };
        WidthConvergenceConfig {
            base,
            widths: vec![32, 64, 128, 256, 512, 1024],
            dmft: DmftSettings::default(),
            contrast: vec![],
        }
    }
}

/// One cell: a width's ensemble, or the DMFT.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "part", rename_all = "snake_case", deny_unknown_fields)]
pub enum WidthCell {
    Network {
        width: usize,
        steps: Vec<usize>,
        /// `loss[seed][record]` (null after a seed diverged).
        loss: Vec<Vec<Option<f64>>>,
        /// Final feature kernel of the last hidden layer per seed, `[P x P]`.
        phi: Vec<Vec<f64>>,
        diverged: bool,
    },
    Dmft {
        /// `loss[t]` for `t = 0..=steps`.
        loss: Vec<f64>,
        /// Final feature kernel of the last hidden layer, `[P x P]`.
        phi: Vec<f64>,
    },
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct WidthConvergenceResult {
    pub widths: Vec<usize>,
    /// Recorded steps of the networks' loss curves.
    pub steps: Vec<usize>,
    /// `mean_loss[width][record]` and `std_loss[width][record]` over seeds.
    pub mean_loss: Vec<Vec<Option<f64>>>,
    pub std_loss: Vec<Vec<Option<f64>>>,
    /// DMFT loss at the recorded steps.
    pub dmft_loss: Vec<Option<f64>>,
    /// Mean squared deviation of the loss from the DMFT, per width.
    pub deviation: Vec<Option<f64>>,
    /// Relative L2 error of the seed-mean loss curve:
    /// `|mean_loss - dmft_loss| / |dmft_loss|` over the records, per width.
    pub loss_rel_error: Vec<Option<f64>>,
    /// Mean over seeds of `<Phi_NN, Phi_DMFT>_F / (|Phi_NN| |Phi_DMFT|)`, per width.
    pub kernel_alignment: Vec<Option<f64>>,
    /// Mean over seeds of `|Phi_NN - Phi_DMFT|_F^2 / |Phi_DMFT|_F^2`, per width.
    pub kernel_deviation: Vec<Option<f64>>,
    /// Slope of log `deviation` against log width (theory: -1).
    pub slope: Option<f64>,
    /// Slope of log `kernel_deviation` against log width.
    pub kernel_slope: Option<f64>,
    /// Monte Carlo floor of `deviation`: the fitted power law at `N = dmft.samples`
    /// (the DMFT's S samples of the single-site process fluctuate like a width-S
    /// network, so deviations below this say nothing about the networks).
    #[serde(default)]
    pub dmft_floor: Option<f64>,
    pub diverged: Vec<bool>,
    /// The contrast parameterisations' seed-mean loss curves.
    pub contrast: Vec<ContrastCurves>,
}

/// Loss curves of a contrast parameterisation across the same widths.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ContrastCurves {
    pub param: String,
    pub parameterization: Parameterization,
    /// `mean_loss[width][record]`.
    pub mean_loss: Vec<Vec<Option<f64>>>,
    pub diverged: Vec<bool>,
}

impl WidthConvergenceConfig {
    /// The DMFT solve of the base setup.
    fn dmft_config(&self) -> crate::theory::dmft::DmftConfig {
        self.dmft_from(self.base.clone())
    }

    /// The DMFT solve of `train` (the base config, or it without data).
    fn dmft_from(&self, mut train: TrainConfig) -> crate::theory::dmft::DmftConfig {
        train.observe.every = train.steps.max(1);
        crate::theory::dmft::DmftConfig {
            train,
            samples: self.dmft.samples,
            iterations: self.dmft.iterations,
            damping: self.dmft.damping,
        }
    }
}

impl TrainingCells for WidthConvergenceConfig {
    fn base(&self) -> &TrainConfig {
        &self.base
    }

    fn training_cells(&self) -> usize {
        self.cells() - 1
    }

    /// `c` (the base config, or it without data) set up as network cell `k`.
    fn cell_from(&self, mut c: TrainConfig, k: usize) -> TrainConfig {
        let nw = self.widths.len();
        c.model.width = self.widths[k % nw];
        if k >= nw {
            c.param = self.contrast[k / nw - 1].clone();
        }
        c.observe.every = 1;
        c.observe.test_loss = false;
        c.observe.outputs = false;
        c.observe.coords = false;
        // Final kernels for the comparison with the DMFT (not for contrast cells).
        c.observe.kernels = k < nw;
        c.observe.ntk = false;
        c
    }
}

impl Kind for WidthConvergenceConfig {
    type Output = WidthConvergenceResult;

    /// Everything, the DMFT's ability to solve the base setup included, before any
    /// network is trained.
    fn validate(&self) -> Result<()> {
        check_range("widths (count)", self.widths.len(), 1, 64)?;
        for (i, &w) in self.widths.iter().enumerate() {
            check_range(&format!("widths[{i}]"), w, 1, crate::config::MAX_WIDTH)?;
        }
        check_range("dmft.samples", self.dmft.samples, 1, 10_000_000)?;
        check_range("dmft.iterations", self.dmft.iterations, 1, 10_000)?;
        check_positive("dmft.damping", self.dmft.damping)?;
        check_range("dmft.damping", self.dmft.damping, 0.0, 1.0)?;
        check_range("contrast (count)", self.contrast.len(), 0, 8)?;
        self.base.validate().map_err(|e| e.within("base"))?;
        // the networks are compared with the DMFT: it must describe them (muP, centred,
        // GD, an MLP) and be solvable with these settings
        crate::theory::limits::dmft_applies(&self.base).map_err(|e| e.within("base"))?;
        check_solvable(&self.base, self.dmft.samples, self.dmft.iterations)
            .map_err(|e| e.within("base"))?;
        let light = self.base.without_data();
        let points = self.base.data.train_size();
        let nw = self.widths.len();
        for k in nw..self.cells() - 1 {
            let ci = k / nw - 1;
            self.cell_from(light.clone(), k)
                .validate_setup(points)
                .map_err(|e| match e.field() {
                    Some(f) if f.starts_with("param") => {
                        e.map_field(|f| format!("contrast[{ci}]{}", &f["param".len()..]))
                    }
                    _ => e.within("base"),
                })?;
        }
        Ok(())
    }

    /// Network cells as [`TrainingCells::training_cost`] (each holds `seeds` loss curves and,
    /// at the base parameterisation, `seeds` final kernels `[P x P]`); the DMFT cell as
    /// [`dmft_cost_shaped`] over the base setup's training and test points, with the
    /// clone of the base config it runs from.
    fn cost(&self) -> Cost {
        let shape = data_shape(&self.base);
        let (_, _, p, _) = shape;
        let (t, seeds, p) = (
            self.base.steps as f64 + 1.0,
            self.base.seeds as f64,
            p as f64,
        );
        let networks = (self.cells() - 1) as f64;
        let cell_numbers =
            networks * seeds * t + self.widths.len() as f64 * seeds * p * p + t + p * p;
        let result = networks * 2.0 * t + 8.0 * self.widths.len() as f64 + t;
        let nets = self.training_cost(cell_numbers, result);
        let dmft = self.dmft_from(self.base.without_data());
        let solve = dmft_cost_shaped(&dmft.train, shape, dmft.samples, dmft.iterations);
        let theory = solve
            .bytes
            .saturating_add(saturate(payload_bytes(&self.base.data)));
        let held = nets.bytes - nets.cell_bytes;
        Cost {
            bytes: nets.bytes.max(theory.saturating_add(held)),
            cell_bytes: nets.cell_bytes.max(theory),
            json_bytes: nets.json_bytes,
            flops: nets.flops + solve.flops,
        }
    }

    fn run(&self, progress: &dyn Progress) -> Result<WidthConvergenceResult> {
        run_sweep(self, progress)
    }

    fn csv(&self, out: &WidthConvergenceResult) -> Vec<(String, String)> {
        csv(out)
    }
}

impl Sweep for WidthConvergenceConfig {
    type Cell = WidthCell;

    /// Widths, then widths for each contrast parameterisation, then the DMFT.
    fn cells(&self) -> usize {
        self.widths.len() * (1 + self.contrast.len()) + 1
    }

    fn run_cell(&self, k: usize, progress: &dyn Progress) -> Result<WidthCell> {
        if k + 1 == self.cells() {
            return dmft_cell(&self.dmft_config(), progress);
        }
        let c = self.cell_config(k)?;
        let data = c.data.load()?;
        let r = crate::nn::train(&c, &data, progress)?;
        let seeds = c.seeds;
        let loss = (0..seeds)
            .map(|s| r.train_loss.iter().map(|row| finite(row[s])).collect())
            .collect();
        let phi = r
            .kernels
            .last()
            .and_then(|s| s.phi.last().cloned())
            .unwrap_or_default();
        Ok(WidthCell::Network {
            width: c.model.width,
            steps: r.steps.clone(),
            loss,
            phi,
            diverged: r.any_diverged(),
        })
    }

    /// Network cells: the width of cell `k`, one loss row per seed, each as long as the
    /// recorded steps (a prefix of `0..=steps`); the last cell: the DMFT, `steps + 1`
    /// losses.
    fn check_cell(&self, k: usize, cell: &WidthCell) -> Result<()> {
        let t = self.base.steps + 1;
        match (k + 1 == self.cells(), cell) {
            (true, WidthCell::Dmft { loss, .. }) => check_len("loss", loss.len(), t),
            (
                false,
                WidthCell::Network {
                    width,
                    steps,
                    loss,
                    phi,
                    ..
                },
            ) => {
                let want = self.widths[k % self.widths.len()];
                if *width != want {
                    return Err(Error::config("width", format!("{want}")));
                }
                if steps.len() > t || steps.iter().enumerate().any(|(i, &s)| s != i) {
                    return Err(Error::config("steps", format!("a prefix of 0..={}", t - 1)));
                }
                check_len("loss", loss.len(), self.base.seeds)?;
                for (s, row) in loss.iter().enumerate() {
                    check_len(&format!("loss[{s}]"), row.len(), steps.len())?;
                }
                if phi.len() > self.base.seeds {
                    return Err(Error::config("phi", "at most one kernel per seed"));
                }
                Ok(())
            }
            (true, _) => Err(Error::config("part", "dmft (the last cell)")),
            (false, _) => Err(Error::config("part", "network")),
        }
    }

    fn assemble(&self, cells: &[WidthCell]) -> Result<WidthConvergenceResult> {
        check_len("cells", cells.len(), self.cells())?;
        let Some(WidthCell::Dmft {
            loss: dmft_full,
            phi: dmft_phi,
        }) = cells.last()
        else {
            return Err(Error::config("cells", "the DMFT as the last cell"));
        };
        let nw = self.widths.len();
        let mut out = WidthConvergenceResult {
            widths: self.widths.clone(),
            contrast: self.contrast_curves(&cells[nw..cells.len() - 1])?,
            ..Default::default()
        };
        for cell in &cells[..nw] {
            let WidthCell::Network {
                steps,
                loss,
                phi,
                diverged,
                ..
            } = cell
            else {
                return Err(Error::config("cells", "a network cell per width"));
            };
            if out.steps.len() < steps.len() {
                out.steps = steps.clone();
            }
            let w = width_stats(steps, loss, phi, dmft_full, dmft_phi);
            out.mean_loss.push(w.mean);
            out.std_loss.push(w.std);
            out.deviation.push(w.deviation);
            out.loss_rel_error.push(w.rel_error);
            out.kernel_alignment.push(w.alignment);
            out.kernel_deviation.push(w.kernel_deviation);
            out.diverged.push(*diverged);
        }
        out.dmft_loss = out
            .steps
            .iter()
            .map(|&t| dmft_full.get(t).copied().and_then(finite))
            .collect();
        let fit = self.log_log_fit(&out.deviation);
        out.slope = fit.map(|f| f.0);
        // the fitted law at N = S, the DMFT's sample count (see `dmft_floor`)
        out.dmft_floor = fit.and_then(|(s, mx, my)| {
            finite((my + s * ((self.dmft.samples as f64).ln() - mx)).exp())
        });
        out.kernel_slope = self.log_log_fit(&out.kernel_deviation).map(|f| f.0);
        Ok(out)
    }
}

impl WidthConvergenceConfig {
    /// The contrast parameterisations' seed-mean loss curves from their cells (each
    /// parameterisation's widths in order).
    fn contrast_curves(&self, cells: &[WidthCell]) -> Result<Vec<ContrastCurves>> {
        let nw = self.widths.len();
        self.contrast
            .iter()
            .enumerate()
            .map(|(ci, p)| {
                let mut curves = ContrastCurves {
                    param: p.name().into(),
                    parameterization: p.clone(),
                    mean_loss: vec![],
                    diverged: vec![],
                };
                for cell in &cells[ci * nw..(ci + 1) * nw] {
                    let WidthCell::Network { loss, diverged, .. } = cell else {
                        return Err(Error::config("cells", "a network cell per width"));
                    };
                    curves.mean_loss.push(seed_mean(loss));
                    curves.diverged.push(*diverged);
                }
                Ok(curves)
            })
            .collect()
    }

    /// Least-squares fit of `log v` against `log width` over the positive values:
    /// `(slope, mean log width, mean log v)`.
    fn log_log_fit(&self, v: &[Option<f64>]) -> Option<(f64, f64, f64)> {
        let (x, y): (Vec<f64>, Vec<f64>) = self
            .widths
            .iter()
            .zip(v)
            .filter_map(|(&w, d)| d.filter(|d| *d > 0.0).map(|d| ((w as f64).ln(), d.ln())))
            .unzip();
        let slope = fit_slope(&x, &y)?;
        let n = x.len() as f64;
        Some((slope, x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n))
    }
}

/// Seed mean at each record of `loss[seed][record]` (finite values only).
fn seed_mean(loss: &[Vec<Option<f64>>]) -> Vec<Option<f64>> {
    let records = loss.first().map_or(0, Vec::len);
    (0..records)
        .map(|t| finite_mean(loss.iter().filter_map(|s| s[t])))
        .collect()
}

/// One width's ensemble against the DMFT.
struct WidthStats {
    mean: Vec<Option<f64>>,
    std: Vec<Option<f64>>,
    deviation: Option<f64>,
    rel_error: Option<f64>,
    alignment: Option<f64>,
    kernel_deviation: Option<f64>,
}

/// The statistics of one width's `loss[seed][record]` at `steps` and final kernels
/// `phi[seed]` against the DMFT's `dmft_loss[t]` and `dmft_phi` (see the module doc).
fn width_stats(
    steps: &[usize],
    loss: &[Vec<Option<f64>>],
    phi: &[Vec<f64>],
    dmft_loss: &[f64],
    dmft_phi: &[f64],
) -> WidthStats {
    let dmft: Vec<f64> = steps
        .iter()
        .map(|&t| dmft_loss.get(t).copied().unwrap_or(f64::NAN))
        .collect();
    let mean = seed_mean(loss);
    let std: Vec<Option<f64>> = (0..steps.len())
        .map(|t| {
            let m = mean[t]?;
            let v = finite_mean(loss.iter().filter_map(|s| s[t]).map(|x| (x - m).powi(2)));
            v.map(f64::sqrt)
        })
        .collect();
    let deviation = finite_mean(loss.iter().flat_map(|s| {
        s.iter()
            .zip(&dmft)
            .filter_map(|(l, d)| l.map(|l| (l - d).powi(2)))
    }));
    let rel_error = {
        let num: f64 = mean
            .iter()
            .zip(&dmft)
            .map(|(m, d)| m.map_or(f64::NAN, |m| (m - d).powi(2)))
            .sum();
        let den: f64 = dmft.iter().map(|d| d * d).sum();
        finite((num / den).sqrt())
    };
    let dnorm = dmft_phi.iter().map(|x| x * x).sum::<f64>();
    let comparable = || phi.iter().filter(|k| k.len() == dmft_phi.len());
    let alignment = finite_mean(comparable().map(|k| {
        let dot = k.iter().zip(dmft_phi).map(|(a, b)| a * b).sum::<f64>();
        let kn = k.iter().map(|x| x * x).sum::<f64>();
        dot / (kn * dnorm).sqrt()
    }));
    let kernel_deviation = finite_mean(comparable().map(|k| {
        k.iter()
            .zip(dmft_phi)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            / dnorm
    }));
    WidthStats {
        mean,
        std,
        deviation,
        rel_error,
        alignment,
        kernel_deviation,
    }
}

/// The DMFT cell: the theory engine on the base config (final kernels only).
fn dmft_cell(cfg: &crate::theory::dmft::DmftConfig, progress: &dyn Progress) -> Result<WidthCell> {
    let r = crate::theory::dmft::solve(cfg, progress)?;
    let phi = r
        .phi
        .last()
        .and_then(|layers| layers.last().cloned())
        .unwrap_or_default();
    Ok(WidthCell::Dmft { loss: r.loss, phi })
}

/// CSV tables: `loss` (`width,step,mean_loss,std_loss,dmft_loss`) and `summary`
/// (`width,deviation,loss_rel_error,kernel_alignment,kernel_deviation,diverged`).
pub fn csv(r: &WidthConvergenceResult) -> Vec<(String, String)> {
    let mut loss = String::from("width,step,mean_loss,std_loss,dmft_loss\n");
    let mut sum =
        String::from("width,deviation,loss_rel_error,kernel_alignment,kernel_deviation,diverged\n");
    for (wi, w) in r.widths.iter().enumerate() {
        for (ti, t) in r.steps.iter().enumerate() {
            loss.push_str(&format!(
                "{w},{t},{},{},{}\n",
                opt_csv(r.mean_loss[wi].get(ti).copied().flatten()),
                opt_csv(r.std_loss[wi].get(ti).copied().flatten()),
                opt_csv(r.dmft_loss.get(ti).copied().flatten()),
            ));
        }
        sum.push_str(&format!(
            "{w},{},{},{},{},{}\n",
            opt_csv(r.deviation[wi]),
            opt_csv(r.loss_rel_error[wi]),
            opt_csv(r.kernel_alignment[wi]),
            opt_csv(r.kernel_deviation[wi]),
            r.diverged[wi]
        ));
    }
    let mut out = vec![("loss".into(), loss), ("summary".into(), sum)];
    if !r.contrast.is_empty() {
        let mut c = String::from("param,width,step,mean_loss\n");
        for curves in &r.contrast {
            for (wi, w) in r.widths.iter().enumerate() {
                for (ti, t) in r.steps.iter().enumerate() {
                    let l = curves.mean_loss[wi].get(ti).copied().flatten();
                    c.push_str(&format!("{},{w},{t},{}\n", curves.param, opt_csv(l)));
                }
            }
        }
        out.push(("contrast".into(), c));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_is_the_fitted_law_at_the_sample_count() {
        let mut c = WidthConvergenceConfig {
            widths: vec![10, 100, 1000],
            ..Default::default()
        };
        c.dmft.samples = 10_000;
        // deviation(N) = 1/N exactly: each network sits at sqrt(1/N) above a zero DMFT
        let mut cells: Vec<WidthCell> = c
            .widths
            .iter()
            .map(|&w| WidthCell::Network {
                width: w,
                steps: vec![0, 1],
                loss: vec![vec![Some((1.0 / w as f64).sqrt()); 2]],
                phi: vec![],
                diverged: false,
            })
            .collect();
        cells.push(WidthCell::Dmft {
            loss: vec![0.0, 0.0],
            phi: vec![],
        });
        let r = c.assemble(&cells).unwrap();
        assert!((r.slope.unwrap() + 1.0).abs() < 1e-9);
        let floor = r.dmft_floor.unwrap();
        assert!((floor - 1e-4).abs() < 1e-12, "{floor}");
    }
}
