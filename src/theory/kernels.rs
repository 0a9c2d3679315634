//! NNGP and NTK kernels of infinitely wide MLPs and 1/sqrt(L) residual networks at
//! initialisation (docs/theory.md section 2).
//!
//! Gaussian expectations of the activation over a 2x2 covariance
//! `[[k11, k12], [k12, k22]]`, with `theta = arccos(k12 / sqrt(k11 k22))`:
//!
//! ```text
//! ReLU    E[phi phi]   = sqrt(k11 k22) / (2 pi) (sin theta + (pi - theta) cos theta)
//!         E[phi' phi'] = (pi - theta) / (2 pi)
//! erf     E[phi phi]   = (2/pi) arcsin(2 k12 / sqrt((1 + 2 k11)(1 + 2 k22)))
//!         E[phi' phi'] = (4/pi) / sqrt((1 + 2 k11)(1 + 2 k22) - 4 k12^2)
//! linear  E[phi phi]   = k12,  E[phi' phi'] = 1
//! ```
//!
//! and 2-D Gauss-Hermite quadrature for tanh and GELU.
//!
//! MLP recursion with weight scale `sigma_w` on every dense layer and no bias (the
//! neural-tangents "ntk" parameterisation):
//!
//! ```text
//! Sigma^1 = sigma_w^2 Phi^0,  Phi^0 = X X^T / D,  Theta^1 = Sigma^1
//! Sigma^{l+1} = sigma_w^2 E[phi phi](Sigma^l)
//! Theta^{l+1} = Sigma^{l+1} + sigma_w^2 E[phi' phi'](Sigma^l) o Theta^l,   l = 1..L
//! NNGP = Sigma^{L+1},  NTK = Theta^{L+1}
//! ```
//!
//! With `sigma_w = 1` this is the mean-field (muP) network with raw weights N(0, 1) at
//! initialisation, and the NTK equals the learning-rate-weighted empirical NTK of the
//! finite engine (`observe.ntk`) as N grows: `NTK = sum_l G^l o Phi^{l-1}` with
//! `Phi^l = E[phi phi](Sigma^l)` and `G^l = prod_{k >= l} E[phi' phi'](Sigma^k)`.

use super::quadrature::{DEFAULT_NODES, GaussHermite};
use crate::budget::{Cost, saturate};
use crate::config::{Activation, MAX_DEPTH};
use crate::error::{Error, Result, check_range};
use crate::kind::Kind;
use crate::progress::Progress;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Gaussian expectations of one activation, closed form where one exists.
#[derive(Clone, Debug)]
pub struct ActKernel {
    pub act: Activation,
    gh: Option<GaussHermite>,
}

impl ActKernel {
    /// Closed forms for ReLU, erf and linear; quadrature (96 nodes per axis) otherwise.
    pub fn new(act: Activation) -> Self {
        let gh = match act {
            Activation::Relu | Activation::Erf | Activation::Linear => None,
            _ => Some(GaussHermite::new(DEFAULT_NODES)),
        };
        ActKernel { act, gh }
    }

    /// Always by quadrature with `nodes` points per axis (to test the closed forms).
    pub fn quadrature(act: Activation, nodes: usize) -> Self {
        ActKernel {
            act,
            gh: Some(GaussHermite::new(nodes)),
        }
    }

    /// `E[phi(u) phi(v)]`.
    pub fn phi_phi(&self, k11: f64, k12: f64, k22: f64) -> f64 {
        if let Some(gh) = &self.gh {
            let a = self.act;
            return gh.expect2(k11, k12, k22, |u, v| a.phi(u) * a.phi(v));
        }
        match self.act {
            Activation::Relu => {
                let s = (k11.max(0.0) * k22.max(0.0)).sqrt();
                if s == 0.0 {
                    return 0.0;
                }
                let th = (k12 / s).clamp(-1.0, 1.0).acos();
                s / (2.0 * PI) * (th.sin() + (PI - th) * th.cos())
            }
            Activation::Erf => {
                let d = ((1.0 + 2.0 * k11) * (1.0 + 2.0 * k22)).sqrt();
                2.0 / PI * (2.0 * k12 / d).clamp(-1.0, 1.0).asin()
            }
            _ => k12,
        }
    }

    /// `E[phi'(u) phi'(v)]`.
    pub fn dphi_dphi(&self, k11: f64, k12: f64, k22: f64) -> f64 {
        if let Some(gh) = &self.gh {
            let a = self.act;
            return gh.expect2(k11, k12, k22, |u, v| a.dphi(u) * a.dphi(v));
        }
        match self.act {
            Activation::Relu => {
                let s = (k11.max(0.0) * k22.max(0.0)).sqrt();
                if s == 0.0 {
                    // phi'(0) = 0 by convention
                    return 0.0;
                }
                let th = (k12 / s).clamp(-1.0, 1.0).acos();
                (PI - th) / (2.0 * PI)
            }
            Activation::Erf => {
                let d = (1.0 + 2.0 * k11) * (1.0 + 2.0 * k22) - 4.0 * k12 * k12;
                4.0 / PI / d.max(1e-300).sqrt()
            }
            _ => 1.0,
        }
    }

    /// `E[phi(h)^2]` for `h ~ N(0, k)`.
    pub fn phi_sq(&self, k: f64) -> f64 {
        self.phi_phi(k, k, k)
    }

    /// `E[phi phi](Sigma)` entrywise for a `[p x p]` kernel.
    pub fn phi_matrix(&self, sigma: &[f64], p: usize) -> Vec<f64> {
        self.map_matrix(sigma, p, |a, b, c| self.phi_phi(a, b, c))
    }

    /// `E[phi' phi'](Sigma)` entrywise for a `[p x p]` kernel.
    pub fn dphi_matrix(&self, sigma: &[f64], p: usize) -> Vec<f64> {
        self.map_matrix(sigma, p, |a, b, c| self.dphi_dphi(a, b, c))
    }

    fn map_matrix(&self, s: &[f64], p: usize, f: impl Fn(f64, f64, f64) -> f64) -> Vec<f64> {
        let mut out = vec![0.0; p * p];
        for i in 0..p {
            for j in i..p {
                let v = f(s[i * p + i], s[i * p + j], s[j * p + j]);
                out[i * p + j] = v;
                out[j * p + i] = v;
            }
        }
        out
    }
}

/// Layer-by-layer kernels of a mean-field network at initialisation, each `[P x P]`.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerKernels {
    /// `phi[l] = Phi^{l+1} = E[phi(h^{l+1}) phi(h^{l+1})]`, `l = 0..L` (first hidden first).
    pub phi: Vec<Vec<f64>>,
    /// `g[l] = G^{l+1}`, the gradient kernel of hidden layer `l + 1`.
    pub g: Vec<Vec<f64>>,
    /// Pre-activation kernels `sigma[l] = <h^{l+1} h^{l+1}>`.
    pub sigma: Vec<Vec<f64>>,
    /// NNGP of the output (readout with unit weight scale).
    pub nngp: Vec<f64>,
    /// NTK, learning-rate weighted as in the finite engine.
    pub ntk: Vec<f64>,
}

fn check_kernel(k: &[f64], p: usize) -> Result<()> {
    if k.len() != p * p || p == 0 {
        return Err(Error::Data(format!(
            "input kernel has {} entries, expected {p} x {p} with p > 0",
            k.len()
        )));
    }
    if k.iter().any(|v| !v.is_finite()) {
        return Err(Error::Data("non-finite entry in the input kernel".into()));
    }
    for i in 0..p {
        if k[i * p + i] < 0.0 {
            return Err(Error::Numerical(format!(
                "input kernel has a negative diagonal entry at {i}"
            )));
        }
    }
    Ok(())
}

fn finite(name: &str, v: &[f64]) -> Result<()> {
    if v.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(Error::Numerical(format!("{name} is not finite")))
    }
}

/// MLP kernels with `hidden_layers = L` and weight scale `sigma_w` from the input kernel
/// `kx = Phi^0 [p x p]`. With `sigma_w = 1` the per-layer `phi`, `g` are the DMFT's
/// kernels at t = 0.
pub fn mlp_layer_kernels(
    act: Activation,
    hidden_layers: usize,
    sigma_w: f64,
    kx: &[f64],
    p: usize,
) -> Result<LayerKernels> {
    check_kernel(kx, p)?;
    if !(sigma_w.is_finite() && sigma_w >= 0.0) {
        return Err(Error::config("sigma_w", "a finite number >= 0"));
    }
    crate::error::check_range("hidden_layers", hidden_layers, 0, crate::config::MAX_DEPTH)?;
    let ak = ActKernel::new(act);
    let s2 = sigma_w * sigma_w;
    let mut sigma_l: Vec<f64> = kx.iter().map(|v| s2 * v).collect();
    let mut theta = sigma_l.clone();
    let mut sigmas = Vec::with_capacity(hidden_layers);
    let mut phis = Vec::with_capacity(hidden_layers);
    let mut dots = Vec::with_capacity(hidden_layers);
    for _ in 0..hidden_layers {
        let ph = ak.phi_matrix(&sigma_l, p);
        let dt = ak.dphi_matrix(&sigma_l, p);
        let next: Vec<f64> = ph.iter().map(|v| s2 * v).collect();
        theta = next
            .iter()
            .zip(&dt)
            .zip(&theta)
            .map(|((n, d), t)| n + s2 * d * t)
            .collect();
        sigmas.push(std::mem::replace(&mut sigma_l, next));
        phis.push(ph);
        dots.push(dt);
    }
    // G^l = prod_{k >= l} sigma_w^2 E[phi' phi'](Sigma^k)
    let mut g = vec![vec![0.0; p * p]; hidden_layers];
    let mut acc = vec![1.0; p * p];
    for l in (0..hidden_layers).rev() {
        for (a, d) in acc.iter_mut().zip(&dots[l]) {
            *a *= s2 * d;
        }
        g[l] = acc.clone();
    }
    finite("NNGP", &sigma_l)?;
    finite("NTK", &theta)?;
    Ok(LayerKernels {
        phi: phis,
        g,
        sigma: sigmas,
        nngp: sigma_l,
        ntk: theta,
    })
}

/// Rows of `x` as a row-major array with their dimension; clear errors for bad input.
pub fn rows(x: &[Vec<f64>]) -> Result<(Vec<f64>, usize)> {
    let d = x.first().map_or(0, Vec::len);
    if x.is_empty() || d == 0 {
        return Err(Error::Data("x needs at least one non-empty row".into()));
    }
    if x.iter().any(|r| r.len() != d) {
        return Err(Error::Data("rows of x have different lengths".into()));
    }
    let flat: Vec<f64> = x.iter().flatten().copied().collect();
    if flat.iter().any(|v| !v.is_finite()) {
        return Err(Error::Data("non-finite value in x".into()));
    }
    Ok((flat, d))
}

/// Check input rows as a config field: 1 to `max_rows` rows of equal length `D` (1 to
/// [`crate::data::MAX_DIM`]) with finite numbers; errors name the row (`x[3]`).
pub fn check_rows(field: &str, x: &[Vec<f64>], max_rows: usize) -> Result<()> {
    check_range(&format!("{field} (rows)"), x.len(), 1, max_rows)?;
    let d = x[0].len();
    check_range(&format!("{field}[0] (columns)"), d, 1, crate::data::MAX_DIM)?;
    for (i, r) in x.iter().enumerate() {
        if r.len() != d {
            return Err(Error::config(
                format!("{field}[{i}]"),
                format!("{d} values like {field}[0], got {}", r.len()),
            ));
        }
        if r.iter().any(|v| !v.is_finite()) {
            return Err(Error::config(format!("{field}[{i}]"), "finite numbers"));
        }
    }
    Ok(())
}

fn to_rows(k: &[f64], p: usize) -> Vec<Vec<f64>> {
    k.chunks(p).map(<[f64]>::to_vec).collect()
}

/// `(nngp, ntk)` of an MLP with `hidden_layers` hidden layers and weight scale
/// `sigma_w`, for the rows of `x` (input kernel `x.x' / D`). Both are `[P x P]`.
#[allow(clippy::type_complexity)] // the CLI's fixed signature
pub fn mlp_kernels(
    act: Activation,
    hidden_layers: usize,
    sigma_w: f64,
    x: &[Vec<f64>],
) -> Result<(Vec<Vec<f64>>, Vec<Vec<f64>>)> {
    let (flat, d) = rows(x)?;
    let p = x.len();
    let kx = crate::data::gram(&flat, &flat, d);
    let k = mlp_layer_kernels(act, hidden_layers, sigma_w, &kx, p)?;
    Ok((to_rows(&k.nngp, p), to_rows(&k.ntk, p)))
}

/// Kernels of the depth-muP residual network of the finite engine (`arch = resnet`,
/// `param = depth_mup`) at initialisation, from the input kernel `kx [p x p]`:
///
/// ```text
/// h^0 = W^0 x / sqrt(D),  h^i = h^{i-1} + beta / sqrt(N L) W^i phi(h^{i-1}),  i = 1..L
/// f   = w . phi(h^L) / (gamma0 N)
/// Sigma^0 = Phi^0,   Sigma^i = Sigma^{i-1} + (beta^2 / L) E[phi phi](Sigma^{i-1})
/// G^L = E[phi' phi'](Sigma^L),   G^{i-1} = G^i + (beta^2 / L) E[phi' phi'](Sigma^{i-1}) o G^i
/// NTK = G^0 o Phi^0 + sum_{i=1..L} (beta^2 / L) G^i o E[phi phi](Sigma^{i-1}) + E[phi phi](Sigma^L)
/// ```
///
/// (raw weights N(0, 1), unit-scale readout; the NTK is the engine's learning-rate
/// weighted one). `LayerKernels::sigma`, `phi`, `g` hold the `L + 1` representations
/// `h^0..h^L`; `nngp = E[phi phi](Sigma^L)`.
pub fn resnet_kernels(
    act: Activation,
    blocks: usize,
    beta: f64,
    kx: &[f64],
    p: usize,
) -> Result<LayerKernels> {
    check_kernel(kx, p)?;
    if !(beta.is_finite() && beta >= 0.0) {
        return Err(Error::config("beta", "a finite number >= 0"));
    }
    crate::error::check_range("blocks", blocks, 1, 1 << 16)?;
    let ak = ActKernel::new(act);
    let c = beta * beta / blocks as f64;
    let mut sig = kx.to_vec();
    let mut sigmas = vec![];
    let mut phis = vec![];
    let mut dots = vec![];
    for i in 0..=blocks {
        let ph = ak.phi_matrix(&sig, p);
        dots.push(ak.dphi_matrix(&sig, p));
        let next: Vec<f64> = sig.iter().zip(&ph).map(|(s, f)| s + c * f).collect();
        sigmas.push(std::mem::replace(&mut sig, next));
        phis.push(ph);
        if i == blocks {
            break;
        }
    }
    let mut g = vec![vec![0.0; p * p]; blocks + 1];
    g[blocks] = dots[blocks].clone();
    for i in (0..blocks).rev() {
        g[i] = g[i + 1]
            .iter()
            .zip(&dots[i])
            .map(|(gi, d)| gi + c * d * gi)
            .collect();
    }
    let mut ntk: Vec<f64> = g[0].iter().zip(kx).map(|(a, b)| a * b).collect();
    for i in 1..=blocks {
        for (k, (gi, f)) in ntk.iter_mut().zip(g[i].iter().zip(&phis[i - 1])) {
            *k += c * gi * f;
        }
    }
    for (k, f) in ntk.iter_mut().zip(&phis[blocks]) {
        *k += f;
    }
    let nngp = phis[blocks].clone();
    finite("NTK", &ntk)?;
    Ok(LayerKernels {
        phi: phis,
        g,
        sigma: sigmas,
        nngp,
        ntk,
    })
}

// ------------------------------------------------------------------ the `kernel` kind

/// NNGP and NTK of the rows of `x` (`kind = "kernel"`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct KernelConfig {
    pub activation: Activation,
    /// Hidden layers L of the MLP (residual blocks with `resnet_beta`).
    pub hidden_layers: usize,
    /// Weight scale on every dense layer (MLP only).
    pub sigma_w: f64,
    /// Input rows; the input kernel is `x.x' / D`.
    pub x: Vec<Vec<f64>>,
    /// If set, the depth-muP ResNet with this branch strength beta instead of the MLP.
    pub resnet_beta: Option<f64>,
}

impl Default for KernelConfig {
    fn default() -> Self {
        KernelConfig {
            activation: Activation::Relu,
            hidden_layers: 1,
            sigma_w: 1.0,
            x: vec![vec![1.0, 0.0], vec![0.5, 0.866_025_403_784_438_6]],
            resnet_beta: None,
        }
    }
}

impl Kind for KernelConfig {
    type Output = KernelResult;

    fn validate(&self) -> Result<()> {
        check_range("hidden_layers", self.hidden_layers, 0, MAX_DEPTH)?;
        check_range("sigma_w", self.sigma_w, 0.0, 100.0)?;
        check_rows("x", &self.x, 4096)?;
        if let Some(b) = self.resnet_beta {
            check_range("resnet_beta", b, 0.0, 100.0)?;
            check_range("hidden_layers", self.hidden_layers, 1, MAX_DEPTH)?;
        }
        Ok(())
    }

    fn cost(&self) -> Cost {
        let d = self.x.first().map_or(0, Vec::len);
        let mut cost = kernel_cost(
            self.x.len(),
            d,
            self.hidden_layers,
            self.resnet_beta.is_some(),
        );
        cost.json_bytes = cost
            .json_bytes
            .saturating_add(saturate(crate::budget::rows_json_bytes(&self.x)));
        cost.flops = kernel_work(self.activation, self.x.len(), self.hidden_layers + 1);
        cost
    }

    fn run(&self, _progress: &dyn Progress) -> Result<KernelResult> {
        kernel(self)
    }

    fn csv(&self, out: &KernelResult) -> Vec<(String, String)> {
        kernel_csv(out)
    }
}

/// `{"nngp": [[...]], "ntk": [[...]]}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct KernelResult {
    pub nngp: Vec<Vec<f64>>,
    pub ntk: Vec<Vec<f64>>,
}

/// Compute the kernels of a [`KernelConfig`].
pub fn kernel(cfg: &KernelConfig) -> Result<KernelResult> {
    cfg.validate()?;
    if let Some(beta) = cfg.resnet_beta {
        let (flat, d) = rows(&cfg.x)?;
        let p = cfg.x.len();
        let kx = crate::data::gram(&flat, &flat, d);
        let k = resnet_kernels(cfg.activation, cfg.hidden_layers, beta, &kx, p)?;
        let r = |m: &[f64]| m.chunks(p).map(<[f64]>::to_vec).collect();
        return Ok(KernelResult {
            nngp: r(&k.nngp),
            ntk: r(&k.ntk),
        });
    }
    let (nngp, ntk) = mlp_kernels(cfg.activation, cfg.hidden_layers, cfg.sigma_w, &cfg.x)?;
    Ok(KernelResult { nngp, ntk })
}

fn matrix_csv(m: &[Vec<f64>]) -> String {
    let mut s = String::new();
    for r in m {
        let row: Vec<String> = r.iter().map(f64::to_string).collect();
        s.push_str(&row.join(","));
        s.push('\n');
    }
    s
}

/// CSV tables of a kernel result: `nngp`, `ntk` (matrices, no header).
pub fn kernel_csv(r: &KernelResult) -> Vec<(String, String)> {
    vec![
        ("nngp".into(), matrix_csv(&r.nngp)),
        ("ntk".into(), matrix_csv(&r.ntk)),
    ]
}

/// Most `[P x P]` matrices the kernel recursion holds at once, the input kernel
/// included: [`mlp_layer_kernels`] keeps `Sigma^l`, `E[phi phi]` and `E[phi' phi']` of
/// each of its `L` layers and builds the `L` gradient kernels beside them (`4 L + 5`);
/// [`resnet_kernels`] does the same over its `L + 1` representations and adds the NTK
/// and NNGP (`4 L + 9`).
pub fn recursion_matrices(layers: usize, resnet: bool) -> f64 {
    let l = layers as f64;
    if resnet { 4.0 * l + 9.0 } else { 4.0 * l + 5.0 }
}

/// NNGP/NTK of the `p` rows of `x` (`d` values each) through `layers` layers of an MLP
/// or a ResNet: the rows flattened, the recursion's `[P x P]` matrices
/// ([`recursion_matrices`]), and the two `[P x P]` results and their JSON.
/// Flops of the kernel recursion over `n` points and `layers` layers: each of the
/// `n (n + 1) / 2` entries per layer is one Gaussian expectation, a closed form for ReLU,
/// erf and linear (~50 flops), a 2-D Gauss-Hermite sum over [`DEFAULT_NODES`]^2 nodes for
/// tanh and GELU (~10 flops a node: the part that dominates a large tanh kernel).
pub fn kernel_work(act: Activation, n: usize, layers: usize) -> f64 {
    let per_entry = match act {
        Activation::Relu | Activation::Erf | Activation::Linear => 50.0,
        Activation::Tanh | Activation::Gelu => 10.0 * (DEFAULT_NODES * DEFAULT_NODES) as f64,
    };
    let entries = (n as f64) * (n as f64 + 1.0) / 2.0;
    per_entry * entries * layers.max(1) as f64
}

pub fn kernel_cost(p: usize, d: usize, layers: usize, resnet: bool) -> Cost {
    let p2 = (p * p) as f64;
    Cost {
        bytes: saturate(8.0 * (p2 * recursion_matrices(layers, resnet) + (p * d) as f64)),
        cell_bytes: 0,
        json_bytes: saturate(2.0 * p2 * crate::budget::JSON_BYTES_PER_NUMBER),
        flops: 1e3 * p2 * layers as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadrature_matches_closed_forms() {
        let cases = [
            (1.0, 0.5, 1.0),
            (2.0, -0.3, 0.7),
            (0.5, 0.49, 0.5),
            (1.3, 0.0, 2.1),
        ];
        let q = ActKernel::quadrature(Activation::Erf, DEFAULT_NODES);
        let c = ActKernel::new(Activation::Erf);
        for (a, b, d) in cases {
            assert!((q.phi_phi(a, b, d) - c.phi_phi(a, b, d)).abs() < 1e-6);
            assert!((q.dphi_dphi(a, b, d) - c.dphi_dphi(a, b, d)).abs() < 1e-6);
        }
        let q = ActKernel::quadrature(Activation::Linear, 20);
        assert!((q.phi_phi(2.0, 0.3, 1.0) - 0.3).abs() < 1e-12);
    }
}
