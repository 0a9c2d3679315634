//! Lazy (kernel) dynamics: full-batch GD on the centred output of an infinitely wide
//! network in the NTK regime, the gamma0 -> 0 limit of the DMFT.
//!
//! ```text
//! Delta(0)   = y,   Delta(t+1) = (I - eta K / P) Delta(t)          [P]
//! f(t)       = y - Delta(t)
//! f_test(t)  = K(X_test, X) sum_{s<t} (eta / P) Delta(s)           [P_test]
//! loss(t)    = (1/2P) |Delta(t)|^2
//! ```
//!
//! `K` is the NTK of the finite engine's normalisation: for the muP / mean-field network
//! with raw weights N(0, 1) it is the `sigma_w = 1` recursion of [`super::kernels`]
//! (the same for the NTK parameterisation); for a ResNet, the depth-muP kernel of
//! [`super::kernels::resnet_kernels`]. Cost `O(T P (P + P_test))`.

use super::kernels::{mlp_layer_kernels, recursion_matrices, resnet_kernels};
use crate::budget::{Cost, JSON_BYTES_PER_NUMBER, saturate};
use crate::config::{Arch, TrainConfig};
use crate::data::{Dataset, gram};
use crate::error::{Error, Result};
use crate::kind::Kind;
use crate::progress::{Progress, tick};
use serde::{Deserialize, Serialize};

/// Largest `T * P * (P + P_test)` a lazy run may cost.
pub const MAX_WORK: f64 = 2e10;

/// A loss above this counts as divergence.
pub const LOSS_LIMIT: f64 = 1e12;

/// Trajectory of kernel regression under GD.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct LazyResult {
    /// `loss[t] = (1/2P) |Delta(t)|^2`, `t = 0..=T`.
    pub loss: Vec<f64>,
    /// Test loss `(1/2 P_test) |f_test(t) - y_test|^2` (empty without a test split).
    pub test_loss: Vec<f64>,
    /// Recorded steps (every `observe.every`, and the last).
    pub record_steps: Vec<usize>,
    /// `outputs[record]`: centred `f` on the training set `[P]`.
    pub outputs: Vec<Vec<f64>>,
    /// `test_outputs[record]`: `f` on the test points `[P_test]`.
    pub test_outputs: Vec<Vec<f64>>,
    /// The NTK on the training set `[P x P]`.
    pub ntk: Vec<f64>,
}

/// The NTK of the infinite network on the training set `[P x P]` and between test and
/// training points `[P_test x P]`, for the model of `cfg` at initialisation.
pub fn lazy_ntk(cfg: &TrainConfig, data: &Dataset) -> Result<(Vec<f64>, Vec<f64>)> {
    let (p, pt, d) = (data.p_train(), data.p_test(), data.dim);
    let mut x = data.x_train.clone();
    x.extend_from_slice(&data.x_test);
    let n = p + pt;
    let kx = gram(&x, &x, d);
    let m = &cfg.model;
    let k = match m.arch {
        Arch::Mlp => mlp_layer_kernels(m.activation, m.depth, 1.0, &kx, n)?.ntk,
        Arch::Resnet => resnet_kernels(m.activation, m.depth, m.beta, &kx, n)?.ntk,
    };
    let mut train = vec![0.0; p * p];
    let mut cross = vec![0.0; pt * p];
    for i in 0..p {
        train[i * p..(i + 1) * p].copy_from_slice(&k[i * n..i * n + p]);
    }
    for i in 0..pt {
        cross[i * p..(i + 1) * p].copy_from_slice(&k[(p + i) * n..(p + i) * n + p]);
    }
    Ok((train, cross))
}

/// Kernel regression trajectory for `k [P x P]`, `k_test [P_test x P]`, targets `y [P]`,
/// test targets `y_test [P_test]` (may be empty), `steps` GD steps with rate `eta`,
/// recording every `every` steps.
#[allow(clippy::too_many_arguments)]
pub fn kernel_regression(
    k: &[f64],
    k_test: &[f64],
    y: &[f64],
    y_test: &[f64],
    eta: f64,
    steps: usize,
    every: usize,
    progress: &dyn Progress,
) -> Result<LazyResult> {
    let p = y.len();
    let pt = k_test.len() / p.max(1);
    if p == 0 || k.len() != p * p || k_test.len() != pt * p {
        return Err(Error::Data("kernel shapes do not match the targets".into()));
    }
    let work = steps as f64 * p as f64 * (p + pt) as f64;
    if work > MAX_WORK {
        return Err(Error::Budget(format!(
            "lazy dynamics cost T P (P + P_test) = {work:.2e} > {MAX_WORK:.0e}"
        )));
    }
    let every = every.max(1);
    let mut res = LazyResult {
        ntk: k.to_vec(),
        ..Default::default()
    };
    let mut delta = y.to_vec();
    let mut ft = vec![0.0; pt];
    let report = (steps / 100).max(1);
    for t in 0..=steps {
        let loss = delta.iter().map(|d| d * d).sum::<f64>() / (2.0 * p as f64);
        if !(loss.is_finite() && loss <= LOSS_LIMIT) {
            return Err(Error::Numerical(format!(
                "lazy dynamics diverged at step {t}: loss {loss:.3e} (eta too large for the kernel)"
            )));
        }
        res.loss.push(loss);
        if pt > 0 && y_test.len() == pt {
            let tl = ft
                .iter()
                .zip(y_test)
                .map(|(f, y)| (f - y).powi(2))
                .sum::<f64>();
            res.test_loss.push(tl / (2.0 * pt as f64));
        }
        if t % every == 0 || t == steps {
            res.record_steps.push(t);
            res.outputs
                .push(y.iter().zip(&delta).map(|(y, d)| y - d).collect());
            res.test_outputs.push(ft.clone());
        }
        if t == steps {
            break;
        }
        let c = eta / p as f64;
        for (i, f) in ft.iter_mut().enumerate() {
            *f += c * dot(&k_test[i * p..(i + 1) * p], &delta);
        }
        let kd: Vec<f64> = (0..p)
            .map(|i| dot(&k[i * p..(i + 1) * p], &delta))
            .collect();
        for (d, kd) in delta.iter_mut().zip(kd) {
            *d -= c * kd;
        }
        if t % report == 0 {
            tick(progress, "lazy", t as u64, steps as u64)?;
        }
    }
    Ok(res)
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The `lazy` kind: kernel regression under full-batch GD of a training setup (its
/// data, model, learning rate, steps and `observe.every`), serialised as the
/// [`TrainConfig`] itself.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(transparent)]
pub struct LazyConfig(pub TrainConfig);

impl Kind for LazyConfig {
    type Output = LazyResult;

    fn validate(&self) -> Result<()> {
        self.0.validate()
    }

    fn cost(&self) -> Cost {
        lazy_cost(&self.0)
    }

    fn run(&self, progress: &dyn Progress) -> Result<LazyResult> {
        solve(&self.0, progress)
    }

    fn csv(&self, out: &LazyResult) -> Vec<(String, String)> {
        lazy_csv(out)
    }
}

/// Lazy dynamics over `n = P + P_test` points at depth `L`: the data, then the NTK
/// recursion over all `n` points at once (its `[n x n]` matrices, see
/// [`recursion_matrices`]); then the training block `[P x P]`, the test block
/// `[P_test x P]` and the result (losses `[T + 1]`, outputs `[P]` and test outputs
/// `[P_test]` per record, the NTK `[P x P]`) and its JSON.
pub fn lazy_cost(cfg: &TrainConfig) -> Cost {
    let shape = crate::budget::data_shape(cfg);
    let data = crate::budget::dataset_bytes(shape);
    let (d, _, p, pt) = shape;
    let (d, p, pt, t) = (d as f64, p as f64, pt as f64, cfg.steps as f64 + 1.0);
    let n = p + pt;
    let records = crate::nn::kind::record_count(cfg.steps, cfg.observe.every) as f64;
    let resnet = cfg.model.arch == Arch::Resnet;
    let kernels = recursion_matrices(cfg.model.depth, resnet) * n * n + n * d;
    let tested = if pt > 0.0 { 2.0 } else { 1.0 };
    let result = tested * t + records * (1.0 + p + pt) + p * p;
    let regression = p * p + pt * p + result;
    Cost {
        bytes: saturate(data + 8.0 * kernels.max(regression)),
        cell_bytes: 0,
        json_bytes: saturate(
            JSON_BYTES_PER_NUMBER * result + crate::budget::payload_json_bytes(&cfg.data),
        ),
        flops: t * (p * p + pt * p) + 1e3 * n * n * cfg.model.depth as f64,
    }
}

/// `lazy_loss`: `step,train_loss,test_loss`.
pub fn lazy_csv(r: &LazyResult) -> Vec<(String, String)> {
    let mut s = String::from("step,train_loss,test_loss\n");
    for (t, l) in r.loss.iter().enumerate() {
        let tl = r.test_loss.get(t).map_or(String::new(), f64::to_string);
        s.push_str(&format!("{t},{l},{tl}\n"));
    }
    vec![("lazy_loss".into(), s)]
}

/// Lazy dynamics of the setup `cfg` (data, model, GD learning rate, steps).
pub fn solve(cfg: &TrainConfig, progress: &dyn Progress) -> Result<LazyResult> {
    cfg.validate()?;
    let data = cfg.data.load()?;
    let (k, kt) = lazy_ntk(cfg, &data)?;
    let y = data.y_scalar();
    let yt: Vec<f64> = data.y_test.chunks(data.outputs).map(|r| r[0]).collect();
    kernel_regression(
        &k,
        &kt,
        &y,
        &yt,
        cfg.optimizer.lr(),
        cfg.steps,
        cfg.observe.every,
        progress,
    )
}
