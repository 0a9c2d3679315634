//! The `bayes_data` kind: Bayesian one-hidden-layer networks on a real data set (the
//! shipped digits, or any CSV), their test loss and test error under the NNGP posterior
//! (fixed gamma, docs/theory.md section 5.2), the muP saddle point at several gamma0
//! (section 5.3) and Langevin-sampled muP networks (section 5.1) at the same gamma0.
//!
//! The talk claims the muP limit "performs much better than NNGP on CIFAR"; this kind
//! measures the same comparison on whatever data it is given, and reports it as it
//! comes out. Every method predicts with its posterior mean: GP regression with the NNGP
//! kernel; `Phi(x, X) (Phi + I / beta)^{-1} y` with the saddle point's kernel; the mean
//! over `S` seeds of the networks' final outputs (independent posterior samples; a muP
//! network's output concentrates, its posterior variance is `O(1 / (gamma0^2 N))`). Test
//! loss `(1 / 2P_test) sum |f - y|^2`, for the networks less the seed mean's own scatter
//! `Var(f) / S` (estimated from the seeds: an unbiased estimate of the posterior mean's
//! loss); test error the fraction of test points whose largest output is not the
//! target's (one-hot targets, `C >= 2`; none for one output; for the networks, of the
//! seed mean, slightly pessimistic at small `gamma0 N`).
//!
//! The saddle point's tilted averages are importance sampled ([`super::saddle`]); on
//! high-dimensional inputs the weights can degenerate, so each saddle reports its
//! effective sample size, and the figure says when it is too small to trust.

use super::langevin::LangevinConfig;
use super::nngp_posterior::{gp_regression, nngp_gram, split_gram};
use super::saddle::SaddleConfig;
use crate::budget::{Cost, JSON_BYTES_PER_NUMBER, saturate};
use crate::config::{Activation, Parameterization};
use crate::data::{DataConfig, Dataset};
use crate::error::{Error, Result, check_range};
use crate::experiments::stats::opt_csv;
use crate::kind::{Kind, Sweep, check_cells, run_sweep};
use crate::progress::Progress;
use serde::{Deserialize, Serialize};

/// Bayesian networks on a data set: the NNGP, muP saddle points and Langevin networks.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct BayesDataConfig {
    pub data: DataConfig,
    pub activation: Activation,
    /// Inverse temperature of the summed loss.
    pub beta: f64,
    /// Richness values of the sampled muP networks.
    pub gamma0s: Vec<f64>,
    /// Richness values of the saddle points (each a minute or so on 300 digits).
    pub saddle_gamma0s: Vec<f64>,
    /// Width of the sampled networks (0: no sampling).
    pub width: usize,
    /// Langevin time step, steps and seeds.
    pub lr: f64,
    pub burn_in: usize,
    pub steps: usize,
    pub seeds: usize,
    pub seed: u64,
    pub saddle: SaddleConfig,
}

impl Default for BayesDataConfig {
    /// Digits 0 and 1: 40 training and 40 test images, beta = 10 (a few seconds).
    fn default() -> Self {
        BayesDataConfig {
            data: DataConfig::Digits {
                train: 40,
                test: 40,
                classes: vec![0, 1],
                seed: 0,
            },
            activation: Activation::Relu,
            beta: 10.0,
            gamma0s: vec![0.3, 1.0],
            saddle_gamma0s: vec![0.3],
            width: 128,
            lr: 0.2,
            burn_in: 200,
            steps: 400,
            seeds: 8,
            seed: 0,
            saddle: SaddleConfig {
                samples: 2000,
                ..Default::default()
            },
        }
    }
}

/// One method's posterior-mean predictor on the data.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MethodScore {
    /// "nngp", "saddle" or "langevin".
    pub method: String,
    /// gamma0 (null for the NNGP, whose mean does not depend on it).
    pub gamma0: Option<f64>,
    /// Width of the sampled networks.
    pub width: Option<usize>,
    /// (null when the method failed)
    pub train_loss: Option<f64>,
    pub test_loss: Option<f64>,
    /// Fraction of misclassified test points (one-hot targets only).
    pub test_error: Option<f64>,
    /// Saddle points: whether the last stage converged, and the effective sample size of
    /// the importance weights at the solution as a fraction of the samples.
    pub converged: Option<bool>,
    pub ess_fraction: Option<f64>,
    /// Why the method has no score (a saddle point whose solver failed).
    pub failed: Option<String>,
}

/// The scores of every method.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BayesDataResult {
    pub points: usize,
    pub test_points: usize,
    pub outputs: usize,
    pub beta: f64,
    pub scores: Vec<MethodScore>,
}

/// Mean and unbiased variance over rows (seeds), entry by entry (variance 0 for one row).
fn mean_var(rows: &[&Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
    let s = rows.len();
    let len = rows.first().map_or(0, |r| r.len());
    let mut m = vec![0.0; len];
    for r in rows {
        for (a, v) in m.iter_mut().zip(r.iter()) {
            *a += v / s as f64;
        }
    }
    let mut var = vec![0.0; len];
    if s > 1 {
        for r in rows {
            for ((e, v), mu) in var.iter_mut().zip(r.iter()).zip(&m) {
                *e += (v - mu) * (v - mu) / (s - 1) as f64;
            }
        }
    }
    (m, var)
}

/// `(1 / 2n) sum |f - y|^2` over `n` rows of `c` outputs.
fn loss(f: &[f64], y: &[f64], c: usize) -> f64 {
    let n = y.len() / c.max(1);
    f.iter().zip(y).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / (2.0 * n.max(1) as f64)
}

/// The fraction of rows whose largest prediction is not the largest target (`C >= 2`).
pub fn class_error(f: &[f64], y: &[f64], c: usize) -> Option<f64> {
    if c < 2 || y.is_empty() || f.len() != y.len() {
        return None;
    }
    let argmax = |v: &[f64]| {
        v.iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
    };
    let n = y.len() / c;
    let wrong = (0..n)
        .filter(|&i| argmax(&f[i * c..(i + 1) * c]) != argmax(&y[i * c..(i + 1) * c]))
        .count();
    Some(wrong as f64 / n as f64)
}

impl BayesDataConfig {
    fn langevin(&self, gamma0: f64) -> LangevinConfig {
        LangevinConfig {
            width: self.width,
            depth: 1,
            activation: self.activation,
            param: Parameterization::Mup { gamma0 },
            beta: self.beta,
            lr: self.lr,
            burn_in: self.burn_in,
            steps: self.steps,
            every: self.steps.max(1),
            seeds: self.seeds,
            seed: self.seed,
            exact_prior: true,
        }
    }

    fn saddles(&self) -> usize {
        self.saddle_gamma0s.len()
    }

    fn samples(&self) -> usize {
        if self.width > 0 {
            self.gamma0s.len()
        } else {
            0
        }
    }

    fn score(
        &self,
        method: &str,
        gamma0: Option<f64>,
        data: &Dataset,
        train: &[f64],
        test: &[f64],
    ) -> MethodScore {
        let c = data.outputs;
        let has_test = data.p_test() > 0;
        MethodScore {
            method: method.into(),
            gamma0,
            width: None,
            train_loss: Some(loss(train, &data.y_train, c)),
            test_loss: has_test.then(|| loss(test, &data.y_test, c)),
            test_error: if has_test {
                class_error(test, &data.y_test, c)
            } else {
                None
            },
            converged: None,
            ess_fraction: None,
            failed: None,
        }
    }
}

impl Kind for BayesDataConfig {
    type Output = BayesDataResult;

    fn validate(&self) -> Result<()> {
        self.data.validate()?;
        check_range("beta", self.beta, 1e-3, 1e6)?;
        check_range("gamma0s (count)", self.gamma0s.len(), 0, 16)?;
        for (i, &g) in self.gamma0s.iter().enumerate() {
            check_range(&format!("gamma0s[{i}]"), g, 1e-3, 100.0)?;
        }
        check_range("saddle_gamma0s (count)", self.saddle_gamma0s.len(), 0, 16)?;
        for (i, &g) in self.saddle_gamma0s.iter().enumerate() {
            check_range(&format!("saddle_gamma0s[{i}]"), g, 1e-3, 100.0)?;
        }
        check_range("width", self.width, 0, crate::config::MAX_WIDTH)?;
        if self.width > 0 {
            // LangevinConfig checks 2 lr T < 1 at P = 1; the chain runs at P points
            let p = self.data.train_size().max(1);
            let mut probe = self.langevin(1.0);
            probe.beta *= p as f64;
            probe.validate()?;
        }
        self.saddle.validate()?;
        check_cells(self.cells(), "1 + saddle_gamma0s + gamma0s")
    }

    /// Cell 0: the data and the NNGP over `n = P + P_test` points (the kernel recursion's
    /// `[n x n]` matrices) and its GP solve; a saddle cell: the saddle point's samples
    /// and kernels ([`SaddleConfig::solve_bytes`]); a Langevin cell: one ensemble of
    /// muP networks recording only losses and outputs. The result is ten numbers per
    /// method.
    fn cost(&self) -> Cost {
        let shape = crate::budget::shape_of(&self.data);
        let data = crate::budget::dataset_bytes(shape);
        let (d, c, p, pt) = (
            shape.0 as f64,
            shape.1 as f64,
            shape.2 as f64,
            shape.3 as f64,
        );
        let n = p + pt;
        // the recursion holds about nine [n x n] arrays at its peak (input Gram, Sigma, Theta
        // old and new, E[phi phi], E[phi' phi'], the next Sigma, G and its accumulator)
        let nngp = 8.0 * (9.0 * n * n + n * d + 3.0 * (n * c + p * p));
        let saddle = if self.saddles() > 0 {
            8.0 * (n * n + p * p + pt * p) + self.saddle.solve_bytes(p, pt, d, c)
        } else {
            0.0
        };
        let mut cell = Cost {
            bytes: saturate(data + nngp.max(saddle)),
            ..Default::default()
        };
        if self.samples() > 0 {
            let mut tc = self.langevin(1.0).train_config(p as usize);
            tc.observe.kernels = false;
            let mut s = crate::nn::kind::train_cost_shaped(&tc, shape);
            s.bytes = s.bytes.saturating_add(saturate(data + 8.0 * 3.0 * n * c));
            cell = cell.then(s);
        }
        let result = 10.0 * self.cells() as f64;
        Cost {
            bytes: cell.bytes.saturating_add(saturate(16.0 * result)),
            cell_bytes: cell.bytes,
            json_bytes: saturate(
                JSON_BYTES_PER_NUMBER * result + crate::budget::payload_json_bytes(&self.data),
            ),
            flops: cell.flops * self.samples() as f64
                + (self.saddles() * self.saddle.samples * self.saddle.iterations) as f64 * n * n,
        }
    }

    fn run(&self, progress: &dyn Progress) -> Result<BayesDataResult> {
        run_sweep(self, progress)
    }

    fn csv(&self, out: &BayesDataResult) -> Vec<(String, String)> {
        let mut t = String::from(
            "method,gamma0,width,train_loss,test_loss,test_error,converged,ess_fraction,failed\n",
        );
        for s in &out.scores {
            t.push_str(&format!(
                "{},{},{},{},{},{},{},{},{}\n",
                s.method,
                opt_csv(s.gamma0),
                s.width.map_or(String::new(), |w| w.to_string()),
                opt_csv(s.train_loss),
                opt_csv(s.test_loss),
                opt_csv(s.test_error),
                s.converged.map_or(String::new(), |b| b.to_string()),
                opt_csv(s.ess_fraction),
                s.failed.as_deref().unwrap_or("").replace([',', '\n'], " "),
            ));
        }
        vec![("scores".into(), t)]
    }
}

impl Sweep for BayesDataConfig {
    type Cell = MethodScore;

    /// The NNGP, the saddle points, the sampled networks.
    fn cells(&self) -> usize {
        1 + self.saddles() + self.samples()
    }

    fn run_cell(&self, k: usize, progress: &dyn Progress) -> Result<MethodScore> {
        let data = self.data.load()?;
        let (p, pt) = (data.p_train(), data.p_test());
        if k == 0 {
            let gram = nngp_gram(self.activation, 1, &data)?;
            let (tr, cross, diag) = split_gram(&gram, p, pt);
            let post = gp_regression(
                &tr,
                &cross,
                &diag,
                &data.y_train,
                data.outputs,
                1.0 / self.beta,
                1.0,
            )?;
            return Ok(self.score("nngp", None, &data, &post.mean_train, &post.mean_test));
        }
        if k <= self.saddles() {
            let g = self.saddle_gamma0s[k - 1];
            let gram = nngp_gram(self.activation, 1, &data)?;
            let solved = super::saddle::solve(
                self.activation,
                &data,
                g,
                self.beta,
                Some(&gram),
                &self.saddle,
                progress,
            );
            let s = match solved {
                Ok(s) => s,
                Err(Error::Cancelled) => return Err(Error::Cancelled),
                // a solver that fails on these data is a result, said as such
                Err(e) => {
                    return Ok(MethodScore {
                        method: "saddle".into(),
                        gamma0: Some(g),
                        width: None,
                        train_loss: None,
                        test_loss: None,
                        test_error: None,
                        converged: Some(false),
                        ess_fraction: None,
                        failed: Some(e.to_string()),
                    });
                }
            };
            let mut score = self.score(
                "saddle",
                Some(g),
                &data,
                &s.posterior.mean_train,
                &s.posterior.mean_test,
            );
            score.converged = Some(s.converged);
            score.ess_fraction = s.history.last().map(|h| h.ess_fraction);
            return Ok(score);
        }
        let g = self.gamma0s[k - 1 - self.saddles()];
        let lc = self.langevin(g);
        let mut tc = lc.train_config(p);
        tc.observe.kernels = false;
        let res = crate::nn::train(&tc, &data, progress)?;
        let ok: Vec<usize> = (0..lc.seeds)
            .filter(|&s| res.diverged_at.get(s).is_none_or(Option::is_none))
            .collect();
        if ok.is_empty() {
            return Err(Error::Numerical(
                "Langevin sampling diverged (lower the learning rate)".into(),
            ));
        }
        let last = res.outputs.len().saturating_sub(1);
        let train: Vec<&Vec<f64>> = ok.iter().map(|&s| &res.outputs[last][s]).collect();
        let test: Vec<&Vec<f64>> = ok.iter().filter_map(|&s| res.test_outputs.get(s)).collect();
        let (train_mean, train_var) = mean_var(&train);
        let (test_mean, test_var) = mean_var(&test);
        let mut score = self.score("langevin", Some(g), &data, &train_mean, &test_mean);
        // The seed mean's own scatter, Var(f) / S, is removed from its squared error
        // (an unbiased estimate of the posterior mean's loss).
        let s = ok.len() as f64;
        if let Some(l) = score.train_loss.as_mut() {
            *l -= train_var.iter().sum::<f64>() / s / (2.0 * p.max(1) as f64);
        }
        if let Some(l) = score.test_loss.as_mut() {
            *l -= test_var.iter().sum::<f64>() / s / (2.0 * pt.max(1) as f64);
        }
        score.width = Some(self.width);
        Ok(score)
    }

    /// Cell 0 is the NNGP, then the saddle points and the samples, each at its gamma0.
    fn check_cell(&self, k: usize, cell: &MethodScore) -> Result<()> {
        let (want, g) = if k == 0 {
            ("nngp", None)
        } else if k <= self.saddles() {
            ("saddle", self.saddle_gamma0s.get(k - 1).copied())
        } else {
            (
                "langevin",
                self.gamma0s.get(k - 1 - self.saddles()).copied(),
            )
        };
        if cell.method != want || cell.gamma0 != g {
            return Err(Error::config("method", format!("{want} at gamma0 {g:?}")));
        }
        Ok(())
    }

    fn assemble(&self, cells: &[MethodScore]) -> Result<BayesDataResult> {
        crate::kind::check_len("cells", cells.len(), self.cells())?;
        let shape = crate::budget::shape_of(&self.data);
        Ok(BayesDataResult {
            points: shape.2 as usize,
            test_points: shape.3 as usize,
            outputs: shape.1 as usize,
            beta: self.beta,
            scores: cells.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_error_counts_argmax_mismatches() {
        let y = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0];
        let f = [0.9, 0.1, 0.6, 0.4, 0.2, -0.1];
        assert_eq!(class_error(&f, &y, 2), Some(1.0 / 3.0));
        assert_eq!(class_error(&f, &y, 1), None);
    }
}
