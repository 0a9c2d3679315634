//! Many learning rates as one batched run: the landscape's training loop.
//!
//! Full-batch GD on the centred output of a muP MLP (docs/theory.md section 1.1),
//! `L = (1/2P) sum_mu sum_c (f_mu,c - f_mu,c(0) - y_mu,c)^2`. The ensemble's members are
//! `lrs x seeds` copies of `seeds` initialisations (member `i * seeds + s` trains seed `s`
//! at `lrs[i]`), so every learning rate starts from the same weights.
//!
//! The engine's update is one learning rate for the whole ensemble, but the gradient of
//! the squared loss is linear in the residual `e = dL/df`: scaling member `m`'s residual
//! by `eta_m` scales every one of its weight gradients by `eta_m` (backpropagation is
//! linear in `e`). So one step is: forward, `e_m = eta_m (f_m - f_m(0) - y) / P` on the
//! host, backward, and `W^l -= s_l dL/dW^l` with the layer's muP scale
//! `s_l = gamma0^2 N`: member `m` has taken a GD step at rate `eta_m s_l`.
//!
//! A member whose loss is not finite or exceeds `divergence` stops: it is removed from
//! the ensemble, so runs that blow up cost only the steps until they do.

use crate::backend::Device;
use crate::config::{Activation, ModelConfig, Parameterization};
use crate::data::Dataset;
use crate::error::Result;
use crate::nn::Ensemble;
use crate::progress::{Progress, tick};

/// What one batched run is asked to do.
pub struct LrBatch<'a> {
    pub data: &'a Dataset,
    pub width: usize,
    pub depth: usize,
    pub activation: Activation,
    pub gamma0: f64,
    /// Base learning rates eta (raw rate `eta gamma0^2 N`).
    pub lrs: &'a [f64],
    /// Initialisations per learning rate.
    pub seeds: usize,
    pub seed: u64,
    pub steps: usize,
    /// A member whose loss exceeds this (or is not finite) has diverged.
    pub divergence: f64,
}

/// The loss trajectory of one learning rate: `loss[t]` for `t = 0..=steps` (mean over
/// its seeds), cut at the step where a seed diverged.
#[derive(Clone, Debug, PartialEq)]
pub struct LrTrace {
    pub loss: Vec<f64>,
    /// The first step at which one of its seeds diverged.
    pub diverged_at: Option<usize>,
}

/// Train every `(learning rate, seed)` member of `b` and return one trace per learning
/// rate.
pub fn train_lrs(b: &LrBatch, progress: &dyn Progress) -> Result<Vec<LrTrace>> {
    let data = b.data;
    let (p, c) = (data.p_train(), data.outputs);
    let per = p * c;
    let model = ModelConfig {
        width: b.width,
        depth: b.depth,
        activation: b.activation,
        centered: true,
        ..Default::default()
    };
    let param = Parameterization::Mup { gamma0: b.gamma0 };
    let dev = Device::Cpu;
    let mut net = Ensemble::new(dev.clone(), &model, &param, data.dim, c, b.seed, 0..b.seeds);
    tile(&mut net, b.lrs.len());
    let x = dev.upload(&to_f32(&data.x_train));
    let y: Vec<f64> = data.y_train.clone();
    let mut ws = net.workspace(p);
    // members[k] = index (lr * seeds + seed) of the k-th live member
    let mut members: Vec<usize> = (0..net.seeds).collect();
    let mut f0: Vec<f32> = vec![];
    let mut member_loss: Vec<Vec<f64>> = vec![vec![]; members.len()];
    let mut dead_at: Vec<Option<usize>> = vec![None; members.len()];
    let report = (b.steps / 50).max(1);
    for t in 0..=b.steps {
        net.forward(&x, &mut ws);
        let f = dev.download(&ws.f);
        if t == 0 {
            f0 = f.clone();
        }
        // Losses of the live members, and which of them survive this step.
        let mut keep = Vec::with_capacity(members.len());
        let mut resid = vec![0.0f64; members.len() * per];
        for (k, &m) in members.iter().enumerate() {
            let mut l = 0.0;
            for i in 0..per {
                let r = (f[k * per + i] - f0[k * per + i]) as f64 - y[i];
                resid[k * per + i] = r;
                l += r * r;
            }
            l /= 2.0 * p as f64;
            member_loss[m].push(l);
            if l.is_finite() && l <= b.divergence {
                keep.push(k);
            } else {
                dead_at[m] = Some(t);
            }
        }
        if keep.is_empty() || t == b.steps {
            break;
        }
        if keep.len() < members.len() {
            retain(&mut net, &keep);
            // fresh buffers, and the forward pass the backward pass below reads from
            ws = net.workspace(p);
            net.forward(&x, &mut ws);
            f0 = keep
                .iter()
                .flat_map(|&k| f0[k * per..(k + 1) * per].to_vec())
                .collect();
            members = keep.iter().map(|&k| members[k]).collect();
            resid = keep
                .iter()
                .flat_map(|&k| resid[k * per..(k + 1) * per].to_vec())
                .collect();
        }
        // e_m = eta_m (f - f0 - y) / P: member m's gradient comes out scaled by eta_m.
        let e: Vec<f32> = members
            .iter()
            .enumerate()
            .flat_map(|(k, &m)| {
                let eta = b.lrs[m / b.seeds] / p as f64;
                resid[k * per..(k + 1) * per]
                    .iter()
                    .map(move |r| (eta * r) as f32)
            })
            .collect();
        dev.write(&mut ws.e, &e);
        net.backward(&x, &mut ws, true);
        for (w, (g, layer)) in net
            .weights
            .iter_mut()
            .zip(ws.grads.iter().zip(&net.scales.layers))
        {
            dev.axpy(-(layer.lr_scale as f32), g, w);
        }
        if t % report == 0 {
            tick(progress, "train", t as u64, b.steps as u64)?;
        }
    }
    Ok((0..b.lrs.len())
        .map(|i| {
            let ms = i * b.seeds..(i + 1) * b.seeds;
            let diverged_at = ms.clone().filter_map(|m| dead_at[m]).min();
            let len = ms.clone().map(|m| member_loss[m].len()).min().unwrap_or(0);
            let len = match diverged_at {
                Some(t) => len.min(t + 1),
                None => len,
            };
            let loss = (0..len)
                .map(|t| ms.clone().map(|m| member_loss[m][t]).sum::<f64>() / b.seeds as f64)
                .collect();
            LrTrace { loss, diverged_at }
        })
        .collect())
}

fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

/// Repeat the ensemble's `S` networks `times` times: `S times` members, member
/// `i S + s` a copy of network `s`.
fn tile(net: &mut Ensemble, times: usize) {
    let dev = net.device.clone();
    for w in net.weights.iter_mut() {
        let host = dev.download(w);
        *w = dev.from_vec(host.repeat(times));
    }
    net.seeds *= times;
}

/// Keep only the members `keep` (ascending) of the ensemble.
fn retain(net: &mut Ensemble, keep: &[usize]) {
    let dev = net.device.clone();
    let s = net.seeds;
    for w in net.weights.iter_mut() {
        let host = dev.download(w);
        let per = host.len() / s;
        let kept: Vec<f32> = keep
            .iter()
            .flat_map(|&k| host[k * per..(k + 1) * per].iter().copied())
            .collect();
        *w = dev.from_vec(kept);
    }
    net.seeds = keep.len();
}

/// Bytes one batched run holds at its peak, when members that diverged are removed:
/// weights, gradients, the weights' host copy and the kept part of it (f32); the old and
/// the new activation buffers (four per hidden layer); outputs and residuals; and the
/// per-member loss traces (f64).
pub fn batch_bytes(
    members: usize,
    width: usize,
    depth: usize,
    dim: usize,
    outputs: usize,
    points: usize,
    steps: usize,
) -> f64 {
    let (m, n, d, c, p) = (
        members as f64,
        width as f64,
        dim as f64,
        outputs as f64,
        points as f64,
    );
    let params = n * d + (depth as f64 - 1.0) * n * n + c * n;
    let activations = 4.0 * depth as f64 * n * p;
    4.0 * m * (4.0 * params + 2.0 * activations + 6.0 * p * c)
        + 8.0 * m * (steps as f64 + 1.0 + p * c)
        + 4.0 * p * d
}
