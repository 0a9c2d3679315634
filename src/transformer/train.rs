//! The training loop: an ensemble of members (learning rates times seeds) trained as one
//! batched computation by Adam with the parameterisation's per-tensor rates and epsilons
//! and the warmup/decay schedule, every member on the same fresh batch each step.
//!
//! Step `t` draws batch `t` from the stream `(seed, Batches, t)`, runs the forward pass,
//! the loss (recorded as that step's training loss, before update `t`), the backward pass
//! and the update. The last record, at `t = steps`, is the loss of one more fresh batch
//! after every update. A member's score is the mean of its training losses over the last
//! `score_window` steps (the losses are summed on the device; only records come back).

use super::config::TransformerConfig;
use super::model::{Transformer, Workspace};
use super::task::Batch;
use crate::backend::{AdamStep, BackendReport, Device, DeviceChoice, Tensor, select};
use crate::error::Result;
use crate::progress::{Progress, tick};
use crate::rng::{Stream, stream};
use serde::{Deserialize, Serialize};

/// The attention maps of one layer: `maps[head][i][j]` = `P[i, j]` (query `i`, key `j`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LayerMaps {
    pub layer: usize,
    pub maps: Vec<Vec<Vec<f64>>>,
}

/// Coordinate statistics of one record (mean absolute values over positions and
/// coordinates, averaged over the members that have not diverged), per layer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Coords {
    /// Mean |S| of the attention logits `S = scale q.k` (causal entries), per block.
    pub logits: Vec<f64>,
    /// Mean |x| of the residual stream after each block.
    pub residual: Vec<f64>,
    /// Mean |x(t) - x(0)| after each block (same inputs: the probe batch).
    pub residual_change: Vec<f64>,
    /// Mean |f| of the readout.
    pub readout: f64,
    /// Mean |f(t) - f(0)|.
    pub readout_change: f64,
    /// Mean |S(t) - S(0)| per block.
    pub logits_change: Vec<f64>,
}

/// Everything one ensemble run records.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct MembersRun {
    pub backend: BackendReport,
    pub steps: Vec<usize>,
    /// `train_loss[record][member]` (NaN once diverged).
    pub train_loss: Vec<Vec<f64>>,
    /// `test_loss[record][member]` (empty without test sequences).
    pub test_loss: Vec<Vec<f64>>,
    pub diverged_at: Vec<Option<usize>>,
    /// Mean training loss over the last `score_window` steps per member (None when
    /// diverged or not finite).
    pub score: Vec<Option<f64>>,
    /// Final attention maps of member 0 on test sequence 0 (when observed).
    pub attention: Vec<LayerMaps>,
    /// Labels of the positions of that sequence.
    pub labels: Vec<String>,
    /// Per record, coordinate statistics (when probed).
    pub coords: Vec<Coords>,
    /// Per member, the spread between its heads' attention maps on the test sequences
    /// at initialisation and at the end ([`head_spread`]; when asked).
    pub head_spread_init: Vec<f64>,
    pub head_spread: Vec<f64>,
}

/// Options beyond the config.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Record coordinate statistics at every record, on a fixed probe batch.
    pub coords: bool,
    /// Measure the spread between heads' attention maps at the start and the end.
    pub head_spread: bool,
}

/// Train `lrs.len() x cfg.seeds` members (member `e = i S + s`: rate `lrs[i]`, seed `s`)
/// on the device [`select`] picks.
pub fn train_members(
    choice: DeviceChoice,
    cfg: &TransformerConfig,
    lrs: &[f64],
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<MembersRun> {
    let sel = select::select(choice, step_flops(cfg, lrs.len()));
    let mut res = block_on(train_members_on(sel.device, cfg, lrs, opts, progress))?;
    if sel.fallback.is_some() {
        res.backend.fallback = sel.fallback;
    }
    Ok(res)
}

/// Work of one training step of the ensemble, roughly (the device policy's size input).
pub fn step_flops(cfg: &TransformerConfig, lrs: usize) -> f64 {
    let m = &cfg.model;
    let (n, t) = (m.width as f64, m.context as f64);
    let per_token = m.depth as f64
        * (3.0 * n * m.attn_width() as f64 * 2.0 + 2.0 * n * m.ffn() as f64)
        + 2.0 * n * (cfg.task.input_width() + cfg.task.outputs()) as f64;
    6.0 * per_token * t * cfg.batch as f64 * (lrs * cfg.seeds) as f64
}

/// [`train_members`] on a given device; a device lost mid-run is replaced by the CPU
/// (from the same seeds) and the result says so.
pub async fn train_members_on(
    device: Device,
    cfg: &TransformerConfig,
    lrs: &[f64],
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<MembersRun> {
    let res = train_once(device.clone(), cfg, lrs, opts, progress).await?;
    match device.lost() {
        None => Ok(res),
        Some(why) => {
            let mut res = train_once(Device::Cpu, cfg, lrs, opts, progress).await?;
            res.backend = BackendReport::fell_back(why);
            Ok(res)
        }
    }
}

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
            panic!("a WebGPU run must be driven asynchronously (train_members_on)")
        }
    }
}

/// Upload a batch into a workspace.
pub fn load_batch(dev: &Device, ws: &mut Workspace, batch: &Batch) {
    dev.write(&mut ws.u, &batch.inputs);
    dev.write(&mut ws.targets, &batch.targets);
}

/// Per-member means of the row losses `[E R]` over `count` positions.
fn member_losses(rows: &[f32], members: usize, count: usize) -> Vec<f64> {
    let per = rows.len() / members.max(1);
    (0..members)
        .map(|e| {
            rows[e * per..(e + 1) * per]
                .iter()
                .map(|&v| v as f64)
                .sum::<f64>()
                / count.max(1) as f64
        })
        .collect()
}

async fn train_once(
    device: Device,
    cfg: &TransformerConfig,
    lrs: &[f64],
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<MembersRun> {
    cfg.validate()?;
    let s_count = cfg.seeds;
    let members: Vec<usize> = (0..lrs.len() * s_count).map(|e| e % s_count).collect();
    let e_count = members.len();
    let mut net = Transformer::new(
        device.clone(),
        &cfg.model,
        &cfg.param,
        &cfg.task,
        cfg.seed,
        &members,
    );
    let dev = device;
    let (t_ctx, tw) = (cfg.model.context, cfg.task.target_width());
    let mut ws = net.workspace(cfg.batch, tw, true);
    let mut test = (cfg.observe.test_sequences > 0).then(|| {
        let mut rng = stream(cfg.seed, Stream::Data, 0, 0);
        let b = cfg
            .task
            .batch(&mut rng, cfg.observe.test_sequences, t_ctx, true);
        let mut wt = net.workspace(cfg.observe.test_sequences, tw, false);
        load_batch(&dev, &mut wt, &b);
        (b, wt)
    });
    let mut probe = opts.coords.then(|| {
        let b = cfg.task.batch(
            &mut stream(cfg.seed, Stream::Data, 1, 0),
            cfg.batch,
            t_ctx,
            false,
        );
        let mut wp = net.workspace(cfg.batch, tw, false);
        wp.keep_stream(&dev);
        load_batch(&dev, &mut wp, &b);
        (wp, None::<ProbeState>)
    });
    let member_lr: Vec<f32> = (0..e_count).map(|e| lrs[e / s_count] as f32).collect();
    let member_lr = dev.upload(&member_lr);
    let mut m: Vec<Tensor> = net.params.iter().map(|w| dev.zeros(w.len())).collect();
    let mut v: Vec<Tensor> = net.params.iter().map(|w| dev.zeros(w.len())).collect();
    let mut score_sum = dev.zeros(e_count * ws.rows);
    let window = cfg.observe.score_window.min(cfg.steps);
    let mut res = MembersRun {
        backend: BackendReport::of(&dev),
        diverged_at: vec![None; e_count],
        ..Default::default()
    };
    let every = cfg.observe.every;
    let report_every = (cfg.steps / 100).max(1);
    let crate::transformer::config::TfOptimizer::Adam {
        beta1, beta2, eps, ..
    } = cfg.optimizer;
    let mut window_count = 0usize;
    if opts.head_spread
        && let Some((_, wt)) = &mut test
    {
        net.forward(wt);
        res.head_spread_init = head_spread(&net, wt).await;
    }
    for t in 0..=cfg.steps {
        let batch = cfg.task.batch(
            &mut stream(cfg.seed, Stream::Batches, t as u64, 0),
            cfg.batch,
            t_ctx,
            false,
        );
        load_batch(&dev, &mut ws, &batch);
        net.forward(&mut ws);
        net.loss(&mut ws, batch.count);
        if t >= cfg.steps - window && t < cfg.steps {
            dev.axpy(1.0, &ws.loss_rows, &mut score_sum);
            window_count = window_count.max(batch.count);
        }
        if t % every == 0 || t == cfg.steps {
            let rows = dev.download_async(&ws.loss_rows).await;
            let mut losses = member_losses(&rows, e_count, batch.count);
            for (e, l) in losses.iter_mut().enumerate() {
                if res.diverged_at[e].is_none()
                    && !(l.is_finite() && *l <= cfg.observe.divergence_threshold)
                {
                    res.diverged_at[e] = Some(t);
                }
                if res.diverged_at[e].is_some() {
                    *l = f64::NAN;
                }
            }
            res.steps.push(t);
            res.train_loss.push(losses);
            if let Some((tb, wt)) = &mut test {
                net.forward(wt);
                net.loss(wt, tb.count);
                let rows = dev.download_async(&wt.loss_rows).await;
                let mut tl = member_losses(&rows, e_count, tb.count);
                for (e, l) in tl.iter_mut().enumerate() {
                    if res.diverged_at[e].is_some() {
                        *l = f64::NAN;
                    }
                }
                res.test_loss.push(tl);
            }
            if let Some((wp, state)) = &mut probe {
                net.forward(wp);
                let snap = probe_coords(&net, wp, state).await;
                res.coords.push(snap);
            }
            let seeds_view: Vec<f64> = res
                .train_loss
                .last()
                .map_or(vec![], |r| r[..s_count].to_vec());
            let test_view: Vec<f64> = res
                .test_loss
                .last()
                .map_or(vec![], |r| r[..s_count].to_vec());
            progress.losses(t, &seeds_view, &test_view);
            if res.diverged_at.iter().all(Option::is_some) {
                break;
            }
        }
        if t == cfg.steps {
            break;
        }
        net.backward(&mut ws);
        // Adam step t + 1, bias corrections folded into the rate and epsilon
        let k = (t + 1) as i32;
        let (bc1, bc2) = (1.0 - beta1.powi(k), 1.0 - beta2.powi(k));
        let sched = cfg.optimizer.schedule(t, cfg.steps);
        for (p, spec) in net.scales.specs.iter().enumerate() {
            let st = AdamStep {
                lr: (sched * spec.lr_scale * bc2.sqrt() / bc1) as f32,
                beta1: beta1 as f32,
                beta2: beta2 as f32,
                eps: (eps * spec.eps_scale * bc2.sqrt()) as f32,
            };
            let w = &mut net.params[p];
            dev.adam_members(&st, &member_lr, &ws.grads[p], &mut m[p], &mut v[p], w);
        }
        if dev.lost().is_some() {
            return Ok(res);
        }
        if t % report_every == 0 {
            tick(progress, "train", t as u64, cfg.steps as u64)?;
        }
    }
    // scores: the window's summed row losses
    let sums = dev.download_async(&score_sum).await;
    let per_member = member_losses(&sums, e_count, window_count * window);
    res.score = per_member
        .iter()
        .enumerate()
        .map(|(e, &l)| {
            let ok = res.diverged_at[e].is_none()
                && l.is_finite()
                && res.steps.last() == Some(&cfg.steps);
            ok.then_some(l)
        })
        .collect();
    if let Some((tb, wt)) = &mut test
        && (cfg.observe.attention || opts.head_spread)
    {
        net.forward(wt);
        if cfg.observe.attention {
            res.attention = attention_maps(&net, wt).await;
            res.labels = cfg.task.labels(tb, 0, t_ctx);
        }
        if opts.head_spread {
            res.head_spread = head_spread(&net, wt).await;
        }
    }
    tick(progress, "train", cfg.steps as u64, cfg.steps as u64)?;
    Ok(res)
}

/// The attention maps of member 0 on sequence 0 of the workspace's batch, every layer.
pub async fn attention_maps(net: &Transformer, ws: &Workspace) -> Vec<LayerMaps> {
    let (h, t) = (net.model.heads, net.model.context);
    let mut out = vec![];
    for (l, bl) in ws.blocks.iter().enumerate() {
        let p = net.device.download_async(&bl.probs).await;
        let maps = (0..h)
            .map(|hh| {
                (0..t)
                    .map(|i| (0..t).map(|j| p[(hh * t + i) * t + j] as f64).collect())
                    .collect()
            })
            .collect();
        out.push(LayerMaps { layer: l, maps });
    }
    out
}

/// Per member, the spread between its heads' attention maps on the workspace's
/// sequences (the forward pass has run): the root mean square over layers, sequences and
/// query positions `i` of the distance between a head's row `P_h[i, :]` and the heads'
/// mean row,
///
/// ```text
/// spread^2 = < (1/H) sum_h |P_h[i, :] - mean_h' P_h'[i, :]|^2 >_{layer, sequence, i}
/// ```
///
/// 0 when every head attends alike. Under muP (logits `sqrt(dh0)/dh`) it falls as the head
/// size grows (Bordelon, Chaudhry & Pehlevan 2024: the heads collapse to one in the
/// infinite-head-size limit); under SP (`1/sqrt(dh)`) the heads stay distinct.
pub async fn head_spread(net: &Transformer, ws: &Workspace) -> Vec<f64> {
    let (h, t) = (net.model.heads, net.model.context);
    let e = net.members;
    let mut sums = vec![0.0f64; e];
    for bl in &ws.blocks {
        let p = net.device.download_async(&bl.probs).await;
        let groups = p.len() / (h * t * t);
        for g in 0..groups {
            let member = g / ws.b;
            for i in 0..t {
                for j in 0..=i {
                    let at = |hh: usize| p[((g * h + hh) * t + i) * t + j] as f64;
                    let mean = (0..h).map(at).sum::<f64>() / h as f64;
                    sums[member] +=
                        (0..h).map(|hh| (at(hh) - mean).powi(2)).sum::<f64>() / h as f64;
                }
            }
        }
    }
    let per = (ws.blocks.len() * ws.b * t) as f64;
    sums.iter().map(|s| (s / per).sqrt()).collect()
}

/// What the coordinate check keeps from the first probe: per member, the residual
/// stream after each block, the logits and the outputs at initialisation.
pub struct ProbeState {
    residual0: Vec<Vec<f32>>,
    logits0: Vec<Vec<f32>>,
    f0: Vec<f32>,
}

/// Coordinate statistics of the probe batch (the forward pass has run, keeping the
/// residual stream after each block); the logits are recomputed on the host from `qkv`.
async fn probe_coords(net: &Transformer, ws: &Workspace, state: &mut Option<ProbeState>) -> Coords {
    let dev = &net.device;
    let m = &net.model;
    let (t, h, dh, da) = (m.context, m.heads, m.dh(), m.attn_width());
    let mut residual = vec![];
    let mut logits = vec![];
    for (bl, x_after) in ws.blocks.iter().zip(&ws.stream) {
        residual.push(dev.download_async(x_after).await);
        let qkv = dev.download_async(&bl.qkv).await;
        let rows = qkv.len() / (3 * da);
        let groups = rows / t;
        let mut s = Vec::with_capacity(groups * h * t * (t + 1) / 2);
        let scale = net.scales.attn_scale as f32;
        for g in 0..groups {
            for hh in 0..h {
                for i in 0..t {
                    let q = &qkv[(g * t + i) * 3 * da + hh * dh..][..dh];
                    for j in 0..=i {
                        let k = &qkv[(g * t + j) * 3 * da + da + hh * dh..][..dh];
                        s.push(scale * q.iter().zip(k).map(|(a, b)| a * b).sum::<f32>());
                    }
                }
            }
        }
        logits.push(s);
    }
    let f = dev.download_async(&ws.f).await;
    let st = state.get_or_insert_with(|| ProbeState {
        residual0: residual.clone(),
        logits0: logits.clone(),
        f0: f.clone(),
    });
    let mean_abs =
        |v: &[f32]| v.iter().map(|x| x.abs() as f64).sum::<f64>() / v.len().max(1) as f64;
    let mean_diff = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs() as f64)
            .sum::<f64>()
            / a.len().max(1) as f64
    };
    Coords {
        logits: logits.iter().map(|v| mean_abs(v)).collect(),
        logits_change: logits
            .iter()
            .zip(&st.logits0)
            .map(|(a, b)| mean_diff(a, b))
            .collect(),
        residual: residual.iter().map(|v| mean_abs(v)).collect(),
        residual_change: residual
            .iter()
            .zip(&st.residual0)
            .map(|(a, b)| mean_diff(a, b))
            .collect(),
        readout: mean_abs(&f),
        readout_change: mean_diff(&f, &st.f0),
    }
}
