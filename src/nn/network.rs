//! An ensemble of S networks (MLP or ResNet) with forward and backward passes batched
//! over the seeds.
//!
//! Shapes (row-major, seeds outermost): data `X [P x D]` shared by all seeds, weights
//! `W^l [S x fan_out x fan_in]`, pre-activations `h^i [S x P x N]` for `i = 0..H`
//! (`H` = number of hidden representations: `L` for an MLP, `L + 1` for a ResNet),
//! outputs `f [S x P x C]`.
//!
//! ```text
//! h^0     = m_0 X W_0^T
//! h^i     = [h^{i-1} if ResNet] + m_i phi(h^{i-1}) W_i^T        i = 1..H-1
//! f       = m_H phi(h^{H-1}) W_H^T
//! ```

use super::param::Scales;
use crate::backend::{Device, Gemm, Tensor};
use crate::config::{Activation, Arch, ModelConfig, Parameterization};
use crate::rng::{Stream, normals_f32, stream};

/// Weights of S independent networks and their per-layer scales.
pub struct Ensemble {
    pub device: Device,
    pub arch: Arch,
    pub activation: Activation,
    pub width: usize,
    pub dim: usize,
    pub outputs: usize,
    pub seeds: usize,
    pub scales: Scales,
    /// `weights[l]` is `[S x fan_out x fan_in]`.
    pub weights: Vec<Tensor>,
}

/// Buffers of one forward/backward pass over `p` points, reused every step.
pub struct Workspace {
    pub p: usize,
    /// Pre-activations `h^i [S x P x N]`.
    pub h: Vec<Tensor>,
    pub phi: Vec<Tensor>,
    pub dphi: Vec<Tensor>,
    /// Backpropagated `dL/dh^i` (or `df/dh^i` for the per-sample fields).
    pub dh: Vec<Tensor>,
    /// Outputs `f [S x P x C]`.
    pub f: Tensor,
    /// `dL/df [S x P x C]`.
    pub e: Tensor,
    /// Weight gradients, shaped like the weights.
    pub grads: Vec<Tensor>,
}

impl Ensemble {
    /// Networks for the seed indices `seeds` (S = its length), weights drawn from the
    /// streams `(seed, Init, s, l)`: seed s gets the same weights whatever S is.
    pub fn new(
        device: Device,
        model: &ModelConfig,
        param: &Parameterization,
        dim: usize,
        outputs: usize,
        seed: u64,
        seeds: std::ops::Range<usize>,
    ) -> Self {
        let first_seed = seeds.start;
        let seeds = seeds.len();
        let scales = Scales::new(param, model, dim, outputs);
        let weights = scales
            .layers
            .iter()
            .enumerate()
            .map(|(l, ls)| {
                let n = ls.fan_in * ls.fan_out;
                let mut w = Vec::with_capacity(seeds * n);
                for s in 0..seeds {
                    let mut rng = stream(seed, Stream::Init, (first_seed + s) as u64, l as u64);
                    w.extend(normals_f32(&mut rng, n, ls.init_std));
                }
                device.from_vec(w)
            })
            .collect();
        Ensemble {
            device,
            arch: model.arch,
            activation: model.activation,
            width: model.width,
            dim,
            outputs,
            seeds,
            scales,
            weights,
        }
    }

    /// Number of hidden representations H.
    pub fn hidden(&self) -> usize {
        self.weights.len() - 1
    }

    /// Allocate buffers for passes over `p` points.
    pub fn workspace(&self, p: usize) -> Workspace {
        let d = &self.device;
        let hn = self.seeds * p * self.width;
        let hs = self.hidden();
        let mk = |k: usize| (0..k).map(|_| d.zeros(hn)).collect::<Vec<_>>();
        Workspace {
            p,
            h: mk(hs),
            phi: mk(hs),
            dphi: mk(hs),
            dh: mk(hs),
            f: d.zeros(self.seeds * p * self.outputs),
            e: d.zeros(self.seeds * p * self.outputs),
            grads: self.weights.iter().map(|w| d.zeros(w.len())).collect(),
        }
    }

    /// Forward pass of every seed on the shared inputs `x [P x D]`. Each hidden layer's
    /// product and its activation run as one [`Device::gemm_activate`] call (the CPU
    /// applies phi while it writes h).
    pub fn forward(&self, x: &Tensor, ws: &mut Workspace) {
        let (s, p, n) = (self.seeds, ws.p, self.width);
        let dev = &self.device;
        let act = self.activation;
        let m = |l: usize| self.scales.layers[l].multiplier as f32;
        // h^0 = m_0 X W_0^T
        let g0 = Gemm::new(s, p, n, self.dim).tb().alpha(m(0)).broadcast_a();
        let (phi, dphi) = (&mut ws.phi[0], &mut ws.dphi[0]);
        dev.gemm_activate(&g0, x, &self.weights[0], act, &mut ws.h[0], phi, dphi);
        for i in 1..self.hidden() {
            let (h_prev, h) = ws.h.split_at_mut(i);
            let (phi_prev, phi) = ws.phi.split_at_mut(i);
            let mut g = Gemm::new(s, p, n, n).tb().alpha(m(i));
            if self.arch == Arch::Resnet {
                dev.copy(&h_prev[i - 1], &mut h[0]);
                g = g.beta(1.0);
            }
            let w = &self.weights[i];
            let dphi = &mut ws.dphi[i];
            dev.gemm_activate(&g, &phi_prev[i - 1], w, act, &mut h[0], &mut phi[0], dphi);
        }
        let last = self.hidden() - 1;
        let gf = Gemm::new(s, p, self.outputs, n).tb().alpha(m(last + 1));
        dev.gemm(&gf, &ws.phi[last], &self.weights[last + 1], &mut ws.f);
    }

    /// Backward pass from `ws.e = dL/df`: fills `ws.dh` and, if `weight_grads`, the
    /// weight gradients `ws.grads` (`x` is needed for the input layer's gradient).
    pub fn backward(&self, x: &Tensor, ws: &mut Workspace, weight_grads: bool) {
        let (s, p, n, c) = (self.seeds, ws.p, self.width, self.outputs);
        let dev = &self.device;
        let m = |l: usize| self.scales.layers[l].multiplier as f32;
        let hs = self.hidden();
        let out = hs;
        if weight_grads {
            // dL/dW_H = m_H E^T phi^{H-1}   [C x N]
            let g = Gemm::new(s, c, n, p).ta().alpha(m(out));
            dev.gemm(&g, &ws.e, &ws.phi[hs - 1], &mut ws.grads[out]);
        }
        // dL/dh^{H-1} = (m_H E W_H) * phi'
        let g = Gemm::new(s, p, n, c).alpha(m(out));
        let (w, dphi) = (&self.weights[out], &ws.dphi[hs - 1]);
        dev.gemm_mul(&g, &ws.e, w, dphi, &mut ws.dh[hs - 1]);
        for i in (1..hs).rev() {
            if weight_grads {
                // dL/dW_i = m_i dh^i^T phi^{i-1}   [N x N]
                let g = Gemm::new(s, n, n, p).ta().alpha(m(i));
                dev.gemm(&g, &ws.dh[i], &ws.phi[i - 1], &mut ws.grads[i]);
            }
            // dL/dh^{i-1} = (m_i dh^i W_i) * phi'
            let g = Gemm::new(s, p, n, n).alpha(m(i));
            let (lo, hi) = ws.dh.split_at_mut(i);
            let (w, dphi) = (&self.weights[i], &ws.dphi[i - 1]);
            dev.gemm_mul(&g, &hi[0], w, dphi, &mut lo[i - 1]);
            if self.arch == Arch::Resnet {
                dev.axpy(1.0, &hi[0], &mut lo[i - 1]);
            }
        }
        if weight_grads {
            // dL/dW_0 = m_0 dh^0^T X   [N x D]
            let g = Gemm::new(s, n, self.dim, p).ta().alpha(m(0)).broadcast_b();
            dev.gemm(&g, &ws.dh[0], x, &mut ws.grads[0]);
        }
    }
}
