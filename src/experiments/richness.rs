//! Richness sweep: gamma0 from lazy (gamma0 -> 0, the kernel regime, where the NTK
//! stays at its initial value) to rich (gamma0 = O(1) and above, where the kernels
//! move and align with the task). Per gamma0: loss curves, and the alignment of the
//! kernel K (the NTK or the last feature kernel Phi) with the target,
//!
//! ```text
//! A(K) = y^T K y / (|K|_F |y|^2)
//! ```
//!
//! at initialisation and at the end, and the relative kernel change
//! `|K(T) - K(0)|_F / |K(0)|_F`; both averaged over seeds.

use super::TrainingCells;
use super::stats::{finite, finite_mean, opt_csv};
use crate::budget::Cost;
use crate::config::TrainConfig;
use crate::error::{Error, Result, check_positive, check_range};
use crate::kind::{Kind, Sweep, check_len, run_sweep};
use crate::nn::observe::KernelSnapshot;
use crate::progress::Progress;
use serde::{Deserialize, Serialize};

/// Which kernel the alignment is measured on.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum AlignedKernel {
    /// The learning-rate-weighted empirical NTK.
    #[default]
    Ntk,
    /// The feature kernel Phi of the last hidden layer.
    Phi,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RichnessConfig {
    /// Everything but gamma0 (set per cell on the base parameterisation).
    pub base: TrainConfig,
    /// Richness values, lazy to rich.
    pub gamma0s: Vec<f64>,
    pub kernel: AlignedKernel,
    /// Number of points of the recorded loss curves (kernels only at the ends).
    pub records: usize,
}

impl Default for RichnessConfig {
    fn default() -> Self {
        let mut base = TrainConfig {
            steps: 200,
            seeds: 2,
            ..Default::default()
        };
        base.model.width = 256;
        base.model.centered = true;
        RichnessConfig {
            base,
            gamma0s: vec![0.01, 0.1, 0.5, 1.0, 2.0, 4.0],
            kernel: AlignedKernel::Ntk,
            records: 50,
        }
    }
}

/// One gamma0.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RichnessCell {
    pub steps: Vec<usize>,
    /// Mean over seeds at each record (null where every seed diverged).
    pub train_loss: Vec<Option<f64>>,
    pub test_loss: Vec<Option<f64>>,
    pub alignment_init: Option<f64>,
    pub alignment_final: Option<f64>,
    pub kernel_change: Option<f64>,
    pub diverged: bool,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RichnessResult {
    pub param: String,
    pub kernel: AlignedKernel,
    pub gamma0s: Vec<f64>,
    /// Recorded steps (the same for every gamma0 that did not diverge).
    pub steps: Vec<usize>,
    /// `train_loss[gamma0][record]`.
    pub train_loss: Vec<Vec<Option<f64>>>,
    pub test_loss: Vec<Vec<Option<f64>>>,
    /// `A(K(0))` and `A(K(T))` per gamma0.
    pub alignment_init: Vec<Option<f64>>,
    pub alignment_final: Vec<Option<f64>>,
    /// `|K(T) - K(0)|_F / |K(0)|_F` per gamma0.
    pub kernel_change: Vec<Option<f64>>,
    pub diverged: Vec<bool>,
}

/// `y^T K y / (|K|_F |y|^2)` for a `[P x P]` kernel.
pub fn alignment(k: &[f64], y: &[f64]) -> Option<f64> {
    let p = y.len();
    if k.len() != p * p {
        return None;
    }
    let mut yky = 0.0;
    for mu in 0..p {
        for nu in 0..p {
            yky += y[mu] * k[mu * p + nu] * y[nu];
        }
    }
    let kf = k.iter().map(|v| v * v).sum::<f64>().sqrt();
    let yy = y.iter().map(|v| v * v).sum::<f64>();
    finite(yky / (kf * yy))
}

impl RichnessConfig {
    fn every(&self) -> usize {
        (self.base.steps / self.records.max(1)).max(1)
    }

    /// The steps every cell records when no seed diverges: multiples of `every` and the
    /// last step.
    fn record_steps(&self) -> Vec<usize> {
        let t = self.base.steps;
        let mut v: Vec<usize> = (0..=t).step_by(self.every()).collect();
        if v.last() != Some(&t) {
            v.push(t);
        }
        v
    }
}

impl TrainingCells for RichnessConfig {
    fn base(&self) -> &TrainConfig {
        &self.base
    }

    fn training_cells(&self) -> usize {
        self.cells()
    }

    /// `c` (the base config, or it without data) set up as cell `k`.
    fn cell_from(&self, mut c: TrainConfig, k: usize) -> TrainConfig {
        c.param = c.param.with_gamma0(self.gamma0s[k]);
        c.observe.every = self.every();
        c.observe.test_loss = true;
        c.observe.outputs = false;
        c.observe.coords = false;
        c.observe.kernels = self.kernel == AlignedKernel::Phi;
        c.observe.ntk = self.kernel == AlignedKernel::Ntk;
        c
    }
}

impl Kind for RichnessConfig {
    type Output = RichnessResult;

    fn validate(&self) -> Result<()> {
        check_range("gamma0s (count)", self.gamma0s.len(), 1, 64)?;
        for (i, &g) in self.gamma0s.iter().enumerate() {
            check_positive(&format!("gamma0s[{i}]"), g)?;
        }
        check_range("records", self.records, 1, 10_000)?;
        self.base.data.validate().map_err(|e| e.within("base"))?;
        let light = self.base.without_data();
        let points = self.base.data.train_size();
        for k in 0..self.cells() {
            self.cell_from(light.clone(), k)
                .validate_setup(points)
                .map_err(|e| e.within("base"))?;
        }
        Ok(())
    }

    /// [`super::training_sweep_cost`] over every cell's training run (the aligned kernel at
    /// every record); a cell and its row of the result keep 3 numbers per record and 4
    /// more.
    fn cost(&self) -> Cost {
        let per_cell = 3.0 * self.record_steps().len() as f64 + 4.0;
        let cells = self.cells() as f64;
        self.training_cost(per_cell * cells, per_cell * cells)
    }

    fn run(&self, progress: &dyn Progress) -> Result<RichnessResult> {
        run_sweep(self, progress)
    }

    fn csv(&self, out: &RichnessResult) -> Vec<(String, String)> {
        csv(out)
    }
}

impl Sweep for RichnessConfig {
    type Cell = RichnessCell;

    fn cells(&self) -> usize {
        self.gamma0s.len()
    }

    fn run_cell(&self, k: usize, progress: &dyn Progress) -> Result<RichnessCell> {
        let c = self.cell_config(k)?;
        let data = c.data.load()?;
        let y = data.y_scalar();
        let r = crate::nn::train(&c, &data, progress)?;
        let pick = |snap: &KernelSnapshot| -> Vec<Vec<f64>> {
            match self.kernel {
                AlignedKernel::Ntk => snap.ntk.clone(),
                AlignedKernel::Phi => snap.phi.last().cloned().unwrap_or_default(),
            }
        };
        let diverged = r.any_diverged();
        let ran_to_end = r.steps.last() == Some(&c.steps);
        let (k0, kt) = match (r.kernels.first(), r.kernels.last()) {
            (Some(a), Some(b)) if ran_to_end => (pick(a), pick(b)),
            _ => (vec![], vec![]),
        };
        // Seeds that diverged have non-finite kernels; finite_mean skips them.
        let align = |ks: &[Vec<f64>]| finite_mean(ks.iter().filter_map(|k| alignment(k, &y)));
        let change = finite_mean(k0.iter().zip(&kt).map(|(a, b)| {
            let d = a.iter().zip(b).map(|(x, z)| (x - z).powi(2)).sum::<f64>();
            let n = a.iter().map(|x| x * x).sum::<f64>();
            (d / n).sqrt()
        }));
        Ok(RichnessCell {
            steps: r.steps.clone(),
            train_loss: r
                .train_loss
                .iter()
                .map(|row| finite_mean(row.iter().copied()))
                .collect(),
            test_loss: r
                .test_loss
                .iter()
                .map(|row| finite_mean(row.iter().copied()))
                .collect(),
            alignment_init: align(&k0),
            alignment_final: align(&kt),
            kernel_change: change,
            diverged,
        })
    }

    /// Its steps are a prefix of the record steps (a run whose every seed diverged
    /// stops early), with one loss per step (test losses only with a test split).
    fn check_cell(&self, _k: usize, cell: &RichnessCell) -> Result<()> {
        let want = self.record_steps();
        if cell.steps.len() > want.len() || cell.steps[..] != want[..cell.steps.len()] {
            return Err(Error::config(
                "steps",
                format!("a prefix of the record steps {want:?}"),
            ));
        }
        check_len("train_loss", cell.train_loss.len(), cell.steps.len())?;
        if !cell.test_loss.is_empty() {
            check_len("test_loss", cell.test_loss.len(), cell.steps.len())?;
        }
        Ok(())
    }

    fn assemble(&self, cells: &[RichnessCell]) -> Result<RichnessResult> {
        check_len("cells", cells.len(), self.cells())?;
        let steps = cells
            .iter()
            .map(|c| c.steps.clone())
            .max_by_key(Vec::len)
            .unwrap_or_default();
        let pad = |v: &Vec<Option<f64>>| {
            let mut v = v.clone();
            v.resize(steps.len(), None);
            v
        };
        Ok(RichnessResult {
            param: self.base.param.name().into(),
            kernel: self.kernel,
            gamma0s: self.gamma0s.clone(),
            train_loss: cells.iter().map(|c| pad(&c.train_loss)).collect(),
            test_loss: cells.iter().map(|c| pad(&c.test_loss)).collect(),
            steps,
            alignment_init: cells.iter().map(|c| c.alignment_init).collect(),
            alignment_final: cells.iter().map(|c| c.alignment_final).collect(),
            kernel_change: cells.iter().map(|c| c.kernel_change).collect(),
            diverged: cells.iter().map(|c| c.diverged).collect(),
        })
    }
}

/// CSV tables: `loss` (`gamma0,step,train_loss,test_loss`) and `alignment`
/// (`gamma0,alignment_init,alignment_final,kernel_change,diverged`).
pub fn csv(r: &RichnessResult) -> Vec<(String, String)> {
    let mut loss = String::from("gamma0,step,train_loss,test_loss\n");
    let mut align = String::from("gamma0,alignment_init,alignment_final,kernel_change,diverged\n");
    for (gi, g) in r.gamma0s.iter().enumerate() {
        for (ti, t) in r.steps.iter().enumerate() {
            loss.push_str(&format!(
                "{g},{t},{},{}\n",
                opt_csv(r.train_loss[gi].get(ti).copied().flatten()),
                opt_csv(r.test_loss[gi].get(ti).copied().flatten()),
            ));
        }
        align.push_str(&format!(
            "{g},{},{},{},{}\n",
            opt_csv(r.alignment_init[gi]),
            opt_csv(r.alignment_final[gi]),
            opt_csv(r.kernel_change[gi]),
            r.diverged[gi]
        ));
    }
    vec![("loss".into(), loss), ("alignment".into(), align)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_kernel_is_perfectly_aligned() {
        let y = [1.0, -2.0, 0.5];
        let k: Vec<f64> = (0..9).map(|i| y[i / 3] * y[i % 3]).collect();
        assert!((alignment(&k, &y).unwrap() - 1.0).abs() < 1e-12);
        let id: Vec<f64> = (0..9).map(|i| if i % 4 == 0 { 1.0 } else { 0.0 }).collect();
        // y^T I y / (sqrt(3) |y|^2) = 1 / sqrt(3)
        assert!((alignment(&id, &y).unwrap() - 1.0 / 3f64.sqrt()).abs() < 1e-12);
    }
}
