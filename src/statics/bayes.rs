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
use super::linalg::frobenius;
use super::nngp_posterior::{GpPosterior, gp_regression, nngp_gram, split_gram};
use super::saddle::{SaddleConfig, SaddleResult};
use crate::config::{Activation, Parameterization};
use crate::data::{DataConfig, Teacher};
use crate::error::{Error, Result, check_positive, check_range};
use crate::progress::Progress;
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

/// A config small enough to run in a few seconds.
pub fn bayes_preset() -> crate::run::RunConfig {
    crate::run::RunConfig::Bayes(BayesConfig::default())
}

impl BayesConfig {
    pub fn validate(&self) -> Result<()> {
        self.data.validate()?;
        check_positive("gamma0", self.gamma0)?;
        check_positive("beta", self.beta)?;
        if self.widths.is_empty() || self.widths.len() > 16 {
            return Err(Error::config("widths", "1 to 16 widths"));
        }
        for w in &self.widths {
            check_range("widths[]", *w, 1, crate::config::MAX_WIDTH)?;
        }
        self.langevin(
            self.widths[0],
            Parameterization::Mup {
                gamma0: self.gamma0,
            },
        )
        .validate()?;
        self.saddle.validate()
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

/// Run the experiment.
pub fn run(cfg: &BayesConfig, progress: &dyn Progress) -> Result<BayesResult> {
    cfg.validate()?;
    let data = cfg.data.load()?;
    let (p, pt) = (data.p_train(), data.p_test());
    let gram = nngp_gram(cfg.activation, 1, &data)?;
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
        &data,
        cfg.gamma0,
        cfg.beta,
        Some(&gram),
        &cfg.saddle,
        progress,
    )?;
    let mut runs = Vec::new();
    for &width in &cfg.widths {
        for param in [
            Parameterization::Mup { gamma0: cfg.gamma0 },
            Parameterization::Ntk { gamma0: cfg.gamma0 },
        ] {
            let name = param.name().to_string();
            let lc = cfg.langevin(width, param);
            let l = sample(&lc, &data, progress)?;
            runs.push(BayesRun {
                width,
                param: name,
                kernel_dist_saddle: rel_dist(&l.kernels[0], &saddle.phi),
                kernel_dist_nngp: rel_dist(&l.kernels[0], &k_tr),
                test_dist_saddle: rms(&l.mean_test, &saddle.posterior.mean_test),
                test_dist_nngp: rms(&l.mean_test, &nngp.mean_test),
                langevin: l,
            });
        }
    }
    Ok(BayesResult {
        nngp_kernel: k_tr,
        nngp,
        saddle,
        runs,
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
