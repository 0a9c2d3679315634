//! One training run split over K workers by hidden units ([`Part`]): each worker keeps
//! its share of the weights resident and the workers exchange only activations.
//!
//! Worker r holds the units `U_r` of every hidden layer. Per pass, with `H` hidden
//! layers (`[S x P x N]` numbers per layer, of which each worker computes `|U_r|`
//! columns):
//!
//! ```text
//! forward   h^i_r = m_i a^i W_{i,r}^T           a^i = X or phi^{i-1} of every unit
//!           all-gather phi^i (i < H - 1)        every worker gets all N columns
//!           f = sum_r m_H phi^{H-1}_r W_{H,r}^T  (all-reduce, summed in rank order)
//! backward  dh^{H-1}_r = (m_H E W_{H,r}) * phi'_r          local
//!           dh^{i-1}_r = (sum_s m_i dh^i_s W_{i,s})_r * phi'_r   (reduce-scatter)
//!           dW_{i,r} = m_i dh^i_r^T a^i                     local
//! ```
//!
//! Every sum over workers runs in rank order on every worker, so all of them hold the
//! same `f`, losses and records. The products split by rows, so a split run equals the
//! unsplit one up to the rounding of those sums (about 1e-7 relative per step).

use super::network::{Ensemble, Workspace};
use super::part::{Part, columns, put_columns};
use crate::backend::{Device, Gemm, Tensor};
use crate::config::Arch;
use crate::error::{Error, Result};
use std::future::Future;
use std::pin::Pin;

/// What an exchange resolves to: one message from every worker, in rank order.
pub type Received<'a> = Pin<Box<dyn Future<Output = Result<Vec<Vec<f32>>>> + 'a>>;

/// The channel between the workers of a split run.
pub trait Exchange {
    /// This worker's index r and the number of workers K.
    fn part(&self, width: usize) -> Part;
    /// All-to-all: `out[j]` goes to worker `j`; resolves to what each worker sent here,
    /// `in[j]` from worker `j` (`in[r] = out[r]`, kept, not sent). Every worker calls it
    /// the same number of times, in the same order.
    fn all_to_all(&mut self, out: Vec<Vec<f32>>) -> Received<'_>;
}

/// A run on one worker: nothing to exchange.
pub struct Alone;

impl Exchange for Alone {
    fn part(&self, width: usize) -> Part {
        Part::whole(width)
    }
    fn all_to_all(&mut self, out: Vec<Vec<f32>>) -> Received<'_> {
        Box::pin(std::future::ready(Ok(out)))
    }
}

/// Sum every worker's `v` (equal lengths), in rank order on every worker.
pub async fn all_reduce(ex: &mut dyn Exchange, part: Part, v: Vec<f32>) -> Result<Vec<f32>> {
    if part.is_whole() {
        return Ok(v);
    }
    let n = v.len();
    sum(ex.all_to_all(copies(v, part.count, part.rank)).await?, n)
}

/// The sum of every worker's block of `n` numbers, in rank order.
fn sum(blocks: Vec<Vec<f32>>, n: usize) -> Result<Vec<f32>> {
    let mut total = vec![0.0; n];
    for block in &blocks {
        if block.len() != n {
            return Err(mismatch());
        }
        for (t, b) in total.iter_mut().zip(block) {
            *t += b;
        }
    }
    Ok(total)
}

/// A block of the wrong size came in.
fn mismatch() -> Error {
    Error::Worker("the workers disagree on the shapes they exchange".into())
}

/// `v` for every worker: copies for the others, `v` itself at `rank`.
fn copies(v: Vec<f32>, count: usize, rank: usize) -> Vec<Vec<f32>> {
    let mut out: Vec<_> = (0..count)
        .map(|j| if j == rank { vec![] } else { v.clone() })
        .collect();
    out[rank] = v;
    out
}

/// The forward pass of `net` (a part or the whole) on `x`: every worker ends with the
/// whole `f` in `ws.f`.
pub async fn forward(
    net: &Ensemble,
    x: &Tensor,
    ws: &mut Workspace,
    ex: &mut dyn Exchange,
) -> Result<()> {
    if net.part.is_whole() {
        net.forward(x, ws);
        return Ok(());
    }
    let hs = net.hidden();
    for i in 0..hs {
        net.hidden_layer(i, x, ws);
        if i + 1 < hs {
            gather(net, ws, i, ex).await?;
        }
    }
    net.readout(ws);
    let dev = &net.device;
    let f = all_reduce(ex, net.part, dev.download(&ws.f)).await?;
    dev.write(&mut ws.f, &f);
    Ok(())
}

/// All-gather `phi^i`: this worker's columns `[S x P x |U_r|]` to every worker, every
/// worker's into `ws.gathered[i]` `[S x P x N]`.
async fn gather(net: &Ensemble, ws: &mut Workspace, i: usize, ex: &mut dyn Exchange) -> Result<()> {
    let (dev, part) = (&net.device, net.part);
    let own = dev.download(&ws.phi[i]);
    let got = ex.all_to_all(copies(own, part.count, part.rank)).await?;
    let rows = net.seeds * ws.p;
    let mut all = vec![0.0; rows * net.width];
    for (r, block) in got.iter().enumerate() {
        let units = part.units_of(r);
        if block.len() != rows * units.len() {
            return Err(mismatch());
        }
        put_columns(&mut all, net.width, units, block);
    }
    dev.write(&mut ws.gathered[i], &all);
    Ok(())
}

/// The backward pass of `net` from `ws.e = dL/df` (the same on every worker): this
/// part's `ws.dh` and, if `weight_grads`, its weight gradients.
pub async fn backward(
    net: &Ensemble,
    x: &Tensor,
    ws: &mut Workspace,
    weight_grads: bool,
    ex: &mut dyn Exchange,
) -> Result<()> {
    if net.part.is_whole() {
        net.backward(x, ws, weight_grads);
        return Ok(());
    }
    net.readout_backward(ws, weight_grads);
    for i in (1..net.hidden()).rev() {
        if weight_grads {
            net.weight_grad(i, x, ws);
        }
        backprop(net, ws, i, ex).await?;
    }
    if weight_grads {
        net.weight_grad(0, x, ws);
    }
    Ok(())
}

/// `dL/dh^{i-1}` of this part's units from every worker's `dL/dh^i`: each worker's
/// `m_i dh^i_s W_{i,s}` `[S x P x N]`, its columns `U_r` summed on worker r in rank
/// order, times `phi'(h^{i-1})` (plus `dh^i` for a ResNet).
async fn backprop(
    net: &Ensemble,
    ws: &mut Workspace,
    i: usize,
    ex: &mut dyn Exchange,
) -> Result<()> {
    let (dev, part) = (&net.device, net.part);
    let (s, p, n) = (net.seeds, ws.p, net.width);
    let m = net.scales.layers[i].multiplier as f32;
    let partial = ws.partial.as_mut().expect("a split workspace");
    let g = Gemm::new(s, p, n, part.len()).alpha(m);
    dev.gemm(&g, &ws.dh[i], &net.weights[i], partial);
    let all = dev.download(partial);
    let out = (0..part.count)
        .map(|r| columns(&all, n, part.units_of(r)))
        .collect();
    let field = sum(ex.all_to_all(out).await?, s * p * part.len())?;
    let (lo, hi) = ws.dh.split_at_mut(i);
    dev.write(&mut lo[i - 1], &field);
    dev.mul_assign(&ws.dphi[i - 1], &mut lo[i - 1]);
    if net.arch == Arch::Resnet {
        dev.axpy(1.0, &hi[0], &mut lo[i - 1]);
    }
    Ok(())
}

/// Per-seed sums of squares `[S]` of every hidden layer's pre-activations over every
/// unit: this part's, summed over the workers.
pub async fn layer_sums(
    dev: &Device,
    ws: &Workspace,
    sums: &mut (Tensor, Tensor),
    part: Part,
    ex: &mut dyn Exchange,
) -> Result<Vec<f32>> {
    let (acc, layer) = sums;
    for (l, h) in ws.h.iter().enumerate() {
        if l == 0 {
            dev.sum_sq(h, acc);
        } else {
            dev.sum_sq(h, layer);
            dev.axpy(1.0, layer, acc);
        }
    }
    let own = dev.download_async(acc).await;
    all_reduce(ex, part, own).await
}

/// Native workers of a split run: threads joined by channels, one per pair.
#[cfg(not(target_arch = "wasm32"))]
pub mod threads {
    use super::{Exchange, Received};
    use crate::error::{Error, Result};
    use crate::nn::part::Part;
    use std::sync::mpsc::{Receiver, Sender, channel};

    /// Worker `rank`'s ends of the channels to every other worker.
    pub struct Mesh {
        rank: usize,
        to: Vec<Option<Sender<Vec<f32>>>>,
        from: Vec<Option<Receiver<Vec<f32>>>>,
    }

    /// The `count` workers' ends of a full mesh of channels.
    pub fn mesh(count: usize) -> Vec<Mesh> {
        let mut to: Vec<Vec<Option<Sender<Vec<f32>>>>> = (0..count)
            .map(|_| (0..count).map(|_| None).collect())
            .collect();
        let mut from: Vec<Vec<Option<Receiver<Vec<f32>>>>> = (0..count)
            .map(|_| (0..count).map(|_| None).collect())
            .collect();
        for a in 0..count {
            for b in 0..count {
                if a != b {
                    let (tx, rx) = channel();
                    to[a][b] = Some(tx);
                    from[b][a] = Some(rx);
                }
            }
        }
        to.into_iter()
            .zip(from)
            .enumerate()
            .map(|(rank, (to, from))| Mesh { rank, to, from })
            .collect()
    }

    impl Mesh {
        fn swap(&mut self, out: Vec<Vec<f32>>) -> Result<Vec<Vec<f32>>> {
            let lost = |j| Error::Worker(format!("worker {j} stopped"));
            let mut own = vec![];
            for (j, v) in out.into_iter().enumerate() {
                match &self.to[j] {
                    Some(tx) => tx.send(v).map_err(|_| lost(j))?,
                    None => own = v,
                }
            }
            let mut got = vec![];
            for (j, rx) in self.from.iter().enumerate() {
                got.push(match rx {
                    Some(rx) => rx.recv().map_err(|_| lost(j))?,
                    None => std::mem::take(&mut own),
                });
            }
            Ok(got)
        }
    }

    impl Exchange for Mesh {
        fn part(&self, width: usize) -> Part {
            Part {
                rank: self.rank,
                count: self.to.len(),
                width,
            }
        }
        fn all_to_all(&mut self, out: Vec<Vec<f32>>) -> Received<'_> {
            Box::pin(std::future::ready(self.swap(out)))
        }
    }
}
