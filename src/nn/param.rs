//! From a [`Parameterization`] to the concrete per-layer numbers: forward multiplier,
//! init standard deviation and learning-rate scale of every weight matrix.
//!
//! Weight matrix `l` (input `l = 0`, readout last) has raw entries `W ~ N(0, N^{-2 b_l})`
//! and enters the forward pass multiplied by
//!
//! ```text
//! m_l = N^{-a_l} * (1/sqrt(D) for l = 0) * (1/gamma0 for the readout)
//!                * (beta / L^alpha for residual branches)
//! ```
//!
//! Under GD, SGD and Langevin its learning rate is `eta * s_l` with
//! `s_l = gamma0^2 N^{-c}`. Exponents of the presets (hidden = every matrix between the
//! input and the readout):
//!
//! | preset    | a_0 | a_hidden | a_readout | b_0 | b_rest | c  | alpha |
//! |-----------|-----|----------|-----------|-----|--------|----|-------|
//! | sp        | 0   | 0        | 0         | 0   | 1/2    | 0  | 0     |
//! | ntk       | 0   | 1/2      | 1/2       | 0   | 0      | 0  | 0     |
//! | mup       | 0   | 1/2      | 1         | 0   | 0      | -1 | 0     |
//! | depth_mup | 0   | 1/2      | 1         | 0   | 0      | -1 | 1/2   |
//!
//! So muP is exactly the mean-field network of docs/theory.md section 1.1:
//! `f = w.phi(h^L) / (gamma0 N)`, learning rate `eta gamma0^2 N`.
//!
//! Adam with `mup_scaling` uses `gamma0 N^{a_l - 1}` past the input layer and
//! `gamma0 N^{a_0}` on it: the rate at which each layer's update moves its output by
//! O(1), which is Yang et al. (2022) Table 3 written in these exponents (hidden and
//! readout 1/fan_in under SP, input unscaled).

use crate::config::{Arch, ModelConfig, Parameterization};

/// The abc exponents of a parameterisation for a given architecture:
/// `(a, b, c, depth_alpha)` with one `a_l`, `b_l` per weight matrix.
pub fn exponents(p: &Parameterization, arch: Arch, depth: usize) -> (Vec<f64>, Vec<f64>, f64, f64) {
    let n = arch.weight_matrices(depth);
    let preset = |a_hidden: f64, a_out: f64, b_rest: f64| {
        let mut a = vec![a_hidden; n];
        a[0] = 0.0;
        a[n - 1] = a_out;
        let mut b = vec![b_rest; n];
        b[0] = 0.0;
        (a, b)
    };
    match p {
        Parameterization::Sp => {
            let (a, b) = preset(0.0, 0.0, 0.5);
            (a, b, 0.0, 0.0)
        }
        Parameterization::Ntk { .. } => {
            let (a, b) = preset(0.5, 0.5, 0.0);
            (a, b, 0.0, 0.0)
        }
        Parameterization::Mup { .. } => {
            let (a, b) = preset(0.5, 1.0, 0.0);
            (a, b, -1.0, 0.0)
        }
        Parameterization::DepthMup { .. } => {
            let (a, b) = preset(0.5, 1.0, 0.0);
            (a, b, -1.0, 0.5)
        }
        Parameterization::Abc {
            a,
            b,
            c,
            depth_alpha,
            ..
        } => (a.clone(), b.clone(), *c, *depth_alpha),
    }
}

/// Concrete numbers for one weight matrix `[fan_out x fan_in]`.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerScale {
    pub fan_in: usize,
    pub fan_out: usize,
    /// Forward multiplier m_l.
    pub multiplier: f64,
    /// Init standard deviation N^{-b_l} of the raw entries.
    pub init_std: f64,
    /// Learning-rate scale s_l under GD / SGD / Langevin (the rate is eta s_l).
    pub lr_scale: f64,
    /// Learning-rate scale under Adam with muP scaling.
    pub adam_scale: f64,
}

/// All layers of a network, plus the normalisation of the gradient fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Scales {
    pub layers: Vec<LayerScale>,
    pub gamma0: f64,
    /// `g^l = g_scale * df/dh^l` is O(1) per coordinate: `g_scale = gamma0 N^{a_L + b_L}`
    /// (gamma0 N under muP, so that G^{L+1} = 1 as in the DMFT).
    pub g_scale: f64,
}

impl Scales {
    /// Scales for a model with input dimension `d` and `outputs` outputs.
    pub fn new(p: &Parameterization, model: &ModelConfig, d: usize, outputs: usize) -> Self {
        let (a, b, c, alpha) = exponents(p, model.arch, model.depth);
        let n = model.width as f64;
        let gamma0 = p.gamma0();
        let count = a.len();
        let layers = (0..count)
            .map(|l| {
                let fan_in = if l == 0 { d } else { model.width };
                let fan_out = if l == count - 1 { outputs } else { model.width };
                let mut multiplier = n.powf(-a[l]);
                if l == 0 {
                    multiplier /= (d as f64).sqrt();
                }
                if l == count - 1 {
                    multiplier /= gamma0;
                }
                if model.arch == Arch::Resnet && l > 0 && l < count - 1 {
                    multiplier *= model.beta * (model.depth as f64).powf(-alpha);
                }
                let adam_scale = if l == 0 {
                    gamma0 * n.powf(a[0])
                } else {
                    gamma0 * n.powf(a[l] - 1.0)
                };
                LayerScale {
                    fan_in,
                    fan_out,
                    multiplier,
                    init_std: n.powf(-b[l]),
                    lr_scale: gamma0 * gamma0 * n.powf(-c),
                    adam_scale,
                }
            })
            .collect();
        Scales {
            layers,
            gamma0,
            g_scale: gamma0 * n.powf(a[count - 1] + b[count - 1]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mup_is_the_mean_field_network() {
        let model = ModelConfig {
            width: 100,
            depth: 2,
            ..Default::default()
        };
        let s = Scales::new(&Parameterization::Mup { gamma0: 2.0 }, &model, 4, 1);
        assert_eq!(s.layers.len(), 3);
        assert!((s.layers[0].multiplier - 0.5).abs() < 1e-12); // 1/sqrt(D)
        assert!((s.layers[1].multiplier - 0.1).abs() < 1e-12); // 1/sqrt(N)
        assert!((s.layers[2].multiplier - 1.0 / 200.0).abs() < 1e-12); // 1/(gamma0 N)
        for l in &s.layers {
            assert_eq!(l.init_std, 1.0);
            assert!((l.lr_scale - 400.0).abs() < 1e-9); // gamma0^2 N
        }
        assert!((s.g_scale - 200.0).abs() < 1e-9);
    }

    #[test]
    fn depth_mup_scales_branches() {
        let model = ModelConfig {
            arch: Arch::Resnet,
            width: 64,
            depth: 4,
            beta: 1.0,
            ..Default::default()
        };
        let s = Scales::new(&Parameterization::DepthMup { gamma0: 1.0 }, &model, 8, 1);
        assert_eq!(s.layers.len(), 6);
        // beta / sqrt(N L)
        assert!((s.layers[1].multiplier - 1.0 / (64.0f64 * 4.0).sqrt()).abs() < 1e-12);
    }
}
