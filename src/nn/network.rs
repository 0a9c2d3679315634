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
use super::part::Part;
use crate::backend::{Device, Gemm, Tensor};
use crate::config::{Activation, Arch, ModelConfig, Parameterization};
use crate::rng::{Stream, normals_f32, stream};

/// Weights of S independent networks (or a [`Part`] of their hidden units) and their
/// per-layer scales.
pub struct Ensemble {
    pub device: Device,
    pub arch: Arch,
    pub activation: Activation,
    pub width: usize,
    pub dim: usize,
    pub outputs: usize,
    pub seeds: usize,
    pub scales: Scales,
    /// The hidden units these weights hold (all of them unless the run is split).
    pub part: Part,
    /// `weights[l]` is `[S x fan_out x fan_in]`; for a part, `[S x |U_r| x fan_in]` for
    /// the matrices that produce a hidden layer and `[S x C x |U_r|]` for the readout.
    pub weights: Vec<Tensor>,
}

/// Buffers of one forward/backward pass over `p` points, reused every step. For a part
/// of the units `U_r`, the per-unit buffers hold `|U_r|` of the `N` columns.
pub struct Workspace {
    pub p: usize,
    /// Pre-activations `h^i [S x P x |U_r|]`.
    pub h: Vec<Tensor>,
    pub phi: Vec<Tensor>,
    pub dphi: Vec<Tensor>,
    /// Backpropagated `dL/dh^i` (or `df/dh^i` for the per-sample fields).
    pub dh: Vec<Tensor>,
    /// Outputs `f [S x P x C]` (a part's own contribution until its workers sum them).
    pub f: Tensor,
    /// `dL/df [S x P x C]`.
    pub e: Tensor,
    /// Weight gradients, shaped like the weights.
    pub grads: Vec<Tensor>,
    /// A split run only: `phi^i [S x P x N]` of every unit for `i = 0..H-1` (the input
    /// of layer `i + 1`, gathered from the workers), and `[S x P x N]` scratch for a
    /// backpropagated field before the workers sum it.
    pub gathered: Vec<Tensor>,
    pub partial: Option<Tensor>,
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
        let part = Part::whole(model.width);
        Self::new_part(device, model, param, dim, outputs, seed, seeds, part)
    }

    /// [`Ensemble::new`]'s networks, holding only `part` of their hidden units: the
    /// same weights, whatever the number of workers.
    #[allow(clippy::too_many_arguments)]
    pub fn new_part(
        device: Device,
        model: &ModelConfig,
        param: &Parameterization,
        dim: usize,
        outputs: usize,
        seed: u64,
        seeds: std::ops::Range<usize>,
        part: Part,
    ) -> Self {
        let first_seed = seeds.start;
        let seeds = seeds.len();
        let scales = Scales::new(param, model, dim, outputs);
        let matrices = scales.layers.len();
        let weights = scales
            .layers
            .iter()
            .enumerate()
            .map(|(l, ls)| {
                let n = ls.fan_in * ls.fan_out;
                let mut w = Vec::with_capacity(seeds * n);
                for s in 0..seeds {
                    let mut rng = stream(seed, Stream::Init, (first_seed + s) as u64, l as u64);
                    let whole = normals_f32(&mut rng, n, ls.init_std);
                    w.extend(part.share(l, matrices, ls.fan_in, whole));
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
            part,
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
        let own = self.seeds * p * self.part.len();
        let all = self.seeds * p * self.width;
        let hs = self.hidden();
        let mk = |k: usize, n: usize| (0..k).map(|_| d.zeros(n)).collect::<Vec<_>>();
        let split = !self.part.is_whole();
        Workspace {
            p,
            h: mk(hs, own),
            phi: mk(hs, own),
            dphi: mk(hs, own),
            dh: mk(hs, own),
            f: d.zeros(self.seeds * p * self.outputs),
            e: d.zeros(self.seeds * p * self.outputs),
            grads: self.weights.iter().map(|w| d.zeros(w.len())).collect(),
            gathered: if split { mk(hs - 1, all) } else { vec![] },
            partial: (split && hs > 1).then(|| d.zeros(all)),
        }
    }

    /// Forward pass of every seed on the shared inputs `x [P x D]` (the whole network).
    /// Each hidden layer's product and its activation run as one
    /// [`Device::gemm_activate`] call (the CPU applies phi while it writes h).
    pub fn forward(&self, x: &Tensor, ws: &mut Workspace) {
        assert!(
            self.part.is_whole(),
            "a split network's passes exchange (nn::split)"
        );
        for i in 0..self.hidden() {
            self.hidden_layer(i, x, ws);
        }
        self.readout(ws);
    }

    /// Hidden layer `i` of this part's units from the input of every unit ([`input`]):
    ///
    /// ```text
    /// h^0 = m_0 X W_0^T,   h^i = [h^{i-1} if ResNet] + m_i phi(h^{i-1}) W_i^T
    /// ```
    pub fn hidden_layer(&self, i: usize, x: &Tensor, ws: &mut Workspace) {
        let (s, p, n, k) = (self.seeds, ws.p, self.width, self.part.len());
        let dev = &self.device;
        let m = self.scales.layers[i].multiplier as f32;
        let (h_prev, h) = ws.h.split_at_mut(i);
        let (phi_prev, phi) = ws.phi.split_at_mut(i);
        let a = match i {
            0 => x,
            _ if ws.gathered.is_empty() => &phi_prev[i - 1],
            _ => &ws.gathered[i - 1],
        };
        let mut g = if i == 0 {
            Gemm::new(s, p, k, self.dim).broadcast_a()
        } else {
            Gemm::new(s, p, k, n)
        }
        .tb()
        .alpha(m);
        if i > 0 && self.arch == Arch::Resnet {
            dev.copy(&h_prev[i - 1], &mut h[0]);
            g = g.beta(1.0);
        }
        let (w, act) = (&self.weights[i], self.activation);
        dev.gemm_activate(&g, a, w, act, &mut h[0], &mut phi[0], &mut ws.dphi[i]);
    }

    /// The readout `f = m_H phi^{H-1} W_H^T` of this part's units.
    pub fn readout(&self, ws: &mut Workspace) {
        let last = self.hidden() - 1;
        let m = self.scales.layers[last + 1].multiplier as f32;
        let gf = Gemm::new(self.seeds, ws.p, self.outputs, self.part.len())
            .tb()
            .alpha(m);
        let w = &self.weights[last + 1];
        self.device.gemm(&gf, &ws.phi[last], w, &mut ws.f);
    }

    /// Backward pass from `ws.e = dL/df` (the whole network): fills `ws.dh` and, if
    /// `weight_grads`, the weight gradients `ws.grads` (`x` is needed for the input
    /// layer's gradient).
    pub fn backward(&self, x: &Tensor, ws: &mut Workspace, weight_grads: bool) {
        assert!(
            self.part.is_whole(),
            "a split network's passes exchange (nn::split)"
        );
        let (s, p, n) = (self.seeds, ws.p, self.width);
        let dev = &self.device;
        self.readout_backward(ws, weight_grads);
        for i in (1..self.hidden()).rev() {
            if weight_grads {
                self.weight_grad(i, x, ws);
            }
            // dL/dh^{i-1} = (m_i dh^i W_i) * phi'
            let m = self.scales.layers[i].multiplier as f32;
            let g = Gemm::new(s, p, n, n).alpha(m);
            let (lo, hi) = ws.dh.split_at_mut(i);
            let (w, dphi) = (&self.weights[i], &ws.dphi[i - 1]);
            dev.gemm_mul(&g, &hi[0], w, dphi, &mut lo[i - 1]);
            if self.arch == Arch::Resnet {
                dev.axpy(1.0, &hi[0], &mut lo[i - 1]);
            }
        }
        if weight_grads {
            self.weight_grad(0, x, ws);
        }
    }

    /// From `ws.e = dL/df`: the readout's gradient `dL/dW_H = m_H E^T phi^{H-1}`
    /// (`[C x |U_r|]`, if `weight_grads`) and `dL/dh^{H-1} = (m_H E W_H) * phi'`.
    pub fn readout_backward(&self, ws: &mut Workspace, weight_grads: bool) {
        let (s, p, k, c) = (self.seeds, ws.p, self.part.len(), self.outputs);
        let dev = &self.device;
        let out = self.hidden();
        let m = self.scales.layers[out].multiplier as f32;
        if weight_grads {
            let g = Gemm::new(s, c, k, p).ta().alpha(m);
            dev.gemm(&g, &ws.e, &ws.phi[out - 1], &mut ws.grads[out]);
        }
        let g = Gemm::new(s, p, k, c).alpha(m);
        let (w, dphi) = (&self.weights[out], &ws.dphi[out - 1]);
        dev.gemm_mul(&g, &ws.e, w, dphi, &mut ws.dh[out - 1]);
    }

    /// `dL/dW_i = m_i dh^i^T a` for this part's rows, `a` the input of every unit
    /// (X for `i = 0`, `phi^{i-1}` otherwise): `[|U_r| x fan_in]`.
    pub fn weight_grad(&self, i: usize, x: &Tensor, ws: &mut Workspace) {
        let (s, p, n, k) = (self.seeds, ws.p, self.width, self.part.len());
        let m = self.scales.layers[i].multiplier as f32;
        let (g, a) = match i {
            0 => (Gemm::new(s, k, self.dim, p).broadcast_b(), x),
            _ if ws.gathered.is_empty() => (Gemm::new(s, k, n, p), &ws.phi[i - 1]),
            _ => (Gemm::new(s, k, n, p), &ws.gathered[i - 1]),
        };
        self.device
            .gemm(&g.ta().alpha(m), &ws.dh[i], a, &mut ws.grads[i]);
    }
}
