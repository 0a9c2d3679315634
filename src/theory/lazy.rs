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
//!
//! [`validate_lazy`] refuses the settings of a [`TrainConfig`] this does not model.

use super::kernels::{mlp_layer_kernels, recursion_matrices, resnet_kernels};
use crate::budget::{Cost, JSON_BYTES_PER_NUMBER, saturate};
use crate::config::{Arch, OptimizerConfig, Parameterization, TrainConfig};
use crate::data::{Dataset, gram};
use crate::error::{Error, Result};
use crate::kind::Kind;
use crate::linalg::dot;
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

/// The `lazy` kind: kernel regression under full-batch GD of a training setup (its
/// data, model, learning rate, steps and `observe.every`), serialised as the
/// [`TrainConfig`] itself.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(transparent)]
pub struct LazyConfig(pub TrainConfig);

impl Kind for LazyConfig {
    type Output = LazyResult;

    fn validate(&self) -> Result<()> {
        self.0.validate()?;
        validate_lazy(&self.0)
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
        flops: t * (p * p + pt * p)
            + super::kernels::kernel_work(cfg.model.activation, n as usize, cfg.model.depth),
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

/// Refuse what the lazy dynamics do not model, naming the field (paths as in a `lazy`
/// config, whose training fields sit at the top level). Modelled:
/// - `optimizer`: full-batch GD only (not SGD's minibatches, Adam's normalised steps or
///   Langevin's noise and weight decay);
/// - `param` and `model.arch`: an MLP under `mup` or `ntk`, a ResNet under `depth_mup`
///   (or `abc` with exactly those exponents). Their NTK, learning-rate weighted, is the
///   `sigma_w = 1` recursion (MLP) or the depth-muP one (ResNet), whatever gamma0, which
///   cancels between the readout multiplier 1/gamma0 and the rate factor gamma0^2. `sp`
///   has a learning-rate weighted NTK that grows with N (no limit), a ResNet under
///   `mup`/`ntk` has branches scaled 1/sqrt(N) rather than 1/sqrt(N L);
/// - `model.centered`: the dynamics are those of f(t) - f(0); an uncentred network has
///   the same limit only where f(0) vanishes with width (`mup`, `depth_mup`), not under
///   `ntk`, where f(0) is an O(1/gamma0) Gaussian process sample;
/// - `data`: one output (the lazy solver regresses the first target; spirals and digits
///   have one-hot targets, inline data may have several columns).
///
/// Ignored because they do not change the limit: `model.width`, `seeds`, `seed`,
/// `observe` flags other than `every`.
pub fn validate_lazy(cfg: &TrainConfig) -> Result<()> {
    if !matches!(cfg.optimizer, OptimizerConfig::Gd { .. }) {
        return Err(Error::config(
            "optimizer.kind",
            format!(
                "gd (lazy dynamics describe full-batch gradient descent), got {}",
                cfg.optimizer.name()
            ),
        ));
    }
    let (arch, depth) = (cfg.model.arch, cfg.model.depth);
    let modelled = |p: &Parameterization| match arch {
        Arch::Mlp => matches!(
            p,
            Parameterization::Mup { .. } | Parameterization::Ntk { .. }
        ),
        Arch::Resnet => matches!(p, Parameterization::DepthMup { .. }),
    };
    // an abc parameterisation is modelled when its exponents are those of a modelled preset
    let like = match &cfg.param {
        Parameterization::Abc { gamma0, .. } => {
            let exps = crate::nn::param::exponents(&cfg.param, arch, depth);
            [
                Parameterization::Mup { gamma0: *gamma0 },
                Parameterization::Ntk { gamma0: *gamma0 },
                Parameterization::DepthMup { gamma0: *gamma0 },
            ]
            .into_iter()
            .find(|p| modelled(p) && crate::nn::param::exponents(p, arch, depth) == exps)
        }
        p => Some(p.clone()).filter(modelled),
    };
    let Some(like) = like else {
        let want = match arch {
            Arch::Mlp => "mup or ntk for an MLP",
            Arch::Resnet => "depth_mup for a ResNet",
        };
        return Err(Error::config(
            "param.kind",
            format!(
                "{want} (or abc with their exponents): the lazy kernel of {} is not modelled",
                cfg.param.name()
            ),
        ));
    };
    if matches!(like, Parameterization::Ntk { .. }) && !cfg.model.centered {
        return Err(Error::config(
            "model.centered",
            "true under the NTK parameterisation: lazy dynamics model f(t) - f(0), and f(0) \
             does not vanish with width there",
        ));
    }
    let outputs = cfg.data.outputs();
    if outputs != 1 {
        return Err(Error::config(
            "data",
            format!(
                "a task with one output (lazy dynamics regress a scalar target), got {outputs}"
            ),
        ));
    }
    Ok(())
}

/// Lazy dynamics of the setup `cfg` (data, model, GD learning rate, steps).
pub fn solve(cfg: &TrainConfig, progress: &dyn Progress) -> Result<LazyResult> {
    cfg.validate()?;
    validate_lazy(cfg)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ModelConfig;
    use crate::data::DataConfig;
    use crate::progress::Silent;

    fn field(cfg: &TrainConfig) -> String {
        match validate_lazy(cfg) {
            Err(Error::Config { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refuses_what_it_does_not_model_naming_the_field() {
        let base = TrainConfig {
            steps: 3,
            ..Default::default()
        };
        validate_lazy(&base).unwrap();
        for optimizer in [
            OptimizerConfig::Sgd {
                lr: 0.1,
                batch_size: 4,
            },
            OptimizerConfig::Adam {
                lr: 0.1,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                mup_scaling: true,
            },
            OptimizerConfig::Langevin {
                lr: 0.1,
                temperature: 0.01,
                weight_decay: None,
            },
        ] {
            let c = TrainConfig {
                optimizer,
                ..base.clone()
            };
            assert_eq!(field(&c), "optimizer.kind");
            assert_eq!(
                solve(&c, &Silent).unwrap_err(),
                validate_lazy(&c).unwrap_err()
            );
        }
        let with = |param: Parameterization, arch: Arch, centered: bool| TrainConfig {
            param,
            model: ModelConfig {
                arch,
                centered,
                depth: 2,
                ..Default::default()
            },
            ..base.clone()
        };
        let abc = |a: Vec<f64>, c: f64| Parameterization::Abc {
            a,
            b: vec![0.0; 3],
            c,
            gamma0: 1.0,
            depth_alpha: 0.0,
        };
        assert_eq!(
            field(&with(Parameterization::Sp, Arch::Mlp, true)),
            "param.kind"
        );
        let mup = Parameterization::Mup { gamma0: 0.1 };
        assert_eq!(field(&with(mup.clone(), Arch::Resnet, true)), "param.kind");
        assert_eq!(
            field(&with(abc(vec![0.0, 0.5, 0.7], -1.0), Arch::Mlp, true)),
            "param.kind"
        );
        let ntk = Parameterization::Ntk { gamma0: 2.0 };
        assert_eq!(
            field(&with(ntk.clone(), Arch::Mlp, false)),
            "model.centered"
        );
        // modelled: MLP under mup (centred or not) or ntk (centred), abc with muP's
        // exponents, ResNet under depth_mup
        for ok in [
            with(mup.clone(), Arch::Mlp, false),
            with(ntk, Arch::Mlp, true),
            with(abc(vec![0.0, 0.5, 1.0], -1.0), Arch::Mlp, false),
            with(
                Parameterization::DepthMup { gamma0: 1.0 },
                Arch::Resnet,
                false,
            ),
        ] {
            validate_lazy(&ok).unwrap_or_else(|e| panic!("{:?}: {e}", ok.param));
        }
        let spirals = TrainConfig {
            data: DataConfig::Spirals {
                train: 8,
                test: 0,
                noise: 0.0,
                seed: 0,
            },
            ..base
        };
        assert_eq!(field(&spirals), "data");
    }
}
