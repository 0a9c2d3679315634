//! The large-depth limit at initialisation (docs/theory.md section 4): with 1/sqrt(L)
//! residual branches, `tau = l / L` becomes a continuous layer time and the
//! pre-activation kernel obeys an ODE.
//!
//! ```text
//! dH/dtau     = beta^2 < phi(h)^2 >_{h ~ N(0, H)}             (RK4, tau in [0, 1])
//! H^{l+1}     = H^l + (beta^2 / L) < phi(h)^2 >_{h ~ N(0, H^l)}  (finite L, l = 0..L-1)
//! dSigma/dtau = beta^2 E[phi phi](Sigma)                        (whole [P x P] kernel)
//! ```
//!
//! ReLU: `<phi^2> = H/2`, so `H(tau) = H(0) exp(beta^2 tau / 2)` and the recursion gives
//! `H(0) (1 + beta^2 / 2L)^L`. The finite-L kernels are those of
//! [`super::kernels::resnet_kernels`] (the finite engine's depth-muP ResNet).

use super::kernels::{ActKernel, recursion_matrices, resnet_kernels};
use crate::budget::{Cost, JSON_BYTES_PER_NUMBER, saturate};
use crate::config::Activation;
use crate::error::{Error, Result, check_range};
use crate::kind::Kind;
use crate::progress::{Progress, tick};
use serde::{Deserialize, Serialize};

/// `H(tau_k)` at `tau_k = k / steps`, `k = 0..=steps`, by RK4.
pub fn layer_time_ode(act: Activation, h0: f64, beta: f64, steps: usize) -> Vec<f64> {
    let ak = ActKernel::new(act);
    let rhs = |h: f64| beta * beta * ak.phi_sq(h.max(0.0));
    let dt = 1.0 / steps.max(1) as f64;
    let mut out = vec![h0];
    let mut h = h0;
    for _ in 0..steps.max(1) {
        let k1 = rhs(h);
        let k2 = rhs(h + 0.5 * dt * k1);
        let k3 = rhs(h + 0.5 * dt * k2);
        let k4 = rhs(h + dt * k3);
        h += dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
        out.push(h);
    }
    out
}

/// `H^l` for `l = 0..=L` of the finite-depth recursion.
pub fn finite_depth(act: Activation, h0: f64, beta: f64, depth: usize) -> Vec<f64> {
    let ak = ActKernel::new(act);
    let c = beta * beta / depth.max(1) as f64;
    let mut out = vec![h0];
    let mut h = h0;
    for _ in 0..depth {
        h += c * ak.phi_sq(h);
        out.push(h);
    }
    out
}

/// `Sigma(tau = 1)` of the kernel ODE from `Sigma(0) = kx [p x p]`, RK4 with `steps`.
pub fn kernel_ode(act: Activation, beta: f64, kx: &[f64], p: usize, steps: usize) -> Vec<f64> {
    let ak = ActKernel::new(act);
    let b2 = beta * beta;
    let rhs = |s: &[f64]| -> Vec<f64> { ak.phi_matrix(s, p).iter().map(|v| b2 * v).collect() };
    let axpy = |s: &[f64], k: &[f64], a: f64| -> Vec<f64> {
        s.iter().zip(k).map(|(x, y)| x + a * y).collect()
    };
    let dt = 1.0 / steps.max(1) as f64;
    let mut s = kx.to_vec();
    for _ in 0..steps.max(1) {
        let k1 = rhs(&s);
        let k2 = rhs(&axpy(&s, &k1, 0.5 * dt));
        let k3 = rhs(&axpy(&s, &k2, 0.5 * dt));
        let k4 = rhs(&axpy(&s, &k3, dt));
        for i in 0..s.len() {
            s[i] += dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
        }
    }
    s
}

/// A depth-limit computation (`kind = "depth_limit"`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DepthLimitConfig {
    pub activation: Activation,
    /// Residual branch strength beta.
    pub beta: f64,
    /// `H(0) = <h^2>` at the first representation.
    pub h0: f64,
    /// Finite depths L to compare with the limit.
    pub depths: Vec<usize>,
    /// RK4 steps over tau in [0, 1].
    pub ode_steps: usize,
    /// Optional inputs (rows); their ResNet kernels are computed at every depth.
    pub x: Vec<Vec<f64>>,
}

impl Default for DepthLimitConfig {
    fn default() -> Self {
        DepthLimitConfig {
            activation: Activation::Relu,
            beta: 1.0,
            h0: 1.0,
            depths: vec![1, 2, 4, 8, 16, 32, 64],
            ode_steps: 200,
            x: vec![],
        }
    }
}

/// Finite-depth results at one L.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct DepthPoint {
    pub depth: usize,
    /// `H^l`, `l = 0..=L` (layer time `l / L`).
    pub h: Vec<f64>,
    /// NNGP and NTK of the inputs `x` (empty without inputs).
    pub nngp: Vec<Vec<f64>>,
    pub ntk: Vec<Vec<f64>>,
}

/// The depth-limit result.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct DepthLimitResult {
    /// Layer times of the ODE solution.
    pub tau: Vec<f64>,
    /// `H(tau)` from the ODE.
    pub h_ode: Vec<f64>,
    pub finite: Vec<DepthPoint>,
    /// `Sigma(tau = 1)` of the inputs from the kernel ODE (empty without inputs).
    pub sigma_limit: Vec<Vec<f64>>,
}

impl Kind for DepthLimitConfig {
    type Output = DepthLimitResult;

    fn validate(&self) -> Result<()> {
        check_range("beta", self.beta, 0.0, 100.0)?;
        check_range("h0", self.h0, 0.0, 1e6)?;
        check_range("ode_steps", self.ode_steps, 1, 1_000_000)?;
        check_range("depths (count)", self.depths.len(), 1, 64)?;
        for &d in &self.depths {
            check_range("depths[]", d, 1, 1 << 16)?;
        }
        if !self.x.is_empty() {
            super::kernels::check_rows("x", &self.x, 256)?;
        }
        Ok(())
    }

    /// The result: `tau`, `H(tau)` (`ode_steps + 1` each), `H^l` at each depth and, with
    /// `P` inputs, the NNGP and NTK `[P x P]` per depth and `Sigma(1)`; while it is
    /// built, the largest depth's ResNet recursion ([`recursion_matrices`]) or the input
    /// kernel and the kernel ODE's RK4 stages (about 8 `[P x P]` in all).
    fn cost(&self) -> Cost {
        let p = self.x.len();
        let d = self.x.first().map_or(0, Vec::len);
        let p2 = (p * p) as f64;
        let layers: f64 = self.depths.iter().map(|&l| l as f64 + 1.0).sum();
        let kernels = if p > 0 {
            2.0 * self.depths.len() as f64 + 1.0
        } else {
            0.0
        };
        let numbers = 2.0 * (self.ode_steps as f64 + 1.0) + layers + p2 * kernels;
        let depth = self.depths.iter().copied().max().unwrap_or(1);
        let working = if p > 0 {
            p2 * recursion_matrices(depth, true).max(8.0) + (p * d) as f64
        } else {
            0.0
        };
        Cost {
            bytes: saturate(8.0 * (numbers + working)),
            cell_bytes: 0,
            json_bytes: saturate(
                JSON_BYTES_PER_NUMBER * numbers + crate::budget::rows_json_bytes(&self.x),
            ),
            flops: layers * 1e3 + p2 * layers * 1e3 + p2 * self.ode_steps as f64 * 4e3,
        }
    }

    fn run(&self, progress: &dyn Progress) -> Result<DepthLimitResult> {
        solve(self, progress)
    }

    fn csv(&self, out: &DepthLimitResult) -> Vec<(String, String)> {
        depth_csv(out)
    }
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

/// Run a depth-limit computation.
pub fn solve(cfg: &DepthLimitConfig, progress: &dyn Progress) -> Result<DepthLimitResult> {
    cfg.validate()?;
    let act = cfg.activation;
    let h_ode = layer_time_ode(act, cfg.h0, cfg.beta, cfg.ode_steps);
    let tau = (0..=cfg.ode_steps)
        .map(|k| k as f64 / cfg.ode_steps as f64)
        .collect();
    let kx = if cfg.x.is_empty() {
        None
    } else {
        let (flat, d) = super::kernels::rows(&cfg.x)?;
        Some(crate::data::gram(&flat, &flat, d))
    };
    let p = cfg.x.len();
    let rows = |k: &[f64]| k.chunks(p).map(<[f64]>::to_vec).collect::<Vec<_>>();
    let mut finite = vec![];
    for (i, &l) in cfg.depths.iter().enumerate() {
        tick(progress, "depth", i as u64, cfg.depths.len() as u64)?;
        let mut pt = DepthPoint {
            depth: l,
            h: finite_depth(act, cfg.h0, cfg.beta, l),
            ..Default::default()
        };
        if let Some(kx) = &kx {
            let k = resnet_kernels(act, l, cfg.beta, kx, p)?;
            pt.nngp = rows(&k.nngp);
            pt.ntk = rows(&k.ntk);
        }
        finite.push(pt);
    }
    let sigma_limit = kx
        .as_ref()
        .map(|k| rows(&kernel_ode(act, cfg.beta, k, p, cfg.ode_steps)))
        .unwrap_or_default();
    if h_ode.iter().any(|v| !v.is_finite()) {
        return Err(Error::Numerical("layer-time ODE blew up".into()));
    }
    Ok(DepthLimitResult {
        tau,
        h_ode,
        finite,
        sigma_limit,
    })
}
