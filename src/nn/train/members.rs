//! Several learning rates trained as one ensemble: the rates `lrs[r]` of one setup times
//! its S seeds are `E = R S` members of one [`Ensemble`], so every layer's product is one
//! batched GEMM over all of them (a learning-rate sweep at small widths is otherwise
//! bound by loops and launches, not arithmetic).
//!
//! Member `e = r S + s` has seed s's weights (the streams `(seed, Init, s, l)`, the
//! initialisation of the separate run of rate `lrs[r]`) and steps at `lrs[r]`:
//!
//! ```text
//! GD, SGD:  W_e^l -= eta_e lr_scale_l dL/dW_e^l               (Backend::axpy_members)
//! Adam:     W_e^l -= eta_e scale_l sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps')
//!                                                              (Backend::adam_members)
//! ```
//!
//! with each member's f32 rate rounded from the same f64 expression as the separate
//! run's, so on the CPU every member's numbers are the separate run's (the batched
//! product computes each member's matrix on its own). SGD members see the same batches
//! (one batch stream per run). Langevin is not batched (its noise streams are per seed).
//!
//! A member that has diverged is dropped from the ensemble at the record that finds it
//! (its separate run would go on computing NaNs, or stop once all its seeds diverged),
//! so a batch of rates costs what its runs alone cost. [`TrainResult`]s come back per
//! rate, cut where the separate run would have stopped (after the record at which all of
//! the rate's seeds had diverged); a dropped member's later losses are NaN, as its
//! separate run's, and its test outputs are empty.

use super::{TrainResult, Trainer, block_on, gd_rate};
use crate::backend::{BackendReport, Device, DeviceChoice, Gpu, Tensor, select};
use crate::config::{OptimizerConfig, TrainConfig};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::nn::network::Ensemble;
use crate::progress::Progress;

/// Per-member learning rates of an ensemble whose members step at different rates, and
/// which of the run's members are still in it.
pub(super) struct MemberRates {
    /// Base learning rate `eta_e` of each member in the ensemble `[E']`.
    eta: Vec<f64>,
    /// Per layer, the members' step rates on the device `[E']` (GD: `-eta_e
    /// lr_scale_l`, fixed; Adam: rewritten every step by [`MemberRates::set`]).
    layers: Vec<Tensor>,
    /// The run's member index of each member still in the ensemble `[E']`.
    slots: Vec<usize>,
    /// The record over all `E` members of the run (the trainer's record is over the
    /// members still in the ensemble).
    full: TrainResult,
}

impl MemberRates {
    /// Rates `eta[e]` for the members of `net` under `optimizer` (GD and SGD: the
    /// per-layer steps are written once here).
    fn new(net: &Ensemble, eta: Vec<f64>, optimizer: &OptimizerConfig) -> Self {
        let dev = &net.device;
        let gd = matches!(
            optimizer,
            OptimizerConfig::Gd { .. } | OptimizerConfig::Sgd { .. }
        );
        let layers = (0..net.weights.len())
            .map(|l| match gd {
                true => dev.upload(&gd_rates(net, &eta, l)),
                false => dev.zeros(eta.len()),
            })
            .collect();
        let total = eta.len();
        MemberRates {
            eta,
            layers,
            slots: (0..total).collect(),
            full: TrainResult {
                diverged_at: vec![None; total],
                ..Default::default()
            },
        }
    }

    /// Layer `l`'s member rates `[E]`.
    pub(super) fn layer(&self, l: usize) -> &Tensor {
        &self.layers[l]
    }

    /// Write layer `l`'s member rates `rate(eta_e)`.
    pub(super) fn set(&mut self, dev: &Device, l: usize, rate: impl Fn(f64) -> f32) {
        let v: Vec<f32> = self.eta.iter().map(|&e| rate(e)).collect();
        dev.write(&mut self.layers[l], &v);
    }

    /// Add the trainer's last record (`res`, over the members in the ensemble) to the
    /// record over all members: a dropped member's entries are NaN (empty outputs).
    #[cfg(not(target_arch = "wasm32"))]
    fn track(&mut self, t: usize, res: &TrainResult) {
        let total = self.full.diverged_at.len();
        let spread = |row: &Vec<f64>| {
            let mut all = vec![f64::NAN; total];
            for (&m, v) in self.slots.iter().zip(row) {
                all[m] = *v;
            }
            all
        };
        let full = &mut self.full;
        full.backend = res.backend.clone();
        full.steps.push(t);
        full.train_loss.extend(res.train_loss.last().map(spread));
        if res.test_loss.len() == res.steps.len() {
            full.test_loss.extend(res.test_loss.last().map(spread));
        }
        if let Some(row) = res
            .outputs
            .last()
            .filter(|_| res.outputs.len() == res.steps.len())
        {
            let mut all = vec![vec![]; total];
            for (&m, v) in self.slots.iter().zip(row) {
                all[m] = v.clone();
            }
            full.outputs.push(all);
        }
        for (&m, d) in self.slots.iter().zip(&res.diverged_at) {
            full.diverged_at[m] = *d;
        }
    }

    /// The run's result over all members, from the trainer's final one.
    pub(super) fn into_result(mut self, res: TrainResult) -> TrainResult {
        let total = self.full.diverged_at.len();
        let mut test_outputs = vec![vec![]; total];
        for (&m, v) in self.slots.iter().zip(res.test_outputs) {
            test_outputs[m] = v;
        }
        self.full.test_outputs = test_outputs;
        self.full.backend = res.backend;
        self.full
    }
}

/// Layer `l`'s gradient-descent steps `-eta_e lr_scale_l` of the members.
fn gd_rates(net: &Ensemble, eta: &[f64], l: usize) -> Vec<f32> {
    let scale = net.scales.layers[l].lr_scale;
    eta.iter().map(|&e| -gd_rate(e, scale)).collect()
}

/// Member blocks `keep` of `t` (`members` equal blocks), as a new tensor.
#[cfg(not(target_arch = "wasm32"))]
async fn gather(dev: &Device, t: &Tensor, members: usize, keep: &[usize]) -> Tensor {
    let host = dev.download_async(t).await;
    dev.from_vec(gather_host(&host, members, keep))
}

#[cfg(not(target_arch = "wasm32"))]
fn gather_host<T: Copy>(v: &[T], members: usize, keep: &[usize]) -> Vec<T> {
    let per = v.len() / members.max(1);
    keep.iter()
        .flat_map(|&e| v[e * per..(e + 1) * per].iter().copied())
        .collect()
}

/// Natively only: the page never batches rates ([`crate::kind::Sweep::GROUPED`]).
#[cfg(not(target_arch = "wasm32"))]
impl Trainer<'_> {
    /// After a record: note it in the record over all members, then drop the members it
    /// found diverged (unless none would be left: the run stops there). The ensemble's
    /// weights, optimiser state, centring outputs and rates keep the others' blocks; the
    /// workspaces are made anew and the forward pass redone for the step that follows.
    pub(super) async fn track_members(&mut self, t: usize, res: &mut TrainResult) {
        let Some(rates) = self.rates.as_mut() else {
            return;
        };
        rates.track(t, res);
        let members = self.net.seeds;
        let keep: Vec<usize> = (0..members)
            .filter(|&e| res.diverged_at[e].is_none())
            .collect();
        if keep.len() == members || keep.is_empty() {
            return;
        }
        let dev = self.net.device.clone();
        for w in self.net.weights.iter_mut() {
            *w = gather(&dev, w, members, &keep).await;
        }
        self.net.seeds = keep.len();
        if let super::OptState::Adam { m, v, .. } = &mut self.opt {
            for x in m.iter_mut().chain(v.iter_mut()) {
                *x = gather(&dev, x, members, &keep).await;
            }
        }
        self.f0_host = gather_host(&self.f0_host, members, &keep);
        self.f0_test = gather_host(&self.f0_test, members, &keep);
        if self.f0.is_some() {
            self.f0 = Some(dev.upload(&self.f0_host));
        }
        let net = &*self.net;
        self.ws = net.workspace(self.ws.p);
        if let Some(wt) = &mut self.ws_test {
            *wt = net.workspace(wt.p);
        }
        if let Some((bws, _, _, bf0)) = &mut self.batch {
            *bws = net.workspace(bws.p);
            *bf0 = dev.zeros(keep.len() * bws.p * net.outputs);
        }
        self.layer_sums = (dev.zeros(keep.len()), dev.zeros(keep.len()));
        let rates = self.rates.as_mut().expect("checked above");
        rates.eta = gather_host(&rates.eta, members, &keep);
        rates.slots = gather_host(&rates.slots, members, &keep);
        for r in rates.layers.iter_mut() {
            *r = gather(&dev, r, members, &keep).await;
        }
        res.diverged_at = gather_host(&res.diverged_at, members, &keep);
        self.net.forward(&self.x, &mut self.ws);
    }
}

/// The work of one step of `cfg` with `rates` learning rates batched, which the device
/// policy weighs.
fn step_flops(cfg: &TrainConfig, data: &Dataset, rates: usize) -> f64 {
    select::train_step_flops(
        cfg.seeds * rates,
        data.p_train(),
        data.dim,
        cfg.model.width,
        cfg.model.depth,
    )
}

/// Train `cfg` at each learning rate of `lrs` (its own rate ignored) as one ensemble of
/// `lrs.len() x cfg.seeds` members on the device [`select`] picks for their joint work;
/// one result per rate, each equal to `train(cfg with lr = lrs[r])`.
pub fn train_rates(
    cfg: &TrainConfig,
    data: &Dataset,
    lrs: &[f64],
    progress: &dyn Progress,
) -> Result<Vec<TrainResult>> {
    let sel = select::select(DeviceChoice::Auto, step_flops(cfg, data, lrs.len()));
    let mut res = block_on(train_rates_on_async(sel.device, cfg, data, lrs, progress))?;
    if sel.fallback.is_some() {
        for r in &mut res {
            r.backend.fallback = sel.fallback.clone();
        }
    }
    Ok(res)
}

/// [`train_rates`] as a future on the device the policy ([`select::decide`]) picks for
/// `choice` among the CPU and `gpu` (the page's GPU worker), as
/// [`super::train::train_choosing_async`].
pub async fn train_rates_choosing_async(
    choice: DeviceChoice,
    gpu: std::result::Result<&Gpu, &str>,
    cfg: &TrainConfig,
    data: &Dataset,
    lrs: &[f64],
    progress: &dyn Progress,
) -> Result<Vec<TrainResult>> {
    let sel = select::choose(choice, step_flops(cfg, data, lrs.len()), gpu, true);
    let mut res = train_rates_on_async(sel.device, cfg, data, lrs, progress).await?;
    if sel.fallback.is_some() {
        for r in &mut res {
            r.backend.fallback = sel.fallback.clone();
        }
    }
    Ok(res)
}

/// [`train_rates`] on a given device; a device lost mid-run is replaced by the CPU from
/// the same seeds, and every result says so.
pub async fn train_rates_on_async(
    device: Device,
    cfg: &TrainConfig,
    data: &Dataset,
    lrs: &[f64],
    progress: &dyn Progress,
) -> Result<Vec<TrainResult>> {
    let res = rates_once(device.clone(), cfg, data, lrs, progress).await?;
    match device.lost() {
        None => Ok(res),
        Some(why) => {
            let mut res = rates_once(Device::Cpu, cfg, data, lrs, progress).await?;
            for r in &mut res {
                r.backend = BackendReport::fell_back(why.clone());
            }
            Ok(res)
        }
    }
}

async fn rates_once(
    device: Device,
    cfg: &TrainConfig,
    data: &Dataset,
    lrs: &[f64],
    progress: &dyn Progress,
) -> Result<Vec<TrainResult>> {
    cfg.validate()?;
    if matches!(cfg.optimizer, OptimizerConfig::Langevin { .. }) {
        return Err(Error::config(
            "optimizer",
            "gd, sgd or adam to batch learning rates (Langevin runs each rate alone)",
        ));
    }
    let obs = &cfg.observe;
    if obs.kernels || obs.ntk || obs.coords {
        return Err(Error::config(
            "observe",
            "losses and outputs only to batch learning rates (no kernels or coordinates)",
        ));
    }
    if lrs.is_empty() {
        return Ok(vec![]);
    }
    let s = cfg.seeds;
    let mut net = replicated(device, cfg, data, lrs.len());
    let eta: Vec<f64> = (0..lrs.len() * s).map(|e| lrs[e / s]).collect();
    let rates = MemberRates::new(&net, eta, &cfg.optimizer);
    let mut alone = super::split::Alone;
    let mut trainer = Trainer::new(&mut net, cfg, data, &mut alone).await?;
    trainer.rates = Some(rates);
    let res = trainer.run(progress).await?;
    Ok((0..lrs.len()).map(|r| of_rate(&res, r, s)).collect())
}

/// The ensemble of `cfg`'s S seeds, `copies` times over (member `r S + s` = seed s),
/// drawn on the host and uploaded to `device` once.
fn replicated(device: Device, cfg: &TrainConfig, data: &Dataset, copies: usize) -> Ensemble {
    let (m, p) = (&cfg.model, &cfg.param);
    let seeds = 0..cfg.seeds;
    let host = Ensemble::new(Device::Cpu, m, p, data.dim, data.outputs, cfg.seed, seeds);
    let weights = host
        .weights
        .iter()
        .map(|w| device.from_vec(Device::Cpu.download(w).repeat(copies)))
        .collect();
    Ensemble {
        device,
        seeds: host.seeds * copies,
        weights,
        ..host
    }
}

/// Rate `r`'s result (members `r S..(r + 1) S`) from the batched run's, cut after the
/// record at which all its seeds had diverged (where its separate run stops).
fn of_rate(res: &TrainResult, r: usize, s: usize) -> TrainResult {
    let mine = r * s..(r + 1) * s;
    let diverged_at = res.diverged_at[mine.clone()].to_vec();
    let stop = diverged_at.iter().copied().collect::<Option<Vec<_>>>();
    let records = match stop.and_then(|at| at.into_iter().max()) {
        Some(t) => res
            .steps
            .iter()
            .position(|&x| x == t)
            .map_or(res.steps.len(), |i| i + 1),
        None => res.steps.len(),
    };
    let rows = |v: &[Vec<f64>]| -> Vec<Vec<f64>> {
        v.iter()
            .take(records)
            .map(|row| row[mine.clone()].to_vec())
            .collect()
    };
    TrainResult {
        backend: res.backend.clone(),
        steps: res.steps[..records].to_vec(),
        train_loss: rows(&res.train_loss),
        test_loss: rows(&res.test_loss),
        outputs: res
            .outputs
            .iter()
            .take(records)
            .map(|row| row[mine.clone()].to_vec())
            .collect(),
        kernels: vec![],
        coords: vec![],
        test_outputs: res
            .test_outputs
            .get(mine.clone())
            .map_or(vec![], <[_]>::to_vec),
        diverged_at,
    }
}
