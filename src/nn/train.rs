//! The training loop: an ensemble of S seeds trained together by GD, SGD, Adam or
//! Langevin, with observables recorded every `observe.every` steps.
//!
//! Loss `L = (1/2P) sum_mu sum_c (f_mu,c - y_mu,c)^2` per seed (f centred as f - f(0)
//! when `model.centered`). Step t records the state *before* update t; the last record
//! is the state after all `steps` updates. At every record a seed is judged diverged
//! when any layer of its forward pass on the training set is NaN or infinite, or its
//! loss is not below the threshold ([`TrainResult::diverged_at`]); the run stops once
//! every seed has diverged.

use super::network::{Ensemble, Workspace};
use super::observe::{self, CoordSnapshot, KernelSnapshot};
use super::split::{self, Alone, Exchange};
use crate::backend::{AdamStep, BackendReport, Device, DeviceChoice, Tensor, select};
use crate::config::{OptimizerConfig, TrainConfig};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::progress::{Progress, tick};
use crate::rng::{Stream, normals_f32, stream};
use members::MemberRates;
use rand::rngs::StdRng;
use rand::seq::index::sample;
use serde::{Deserialize, Serialize};

pub mod members;

/// Everything recorded along one training run of an ensemble.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct TrainResult {
    /// Where the run computed, and why not on a GPU that was asked for or was lost
    /// mid-run.
    pub backend: BackendReport,
    /// Steps at which observables were recorded.
    pub steps: Vec<usize>,
    /// `train_loss[record][seed]`.
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub train_loss: Vec<Vec<f64>>,
    /// `test_loss[record][seed]` (empty without a test split or if not observed).
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub test_loss: Vec<Vec<f64>>,
    /// `outputs[record][seed]`: f on the training set, `[P x C]` row-major.
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub outputs: Vec<Vec<Vec<f64>>>,
    /// Kernels at each record (when observed).
    pub kernels: Vec<KernelSnapshot>,
    /// Coordinate-check statistics at each record (when observed).
    pub coords: Vec<CoordSnapshot>,
    /// Final outputs on the test set, `[seed][P_test x C]`.
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub test_outputs: Vec<Vec<f64>>,
    /// Per seed: the first recorded step at which the network blew up (any hidden
    /// layer's pre-activations `h^l` or the output `f` NaN or infinite: its loss there is
    /// NaN, even where ReLU hid the NaN from `f`) or the loss became NaN, Inf or exceeded
    /// `observe.divergence_threshold`. The seed's later losses are NaN.
    pub diverged_at: Vec<Option<usize>>,
}

impl TrainResult {
    /// Mean over non-diverged seeds of the training loss at each record.
    pub fn mean_train_loss(&self) -> Vec<f64> {
        self.train_loss.iter().map(|r| mean_finite(r)).collect()
    }
    /// Mean test loss at each record.
    pub fn mean_test_loss(&self) -> Vec<f64> {
        self.test_loss.iter().map(|r| mean_finite(r)).collect()
    }
    /// True if any seed diverged.
    pub fn any_diverged(&self) -> bool {
        self.diverged_at.iter().any(Option::is_some)
    }
}

/// Mean of the finite entries (NaN if none).
pub fn mean_finite(v: &[f64]) -> f64 {
    let (s, n) = v
        .iter()
        .filter(|x| x.is_finite())
        .fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { f64::NAN } else { s / n as f64 }
}

/// Optimiser state that persists across steps.
enum OptState {
    Plain,
    Adam {
        m: Vec<Tensor>,
        v: Vec<Tensor>,
        t: i32,
    },
    Langevin {
        rngs: Vec<Vec<StdRng>>,
        xi: Vec<Tensor>,
    },
}

/// Train an ensemble on `data` as `cfg` says, on the device [`select`] picks
/// (the CPU unless the problem is large and a hardware GPU exists, or the
/// `SCALING_PLAYGROUND_DEVICE` environment variable says otherwise).
pub fn train(cfg: &TrainConfig, data: &Dataset, progress: &dyn Progress) -> Result<TrainResult> {
    train_with(DeviceChoice::Auto, cfg, data, progress)
}

/// The work of one training step of `cfg` on `data`, which the device policy weighs.
pub(crate) fn step_flops(cfg: &TrainConfig, data: &Dataset) -> f64 {
    select::train_step_flops(
        cfg.seeds,
        data.p_train(),
        data.dim,
        cfg.model.width,
        cfg.model.depth,
    )
}

/// Train on the device picked for `choice`; any fallback is noted in `backend`.
pub fn train_with(
    choice: DeviceChoice,
    cfg: &TrainConfig,
    data: &Dataset,
    progress: &dyn Progress,
) -> Result<TrainResult> {
    let flops = step_flops(cfg, data);
    let sel = select::select(choice, flops);
    let mut res = train_on(sel.device, cfg, data, progress)?;
    if sel.fallback.is_some() {
        res.backend.fallback = sel.fallback;
    }
    Ok(res)
}

/// Train on the device the policy ([`select::decide`]) picks for `choice` among the CPU
/// and `gpu` (or why there is none), as a future: how the page's GPU worker trains,
/// single runs and sweep cells alike. Any GPU asked for and not used is noted in
/// `backend.fallback`.
pub async fn train_choosing_async(
    choice: DeviceChoice,
    gpu: std::result::Result<&crate::backend::Gpu, &str>,
    cfg: &TrainConfig,
    data: &Dataset,
    progress: &dyn Progress,
) -> Result<TrainResult> {
    let sel = select::choose(choice, step_flops(cfg, data), gpu, true);
    let mut res = train_on_async(sel.device, cfg, data, progress).await?;
    if sel.fallback.is_some() {
        res.backend.fallback = sel.fallback;
    }
    Ok(res)
}

/// Train on a given device. If the device is lost mid-run (a GPU that fails), the run
/// is redone on the CPU from the same seeds and `backend` says so. Blocks on
/// [`train_on_async`]; in the browser only the CPU can be driven this way.
pub fn train_on(
    device: Device,
    cfg: &TrainConfig,
    data: &Dataset,
    progress: &dyn Progress,
) -> Result<TrainResult> {
    block_on(train_on_async(device, cfg, data, progress))
}

/// The one training loop, as a future: it awaits [`Device::download_async`] wherever it
/// reads numbers back (at records), so WebGPU in the browser can resolve its buffer maps
/// from the event loop. On the CPU and on a native GPU every await completes at once.
pub async fn train_on_async(
    device: Device,
    cfg: &TrainConfig,
    data: &Dataset,
    progress: &dyn Progress,
) -> Result<TrainResult> {
    let res = train_once(device.clone(), cfg, data, progress).await?;
    match device.lost() {
        None => Ok(res),
        Some(why) => {
            let mut res = train_once(Device::Cpu, cfg, data, progress).await?;
            res.backend = BackendReport::fell_back(why);
            Ok(res)
        }
    }
}

/// Drive a training future to its end. Natively: pollster (a native GPU's readbacks
/// complete inside `device.poll`). In the browser a thread cannot wait, and only CPU runs
/// come here, whose futures are ready at the first poll.
#[cfg(not(target_arch = "wasm32"))]
fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    pollster::block_on(f)
}

#[cfg(target_arch = "wasm32")]
fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => {
            panic!("a WebGPU run must be driven asynchronously (train_on_async)")
        }
    }
}

async fn train_once(
    device: Device,
    cfg: &TrainConfig,
    data: &Dataset,
    progress: &dyn Progress,
) -> Result<TrainResult> {
    train_part(device, cfg, data, &mut Alone, progress).await
}

/// This worker's part of one training run split over the workers that `ex` joins
/// ([`split`]), on the CPU: every worker returns the same result, which equals
/// [`train_on`]'s on the CPU up to the rounding of the sums over workers. A run that
/// records kernels or coordinates does not split ([`split_workers`]).
pub async fn train_split(
    cfg: &TrainConfig,
    data: &Dataset,
    ex: &mut dyn Exchange,
    progress: &dyn Progress,
) -> Result<TrainResult> {
    let part = ex.part(cfg.model.width);
    let o = &cfg.observe;
    if !part.is_whole() && (o.kernels || o.ntk || o.coords || part.count > part.width) {
        return Err(Error::config(
            "observe",
            format!(
                "a run that splits over {} workers: at least one hidden unit each and no kernel or coordinate observables",
                part.count
            ),
        ));
    }
    train_part(Device::Cpu, cfg, data, ex, progress).await
}

/// The fewest hidden units per worker, and the least product work per worker and step
/// (flops), for which a split run gains: below either, the exchanges (a few per layer
/// and step, each a message between workers) outweigh the products.
pub const MIN_SPLIT_UNITS: usize = 256;
pub const MIN_SPLIT_FLOPS: f64 = 2e8;

/// How many workers one training run of `cfg` can be split over ([`train_split`]): at
/// most one per [`MIN_SPLIT_UNITS`] hidden units and per [`MIN_SPLIT_FLOPS`] of a step's
/// work, at most 8; 1 (no split) when it records kernels, NTKs or coordinates, which
/// need every unit in one place.
pub fn split_workers(cfg: &TrainConfig) -> usize {
    let o = &cfg.observe;
    if o.kernels || o.ntk || o.coords {
        return 1;
    }
    let (d, _, p, _) = crate::budget::data_shape(cfg);
    let points = match cfg.optimizer {
        OptimizerConfig::Sgd { batch_size, .. } => (batch_size as u64).min(p),
        _ => p,
    };
    let m = &cfg.model;
    let flops = select::train_step_flops(cfg.seeds, points as usize, d as usize, m.width, m.depth);
    let by_work = (flops / MIN_SPLIT_FLOPS) as usize;
    (m.width / MIN_SPLIT_UNITS).min(by_work).clamp(1, 8)
}

/// [`train_split`] on `count` native threads joined by channels
/// ([`split::threads::mesh`]), `progress` from the first: every worker's result, in
/// rank order.
#[cfg(not(target_arch = "wasm32"))]
pub fn train_split_threads(
    cfg: &TrainConfig,
    data: &Dataset,
    count: usize,
    progress: &(dyn Progress + Sync),
) -> Result<Vec<TrainResult>> {
    std::thread::scope(|scope| {
        let runs: Vec<_> = split::threads::mesh(count)
            .into_iter()
            .enumerate()
            .map(|(rank, mut ex)| {
                let p: &dyn Progress = if rank == 0 {
                    progress
                } else {
                    &crate::progress::Silent
                };
                scope.spawn(move || pollster::block_on(train_split(cfg, data, &mut ex, p)))
            })
            .collect();
        runs.into_iter()
            .map(|r| r.join().expect("a split worker panicked"))
            .collect()
    })
}

async fn train_part(
    device: Device,
    cfg: &TrainConfig,
    data: &Dataset,
    ex: &mut dyn Exchange,
    progress: &dyn Progress,
) -> Result<TrainResult> {
    cfg.validate()?;
    let mut net = Ensemble::new_part(
        device.clone(),
        &cfg.model,
        &cfg.param,
        data.dim,
        data.outputs,
        cfg.seed,
        0..cfg.seeds,
        ex.part(cfg.model.width),
    );
    Trainer::new(&mut net, cfg, data, ex)
        .await?
        .run(progress)
        .await
}

fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

/// The state of one training run.
struct Trainer<'a> {
    net: &'a mut Ensemble,
    cfg: &'a TrainConfig,
    data: &'a Dataset,
    x: Tensor,
    y: Tensor,
    x_test: Option<Tensor>,
    y_test: Vec<f64>,
    ws: Workspace,
    ws_test: Option<Workspace>,
    /// Minibatch buffers (SGD only): workspace, x, y and f0 of the batch.
    batch: Option<(Workspace, Tensor, Tensor, Tensor)>,
    f0: Option<Tensor>,
    f0_host: Vec<f32>,
    f0_test: Vec<f32>,
    h0: Vec<Vec<f32>>,
    opt: OptState,
    batch_rng: StdRng,
    /// Per-seed sums of squares `[S]` of the hidden layers, and a scratch `[S]`, for
    /// [`blown_up`].
    layer_sums: (Tensor, Tensor),
    /// The other workers of a split run ([`Alone`] if none).
    ex: &'a mut dyn Exchange,
    /// Per-member learning rates, when the members step at different rates
    /// ([`members`]); `None`: every member at the config's rate.
    rates: Option<MemberRates>,
}

impl<'a> Trainer<'a> {
    async fn new(
        net: &'a mut Ensemble,
        cfg: &'a TrainConfig,
        data: &'a Dataset,
        ex: &'a mut dyn Exchange,
    ) -> Result<Self> {
        let dev = &net.device;
        let p = data.p_train();
        let x = dev.upload(&to_f32(&data.x_train));
        let y = dev.upload(&to_f32(&data.y_train));
        let has_test = data.p_test() > 0;
        let x_test = has_test.then(|| dev.upload(&to_f32(&data.x_test)));
        let ws_test = has_test.then(|| net.workspace(data.p_test()));
        let mut ws = net.workspace(p);
        // Outputs and fields at initialisation.
        split::forward(net, &x, &mut ws, ex).await?;
        let f0_host = dev.download_async(&ws.f).await;
        let mut h0 = vec![];
        if cfg.observe.coords {
            for t in &ws.h {
                h0.push(dev.download_async(t).await);
            }
        }
        let centered = cfg.model.centered;
        let f0 = centered.then(|| dev.upload(&f0_host));
        let f0_test = match (&x_test, ws_test) {
            (Some(xt), Some(mut wt)) if centered => {
                split::forward(net, xt, &mut wt, ex).await?;
                dev.download_async(&wt.f).await
            }
            _ => vec![],
        };
        let ws_test = has_test.then(|| net.workspace(data.p_test()));
        let batch = match &cfg.optimizer {
            OptimizerConfig::Sgd { batch_size, .. } if *batch_size < p => {
                let b = *batch_size;
                Some((
                    net.workspace(b),
                    dev.zeros(b * data.dim),
                    dev.zeros(b * data.outputs),
                    dev.zeros(net.seeds * b * data.outputs),
                ))
            }
            _ => None,
        };
        let opt = match &cfg.optimizer {
            OptimizerConfig::Adam { .. } => OptState::Adam {
                m: net.weights.iter().map(|w| dev.zeros(w.len())).collect(),
                v: net.weights.iter().map(|w| dev.zeros(w.len())).collect(),
                t: 0,
            },
            OptimizerConfig::Langevin { .. } => OptState::Langevin {
                rngs: (0..net.weights.len())
                    .map(|l| {
                        (0..net.seeds)
                            .map(|s| stream(cfg.seed, Stream::Noise, s as u64, l as u64))
                            .collect()
                    })
                    .collect(),
                xi: net.weights.iter().map(|w| dev.zeros(w.len())).collect(),
            },
            _ => OptState::Plain,
        };
        let layer_sums = (dev.zeros(net.seeds), dev.zeros(net.seeds));
        Ok(Trainer {
            net,
            cfg,
            data,
            x,
            y,
            x_test,
            y_test: data.y_test.clone(),
            ws,
            ws_test,
            batch,
            f0,
            f0_host,
            f0_test,
            h0,
            opt,
            batch_rng: stream(cfg.seed, Stream::Batches, 0, 0),
            layer_sums,
            ex,
            rates: None,
        })
    }

    async fn run(mut self, progress: &dyn Progress) -> Result<TrainResult> {
        let steps = self.cfg.steps;
        let every = self.cfg.observe.every;
        let mut res = TrainResult {
            backend: BackendReport::of(&self.net.device),
            diverged_at: vec![None; self.net.seeds],
            ..Default::default()
        };
        let report_every = (steps / 100).max(1);
        for t in 0..=steps {
            let record = t % every == 0 || t == steps;
            let full_batch = self.batch.is_none();
            if full_batch || record {
                split::forward(self.net, &self.x, &mut self.ws, self.ex).await?;
            }
            if record {
                self.record(t, &mut res).await?;
                progress.losses(
                    t,
                    &res.train_loss[res.train_loss.len() - 1],
                    res.test_loss.last().map_or(&[], Vec::as_slice),
                );
                // (the page never batches rates: Sweep::GROUPED; page weight)
                #[cfg(not(target_arch = "wasm32"))]
                if self.rates.is_some() {
                    self.track_members(t, &mut res).await;
                }
                if res.diverged_at.iter().all(Option::is_some) {
                    break;
                }
            }
            if t == steps {
                break;
            }
            self.step().await?;
            if self.net.device.lost().is_some() {
                // the caller redoes the run on the CPU
                return Ok(res);
            }
            if t % report_every == 0 {
                tick(progress, "train", t as u64, steps as u64)?;
            }
        }
        if let (Some(xt), Some(wt)) = (&self.x_test, &mut self.ws_test) {
            split::forward(self.net, xt, wt, self.ex).await?;
            let f = self.net.device.download_async(&wt.f).await;
            let per = wt.p * self.net.outputs;
            res.test_outputs = (0..self.net.seeds)
                .map(|s| {
                    (0..per)
                        .map(|i| {
                            let c = self.f0_test.get(s * per + i).copied().unwrap_or(0.0);
                            (f[s * per + i] - c) as f64
                        })
                        .collect()
                })
                .collect();
        }
        tick(progress, "train", steps as u64, steps as u64)?;
        Ok(match self.rates.take() {
            Some(r) => r.into_result(res),
            None => res,
        })
    }

    /// Record observables from the current forward pass on the training set.
    async fn record(&mut self, t: usize, res: &mut TrainResult) -> Result<()> {
        let dev = self.net.device.clone();
        let (s_count, p, c) = (self.net.seeds, self.ws.p, self.net.outputs);
        let obs = &self.cfg.observe;
        let f = dev.download_async(&self.ws.f).await;
        let part = self.net.part;
        let sums = split::layer_sums(&dev, &self.ws, &mut self.layer_sums, part, self.ex).await?;
        let blown = blown_up(&sums, &f);
        let per = p * c;
        let centred = |s: usize, i: usize| -> f64 {
            let base = if self.cfg.model.centered {
                self.f0_host[s * per + i]
            } else {
                0.0
            };
            (f[s * per + i] - base) as f64
        };
        let losses: Vec<f64> = (0..s_count)
            .map(|s| {
                let l = (0..per)
                    .map(|i| (centred(s, i) - self.data.y_train[i]).powi(2))
                    .sum::<f64>()
                    / (2.0 * p as f64);
                if res.diverged_at[s].is_some() || blown[s] {
                    f64::NAN
                } else {
                    l
                }
            })
            .collect();
        for (s, l) in losses.iter().enumerate() {
            if res.diverged_at[s].is_none() && !(l.is_finite() && *l <= obs.divergence_threshold) {
                res.diverged_at[s] = Some(t);
            }
        }
        res.steps.push(t);
        res.train_loss.push(losses);
        if obs.outputs {
            res.outputs.push(
                (0..s_count)
                    .map(|s| (0..per).map(|i| centred(s, i)).collect())
                    .collect(),
            );
        }
        if obs.test_loss
            && let (Some(xt), Some(wt)) = (&self.x_test, &mut self.ws_test)
        {
            split::forward(self.net, xt, wt, self.ex).await?;
            let ft = dev.download_async(&wt.f).await;
            let pt = wt.p;
            let pert = pt * c;
            res.test_loss.push(
                (0..s_count)
                    .map(|s| {
                        if res.diverged_at[s].is_some() {
                            return f64::NAN;
                        }
                        (0..pert)
                            .map(|i| {
                                let base = self.f0_test.get(s * pert + i).copied().unwrap_or(0.0);
                                ((ft[s * pert + i] - base) as f64 - self.y_test[i]).powi(2)
                            })
                            .sum::<f64>()
                            / (2.0 * pt as f64)
                    })
                    .collect(),
            );
        }
        if obs.coords {
            let mut snap = observe::coords(self.net, &self.ws, &self.h0, t).await;
            for s in 0..s_count {
                let blk = &f[s * per..(s + 1) * per];
                let f0 = &self.f0_host[s * per..(s + 1) * per];
                snap.mean_abs_f
                    .push(blk.iter().map(|v| v.abs() as f64).sum::<f64>() / per as f64);
                snap.mean_abs_df.push(
                    blk.iter()
                        .zip(f0)
                        .map(|(a, b)| (a - b).abs() as f64)
                        .sum::<f64>()
                        / per as f64,
                );
            }
            res.coords.push(snap);
        }
        if obs.kernels || obs.ntk {
            res.kernels.push(
                observe::kernels(self.net, &self.x, &mut self.ws, t, obs.kernels, obs.ntk).await,
            );
            // restore the forward state used by the next step (kernels ran a backward)
        }
        Ok(())
    }

    /// One optimiser update from the current parameters: the gradient `dL/dW` on the
    /// full batch or a fresh minibatch, then the optimiser's update of every weight
    /// matrix.
    async fn step(&mut self) -> Result<()> {
        if self.batch.is_some() {
            self.minibatch_gradient().await?;
        } else {
            self.full_batch_gradient().await?;
        }
        let grads = match &self.batch {
            Some((bws, ..)) => &bws.grads,
            None => &self.ws.grads,
        };
        let eta = self.cfg.optimizer.lr();
        let rates = self.rates.as_mut();
        match (&self.cfg.optimizer, &mut self.opt) {
            (
                OptimizerConfig::Adam {
                    beta1,
                    beta2,
                    eps,
                    mup_scaling,
                    ..
                },
                OptState::Adam { m, v, t },
            ) => {
                let adam = Adam {
                    eta,
                    beta1: *beta1,
                    beta2: *beta2,
                    eps: *eps,
                    mup_scaling: *mup_scaling,
                };
                adam.update(self.net, grads, m, v, t, rates);
            }
            (
                OptimizerConfig::Langevin {
                    temperature,
                    weight_decay,
                    ..
                },
                OptState::Langevin { rngs, xi },
            ) => {
                let lam = weight_decay.unwrap_or(*temperature);
                langevin_update(self.net, grads, eta, *temperature, lam, rngs, xi);
            }
            _ => gd_update(self.net, grads, eta, rates.map(|r| &*r)),
        }
        Ok(())
    }

    /// `dL/dW` on the full training set, from the forward pass `run` has just made:
    /// `e = (f - f0 - y) / P`, then backpropagation.
    async fn full_batch_gradient(&mut self) -> Result<()> {
        let dev = &self.net.device;
        let p = self.ws.p;
        dev.residual(
            &self.ws.f,
            self.f0.as_ref(),
            &self.y,
            1.0 / p as f32,
            &mut self.ws.e,
        );
        split::backward(self.net, &self.x, &mut self.ws, true, self.ex).await
    }

    /// `dL/dW` on a fresh minibatch of `B` points drawn without replacement from the
    /// batch stream: its inputs, targets and (centred runs) initial outputs are copied
    /// into the batch buffers, then forward, `e = (f - f0 - y) / B`, backpropagation.
    async fn minibatch_gradient(&mut self) -> Result<()> {
        let dev = self.net.device.clone();
        let Some((bws, bx, by, bf0)) = &mut self.batch else {
            return Ok(());
        };
        let b = bws.p;
        let p = self.data.p_train();
        let idx = sample(&mut self.batch_rng, p, b).into_vec();
        let (d, c, s) = (self.data.dim, self.data.outputs, self.net.seeds);
        let mut xb = Vec::with_capacity(b * d);
        let mut yb = Vec::with_capacity(b * c);
        let mut fb = Vec::with_capacity(s * b * c);
        for &i in &idx {
            xb.extend(
                self.data.x_train[i * d..(i + 1) * d]
                    .iter()
                    .map(|&v| v as f32),
            );
            yb.extend(
                self.data.y_train[i * c..(i + 1) * c]
                    .iter()
                    .map(|&v| v as f32),
            );
        }
        if self.f0.is_some() {
            for si in 0..s {
                for &i in &idx {
                    let off = si * p * c + i * c;
                    fb.extend_from_slice(&self.f0_host[off..off + c]);
                }
            }
            dev.write(bf0, &fb);
        }
        dev.write(bx, &xb);
        dev.write(by, &yb);
        split::forward(self.net, bx, bws, self.ex).await?;
        let f0 = self.f0.as_ref().map(|_| &*bf0);
        dev.residual(&bws.f, f0, by, 1.0 / b as f32, &mut bws.e);
        split::backward(self.net, bx, bws, true, self.ex).await
    }
}

/// Per seed, whether the forward pass blew up: any hidden layer's pre-activations
/// `h^l` or the output `f` (`f_host`, already read back) NaN or infinite. The layers are
/// judged by their per-seed sums of squares `sums [S]` ([`split::layer_sums`]: only
/// those S numbers come back from the device). A sum that is not finite also flags
/// squares beyond f32's range (a layer's RMS above `~1e19 / sqrt(P N)`), which a
/// network that has not diverged never reaches.
fn blown_up(sums: &[f32], f_host: &[f32]) -> Vec<bool> {
    let seeds = sums.len();
    let per = f_host.len() / seeds;
    (0..seeds)
        .map(|s| {
            let f_bad = f_host[s * per..(s + 1) * per]
                .iter()
                .any(|v| !v.is_finite());
            f_bad || !sums[s].is_finite()
        })
        .collect()
}

/// Plain gradient descent (GD and SGD): `W^l -= eta lr_scale_l dL/dW^l`, with member
/// e's own `eta_e` where `rates` are given.
fn gd_update(net: &mut Ensemble, grads: &[Tensor], eta: f64, rates: Option<&MemberRates>) {
    let dev = &net.device;
    let layers = net.weights.iter_mut().zip(grads).zip(&net.scales.layers);
    for (l, ((w, g), layer)) in layers.enumerate() {
        match rates {
            Some(r) => dev.axpy_members(r.layer(l), g, w),
            None => dev.axpy(-gd_rate(eta, layer.lr_scale), g, w),
        }
    }
}

/// The step size `eta lr_scale_l` of plain gradient descent, in f32.
fn gd_rate(eta: f64, lr_scale: f64) -> f32 {
    (eta * lr_scale) as f32
}

/// Adam's hyperparameters for one step.
struct Adam {
    eta: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    /// Per-layer rates `eta adam_scale_l` (muP for Adam) instead of `eta`.
    mup_scaling: bool,
}

impl Adam {
    /// Step `t + 1`: `m = beta1 m + (1 - beta1) g`, `v = beta2 v + (1 - beta2) g^2`,
    /// `W -= eta_l m_hat / (sqrt(v_hat) + eps)` with the bias corrections
    /// `m_hat = m / (1 - beta1^t)`, `v_hat = v / (1 - beta2^t)` folded into the rate
    /// `eta_l sqrt(1 - beta2^t) / (1 - beta1^t)` and `eps sqrt(1 - beta2^t)`.
    fn update(
        &self,
        net: &mut Ensemble,
        grads: &[Tensor],
        m: &mut [Tensor],
        v: &mut [Tensor],
        t: &mut i32,
        mut rates: Option<&mut MemberRates>,
    ) {
        let dev = &net.device;
        *t += 1;
        let bc1 = 1.0 - self.beta1.powi(*t);
        let bc2 = 1.0 - self.beta2.powi(*t);
        let scale = |l: usize| {
            if self.mup_scaling {
                net.scales.layers[l].adam_scale
            } else {
                1.0
            }
        };
        let lr = |eta: f64, l: usize| (eta * scale(l) * bc2.sqrt() / bc1) as f32;
        if let Some(r) = rates.as_deref_mut() {
            // every layer's member rates written before any update reads them
            for l in 0..net.weights.len() {
                r.set(dev, l, |eta| lr(eta, l));
            }
        }
        for l in 0..net.weights.len() {
            let st = AdamStep {
                lr: if rates.is_some() {
                    1.0
                } else {
                    lr(self.eta, l)
                },
                beta1: self.beta1 as f32,
                beta2: self.beta2 as f32,
                eps: (self.eps * bc2.sqrt()) as f32,
            };
            let (g, w) = (&grads[l], &mut net.weights[l]);
            match rates.as_deref() {
                Some(r) => dev.adam_members(&st, r.layer(l), g, &mut m[l], &mut v[l], w),
                None => dev.adam(&st, g, &mut m[l], &mut v[l], w),
            }
        }
    }
}

/// Langevin dynamics at temperature `T` with weight decay `lambda`:
/// `W^l = (1 - eta lambda) W^l - eta lr_scale_l dL/dW^l + sqrt(2 eta T) xi`, with fresh
/// `xi ~ N(0, 1)` from each (seed, layer)'s noise stream, drawn on the host.
fn langevin_update(
    net: &mut Ensemble,
    grads: &[Tensor],
    eta: f64,
    temperature: f64,
    lambda: f64,
    rngs: &mut [Vec<StdRng>],
    xi: &mut [Tensor],
) {
    let dev = &net.device;
    let noise_scale = (2.0 * eta * temperature).sqrt();
    let matrices = net.weights.len();
    for l in 0..matrices {
        let ls = &net.scales.layers[l];
        let mut host = Vec::with_capacity(net.weights[l].len());
        for rng in rngs[l].iter_mut() {
            // the whole matrix's draws, so that a split run's parts see the same noise
            let whole = normals_f32(rng, ls.fan_in * ls.fan_out, 1.0);
            host.extend(net.part.share(l, matrices, ls.fan_in, whole));
        }
        dev.write(&mut xi[l], &host);
        let lr = (eta * net.scales.layers[l].lr_scale) as f32;
        dev.langevin(
            (eta * lambda) as f32,
            lr,
            noise_scale as f32,
            &grads[l],
            &xi[l],
            &mut net.weights[l],
        );
    }
}

/// Loss curves as CSV: `step,seed,train_loss,test_loss`.
pub fn loss_csv(r: &TrainResult) -> String {
    let mut out = String::from("step,seed,train_loss,test_loss\n");
    for (i, step) in r.steps.iter().enumerate() {
        for (s, l) in r.train_loss[i].iter().enumerate() {
            let t = r
                .test_loss
                .get(i)
                .and_then(|v| v.get(s))
                .map_or(String::new(), |v| v.to_string());
            out.push_str(&format!("{step},{s},{l},{t}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::TrainResult;

    #[test]
    fn a_diverged_result_round_trips_through_json() {
        let r = TrainResult {
            steps: vec![0, 1],
            train_loss: vec![vec![1.0, 2.0], vec![f64::NAN, 0.5]],
            diverged_at: vec![Some(1), None],
            ..Default::default()
        };
        let json = serde_json::to_string(&r).unwrap();
        let back: TrainResult = serde_json::from_str(&json).unwrap();
        assert!(back.train_loss[1][0].is_nan());
        assert_eq!(back.train_loss[1][1], 0.5);
        assert_eq!(back.diverged_at, [Some(1), None]);
    }
}
