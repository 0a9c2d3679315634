//! The (gamma0, eta) landscape: how the optimal learning rate of a muP network moves as
//! the feature-learning strength gamma0 goes from lazy to ultra-rich (Atanasov, Meterez,
//! Simon & Pehlevan, ICLR 2025, "The optimization landscape of SGD across the feature
//! learning strength"; docs/theory.md section 3.7).
//!
//! Each cell is one `(depth, gamma0)`: full-batch GD on the centred output of a ReLU
//! MLP, many learning rates `eta` of a factor-2 grid trained as one batched run from the
//! same initialisation ([`train`]). Per learning rate it records the steps needed to
//! bring the loss to `threshold` times its initial value (interpolated between steps in
//! log loss), the final loss, and whether (and when) it diverged. The cell scans the
//! grid from the top down, `batch` rates at a time, and stops once `below_best` trained
//! rates below the best one are worse: the optimum is bracketed without training the
//! whole grid (rates left untrained are `null`; `below_best` as large as the grid
//! trains everything).
//!
//! The optimum at a gamma0 is the rate that reaches the threshold in the fewest steps
//! (among those that do not; by final loss if none does), refined by a parabola through
//! it and its two neighbours in log rate (the raw least final loss is biased in the lazy
//! regime: the best final losses sit at float32 noise, and catapults just above the
//! stability limit can end lowest). Per depth, least-squares power laws
//! `eta* ~ gamma0^slope` are fitted over `gamma0 <= lazy_max` and `gamma0 >= rich_min`
//! and compared with the predicted exponents: 0 lazy and `2/(L+1) - 2` rich (in our
//! units, raw rate `eta gamma0^2 N`; docs/theory.md section 3.7).

mod fit;
pub mod train;

pub use fit::{PowerLaw, fit_power_law, refine};

use super::stats::opt_csv;
use crate::budget::{Cost, JSON_BYTES_PER_NUMBER, saturate};
use crate::config::Activation;
use crate::data::{DataConfig, Teacher};
use crate::error::{Error, Result, check_positive, check_range};
use crate::kind::{Kind, Sweep, check_cells, check_len, run_sweep};
use crate::progress::Progress;
use serde::{Deserialize, Serialize};
use train::{LrBatch, LrTrace, batch_bytes, train_lrs};

/// A `(gamma0, eta)` landscape sweep.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LandscapeConfig {
    /// Training data (the test split is not used).
    pub data: DataConfig,
    /// Hidden width N.
    pub width: usize,
    /// Hidden layers L, one table each.
    pub depths: Vec<usize>,
    /// ReLU for the predicted rich exponent (it assumes a homogeneous activation).
    pub activation: Activation,
    /// Richness values, ascending (a log grid).
    pub gamma0s: Vec<f64>,
    /// Base learning rates eta, ascending (a factor-2 grid, see
    /// [`super::transfer::lr_grid`]); the raw rate is `eta gamma0^2 N`.
    pub lrs: Vec<f64>,
    /// GD steps.
    pub steps: usize,
    /// Initialisations per learning rate (their losses are averaged).
    pub seeds: usize,
    pub seed: u64,
    /// The optimum reaches `threshold * L(0)` in the fewest steps.
    pub threshold: f64,
    /// A run whose loss exceeds `divergence * L(0)`, or is not finite, has diverged.
    pub divergence: f64,
    /// Trained rates below the best that must be worse before the scan stops.
    pub below_best: usize,
    /// Learning rates per batched run.
    pub batch: usize,
    /// Points of the stored loss curve of each gamma0's optimum (log-spaced steps).
    pub records: usize,
    /// The lazy power law is fitted over `gamma0 <= lazy_max`.
    pub lazy_max: f64,
    /// The rich power law is fitted over `gamma0 >= rich_min`.
    pub rich_min: f64,
}

/// `count` values from `lo` to `hi`, evenly spaced in log.
pub fn log_grid(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    if count < 2 {
        return vec![lo];
    }
    (0..count)
        .map(|k| lo * (hi / lo).powf(k as f64 / (count - 1) as f64))
        .collect()
}

impl Default for LandscapeConfig {
    /// A small landscape: one hidden layer, width 32, gamma0 from 0.1 to 10.
    fn default() -> Self {
        LandscapeConfig {
            data: DataConfig::Teacher {
                teacher: Teacher::TwoLayer,
                dim: 8,
                train: 16,
                test: 0,
                noise: 0.0,
                seed: 1,
            },
            width: 32,
            depths: vec![1],
            activation: Activation::Relu,
            gamma0s: log_grid(0.1, 10.0, 5),
            lrs: super::transfer::lr_grid(1.0 / 64.0, 2.0, 12),
            steps: 100,
            seeds: 1,
            seed: 0,
            threshold: 0.05,
            divergence: 100.0,
            below_best: 2,
            batch: 6,
            records: 50,
            lazy_max: 0.3,
            rich_min: 3.0,
        }
    }
}

/// One learning rate of one cell.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LrOutcome {
    /// Steps to reach the threshold, interpolated in log loss (null if never).
    pub steps_to_threshold: Option<f64>,
    /// Loss after the last step (null if diverged).
    pub final_loss: Option<f64>,
    /// The step at which it diverged.
    pub diverged_at: Option<usize>,
}

/// One `(depth, gamma0)`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LandscapeCell {
    /// Per learning rate of the grid; null where the scan did not train it.
    pub outcomes: Vec<Option<LrOutcome>>,
    /// Index of the best trained rate.
    pub best: Option<usize>,
    /// The optimum refined by the parabola (the grid's best when no parabola fits).
    pub lr_star: Option<f64>,
    /// Loss curve of the best rate at the record steps (null past a divergence).
    pub curve: Vec<Option<f64>>,
}

/// One depth's grid and fits.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LandscapeTable {
    /// Hidden layers L.
    pub depth: usize,
    /// `final_loss[gamma0][lr]` (null: diverged or not trained).
    pub final_loss: Vec<Vec<Option<f64>>>,
    /// `steps_to_threshold[gamma0][lr]` (null: never reached, diverged or not trained).
    pub steps_to_threshold: Vec<Vec<Option<f64>>>,
    /// `diverged[gamma0][lr]`.
    pub diverged: Vec<Vec<bool>>,
    /// `trained[gamma0][lr]`.
    pub trained: Vec<Vec<bool>>,
    /// The grid's best rate per gamma0.
    pub best_lr: Vec<Option<f64>>,
    /// The refined optimum per gamma0.
    pub lr_star: Vec<Option<f64>>,
    /// Loss curves of each gamma0's optimum, `[gamma0][record]`.
    pub curves: Vec<Vec<Option<f64>>>,
    /// Fit over `gamma0 <= lazy_max`; predicted slope 0.
    pub lazy: Option<PowerLaw>,
    /// Fit over `gamma0 >= rich_min`; predicted slope `2/(L+1) - 2`.
    pub rich: Option<PowerLaw>,
    pub predicted_lazy: f64,
    pub predicted_rich: f64,
}

/// The landscape: one table per depth.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LandscapeResult {
    pub gamma0s: Vec<f64>,
    pub lrs: Vec<f64>,
    /// Steps at which the curves are recorded.
    pub record_steps: Vec<usize>,
    pub threshold: f64,
    pub tables: Vec<LandscapeTable>,
}

/// The predicted slope of `log eta*` against `log gamma0` in the rich regime, in our
/// units (raw rate `eta gamma0^2 N`), for `L` hidden layers: `2/(L+1) - 2`.
pub fn predicted_rich_slope(depth: usize) -> f64 {
    2.0 / (depth as f64 + 1.0) - 2.0
}

impl LandscapeConfig {
    /// `(depth index, gamma0 index)` of cell `k` (gamma0 fastest).
    fn split(&self, k: usize) -> (usize, usize) {
        (k / self.gamma0s.len(), k % self.gamma0s.len())
    }

    /// The steps the curves are recorded at: step 0 and up to `records` steps spaced
    /// evenly in log from 1 to `steps` (a plateau and the drop after it are both
    /// resolved on a log axis).
    pub fn record_steps(&self) -> Vec<usize> {
        let r = self.records.max(2);
        let t = self.steps.max(1) as f64;
        let mut v = vec![0];
        for k in 0..r {
            let s = t.powf(k as f64 / (r - 1) as f64).round() as usize;
            if v.last() != Some(&s) {
                v.push(s);
            }
        }
        v
    }

    /// The outcome of one trained rate from its trace.
    fn outcome(&self, tr: &LrTrace) -> LrOutcome {
        let l0 = tr.loss.first().copied().unwrap_or(f64::NAN);
        let thr = self.threshold * l0;
        let steps_to_threshold = if tr.diverged_at.is_some() {
            None
        } else {
            tr.loss.iter().position(|&l| l <= thr).map(|t| {
                if t == 0 {
                    return 0.0;
                }
                let (a, b) = (tr.loss[t - 1].ln(), tr.loss[t].max(1e-300).ln());
                let frac = if a > b { (a - thr.ln()) / (a - b) } else { 1.0 };
                (t - 1) as f64 + frac.clamp(0.0, 1.0)
            })
        };
        LrOutcome {
            steps_to_threshold,
            final_loss: if tr.diverged_at.is_some() {
                None
            } else {
                tr.loss.last().copied()
            },
            diverged_at: tr.diverged_at,
        }
    }

    fn validate_counts(&self) -> Result<()> {
        check_range("depths (count)", self.depths.len(), 1, 8)?;
        for (i, &d) in self.depths.iter().enumerate() {
            check_range(&format!("depths[{i}]"), d, 1, 16)?;
        }
        check_range("gamma0s (count)", self.gamma0s.len(), 1, 256)?;
        for (i, &g) in self.gamma0s.iter().enumerate() {
            check_range(&format!("gamma0s[{i}]"), g, 1e-6, 1e6)?;
        }
        check_range("lrs (count)", self.lrs.len(), 1, 64)?;
        for (i, &lr) in self.lrs.iter().enumerate() {
            check_range(&format!("lrs[{i}]"), lr, 1e-12, 1e12)?;
        }
        if self.lrs.windows(2).any(|w| w[1] <= w[0]) {
            return Err(Error::config("lrs", "strictly ascending learning rates"));
        }
        check_cells(self.cells(), "depths x gamma0s")
    }
}

impl Kind for LandscapeConfig {
    type Output = LandscapeResult;

    fn validate(&self) -> Result<()> {
        self.validate_counts()?;
        self.data.validate()?;
        check_range("width", self.width, 1, 4096)?;
        check_range("steps", self.steps, 1, 100_000)?;
        check_range("seeds", self.seeds, 1, 64)?;
        check_range("threshold", self.threshold, 1e-12, 1.0)?;
        check_range("divergence", self.divergence, 1.0, 1e12)?;
        check_range("below_best", self.below_best, 1, 64)?;
        check_range("batch", self.batch, 1, 64)?;
        check_range("records", self.records, 1, 10_000)?;
        check_positive("lazy_max", self.lazy_max)?;
        check_positive("rich_min", self.rich_min)?;
        Ok(())
    }

    /// A cell holds the data, one batched run of `batch x seeds` networks (weights,
    /// gradients, activations, loss traces) and its traces; all cells' outcomes are
    /// held until they are assembled, and the result holds three numbers per grid
    /// point plus the curves.
    fn cost(&self) -> Cost {
        let shape = crate::budget::shape_of(&self.data);
        let (d, c, p) = (shape.0 as usize, shape.1 as usize, shape.2 as usize);
        let depth = self.depths.iter().copied().max().unwrap_or(1);
        let members = self.batch.min(self.lrs.len()) * self.seeds;
        let data = crate::budget::dataset_bytes(shape);
        let traces = 8.0 * (self.lrs.len() * (self.steps + 1)) as f64;
        let cell = batch_bytes(members, self.width, depth, d, c, p, self.steps) + traces + data;
        let grid = (self.cells() * self.lrs.len()) as f64;
        let curves = (self.cells() * (self.record_steps().len() + 3)) as f64;
        let result = 4.0 * grid + curves + 8.0 * self.depths.len() as f64;
        let held = 8.0 * (2.0 * result);
        let layers = depth as f64 + 1.0;
        let params = (self.width * d) as f64
            + (layers - 2.0).max(0.0) * (self.width * self.width) as f64
            + (self.width * c) as f64;
        let runs = grid * self.seeds as f64;
        Cost {
            bytes: saturate(cell + held),
            cell_bytes: saturate(cell),
            json_bytes: saturate(
                JSON_BYTES_PER_NUMBER * result + crate::budget::payload_json_bytes(&self.data),
            ),
            flops: 6.0 * self.steps as f64 * runs * p as f64 * params,
        }
    }

    fn run(&self, progress: &dyn Progress) -> Result<LandscapeResult> {
        run_sweep(self, progress)
    }

    fn csv(&self, out: &LandscapeResult) -> Vec<(String, String)> {
        csv(out)
    }
}

impl Sweep for LandscapeConfig {
    type Cell = LandscapeCell;

    /// Depths x gamma0s.
    fn cells(&self) -> usize {
        self.depths.len() * self.gamma0s.len()
    }

    /// Scan the learning-rate grid of cell `k` from the top, `batch` rates per run,
    /// until `below_best` trained rates below the best are worse.
    fn run_cell(&self, k: usize, progress: &dyn Progress) -> Result<LandscapeCell> {
        let (di, gi) = self.split(k);
        let data = self.data.load()?;
        let n = self.lrs.len();
        let mut traces: Vec<Option<LrTrace>> = vec![None; n];
        let mut outcomes: Vec<Option<LrOutcome>> = vec![None; n];
        // the divergence bound is relative to L(0), the same for every rate
        let divergence = self.divergence * initial_loss(&data);
        let mut hi = n;
        while hi > 0 {
            let lo = hi.saturating_sub(self.batch);
            let batch = LrBatch {
                data: &data,
                width: self.width,
                depth: self.depths[di],
                activation: self.activation,
                gamma0: self.gamma0s[gi],
                lrs: &self.lrs[lo..hi],
                seeds: self.seeds,
                seed: self.seed,
                steps: self.steps,
                divergence,
            };
            for (i, tr) in train_lrs(&batch, progress)?.into_iter().enumerate() {
                outcomes[lo + i] = Some(self.outcome(&tr));
                traces[lo + i] = Some(tr);
            }
            hi = lo;
            if let Some(b) = best_index(&outcomes)
                && b >= hi + self.below_best
            {
                break;
            }
        }
        let best = best_index(&outcomes);
        let lr_star = best.map(|b| refine(&self.lrs, &outcomes, b));
        let steps = self.record_steps();
        let curve = match best.and_then(|b| traces[b].as_ref()) {
            Some(tr) => steps.iter().map(|&t| tr.loss.get(t).copied()).collect(),
            None => vec![None; steps.len()],
        };
        Ok(LandscapeCell {
            outcomes,
            best,
            lr_star,
            curve,
        })
    }

    fn check_cell(&self, _k: usize, cell: &LandscapeCell) -> Result<()> {
        check_len("outcomes", cell.outcomes.len(), self.lrs.len())?;
        check_len("curve", cell.curve.len(), self.record_steps().len())?;
        if let Some(b) = cell.best
            && b >= self.lrs.len()
        {
            return Err(Error::config("best", format!("< {}", self.lrs.len())));
        }
        Ok(())
    }

    fn assemble(&self, cells: &[LandscapeCell]) -> Result<LandscapeResult> {
        check_len("cells", cells.len(), self.cells())?;
        let ng = self.gamma0s.len();
        let tables = self
            .depths
            .iter()
            .enumerate()
            .map(|(di, &depth)| self.table(depth, &cells[di * ng..(di + 1) * ng]))
            .collect();
        Ok(LandscapeResult {
            gamma0s: self.gamma0s.clone(),
            lrs: self.lrs.clone(),
            record_steps: self.record_steps(),
            threshold: self.threshold,
            tables,
        })
    }
}

/// `L(0) = |y|^2 / (2P)`: the centred output starts at zero.
fn initial_loss(data: &crate::data::Dataset) -> f64 {
    data.y_train.iter().map(|v| v * v).sum::<f64>() / (2.0 * data.p_train() as f64)
}

/// The best trained, non-diverged rate: the fewest steps to the threshold; when none
/// reached it, the least final loss.
pub fn best_index(outcomes: &[Option<LrOutcome>]) -> Option<usize> {
    let ok = || {
        outcomes
            .iter()
            .enumerate()
            .filter_map(|(i, o)| o.as_ref().map(|o| (i, o)))
            .filter(|(_, o)| o.diverged_at.is_none())
    };
    let reached = ok()
        .filter_map(|(i, o)| o.steps_to_threshold.map(|s| (i, s)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    reached.map(|(i, _)| i).or_else(|| {
        ok().filter_map(|(i, o)| o.final_loss.map(|l| (i, l)))
            .filter(|(_, l)| l.is_finite())
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    })
}

impl LandscapeConfig {
    fn table(&self, depth: usize, cells: &[LandscapeCell]) -> LandscapeTable {
        let grid = |f: &dyn Fn(&Option<LrOutcome>) -> Option<f64>| -> Vec<Vec<Option<f64>>> {
            cells
                .iter()
                .map(|c| c.outcomes.iter().map(f).collect())
                .collect()
        };
        let lr_star: Vec<Option<f64>> = cells.iter().map(|c| c.lr_star).collect();
        let points = |keep: &dyn Fn(f64) -> bool| -> (Vec<f64>, Vec<f64>) {
            self.gamma0s
                .iter()
                .zip(&lr_star)
                .filter(|(g, l)| keep(**g) && l.is_some())
                .map(|(g, l)| (*g, l.unwrap_or(f64::NAN)))
                .unzip()
        };
        let (lg, ll) = points(&|g| g <= self.lazy_max);
        let (rg, rl) = points(&|g| g >= self.rich_min);
        LandscapeTable {
            depth,
            final_loss: grid(&|o| o.as_ref().and_then(|o| o.final_loss)),
            steps_to_threshold: grid(&|o| o.as_ref().and_then(|o| o.steps_to_threshold)),
            diverged: cells
                .iter()
                .map(|c| {
                    c.outcomes
                        .iter()
                        .map(|o| o.as_ref().is_some_and(|o| o.diverged_at.is_some()))
                        .collect()
                })
                .collect(),
            trained: cells
                .iter()
                .map(|c| c.outcomes.iter().map(Option::is_some).collect())
                .collect(),
            best_lr: cells.iter().map(|c| c.best.map(|b| self.lrs[b])).collect(),
            lr_star,
            curves: cells.iter().map(|c| c.curve.clone()).collect(),
            lazy: fit_power_law(&lg, &ll),
            rich: fit_power_law(&rg, &rl),
            predicted_lazy: 0.0,
            predicted_rich: predicted_rich_slope(depth),
        }
    }
}

/// CSV tables: `landscape` (one row per depth, gamma0 and learning rate), `optimum`
/// (per depth and gamma0), `fits` (per depth and regime) and `curves`.
pub fn csv(r: &LandscapeResult) -> Vec<(String, String)> {
    let mut grid = String::from("depth,gamma0,lr,trained,diverged,steps_to_threshold,final_loss\n");
    let mut opt = String::from("depth,gamma0,best_lr,lr_star\n");
    let mut fits = String::from("depth,regime,slope,slope_se,predicted,points\n");
    let mut curves = String::from("depth,gamma0,step,loss\n");
    for t in &r.tables {
        for (gi, g) in r.gamma0s.iter().enumerate() {
            for (li, lr) in r.lrs.iter().enumerate() {
                grid.push_str(&format!(
                    "{},{g},{lr},{},{},{},{}\n",
                    t.depth,
                    t.trained[gi][li],
                    t.diverged[gi][li],
                    opt_csv(t.steps_to_threshold[gi][li]),
                    opt_csv(t.final_loss[gi][li]),
                ));
            }
            opt.push_str(&format!(
                "{},{g},{},{}\n",
                t.depth,
                opt_csv(t.best_lr[gi]),
                opt_csv(t.lr_star[gi])
            ));
            for (s, l) in r.record_steps.iter().zip(&t.curves[gi]) {
                curves.push_str(&format!("{},{g},{s},{}\n", t.depth, opt_csv(*l)));
            }
        }
        for (name, fit, want) in [
            ("lazy", &t.lazy, t.predicted_lazy),
            ("rich", &t.rich, t.predicted_rich),
        ] {
            fits.push_str(&format!(
                "{},{name},{},{},{want},{}\n",
                t.depth,
                opt_csv(fit.as_ref().map(|f| f.slope)),
                opt_csv(fit.as_ref().map(|f| f.slope_se)),
                fit.as_ref().map_or(0, |f| f.points),
            ));
        }
    }
    vec![
        ("landscape".into(), grid),
        ("optimum".into(), opt),
        ("fits".into(), fits),
        ("curves".into(), curves),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(loss: &[f64], diverged_at: Option<usize>) -> LrTrace {
        LrTrace {
            loss: loss.to_vec(),
            diverged_at,
        }
    }

    #[test]
    fn steps_to_threshold_interpolate_in_log_loss() {
        let c = LandscapeConfig {
            threshold: 0.1,
            ..Default::default()
        };
        // L(0) = 1, threshold 0.1 = e^{-2.303}: crossed between steps 2 (e^-2) and 3 (e^-3)
        let l: Vec<f64> = (0..5).map(|t| (-(t as f64)).exp()).collect();
        let o = c.outcome(&trace(&l, None));
        let want = 2.0 + (10f64.ln() - 2.0);
        assert!((o.steps_to_threshold.unwrap() - want).abs() < 1e-12);
        assert_eq!(o.final_loss, Some(l[4]));
        let d = c.outcome(&trace(&l[..2], Some(1)));
        assert_eq!((d.steps_to_threshold, d.final_loss), (None, None));
    }

    #[test]
    fn best_prefers_reaching_the_threshold_then_low_loss() {
        let o = |s: Option<f64>, l: f64, d: Option<usize>| {
            Some(LrOutcome {
                steps_to_threshold: s,
                final_loss: Some(l),
                diverged_at: d,
            })
        };
        let v = vec![
            None,
            o(None, 1e-9, None),
            o(Some(40.0), 1e-3, None),
            o(Some(20.0), 1e-2, None),
            o(Some(5.0), 1e-1, Some(7)),
        ];
        assert_eq!(best_index(&v), Some(3));
        let none_reached = vec![o(None, 0.5, None), o(None, 0.2, None), None];
        assert_eq!(best_index(&none_reached), Some(1));
        assert_eq!(best_index(&[None, None]), None);
    }

    #[test]
    fn record_steps_are_log_spaced_from_zero_to_the_end() {
        let c = LandscapeConfig {
            steps: 500,
            records: 10,
            ..Default::default()
        };
        let s = c.record_steps();
        assert_eq!((s[0], s[1], *s.last().unwrap()), (0, 1, 500));
        assert!(s.windows(2).all(|w| w[1] > w[0]));
        assert!(s.len() <= 11);
    }
}
