//! The `scaling_law` kind: loss curves of the solvable model over a grid of widths `N`,
//! data sizes `P` and richness `gamma0`, from the theory and from finite models with
//! seeds, and the scaling laws read off both (docs/theory.md section 7).
//!
//! Cells, each a pure function of the config and its index:
//! - cell 0: the laws from the theory (the time law at `N = P = infinity`, the width and
//!   data laws from the `t -> infinity` limit, the compute-optimal envelope);
//! - cells `1..=G`: the theory curve of each grid point `(N, P, gamma0)` (none where the
//!   theory does not reach: feature learning is solved at `N = P = infinity` only);
//! - then `seeds` finite models per grid point (none for `N = P = infinity`, and none
//!   for `N = infinity` with feature learning).
//!
//! With `seeds = 0` the run is the theory alone, which the page recomputes live.

use super::feature::{infinite_width_losses, simulate_rich};
use super::finite::{FiniteCurve, simulate};
use super::laws::{Envelope, Fit, Predicted, envelope, power_fit, power_fit_within, predicted};
use super::spectrum::Spectrum;
use super::theory::{Sizes, final_losses, infinite_loss, losses};
use crate::budget::{Cost, JSON_BYTES_PER_NUMBER, saturate};
use crate::error::{Error, Result, check_range};
use crate::kind::{Kind, Sweep, check_cells, check_len, run_sweep};
use crate::progress::{Progress, Silent, tick};
use serde::{Deserialize, Serialize};

/// Smallest time of the recorded curves (the top mode, `lambda_1 = 1`, learns at t ~ 1).
pub const T_MIN: f64 = 0.1;

/// Modes of the untruncated task on which the laws are fitted (by quadrature, a few
/// hundred nodes): the truncation at `M` modes bends every law once `t^(1/alpha)`, `N`
/// or `P` come within a few decades of `M` (the lost tail is `M^-(alpha beta)`).
pub const LAW_MODES: usize = 1 << 24;

/// A scaling-law computation (`kind = "scaling_law"`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ScalingConfig {
    /// Capacity exponent alpha > 1: feature eigenvalues `lambda_k = k^-alpha`.
    pub alpha: f64,
    /// Source exponent beta > 0: target power `lambda_k w*_k^2 = k^-(1 + alpha beta)`;
    /// `beta < 1` is a hard task (outside the kernel's RKHS).
    pub beta: f64,
    /// Number of feature modes M (the spectrum's truncation, the same in theory and
    /// finite models).
    pub modes: usize,
    /// Model sizes N (random features); 0 means infinite width.
    pub widths: Vec<usize>,
    /// Training set sizes P, reused at every step; 0 means infinite data (fresh data:
    /// gradient flow on the population loss).
    pub samples: Vec<usize>,
    /// Richness gamma0 of the features: 0 is the random-feature model (lazy); > 0 the
    /// features learn (mean-field two-layer model within the features' span).
    pub gamma0s: Vec<f64>,
    /// Last time of gradient flow (learning rate 1; `t` steps of small-step GD).
    pub t_max: f64,
    /// Number of log-spaced times from 0.1 to `t_max`.
    pub records: usize,
    /// Finite models per grid point (draws of the projection and the data); 0: theory
    /// only.
    pub seeds: usize,
    /// Master seed of the finite models' random streams.
    pub seed: u64,
}

impl Default for ScalingConfig {
    fn default() -> Self {
        ScalingConfig {
            alpha: 1.5,
            beta: 0.5,
            modes: 2048,
            widths: vec![16, 64, 256],
            samples: vec![0],
            gamma0s: vec![0.0],
            t_max: 1e4,
            records: 41,
            seeds: 2,
            seed: 0,
        }
    }
}

/// A theory curve: test and train loss at the config's times, and as `t -> infinity`
/// (`None`: not available, or divergent).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TheoryCurve {
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub test: Vec<f64>,
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub train: Vec<f64>,
    pub test_final: Option<f64>,
    pub train_final: Option<f64>,
}

/// Finite models of one grid point: mean and standard deviation over seeds.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FiniteStats {
    pub seeds: usize,
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub test: Vec<f64>,
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub test_std: Vec<f64>,
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub train: Vec<f64>,
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub train_std: Vec<f64>,
    /// As `t -> infinity` (random features: exact; feature learning: at `t_max`).
    pub test_final: Option<f64>,
    pub train_final: Option<f64>,
}

/// One grid point.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScalingCurve {
    /// N (`None`: infinite).
    pub width: Option<usize>,
    /// P (`None`: infinite).
    pub samples: Option<usize>,
    pub gamma0: f64,
    pub theory: Option<TheoryCurve>,
    pub finite: Option<FiniteStats>,
}

/// One law: the predicted exponent and the fitted ones.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Law {
    pub predicted: f64,
    /// Fitted to the theory.
    pub theory: Option<Fit>,
    /// Fitted to the finite models (mean over seeds).
    pub finite: Option<Fit>,
    /// Which curves the finite fit used, in words.
    pub finite_from: String,
}

/// A loss against a size (`t -> infinity`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct SizeSweep {
    pub size: Vec<f64>,
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub loss: Vec<f64>,
}

/// The laws at one gamma0. Exponents are positive for falling losses (`L ~ x^-e`); the
/// compute-optimal width's is positive for a growing `N* ~ C^e`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Laws {
    pub gamma0: f64,
    pub predicted: Predicted,
    /// `L ~ t^-e` at `N = P = infinity` (theory: fitted over `[t_max / 100, t_max]`;
    /// finite: the largest model, from t = 10 until its loss comes within a factor 3 of
    /// its final value).
    pub time: Law,
    /// `L(t = infinity) ~ N^-e` at `P = infinity`.
    pub width: Law,
    /// `L(t = infinity) ~ P^-e` at `N = infinity`.
    pub data: Law,
    /// `L*(C) ~ C^-e` on the compute-optimal frontier (`P = infinity`).
    pub compute_loss: Law,
    /// `N*(C) ~ C^e`.
    pub compute_width: Law,
    /// The theory's curve at `N = P = infinity` (the time bottleneck) of the untruncated
    /// task.
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub reference: Vec<f64>,
    /// The theory's `L(t = infinity)` against `N` and against `P` (random features,
    /// untruncated task).
    pub width_sweep: Option<SizeSweep>,
    pub data_sweep: Option<SizeSweep>,
    /// Compute-optimal envelopes: of theory curves at 4 widths per octave (random
    /// features, untruncated task), and of the finite models' mean curves.
    pub envelope_theory: Option<Envelope>,
    pub envelope_finite: Option<Envelope>,
}

/// The theory's part of the laws at one gamma0 (cell 0), on the untruncated task
/// ([`LAW_MODES`]).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TheoryLaws {
    pub gamma0: f64,
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub reference: Vec<f64>,
    pub width_sweep: Option<SizeSweep>,
    pub data_sweep: Option<SizeSweep>,
    pub envelope: Option<Envelope>,
}

/// One cell's result.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ScalingCell {
    Laws(Vec<TheoryLaws>),
    Theory(Option<TheoryCurve>),
    Finite(Option<FiniteRecord>),
}

/// A finite model's curves (a cell).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FiniteRecord {
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub test: Vec<f64>,
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub train: Vec<f64>,
    pub test_final: f64,
    pub train_final: f64,
}

/// The result.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScalingResult {
    /// The times of every curve.
    pub times: Vec<f64>,
    /// Every grid point, gamma0 slowest, then P, then N.
    pub curves: Vec<ScalingCurve>,
    /// The laws, one entry per gamma0.
    pub laws: Vec<Laws>,
}

/// A grid point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub width: Option<usize>,
    pub samples: Option<usize>,
    pub gamma0: f64,
}

fn size(v: usize) -> Option<usize> {
    (v > 0).then_some(v)
}

/// Largest size first counts infinity as the largest.
fn size_key(v: Option<usize>) -> usize {
    v.unwrap_or(usize::MAX)
}

impl ScalingConfig {
    /// The task.
    pub fn spectrum(&self) -> Spectrum {
        Spectrum {
            alpha: self.alpha,
            beta: self.beta,
            modes: self.modes,
        }
    }

    /// The recorded times, log-spaced from [`T_MIN`] to `t_max`.
    pub fn times(&self) -> Vec<f64> {
        let n = self.records.max(2);
        let (lo, hi) = (T_MIN.ln(), self.t_max.max(T_MIN).ln());
        (0..n)
            .map(|i| (lo + (hi - lo) * i as f64 / (n - 1) as f64).exp())
            .collect()
    }

    /// Every grid point, gamma0 slowest, then P, then N.
    pub fn grid(&self) -> Vec<Point> {
        let mut out = vec![];
        for &g in &self.gamma0s {
            for &p in &self.samples {
                for &n in &self.widths {
                    out.push(Point {
                        width: size(n),
                        samples: size(p),
                        gamma0: g,
                    });
                }
            }
        }
        out
    }

    /// Whether the theory describes a grid point.
    pub fn has_theory(pt: &Point) -> bool {
        pt.gamma0 == 0.0 || (pt.width.is_none() && pt.samples.is_none())
    }

    /// Whether a grid point has finite models.
    pub fn has_finite(pt: &Point) -> bool {
        match (pt.width, pt.samples) {
            (None, None) => false,
            (None, Some(_)) => pt.gamma0 == 0.0,
            _ => true,
        }
    }

    /// The finite sizes' range for the law sweeps (16..1024 without two finite sizes).
    fn sweep_range(&self, sizes: &[usize]) -> (f64, f64) {
        let finite: Vec<usize> = sizes.iter().copied().filter(|&v| v > 0).collect();
        if finite.len() < 2 {
            return (16.0, 1024.0);
        }
        let lo = finite.iter().copied().min().unwrap_or(16).max(1) as f64;
        let hi = finite.iter().copied().max().unwrap_or(1024) as f64;
        (lo, hi.max(lo * 2.0))
    }

    /// Grid of sizes, 4 per octave, from `lo` to `hi`.
    fn octaves(lo: f64, hi: f64) -> Vec<f64> {
        let steps = ((hi / lo).log2() * 4.0).round().max(1.0) as usize;
        (0..=steps)
            .map(|i| (lo * 2f64.powf(i as f64 / 4.0)).round())
            .collect()
    }

    fn theory_laws(&self, progress: &dyn Progress) -> Result<Vec<TheoryLaws>> {
        let spec = Spectrum {
            modes: self.modes.max(LAW_MODES),
            ..self.spectrum()
        };
        let nodes = spec.nodes();
        let times = self.times();
        let mut out = vec![];
        for &g in &self.gamma0s {
            let reference = if g == 0.0 {
                times.iter().map(|&t| infinite_loss(&nodes, t)).collect()
            } else {
                infinite_width_losses(&nodes, g, &times, 0.02, progress)?
            };
            let (mut width_sweep, mut data_sweep, mut env) = (None, None, None);
            if g == 0.0 {
                let sweep = |sizes: &[usize], as_width: bool| -> SizeSweep {
                    let (lo, hi) = self.sweep_range(sizes);
                    let size = Self::octaves(lo, hi);
                    let loss = size
                        .iter()
                        .map(|&s| {
                            let v = Some(s as usize);
                            let sz = if as_width {
                                Sizes::new(v, None)
                            } else {
                                Sizes::new(None, v)
                            };
                            final_losses(&nodes, sz).0
                        })
                        .collect();
                    SizeSweep { size, loss }
                };
                width_sweep = Some(sweep(&self.widths, true));
                data_sweep = Some(sweep(&self.samples, false));
                let (lo, hi) = self.sweep_range(&self.widths);
                let ws = Self::octaves(lo, hi);
                let mut curves = vec![];
                for (i, &n) in ws.iter().enumerate() {
                    tick(progress, "compute envelope", i as u64, ws.len() as u64)?;
                    let l = losses(&nodes, Sizes::new(Some(n as usize), None), &times)?;
                    curves.push((n, l.into_iter().map(|x| x.0).collect()));
                }
                env = Some(envelope(&times, &curves));
            }
            out.push(TheoryLaws {
                gamma0: g,
                reference,
                width_sweep,
                data_sweep,
                envelope: env,
            });
        }
        Ok(out)
    }

    fn theory_curve(&self, pt: &Point) -> Result<Option<TheoryCurve>> {
        if !Self::has_theory(pt) {
            return Ok(None);
        }
        let nodes = self.spectrum().nodes();
        let times = self.times();
        if pt.gamma0 > 0.0 {
            let test = infinite_width_losses(&nodes, pt.gamma0, &times, 0.02, &Silent)?;
            return Ok(Some(TheoryCurve {
                train: test.clone(),
                test,
                test_final: None,
                train_final: None,
            }));
        }
        let sz = Sizes::new(pt.width, pt.samples);
        let (test, train): (Vec<f64>, Vec<f64>) = if pt.width.is_none() && pt.samples.is_none() {
            let l: Vec<f64> = times.iter().map(|&t| infinite_loss(&nodes, t)).collect();
            (l.clone(), l)
        } else {
            losses(&nodes, sz, &times)?.into_iter().unzip()
        };
        let (tf, rf) = final_losses(&nodes, sz);
        Ok(Some(TheoryCurve {
            test,
            train,
            test_final: tf.is_finite().then_some(tf),
            train_final: rf.is_finite().then_some(rf),
        }))
    }

    fn finite_run(
        &self,
        pt: &Point,
        seed: usize,
        progress: &dyn Progress,
    ) -> Result<Option<FiniteRecord>> {
        if !Self::has_finite(pt) {
            return Ok(None);
        }
        let spec = self.spectrum();
        let times = self.times();
        let c: FiniteCurve = match (pt.gamma0 > 0.0, pt.width) {
            (true, Some(n)) => simulate_rich(
                &spec,
                n,
                pt.samples,
                pt.gamma0,
                self.seed,
                seed as u64,
                &times,
                progress,
            )?,
            _ => simulate(&spec, pt.width, pt.samples, self.seed, seed as u64, &times)?,
        };
        Ok(Some(FiniteRecord {
            test: c.test,
            train: c.train,
            test_final: c.test_final,
            train_final: c.train_final,
        }))
    }

    /// The peak bytes of one finite model (its draws and kernels).
    fn finite_bytes(&self, pt: &Point) -> f64 {
        if !Self::has_finite(pt) {
            return 0.0;
        }
        let m = self.modes as f64;
        let n = pt.width.map_or(0.0, |v| v as f64);
        let p = pt.samples.map_or(0.0, |v| v as f64);
        let floats = if pt.gamma0 > 0.0 {
            // A0 and its scaled copy, S, the data's Phi and kernel, the state [N + N^2]
            // and its five stages
            2.0 * n * m + p * m + p * n + 3.0 * n * n + 6.0 * (n + n * n)
        } else if pt.samples.is_none() {
            // B [N x M], Sigma_N and its reduction
            n * m + 2.0 * n * n
        } else if pt.width.is_none() {
            // Psi, the kernel, its eigenvectors, the test quadratic and its rotation
            2.0 * p * m + 5.0 * p * p
        } else if p <= n {
            // Psi, A, G, Y = G A / sqrt(N), its scaled copy, kernels
            2.0 * p * m + n * m + p * n + 5.0 * p * p
        } else {
            // Psi, A, G, B = A Lambda^(1/2), kernels
            p * m + 2.0 * n * m + p * n + 5.0 * n * n
        };
        8.0 * (floats + 4.0 * m)
    }
}

impl Kind for ScalingConfig {
    type Output = ScalingResult;

    fn validate(&self) -> Result<()> {
        check_range("alpha", self.alpha, 1.05, 8.0)?;
        check_range("beta", self.beta, 0.05, 8.0)?;
        check_range("modes", self.modes, 16, 1 << 20)?;
        check_range("widths (count)", self.widths.len(), 1, 16)?;
        for &n in &self.widths {
            check_range("widths[]", n, 0, 1 << 16)?;
        }
        check_range("samples (count)", self.samples.len(), 1, 16)?;
        for &p in &self.samples {
            check_range("samples[]", p, 0, 1 << 16)?;
        }
        check_range("gamma0s (count)", self.gamma0s.len(), 1, 8)?;
        for &g in &self.gamma0s {
            check_range("gamma0s[]", g, 0.0, 10.0)?;
        }
        check_range("t_max", self.t_max, 1.0, 1e8)?;
        check_range("records", self.records, 2, 400)?;
        check_range("seeds", self.seeds, 0, 64)?;
        check_cells(self.cells(), "widths x samples x gamma0s x seeds")?;
        Ok(())
    }

    /// Memory: the largest cell (a finite model's draws and kernels, or a theory solve's
    /// nodes and tables), per cell in flight, and the result (`~8 records` numbers per
    /// curve and seed); work: the products that form the kernels and their
    /// decompositions, and the theory's sums over nodes.
    fn cost(&self) -> Cost {
        let grid = self.grid();
        let r = self.records as f64;
        let per_finite = if self.seeds > 0 {
            grid.iter()
                .map(|pt| self.finite_bytes(pt))
                .fold(0.0, f64::max)
        } else {
            0.0
        };
        // the laws' untruncated task has the most nodes: 256 modes and 3 per bin
        let nodes =
            256.0 + 3.0 * ((self.modes.max(LAW_MODES) as f64 / 256.0).ln() / 1.1f64.ln()).ceil();
        // a Laplace-domain solve: per contour node its H_k and sums, the pair table; the
        // feature-learning solve: three copies of J [nodes x nodes] during a step
        let laplace = 8.0 * (40.0 * nodes * 2.0 + 20.0 * 40.0 * 4.0 + nodes * 8.0) * 1.5;
        let rich = if self.gamma0s.iter().any(|&g| g > 0.0) {
            8.0 * 3.0 * nodes * nodes
        } else {
            0.0
        };
        let cell = per_finite.max(laplace).max(rich);
        let curves = grid.len() as f64;
        let finite_cells =
            (grid.iter().filter(|p| Self::has_finite(p)).count() * self.seeds) as f64;
        let numbers = curves * (6.0 * r + 8.0)
            + finite_cells * (2.0 * r + 2.0)
            + self.gamma0s.len() as f64 * (r + 400.0);
        let m = self.modes as f64;
        let flops: f64 = grid
            .iter()
            .filter(|p| Self::has_finite(p))
            .map(|pt| {
                let n = pt.width.map_or(0.0, |v| v as f64);
                let p = pt.samples.map_or(0.0, |v| v as f64);
                let k = if p == 0.0 {
                    n
                } else if n == 0.0 {
                    p
                } else {
                    n.min(p)
                };
                (2.0 * (n + p) * k * m + 10.0 * k * k * k) * self.seeds as f64
            })
            .sum::<f64>()
            + curves * r * 20.0 * nodes * 50.0;
        Cost {
            bytes: saturate(cell + 8.0 * numbers * 2.0),
            cell_bytes: saturate(cell),
            json_bytes: saturate(JSON_BYTES_PER_NUMBER * numbers + 300.0),
            flops,
        }
    }

    fn run(&self, progress: &dyn Progress) -> Result<ScalingResult> {
        run_sweep(self, progress)
    }

    fn csv(&self, out: &ScalingResult) -> Vec<(String, String)> {
        csv(out)
    }
}

impl Sweep for ScalingConfig {
    type Cell = ScalingCell;

    fn cells(&self) -> usize {
        let g = self.grid();
        1 + g.len() + g.len() * self.seeds
    }

    fn run_cell(&self, k: usize, progress: &dyn Progress) -> Result<ScalingCell> {
        let grid = self.grid();
        if k == 0 {
            return Ok(ScalingCell::Laws(self.theory_laws(progress)?));
        }
        if k <= grid.len() {
            return Ok(ScalingCell::Theory(self.theory_curve(&grid[k - 1])?));
        }
        let f = k - 1 - grid.len();
        let (g, s) = (f / self.seeds.max(1), f % self.seeds.max(1));
        Ok(ScalingCell::Finite(self.finite_run(&grid[g], s, progress)?))
    }

    fn check_cell(&self, k: usize, cell: &ScalingCell) -> Result<()> {
        let grid = self.grid();
        let r = self.records.max(2);
        let curve = |what: &str, v: &[f64]| check_len(what, v.len(), r);
        match (k, cell) {
            (0, ScalingCell::Laws(l)) => {
                check_len("laws", l.len(), self.gamma0s.len())?;
                for x in l {
                    curve("reference", &x.reference)?;
                    for s in [&x.width_sweep, &x.data_sweep].into_iter().flatten() {
                        check_len("loss", s.loss.len(), s.size.len())?;
                    }
                    if let Some(e) = &x.envelope {
                        check_len("envelope.loss", e.loss.len(), e.compute.len())?;
                        check_len("envelope.width", e.width.len(), e.compute.len())?;
                    }
                }
                Ok(())
            }
            (k, ScalingCell::Theory(t)) if k >= 1 && k <= grid.len() => {
                if t.is_some() != Self::has_theory(&grid[k - 1]) {
                    return Err(Error::config(
                        "theory",
                        "a curve exactly where the theory applies",
                    ));
                }
                if let Some(t) = t {
                    curve("test", &t.test)?;
                    curve("train", &t.train)?;
                }
                Ok(())
            }
            (k, ScalingCell::Finite(f)) if k > grid.len() => {
                let g = (k - 1 - grid.len()) / self.seeds.max(1);
                if f.is_some() != Self::has_finite(&grid[g]) {
                    return Err(Error::config(
                        "finite",
                        "a run exactly where finite models exist",
                    ));
                }
                if let Some(f) = f {
                    curve("test", &f.test)?;
                    curve("train", &f.train)?;
                }
                Ok(())
            }
            _ => Err(Error::config(
                "cell",
                format!("the variant of cell {k} (laws, theory, finite)"),
            )),
        }
    }

    fn assemble(&self, cells: &[ScalingCell]) -> Result<ScalingResult> {
        check_len("cells", cells.len(), self.cells())?;
        let grid = self.grid();
        let times = self.times();
        let theory_laws = match &cells[0] {
            ScalingCell::Laws(l) => l.clone(),
            _ => return Err(Error::config("cells[0]", "the laws")),
        };
        let mut curves = vec![];
        for (gi, pt) in grid.iter().enumerate() {
            let theory = match &cells[1 + gi] {
                ScalingCell::Theory(t) => t.clone(),
                _ => {
                    return Err(Error::config(
                        format!("cells[{}]", 1 + gi),
                        "a theory curve",
                    ));
                }
            };
            let runs: Vec<&FiniteRecord> = (0..self.seeds)
                .filter_map(|s| match &cells[1 + grid.len() + gi * self.seeds + s] {
                    ScalingCell::Finite(f) => f.as_ref(),
                    _ => None,
                })
                .collect();
            curves.push(ScalingCurve {
                width: pt.width,
                samples: pt.samples,
                gamma0: pt.gamma0,
                theory,
                finite: stats(&runs),
            });
        }
        let laws = theory_laws
            .into_iter()
            .map(|tl| laws(self, &times, &curves, tl))
            .collect();
        Ok(ScalingResult {
            times,
            curves,
            laws,
        })
    }
}

/// Mean and standard deviation over seeds.
fn stats(runs: &[&FiniteRecord]) -> Option<FiniteStats> {
    if runs.is_empty() {
        return None;
    }
    let n = runs.len() as f64;
    let ms = |get: &dyn Fn(&FiniteRecord) -> &Vec<f64>| -> (Vec<f64>, Vec<f64>) {
        let len = get(runs[0]).len();
        (0..len)
            .map(|i| {
                let m = runs.iter().map(|r| get(r)[i]).sum::<f64>() / n;
                let v = runs.iter().map(|r| (get(r)[i] - m).powi(2)).sum::<f64>() / n;
                (m, v.sqrt())
            })
            .unzip()
    };
    let (test, test_std) = ms(&|r| &r.test);
    let (train, train_std) = ms(&|r| &r.train);
    let mean = |f: &dyn Fn(&FiniteRecord) -> f64| {
        let m = runs.iter().map(|r| f(r)).sum::<f64>() / n;
        m.is_finite().then_some(m)
    };
    Some(FiniteStats {
        seeds: runs.len(),
        test,
        test_std,
        train,
        train_std,
        test_final: mean(&|r| r.test_final),
        train_final: mean(&|r| r.train_final),
    })
}

/// The time law of a finite model over its time-limited stretch: from t = 10 to where the
/// loss comes within a factor 3 of its final value (the model or data bottleneck); at
/// least half a decade, else none.
fn time_limited_fit(times: &[f64], f: &FiniteStats) -> Option<Fit> {
    let floor = 3.0 * f.test_final.unwrap_or(0.0).max(0.0);
    let end = times
        .iter()
        .zip(&f.test)
        .take_while(|(_, l)| **l > floor)
        .map(|(t, _)| *t)
        .last()?;
    if end < 10.0 * 10f64.sqrt() {
        return None;
    }
    power_fit_within(times, &f.test, 10.0, end)
}

fn size_word(v: Option<usize>) -> String {
    v.map_or("inf".to_string(), |x| x.to_string())
}

fn describe(pt: &ScalingCurve) -> String {
    format!("N={} P={}", size_word(pt.width), size_word(pt.samples))
}

/// The laws at one gamma0: the theory's fits and the finite models'.
fn laws(cfg: &ScalingConfig, times: &[f64], curves: &[ScalingCurve], tl: TheoryLaws) -> Laws {
    let g = tl.gamma0;
    let pred = predicted(cfg.alpha, cfg.beta, g);
    let window = (cfg.t_max / 100.0, cfg.t_max);
    let mine: Vec<&ScalingCurve> = curves
        .iter()
        .filter(|c| c.gamma0 == g && c.finite.is_some())
        .collect();
    fn finite_of(c: &ScalingCurve) -> &FiniteStats {
        c.finite
            .as_ref()
            .expect("filtered to curves with finite models")
    }
    // time: the finite group with the largest N, then P
    let biggest = mine
        .iter()
        .max_by_key(|c| (size_key(c.width), size_key(c.samples)))
        .copied();
    let time = Law {
        predicted: pred.time,
        theory: power_fit_within(times, &tl.reference, window.0, window.1),
        finite: biggest.and_then(|c| time_limited_fit(times, finite_of(c))),
        finite_from: biggest.map(describe).unwrap_or_default(),
    };
    let final_of = |c: &ScalingCurve| {
        let f = finite_of(c);
        f.test_final.or(f.test.last().copied()).unwrap_or(f64::NAN)
    };
    // width: finite widths at the largest P
    let p_max = mine.iter().map(|c| size_key(c.samples)).max();
    let by_width: Vec<&ScalingCurve> = mine
        .iter()
        .filter(|c| Some(size_key(c.samples)) == p_max && c.width.is_some())
        .copied()
        .collect();
    let width_fit = (by_width.len() >= 2)
        .then(|| {
            let x: Vec<f64> = by_width
                .iter()
                .map(|c| c.width.unwrap_or(0) as f64)
                .collect();
            let y: Vec<f64> = by_width.iter().map(|c| final_of(c)).collect();
            power_fit(&x, &y)
        })
        .flatten();
    let upper = |s: &SizeSweep| {
        let (lo, hi) = (s.size[0], s.size[s.size.len() - 1]);
        power_fit_within(&s.size, &s.loss, (lo * hi).sqrt(), hi)
    };
    let width = Law {
        predicted: pred.width,
        theory: tl.width_sweep.as_ref().and_then(upper),
        finite: width_fit,
        finite_from: by_width
            .first()
            .map(|c| format!("P={}", size_word(c.samples)))
            .unwrap_or_default(),
    };
    // data: finite P at the largest N
    let n_max = mine.iter().map(|c| size_key(c.width)).max();
    let by_data: Vec<&ScalingCurve> = mine
        .iter()
        .filter(|c| Some(size_key(c.width)) == n_max && c.samples.is_some())
        .copied()
        .collect();
    let data_fit = (by_data.len() >= 2)
        .then(|| {
            let x: Vec<f64> = by_data
                .iter()
                .map(|c| c.samples.unwrap_or(0) as f64)
                .collect();
            let y: Vec<f64> = by_data.iter().map(|c| final_of(c)).collect();
            power_fit(&x, &y)
        })
        .flatten();
    let data = Law {
        predicted: pred.data,
        theory: tl.data_sweep.as_ref().and_then(upper),
        finite: data_fit,
        finite_from: by_data
            .first()
            .map(|c| format!("N={}", size_word(c.width)))
            .unwrap_or_default(),
    };
    // compute: the finite widths' mean curves at the largest P
    let env_finite = (by_width.len() >= 2).then(|| {
        let cs: Vec<(f64, Vec<f64>)> = by_width
            .iter()
            .map(|c| (c.width.unwrap_or(0) as f64, finite_of(c).test.clone()))
            .collect();
        envelope(times, &cs)
    });
    let flip = |f: Option<Fit>| {
        f.map(|mut f| {
            f.exponent = -f.exponent;
            f
        })
    };
    let from = by_width
        .first()
        .map(|c| format!("P={}", size_word(c.samples)))
        .unwrap_or_default();
    let compute_loss = Law {
        predicted: pred.compute_loss,
        theory: tl.envelope.as_ref().and_then(|e| e.loss_fit.clone()),
        finite: env_finite.as_ref().and_then(|e| e.loss_fit.clone()),
        finite_from: from.clone(),
    };
    let compute_width = Law {
        predicted: pred.compute_width,
        theory: flip(tl.envelope.as_ref().and_then(|e| e.width_fit.clone())),
        finite: flip(env_finite.as_ref().and_then(|e| e.width_fit.clone())),
        finite_from: from,
    };
    Laws {
        gamma0: g,
        predicted: pred,
        time,
        width,
        data,
        compute_loss,
        compute_width,
        reference: tl.reference,
        width_sweep: tl.width_sweep,
        data_sweep: tl.data_sweep,
        envelope_theory: tl.envelope,
        envelope_finite: env_finite,
    }
}

fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        String::new()
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(num).unwrap_or_default()
}

/// `scaling_curves`: one row per grid point, source and time; `scaling_laws`: one row
/// per gamma0 and law; `scaling_envelope`: the compute-optimal frontiers.
pub fn csv(r: &ScalingResult) -> Vec<(String, String)> {
    let size = size_word;
    let mut c = String::from("width,samples,gamma0,source,t,test,train,test_std,train_std\n");
    for cv in &r.curves {
        let head = format!("{},{},{}", size(cv.width), size(cv.samples), cv.gamma0);
        if let Some(t) = &cv.theory {
            for (i, time) in r.times.iter().enumerate() {
                c.push_str(&format!(
                    "{head},theory,{time},{},{},,\n",
                    num(t.test[i]),
                    num(t.train[i])
                ));
            }
        }
        if let Some(f) = &cv.finite {
            for (i, time) in r.times.iter().enumerate() {
                c.push_str(&format!(
                    "{head},finite,{time},{},{},{},{}\n",
                    num(f.test[i]),
                    num(f.train[i]),
                    num(f.test_std[i]),
                    num(f.train_std[i])
                ));
            }
        }
    }
    let mut l = String::from("gamma0,law,predicted,theory,finite,finite_from\n");
    let mut e = String::from("gamma0,source,compute,loss,width\n");
    for law in &r.laws {
        for (name, x) in [
            ("time", &law.time),
            ("width", &law.width),
            ("data", &law.data),
            ("compute_loss", &law.compute_loss),
            ("compute_width", &law.compute_width),
        ] {
            l.push_str(&format!(
                "{},{name},{},{},{},{}\n",
                law.gamma0,
                num(x.predicted),
                opt(x.theory.as_ref().map(|f| f.exponent)),
                opt(x.finite.as_ref().map(|f| f.exponent)),
                x.finite_from
            ));
        }
        for (src, env) in [
            ("theory", &law.envelope_theory),
            ("finite", &law.envelope_finite),
        ] {
            if let Some(env) = env {
                for i in 0..env.compute.len() {
                    e.push_str(&format!(
                        "{},{src},{},{},{}\n",
                        law.gamma0,
                        env.compute[i],
                        num(env.loss[i]),
                        env.width[i]
                    ));
                }
            }
        }
    }
    vec![
        ("scaling_curves".into(), c),
        ("scaling_laws".into(), l),
        ("scaling_envelope".into(), e),
    ]
}
