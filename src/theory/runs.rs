//! Config and result types of the theory computations as [`crate::run::RunConfig`]
//! kinds (`kernel`, `lazy`, `dmft`, `depth_limit`), and their CSV tables.

use super::depth::DepthLimitResult;
use super::dmft::DmftResult;
use super::kernels::{mlp_kernels, resnet_kernels, rows};
use super::lazy::LazyResult;
use crate::config::{Activation, MAX_DEPTH};
use crate::error::{Result, check_range};
use serde::{Deserialize, Serialize};

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

impl KernelConfig {
    pub fn validate(&self) -> Result<()> {
        check_range("hidden_layers", self.hidden_layers, 0, MAX_DEPTH)?;
        check_range("sigma_w", self.sigma_w, 0.0, 100.0)?;
        check_range("x (rows)", self.x.len(), 1, 4096)?;
        if let Some(b) = self.resnet_beta {
            check_range("resnet_beta", b, 0.0, 100.0)?;
            check_range("hidden_layers", self.hidden_layers, 1, MAX_DEPTH)?;
        }
        rows(&self.x).map(|_| ())
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

/// `lazy_loss`: `step,train_loss,test_loss`.
pub fn lazy_csv(r: &LazyResult) -> Vec<(String, String)> {
    let mut s = String::from("step,train_loss,test_loss\n");
    for (t, l) in r.loss.iter().enumerate() {
        let tl = r.test_loss.get(t).map_or(String::new(), f64::to_string);
        s.push_str(&format!("{t},{l},{tl}\n"));
    }
    vec![("lazy_loss".into(), s)]
}

/// `dmft_loss`: `step,loss`; `dmft_history`: `iteration,change`.
pub fn dmft_csv(r: &DmftResult) -> Vec<(String, String)> {
    let mut s = String::from("step,loss\n");
    for (t, l) in r.loss.iter().enumerate() {
        s.push_str(&format!("{t},{l}\n"));
    }
    let mut h = String::from("iteration,change\n");
    for (i, c) in r.history.iter().enumerate() {
        h.push_str(&format!("{i},{c}\n"));
    }
    vec![("dmft_loss".into(), s), ("dmft_history".into(), h)]
}

/// `depth_ode`: `tau,h`; `depth_finite`: `depth,layer,tau,h`.
pub fn depth_csv(r: &DepthLimitResult) -> Vec<(String, String)> {
    let mut s = String::from("tau,h\n");
    for (t, h) in r.tau.iter().zip(&r.h_ode) {
        s.push_str(&format!("{t},{h}\n"));
    }
    let mut f = String::from("depth,layer,tau,h\n");
    for pt in &r.finite {
        for (l, h) in pt.h.iter().enumerate() {
            let tau = l as f64 / pt.depth as f64;
            f.push_str(&format!("{},{l},{tau},{h}\n", pt.depth));
        }
    }
    vec![("depth_ode".into(), s), ("depth_finite".into(), f)]
}
