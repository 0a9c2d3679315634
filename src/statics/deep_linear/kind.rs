//! The `deep_linear` kind: the muP statics of deep linear networks at any depth, the
//! closed form of [`super::solve`] against Langevin-sampled finite networks.
//!
//! Cell 0 holds the theory: for every depth `L` and inverse temperature `beta`, the
//! overlap `c = y^T H^L y` and the per-layer overlaps `c_l = (1 - chi)^l` along a grid of
//! `gamma0` (unit target, whitened inputs). Every further cell samples one `(depth, beta,
//! gamma0)` of `samples` with finite muP networks of width `N` on `points` whitened
//! points: per layer, the overlap `u^T H^l u` along the target and the mean eigenvalue
//! orthogonal to it (prior value 1), averaged over the chain and the seeds, with standard
//! errors over the seeds.

use super::corrections::{isotropic_dataset, overlaps};
use super::solve;
use crate::budget::{Cost, JSON_BYTES_PER_NUMBER, saturate};
use crate::config::{Activation, Parameterization};
use crate::error::{Error, Result, check_range};
use crate::experiments::stats::opt_csv;
use crate::kind::{Kind, Sweep, check_cells, check_len, run_sweep};
use crate::progress::Progress;
use crate::statics::langevin::{LangevinConfig, mean_se, sample};
use serde::{Deserialize, Serialize};

/// Theory curves and Langevin samples of deep linear muP networks.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DeepLinearConfig {
    /// Hidden layers L.
    pub depths: Vec<usize>,
    /// Inverse temperatures beta of the summed loss.
    pub betas: Vec<f64>,
    /// The theory curves' gamma0 grid (>= 0).
    pub gamma0s: Vec<f64>,
    /// gamma0 of the sampled networks (each at every depth and beta).
    pub sample_gamma0s: Vec<f64>,
    /// Width N of the sampled networks.
    pub width: usize,
    /// Training points P (= input dimension D; whitened, unit target).
    pub points: usize,
    /// Langevin time step eta.
    pub lr: f64,
    pub burn_in: usize,
    /// Sampling steps after the burn-in.
    pub steps: usize,
    pub every: usize,
    pub seeds: usize,
    pub seed: u64,
}

impl Default for DeepLinearConfig {
    /// Depths 1 and 2, one sampled gamma0 at width 64 (a few seconds).
    fn default() -> Self {
        DeepLinearConfig {
            depths: vec![1, 2],
            betas: vec![10.0],
            gamma0s: (0..=30).map(|k| k as f64 * 0.1).collect(),
            sample_gamma0s: vec![1.0],
            width: 64,
            points: 4,
            lr: 0.2,
            burn_in: 500,
            steps: 2000,
            every: 10,
            seeds: 8,
            seed: 0,
        }
    }
}

/// The closed form along the gamma0 grid at one depth and beta.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeepLinearCurve {
    pub depth: usize,
    pub beta: f64,
    /// `c` per gamma0.
    pub c: Vec<f64>,
    /// `c_layers[layer][gamma0]`, `l = 1..=L`.
    pub c_layers: Vec<Vec<f64>>,
}

/// Langevin-sampled networks at one `(depth, beta, gamma0)`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeepLinearSample {
    pub depth: usize,
    pub beta: f64,
    pub gamma0: f64,
    pub width: usize,
    /// Per layer: `u^T H^l u` (mean over seeds of the chain averages) and its standard
    /// error.
    pub overlap: Vec<f64>,
    pub overlap_se: Vec<f64>,
    /// Per layer: the mean eigenvalue orthogonal to the target, and its standard error.
    pub orthogonal: Vec<f64>,
    pub orthogonal_se: Vec<f64>,
    /// The closed form's `c_l`.
    pub theory: Vec<f64>,
}

/// One cell: the theory (cell 0) or one sample.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "part", rename_all = "snake_case", deny_unknown_fields)]
pub enum DeepLinearCell {
    Theory { curves: Vec<DeepLinearCurve> },
    Sample(DeepLinearSample),
}

/// The result: theory curves and samples.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeepLinearResult {
    pub gamma0s: Vec<f64>,
    pub curves: Vec<DeepLinearCurve>,
    pub samples: Vec<DeepLinearSample>,
}

impl DeepLinearConfig {
    /// `(depth, beta, gamma0)` of sample cell `k >= 1` (gamma0 fastest, then beta).
    fn sample_of(&self, k: usize) -> (usize, f64, f64) {
        let (nb, ng) = (self.betas.len(), self.sample_gamma0s.len());
        let i = k - 1;
        (
            self.depths[i / (nb * ng)],
            self.betas[(i / ng) % nb],
            self.sample_gamma0s[i % ng],
        )
    }

    fn langevin(&self, depth: usize, beta: f64, gamma0: f64) -> LangevinConfig {
        LangevinConfig {
            width: self.width,
            depth,
            activation: Activation::Linear,
            param: Parameterization::Mup { gamma0 },
            beta,
            lr: self.lr,
            burn_in: self.burn_in,
            steps: self.steps,
            every: self.every,
            seeds: self.seeds,
            seed: self.seed,
            exact_prior: true,
        }
    }

    fn samples(&self) -> usize {
        self.depths.len() * self.betas.len() * self.sample_gamma0s.len()
    }

    fn theory(&self) -> Result<Vec<DeepLinearCurve>> {
        let mut curves = vec![];
        for &depth in &self.depths {
            for &beta in &self.betas {
                let sols = self
                    .gamma0s
                    .iter()
                    .map(|&g| solve(g, beta, depth))
                    .collect::<Result<Vec<_>>>()?;
                curves.push(DeepLinearCurve {
                    depth,
                    beta,
                    c: sols.iter().map(|s| s.c).collect(),
                    c_layers: (0..depth)
                        .map(|l| sols.iter().map(|s| s.c_layers[l]).collect())
                        .collect(),
                });
            }
        }
        Ok(curves)
    }
}

impl Kind for DeepLinearConfig {
    type Output = DeepLinearResult;

    fn validate(&self) -> Result<()> {
        check_range("depths (count)", self.depths.len(), 1, 8)?;
        for (i, &d) in self.depths.iter().enumerate() {
            check_range(&format!("depths[{i}]"), d, 1, 32)?;
        }
        check_range("betas (count)", self.betas.len(), 1, 8)?;
        for (i, &b) in self.betas.iter().enumerate() {
            check_range(&format!("betas[{i}]"), b, 1e-3, 1e6)?;
        }
        check_range("gamma0s (count)", self.gamma0s.len(), 1, 1000)?;
        for (i, &g) in self.gamma0s.iter().enumerate() {
            check_range(&format!("gamma0s[{i}]"), g, 0.0, 100.0)?;
        }
        check_range("sample_gamma0s (count)", self.sample_gamma0s.len(), 0, 16)?;
        for (i, &g) in self.sample_gamma0s.iter().enumerate() {
            check_range(&format!("sample_gamma0s[{i}]"), g, 1e-3, 100.0)?;
        }
        check_range("points", self.points, 1, 256)?;
        check_cells(self.cells(), "1 + depths x betas x sample_gamma0s")?;
        for &d in &self.depths {
            for &b in &self.betas {
                self.langevin(d, b, 1.0).validate().map_err(|e| {
                    e.map_field(|f| {
                        if f == "depth" {
                            "depths".into()
                        } else {
                            f.into()
                        }
                    })
                })?;
            }
        }
        Ok(())
    }

    /// Cell 0: the curves. A sample cell: the whitened data (`[P x P]` inputs), one
    /// Langevin ensemble of `seeds` deep linear networks (f32 weights, Langevin state
    /// and activations) and its records (losses, outputs `[P]` and every layer's kernel
    /// `[P x P]` per seed and record), then the per-seed averages. The result: the
    /// curves and, per sample, four numbers per layer.
    fn cost(&self) -> Cost {
        let depth = self.depths.iter().copied().max().unwrap_or(1);
        let (p, n, s) = (self.points as f64, self.width as f64, self.seeds as f64);
        let l = depth as f64;
        let records = ((self.burn_in + self.steps) / self.every.max(1) + 2) as f64;
        let params = n * p + (l - 1.0) * n * n + n;
        let training = 4.0 * s * (3.0 * params + 4.0 * l * n * p)
            + 8.0 * records * s * (2.0 + p + 2.0 * l * p * p)
            + 8.0 * (2.0 * p * p + p);
        let averages = 8.0 * l * (s + 2.0) * p * p;
        let cell = training + averages;
        let curves =
            (self.depths.len() * self.betas.len()) as f64 * self.gamma0s.len() as f64 * (1.0 + l);
        let result = curves + self.samples() as f64 * (4.0 * l + 4.0);
        let flops =
            6.0 * (self.burn_in + self.steps) as f64 * s * p * params * self.samples() as f64;
        Cost {
            bytes: saturate(cell + 16.0 * result),
            cell_bytes: saturate(cell),
            json_bytes: saturate(JSON_BYTES_PER_NUMBER * result),
            flops,
        }
    }

    fn run(&self, progress: &dyn Progress) -> Result<DeepLinearResult> {
        run_sweep(self, progress)
    }

    fn csv(&self, out: &DeepLinearResult) -> Vec<(String, String)> {
        out.csv()
    }
}

impl Sweep for DeepLinearConfig {
    type Cell = DeepLinearCell;

    /// The theory, then every `(depth, beta, gamma0)` sample.
    fn cells(&self) -> usize {
        1 + self.samples()
    }

    fn run_cell(&self, k: usize, progress: &dyn Progress) -> Result<DeepLinearCell> {
        if k == 0 {
            return Ok(DeepLinearCell::Theory {
                curves: self.theory()?,
            });
        }
        let (depth, beta, gamma0) = self.sample_of(k);
        let data = isotropic_dataset(self.points, 1.0 / self.points as f64)?;
        let u: Vec<f64> = data.y_train.clone();
        let r = sample(&self.langevin(depth, beta, gamma0), &data, progress)?;
        let theory = solve(gamma0, beta, depth)?.c_layers;
        let (mut overlap, mut overlap_se, mut orthogonal, mut orthogonal_se) =
            (vec![], vec![], vec![], vec![]);
        for l in 0..depth {
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
        Ok(DeepLinearCell::Sample(DeepLinearSample {
            depth,
            beta,
            gamma0,
            width: self.width,
            overlap,
            overlap_se,
            orthogonal,
            orthogonal_se,
            theory,
        }))
    }

    fn check_cell(&self, k: usize, cell: &DeepLinearCell) -> Result<()> {
        match (k, cell) {
            (0, DeepLinearCell::Theory { curves }) => {
                check_len("curves", curves.len(), self.depths.len() * self.betas.len())?;
                for c in curves {
                    check_len("curves[].c", c.c.len(), self.gamma0s.len())?;
                    check_len("curves[].c_layers", c.c_layers.len(), c.depth)?;
                }
                Ok(())
            }
            (1.., DeepLinearCell::Sample(s)) => {
                let (depth, ..) = self.sample_of(k);
                for (name, v) in [
                    ("overlap", &s.overlap),
                    ("overlap_se", &s.overlap_se),
                    ("orthogonal", &s.orthogonal),
                    ("orthogonal_se", &s.orthogonal_se),
                    ("theory", &s.theory),
                ] {
                    check_len(name, v.len(), depth)?;
                }
                Ok(())
            }
            (0, _) => Err(Error::config("part", "theory (cell 0)")),
            _ => Err(Error::config("part", "sample")),
        }
    }

    fn assemble(&self, cells: &[DeepLinearCell]) -> Result<DeepLinearResult> {
        check_len("cells", cells.len(), self.cells())?;
        let Some(DeepLinearCell::Theory { curves }) = cells.first() else {
            return Err(Error::config("cells[0]", "the theory"));
        };
        Ok(DeepLinearResult {
            gamma0s: self.gamma0s.clone(),
            curves: curves.clone(),
            samples: cells[1..]
                .iter()
                .filter_map(|c| match c {
                    DeepLinearCell::Sample(s) => Some(s.clone()),
                    DeepLinearCell::Theory { .. } => None,
                })
                .collect(),
        })
    }
}

impl DeepLinearResult {
    /// CSV tables: `curves` (depth, beta, gamma0, layer, c_l; layer = depth is c) and
    /// `samples` (depth, beta, gamma0, width, layer, overlap, se, orthogonal, se,
    /// theory).
    pub fn csv(&self) -> Vec<(String, String)> {
        let mut curves = String::from("depth,beta,gamma0,layer,c_layer\n");
        for c in &self.curves {
            for (l, row) in c.c_layers.iter().enumerate() {
                for (g, v) in self.gamma0s.iter().zip(row) {
                    curves.push_str(&format!("{},{},{g},{},{v}\n", c.depth, c.beta, l + 1));
                }
            }
        }
        let mut samples = String::from(
            "depth,beta,gamma0,width,layer,overlap,overlap_se,orthogonal,orthogonal_se,theory\n",
        );
        for s in &self.samples {
            for l in 0..s.overlap.len() {
                samples.push_str(&format!(
                    "{},{},{},{},{},{},{},{},{},{}\n",
                    s.depth,
                    s.beta,
                    s.gamma0,
                    s.width,
                    l + 1,
                    s.overlap[l],
                    s.overlap_se[l],
                    opt_csv(s.orthogonal.get(l).copied()),
                    opt_csv(s.orthogonal_se.get(l).copied()),
                    opt_csv(s.theory.get(l).copied()),
                ));
            }
        }
        vec![("curves".into(), curves), ("samples".into(), samples)]
    }
}
