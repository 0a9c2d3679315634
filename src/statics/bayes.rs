//! The `bayes` experiment: Langevin-sampled two-layer networks against their two
//! infinite-width limits as the width grows.
//!
//! - muP (`f = w . phi / (gamma0 N)`, fixed `gamma0`): the sampled kernels and
//!   predictions approach the saddle point of [`super::saddle`];
//! - NTK (`f = w . phi / (gamma sqrt N)`, fixed `gamma = gamma0`): they approach the NNGP
//!   posterior of [`super::nngp_posterior`].
//!
//! At `gamma0 = O(1)` the two limits differ: the muP kernel aligns with the target.

use super::langevin::{LangevinConfig, LangevinResult, sample};
use super::nngp_posterior::{GpPosterior, gp_regression, nngp_gram, split_gram};
use super::saddle::{SaddleConfig, SaddleResult};
use crate::budget::{Cost, JSON_BYTES_PER_NUMBER, saturate};
use crate::config::{Activation, Parameterization};
use crate::data::{DataConfig, Teacher};
use crate::error::{Error, Result, check_positive, check_range};
use crate::kind::{Kind, Sweep, check_len, run_sweep};
use crate::linalg::frobenius;
use crate::progress::Progress;
use crate::theory::kernels::recursion_matrices;
use serde::{Deserialize, Serialize};

/// Config of the `bayes` experiment.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct BayesConfig {
    pub data: DataConfig,
    pub activation: Activation,
    /// Richness gamma0 of the muP runs and fixed output scale gamma of the NTK runs.
    pub gamma0: f64,
    /// Inverse temperature of the summed loss (engine temperature 1 / (beta P)).
    pub beta: f64,
    /// Widths N of the sampled networks.
    pub widths: Vec<usize>,
    /// Langevin time step eta.
    pub lr: f64,
    pub burn_in: usize,
    /// Sampling steps after the burn-in.
    pub steps: usize,
    pub every: usize,
    pub seeds: usize,
    pub seed: u64,
    pub saddle: SaddleConfig,
}

impl Default for BayesConfig {
    fn default() -> Self {
        BayesConfig {
            data: DataConfig::Teacher {
                teacher: Teacher::SingleIndex,
                dim: 8,
                train: 6,
                test: 16,
                noise: 0.0,
                seed: 0,
            },
            activation: Activation::Relu,
            gamma0: 1.0,
            beta: 10.0,
            widths: vec![64, 256],
            lr: 0.5,
            burn_in: 500,
            steps: 1500,
            every: 10,
            seeds: 8,
            seed: 0,
            saddle: SaddleConfig::default(),
        }
    }
}

impl BayesConfig {
    /// The two parameterisations sampled at every width: muP at fixed gamma0 (its limit
    /// is the saddle point) and NTK at fixed gamma = gamma0 (its limit is the NNGP).
    fn params(&self) -> [Parameterization; 2] {
        [
            Parameterization::Mup {
                gamma0: self.gamma0,
            },
            Parameterization::Ntk {
                gamma0: self.gamma0,
            },
        ]
    }

    /// Width and parameterisation of sampling cell `k >= 1`.
    fn sample_of(&self, k: usize) -> (usize, Parameterization) {
        let [mup, ntk] = self.params();
        let width = self.widths[(k - 1) / 2];
        (width, if (k - 1).is_multiple_of(2) { mup } else { ntk })
    }

    fn langevin(&self, width: usize, param: Parameterization) -> LangevinConfig {
        LangevinConfig {
            width,
            depth: 1,
            activation: self.activation,
            param,
            beta: self.beta,
            lr: self.lr,
            burn_in: self.burn_in,
            steps: self.steps,
            every: self.every,
            seeds: self.seeds,
            seed: self.seed,
            exact_prior: true,
        }
    }
}

/// One cell of the `bayes` sweep: the two limits (cell 0), or one sampled width and
/// parameterisation (cells `1..`, widths in order, muP then NTK at each).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "part", rename_all = "snake_case", deny_unknown_fields)]
#[allow(clippy::large_enum_variant)]
pub enum BayesCell {
    Limits {
        nngp_kernel: Vec<f64>,
        nngp: GpPosterior,
        saddle: SaddleResult,
    },
    Sample {
        width: usize,
        param: String,
        langevin: LangevinResult,
    },
}

/// One sampled width and parameterisation, compared with both limits.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct BayesRun {
    pub width: usize,
    /// "mup" or "ntk".
    pub param: String,
    pub langevin: LangevinResult,
    /// `|Phi_N - Phi_limit|_F / |Phi_limit|_F` on the training points.
    pub kernel_dist_saddle: f64,
    pub kernel_dist_nngp: f64,
    /// RMS difference of the test predictions.
    pub test_dist_saddle: f64,
    pub test_dist_nngp: f64,
}

/// Result of the `bayes` experiment.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct BayesResult {
    /// NNGP kernel on the training points `[P x P]`.
    pub nngp_kernel: Vec<f64>,
    /// NNGP posterior (variances at gamma = gamma0).
    pub nngp: GpPosterior,
    pub saddle: SaddleResult,
    pub runs: Vec<BayesRun>,
}

fn rel_dist(a: &[f64], b: &[f64]) -> f64 {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    frobenius(&d) / frobenius(b).max(1e-300)
}

fn rms(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() {
        return 0.0;
    }
    (a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>() / a.len() as f64).sqrt()
}

impl Kind for BayesConfig {
    type Output = BayesResult;

    fn validate(&self) -> Result<()> {
        self.data.validate()?;
        check_positive("gamma0", self.gamma0)?;
        check_positive("beta", self.beta)?;
        check_range("widths (count)", self.widths.len(), 1, 16)?;
        for (i, w) in self.widths.iter().enumerate() {
            check_range(&format!("widths[{i}]"), *w, 1, crate::config::MAX_WIDTH)?;
        }
        for param in self.params() {
            self.langevin(self.widths[0], param).validate()?;
        }
        self.saddle.validate()
    }

    /// Cell 0: the data, the NNGP over `n = P + P_test` points (its recursion's `[n x n]`
    /// matrices, then the Gram matrix kept) and the saddle point
    /// ([`SaddleConfig::solve_bytes`]: its samples over all `n` points, every replica);
    /// the other cells: one Langevin ensemble each ([`LangevinConfig::sample_cost`]).
    /// Every cell's result is held until assembly, and then beside the result (which
    /// copies them).
    fn cost(&self) -> Cost {
        let shape = crate::budget::shape_of(&self.data);
        let data = crate::budget::dataset_bytes(shape);
        let (d, c, p, pt) = shape;
        let (d, c, p, pt) = (d as f64, c as f64, p as f64, pt as f64);
        let n = p + pt;
        let nngp = recursion_matrices(1, false) * n * n + n * d;
        let saddle = 8.0 * (n * n + p * p + pt * p) + self.saddle.solve_bytes(p, pt, d, c);
        let limits = data + (8.0 * nngp).max(saddle);
        let mut cell = Cost {
            bytes: saturate(limits),
            ..Default::default()
        };
        let [mup, ntk] = self.params();
        for &w in &self.widths {
            for param in [&mup, &ntk] {
                cell = cell.then(self.langevin(w, param.clone()).sample_cost(shape));
            }
        }
        let runs = 2.0 * self.widths.len() as f64;
        let sample_numbers = self.langevin(1, mup).result_numbers(p, pt, c);
        let cells = p * p
            + 2.0 * (p + pt) * c
            + self.saddle.result_numbers(p, pt, c)
            + runs * sample_numbers;
        let result = cells + 4.0 * runs;
        Cost {
            bytes: cell.bytes.saturating_add(saturate(8.0 * (cells + result))),
            cell_bytes: cell.bytes,
            json_bytes: saturate(
                JSON_BYTES_PER_NUMBER * result + crate::budget::payload_json_bytes(&self.data),
            ),
            flops: cell.flops + self.saddle.samples as f64 * n * n * self.saddle.iterations as f64,
        }
    }

    fn run(&self, progress: &dyn Progress) -> Result<BayesResult> {
        run_sweep(self, progress)
    }

    fn csv(&self, out: &BayesResult) -> Vec<(String, String)> {
        out.csv()
    }
}

impl Sweep for BayesConfig {
    type Cell = BayesCell;

    /// The limits, then muP and NTK at each width.
    fn cells(&self) -> usize {
        1 + 2 * self.widths.len()
    }

    fn run_cell(&self, k: usize, progress: &dyn Progress) -> Result<BayesCell> {
        let data = self.data.load()?;
        if k == 0 {
            return limits(self, &data, progress);
        }
        let (width, param) = self.sample_of(k);
        let name = param.name().to_string();
        let langevin = sample(&self.langevin(width, param), &data, progress)?;
        Ok(BayesCell::Sample {
            width,
            param: name,
            langevin,
        })
    }

    /// Cell 0 holds the limits, with consistent sizes; the others the width and
    /// parameterisation of their index and at least one kernel.
    fn check_cell(&self, k: usize, cell: &BayesCell) -> Result<()> {
        match (k, cell) {
            (
                0,
                BayesCell::Limits {
                    nngp_kernel,
                    nngp,
                    saddle,
                },
            ) => {
                let m = nngp.mean_test.len();
                if nngp.outputs == 0 {
                    return Err(Error::config("nngp.outputs", "at least 1"));
                }
                let per_point = nngp.var_test.len().checked_mul(nngp.outputs);
                check_len(
                    "nngp.var_test (times outputs)",
                    per_point.unwrap_or(usize::MAX),
                    m,
                )?;
                check_len(
                    "saddle.posterior.mean_test",
                    saddle.posterior.mean_test.len(),
                    m,
                )?;
                check_len("saddle.phi", saddle.phi.len(), nngp_kernel.len())
            }
            (
                1..,
                BayesCell::Sample {
                    width,
                    param,
                    langevin,
                },
            ) => {
                let (w, p) = self.sample_of(k);
                if *width != w || param != p.name() {
                    return Err(Error::config(
                        "part",
                        format!("the sample at width {w} under {}", p.name()),
                    ));
                }
                if langevin.kernels.is_empty() {
                    return Err(Error::config("langevin.kernels", "at least one layer"));
                }
                Ok(())
            }
            (0, _) => Err(Error::config("part", "limits (cell 0)")),
            _ => Err(Error::config("part", "sample")),
        }
    }

    fn assemble(&self, cells: &[BayesCell]) -> Result<BayesResult> {
        check_len("cells", cells.len(), self.cells())?;
        let Some(BayesCell::Limits {
            nngp_kernel,
            nngp,
            saddle,
        }) = cells.first()
        else {
            return Err(Error::config("cells[0]", "the limits"));
        };
        let runs = cells[1..]
            .iter()
            .filter_map(|c| match c {
                BayesCell::Sample {
                    width,
                    param,
                    langevin,
                } => Some(BayesRun {
                    width: *width,
                    param: param.clone(),
                    kernel_dist_saddle: rel_dist(&langevin.kernels[0], &saddle.phi),
                    kernel_dist_nngp: rel_dist(&langevin.kernels[0], nngp_kernel),
                    test_dist_saddle: rms(&langevin.mean_test, &saddle.posterior.mean_test),
                    test_dist_nngp: rms(&langevin.mean_test, &nngp.mean_test),
                    langevin: langevin.clone(),
                }),
                BayesCell::Limits { .. } => None,
            })
            .collect();
        Ok(BayesResult {
            nngp_kernel: nngp_kernel.clone(),
            nngp: nngp.clone(),
            saddle: saddle.clone(),
            runs,
        })
    }
}

/// Cell 0: the NNGP posterior (variances at gamma = gamma0) and the muP saddle point.
fn limits(
    cfg: &BayesConfig,
    data: &crate::data::Dataset,
    progress: &dyn Progress,
) -> Result<BayesCell> {
    let (p, pt) = (data.p_train(), data.p_test());
    let gram = nngp_gram(cfg.activation, 1, data)?;
    let (k_tr, k_cross, k_diag) = split_gram(&gram, p, pt);
    let nngp = gp_regression(
        &k_tr,
        &k_cross,
        &k_diag,
        &data.y_train,
        data.outputs,
        1.0 / cfg.beta,
        1.0 / (cfg.gamma0 * cfg.gamma0),
    )?;
    let saddle = super::saddle::solve(
        cfg.activation,
        data,
        cfg.gamma0,
        cfg.beta,
        Some(&gram),
        &cfg.saddle,
        progress,
    )?;
    Ok(BayesCell::Limits {
        nngp_kernel: k_tr,
        nngp,
        saddle,
    })
}

impl BayesResult {
    /// CSV tables: distances per width, test predictions, saddle convergence history.
    pub fn csv(&self) -> Vec<(String, String)> {
        let mut widths = String::from(
            "width,param,kernel_dist_saddle,kernel_dist_nngp,test_dist_saddle,test_dist_nngp\n",
        );
        for r in &self.runs {
            widths.push_str(&format!(
                "{},{},{},{},{},{}\n",
                r.width,
                r.param,
                r.kernel_dist_saddle,
                r.kernel_dist_nngp,
                r.test_dist_saddle,
                r.test_dist_nngp
            ));
        }
        let mut pred = String::from("point,output,nngp_mean,nngp_sd,saddle_mean");
        for r in &self.runs {
            pred.push_str(&format!(
                ",{}_{}_mean,{}_{}_se",
                r.param, r.width, r.param, r.width
            ));
        }
        pred.push('\n');
        let c = self.nngp.outputs.max(1);
        for i in 0..self.nngp.mean_test.len() {
            let (pt, o) = (i / c, i % c);
            pred.push_str(&format!(
                "{pt},{o},{},{},{}",
                self.nngp.mean_test[i],
                self.nngp.var_test[pt].sqrt(),
                self.saddle.posterior.mean_test[i]
            ));
            for r in &self.runs {
                let m = r.langevin.mean_test.get(i).copied().unwrap_or(f64::NAN);
                let e = r.langevin.se_test.get(i).copied().unwrap_or(f64::NAN);
                pred.push_str(&format!(",{m},{e}"));
            }
            pred.push('\n');
        }
        let mut hist = String::from("iteration,gamma0,rel_change,action,ess_fraction\n");
        for h in &self.saddle.history {
            hist.push_str(&format!(
                "{},{},{},{},{}\n",
                h.iteration, h.gamma0, h.rel_change, h.action, h.ess_fraction
            ));
        }
        vec![
            ("bayes_widths".into(), widths),
            ("bayes_predictions".into(), pred),
            ("bayes_saddle".into(), hist),
        ]
    }
}
