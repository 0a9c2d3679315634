//! Observables of a finite network: empirical kernels and coordinate-check statistics.
//!
//! ```text
//! Phi^i_{mu nu} = phi(h^i_mu) . phi(h^i_nu) / N                     feature kernel
//! g^i_mu        = g_scale * df_mu / dh^i_mu                          gradient field
//! G^i_{mu nu}   = g^i_mu . g^i_nu / N                                gradient kernel
//! NTK_{mu nu}   = sum_l s_l <df_mu/dW^l, df_nu/dW^l>                 lr-weighted NTK
//! ```
//!
//! with `s_l` the layer's learning-rate scale, so that under full-batch GD the centred
//! outputs move as `Delta(t+1) = Delta(t) - (eta/P) NTK Delta(t)` to first order, the
//! form the DMFT uses. The NTK and G use the first output. Layer `i` indexes the hidden
//! representations `h^{i+1}` of docs/theory.md (i = 0 is the first hidden layer).

use super::network::{Ensemble, Workspace};
use crate::backend::Tensor;
use serde::{Deserialize, Serialize};

/// Kernels at one recorded step, each `[P x P]` row-major, per seed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct KernelSnapshot {
    pub step: usize,
    /// `phi[layer][seed]`.
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub phi: Vec<Vec<Vec<f64>>>,
    /// `g[layer][seed]`.
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub g: Vec<Vec<Vec<f64>>>,
    /// `ntk[seed]`.
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub ntk: Vec<Vec<f64>>,
}

/// Coordinate-check statistics at one recorded step, `[layer][seed]`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct CoordSnapshot {
    pub step: usize,
    /// mean_{mu, i} |h^l_{mu i}(t)|
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub mean_abs_h: Vec<Vec<f64>>,
    /// mean_{mu, i} |h^l_{mu i}(t) - h^l_{mu i}(0)|
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub mean_abs_dh: Vec<Vec<f64>>,
    /// mean_{mu, c} |f_{mu c}(t)| and mean |f(t) - f(0)| over training points, per seed.
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub mean_abs_f: Vec<f64>,
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub mean_abs_df: Vec<f64>,
}

/// `[S x P x K]` row-major per seed -> `A A^T / K` per seed, in f64.
fn gram_per_seed(a: &[f32], s: usize, p: usize, k: usize, scale: f64) -> Vec<Vec<f64>> {
    (0..s)
        .map(|si| {
            let blk = &a[si * p * k..(si + 1) * p * k];
            let mut out = vec![0.0; p * p];
            for mu in 0..p {
                let am = &blk[mu * k..(mu + 1) * k];
                for nu in mu..p {
                    let an = &blk[nu * k..(nu + 1) * k];
                    let v = am
                        .iter()
                        .zip(an)
                        .map(|(x, y)| (*x as f64) * (*y as f64))
                        .sum::<f64>()
                        * scale;
                    out[mu * p + nu] = v;
                    out[nu * p + mu] = v;
                }
            }
            out
        })
        .collect()
}

/// Coordinate statistics of the current forward pass against the fields at init `h0`.
pub async fn coords(net: &Ensemble, ws: &Workspace, h0: &[Vec<f32>], step: usize) -> CoordSnapshot {
    let dev = &net.device;
    let (s, per) = (net.seeds, ws.p * net.width);
    let mut snap = CoordSnapshot {
        step,
        ..Default::default()
    };
    for (i, h) in ws.h.iter().enumerate() {
        let h = dev.download_async(h).await;
        let (mut a, mut d) = (vec![0.0; s], vec![0.0; s]);
        for si in 0..s {
            let blk = &h[si * per..(si + 1) * per];
            a[si] = blk.iter().map(|x| x.abs() as f64).sum::<f64>() / per as f64;
            if let Some(h0) = h0.get(i) {
                let b0 = &h0[si * per..(si + 1) * per];
                d[si] = blk
                    .iter()
                    .zip(b0)
                    .map(|(x, y)| (x - y).abs() as f64)
                    .sum::<f64>()
                    / per as f64;
            }
        }
        snap.mean_abs_h.push(a);
        snap.mean_abs_dh.push(d);
    }
    snap
}

/// Kernels of the current forward pass. Runs one backward pass with `dL/df = e_0`
/// for every point (so `ws.dh` holds per-sample `df/dh`); `ws.e` and `ws.dh` are
/// overwritten.
pub async fn kernels(
    net: &Ensemble,
    x: &Tensor,
    ws: &mut Workspace,
    step: usize,
    feature_kernels: bool,
    ntk: bool,
) -> KernelSnapshot {
    let dev = net.device.clone();
    let (s, p, n, c) = (net.seeds, ws.p, net.width, net.outputs);
    let mut e = vec![0.0f32; s * p * c];
    for row in e.chunks_mut(c) {
        row[0] = 1.0;
    }
    dev.write(&mut ws.e, &e);
    net.backward(x, ws, false);
    let mut phis: Vec<Vec<f32>> = Vec::with_capacity(ws.phi.len());
    for t in &ws.phi {
        phis.push(dev.download_async(t).await);
    }
    let mut dhs: Vec<Vec<f32>> = Vec::with_capacity(ws.dh.len());
    for t in &ws.dh {
        dhs.push(dev.download_async(t).await);
    }
    let inv_n = 1.0 / n as f64;
    let gs = net.scales.g_scale;
    let mut snap = KernelSnapshot {
        step,
        ..Default::default()
    };
    let phi_k: Vec<Vec<Vec<f64>>> = phis
        .iter()
        .map(|a| gram_per_seed(a, s, p, n, inv_n))
        .collect();
    let dh_k: Vec<Vec<Vec<f64>>> = dhs.iter().map(|a| gram_per_seed(a, s, p, n, 1.0)).collect();
    if ntk {
        // <df_mu/dW_l, df_nu/dW_l> = m_l^2 (delta_mu . delta_nu)(input_mu . input_nu)
        let xin = dev.download_async(x).await;
        let d = net.dim;
        let x_gram: Vec<f64> = {
            let g = gram_per_seed(&xin, 1, p, d, 1.0);
            g.into_iter().next().unwrap_or_default()
        };
        let hs = net.hidden();
        snap.ntk = (0..s)
            .map(|si| {
                let mut k = vec![0.0; p * p];
                for (l, ls) in net.scales.layers.iter().enumerate() {
                    let w = ls.lr_scale * ls.multiplier * ls.multiplier;
                    for idx in 0..p * p {
                        let input = if l == 0 {
                            x_gram[idx]
                        } else {
                            phi_k[l - 1][si][idx] * n as f64
                        };
                        let delta = if l == hs { 1.0 } else { dh_k[l][si][idx] };
                        k[idx] += w * input * delta;
                    }
                }
                k
            })
            .collect();
    }
    if feature_kernels {
        snap.g = dh_k
            .into_iter()
            .map(|per_seed| {
                per_seed
                    .into_iter()
                    .map(|k| k.into_iter().map(|v| v * gs * gs * inv_n).collect())
                    .collect()
            })
            .collect();
        snap.phi = phi_k;
    }
    snap
}
