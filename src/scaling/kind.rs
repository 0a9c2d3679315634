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
use super::laws::envelope;
use super::result::{
    FiniteRecord, Point, ScalingCell, ScalingCurve, ScalingResult, SizeSweep, TheoryCurve,
    TheoryLaws, csv, laws, stats,
};
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

fn size(v: usize) -> Option<usize> {
    (v > 0).then_some(v)
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
