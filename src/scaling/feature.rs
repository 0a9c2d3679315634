//! Feature learning in the solvable model (docs/theory.md section 7.5): the random
//! features become trainable within their span, `f = w . A(t) psi / (gamma N)` with
//! `A(t) = G(t) A(0)`, trained by gradient flow with the mean-field learning rate. At
//! `gamma0 = 0` this is the random-feature model; `gamma0 > 0` lets the features grow
//! along what has been learned.
//!
//! Infinite width (and infinite data), every mode `k` keeps its residual proportional
//! to its target, `Delta_k = w*_k h_k(t)`, and
//!
//! ```text
//! dh_k/dt = -(1 + gamma0^2 c) lambda_k h_k - sum_l Xi_kl p_l h_l
//! dc/dt   = 2 sum_l p_l (1 - h_l) h_l                      (c = <w^2>, the readout's growth)
//! Xi_kl   = gamma0^2 (J_kl + J_lk),   J_kl = int_0^t (1 - h_k) lambda_l h_l ds
//! loss    = sum_k p_k h_k^2
//! ```
//!
//! (`Xi` is the feature kernel's growth in the target's coordinates). The finite model
//! runs the same flow in `N` dimensions: `u = G^T w`, `r = A0 Sigma (w* - A0^T u / N)`,
//! `dw/dt = G r`, `dG/dt = (gamma0^2 / N) w r^T`.

use super::spectrum::Node;
use crate::error::{Error, Result};
use crate::progress::{Progress, tick};

/// The infinite-width state: `h` per node, `c`, and `J [n x n]` (row-major).
struct State {
    h: Vec<f64>,
    c: f64,
    j: Vec<f64>,
}

/// `dh/dt` split into the diagonal rate (exact over a step) and the rest.
fn rates(nodes: &[Node], g2: f64, st: &State) -> (Vec<f64>, Vec<f64>, f64) {
    let n = nodes.len();
    // x_l = w_l p_l h_l
    let x: Vec<f64> = nodes
        .iter()
        .zip(&st.h)
        .map(|(nd, h)| nd.weight * nd.power * h)
        .collect();
    let mut rate = vec![0.0; n];
    let mut force = vec![0.0; n];
    // (J x)_k and (J^T x)_k
    let mut jx = vec![0.0; n];
    let mut jtx = vec![0.0; n];
    for k in 0..n {
        let row = &st.j[k * n..(k + 1) * n];
        let mut acc = 0.0;
        for l in 0..n {
            acc += row[l] * x[l];
            jtx[l] += row[l] * x[k];
        }
        jx[k] = acc;
    }
    for k in 0..n {
        let self_rate = 2.0 * g2 * st.j[k * n + k] * nodes[k].weight * nodes[k].power;
        rate[k] = (1.0 + g2 * st.c) * nodes[k].lambda + self_rate;
        force[k] = -(g2 * (jx[k] + jtx[k]) - self_rate * st.h[k]);
    }
    let dc = 2.0
        * nodes
            .iter()
            .zip(&st.h)
            .map(|(nd, h)| nd.weight * nd.power * (1.0 - h) * h)
            .sum::<f64>();
    (rate, force, dc)
}

/// One step of `dt`: exponential in the diagonal rate, the rest explicit (Heun).
fn step(nodes: &[Node], g2: f64, st: &State, dt: f64) -> State {
    let n = nodes.len();
    let advance = |h: &[f64], rate: &[f64], force: &[f64]| -> Vec<f64> {
        (0..n)
            .map(|k| {
                let r = rate[k];
                let e = (-r * dt).exp();
                let phi = if r * dt > 1e-8 { (1.0 - e) / r } else { dt };
                e * h[k] + phi * force[k]
            })
            .collect()
    };
    let accumulate = |j: &mut [f64], h: &[f64], w: f64| {
        for k in 0..n {
            let a = w * (1.0 - h[k]);
            let row = &mut j[k * n..(k + 1) * n];
            for l in 0..n {
                row[l] += a * nodes[l].lambda * h[l];
            }
        }
    };
    let (r0, f0, dc0) = rates(nodes, g2, st);
    let h1 = advance(&st.h, &r0, &f0);
    let mut j1 = st.j.clone();
    accumulate(&mut j1, &st.h, 0.5 * dt);
    accumulate(&mut j1, &h1, 0.5 * dt);
    let pred = State {
        h: h1,
        c: st.c + dt * dc0,
        j: j1,
    };
    let (r1, f1, dc1) = rates(nodes, g2, &pred);
    let rm: Vec<f64> = r0.iter().zip(&r1).map(|(a, b)| 0.5 * (a + b)).collect();
    let fm: Vec<f64> = f0.iter().zip(&f1).map(|(a, b)| 0.5 * (a + b)).collect();
    let h2 = advance(&st.h, &rm, &fm);
    let mut j2 = st.j.clone();
    accumulate(&mut j2, &st.h, 0.5 * dt);
    accumulate(&mut j2, &h2, 0.5 * dt);
    State {
        h: h2,
        c: st.c + 0.5 * dt * (dc0 + dc1),
        j: j2,
    }
}

/// The infinite-width loss `sum p h^2` at `times` (increasing), in steps of
/// `dt = max(rel t, 1e-3)`: the diagonal rate (`(1 + gamma0^2 c) lambda_k` and the mode's
/// own `Xi_kk p_k`) exactly over the step, the coupling between modes by Heun's rule.
pub fn infinite_width_losses(
    nodes: &[Node],
    gamma0: f64,
    times: &[f64],
    rel: f64,
    progress: &dyn Progress,
) -> Result<Vec<f64>> {
    let n = nodes.len();
    let g2 = gamma0 * gamma0;
    let mut st = State {
        h: vec![1.0; n],
        c: 0.0,
        j: vec![0.0; n * n],
    };
    let loss = |st: &State| {
        nodes
            .iter()
            .zip(&st.h)
            .map(|(nd, h)| nd.weight * nd.power * h * h)
            .sum::<f64>()
    };
    let mut t = 0.0;
    let mut out = Vec::with_capacity(times.len());
    let t_end = times.iter().cloned().fold(0.0, f64::max);
    for &target in times {
        while t < target {
            let dt = (rel * t).max(1e-3).min(target - t);
            st = step(nodes, g2, &st, dt);
            t += dt;
        }
        if !st.h.iter().all(|h| h.is_finite()) {
            return Err(Error::Numerical(format!(
                "the feature-learning theory blew up by t = {t}"
            )));
        }
        out.push(loss(&st));
        tick(progress, "theory", (t / t_end * 1000.0) as u64, 1000)?;
    }
    Ok(out)
}

/// The finite rich model: its training data (`b_tr`, `S_tr`, `y2`: the gradient's
/// target, kernel and `|y|^2 / P`) and the population's (`b`, `S`, `c0`), all in the
/// `N`-dimensional span of the frozen projection `A0`.
struct RichModel {
    n: usize,
    g2: f64,
    b_tr: Vec<f64>,
    s_tr: Vec<f64>,
    y2: f64,
    b: Vec<f64>,
    s: Vec<f64>,
    c0: f64,
}

impl RichModel {
    /// `u = G^T w` of a state `[w (N), G (N x N)]`.
    fn u(&self, y: &[f64]) -> Vec<f64> {
        let n = self.n;
        let (w, g) = y.split_at(n);
        let mut u = vec![0.0; n];
        for i in 0..n {
            let wi = w[i];
            for (uj, gij) in u.iter_mut().zip(&g[i * n..(i + 1) * n]) {
                *uj += gij * wi;
            }
        }
        u
    }

    /// `c0 - 2 b.u / N + u^T S u / N^2`.
    fn quadratic(&self, b: &[f64], s: &[f64], c0: f64, u: &[f64]) -> f64 {
        let n = self.n as f64;
        let su = matvec(s, u);
        c0 - 2.0 * crate::linalg::dot(b, u) / n + crate::linalg::dot(u, &su) / (n * n)
    }

    /// `dw/dt = G r`, `dG/dt = (gamma0^2 / N) w r^T`, `r = b_tr - S_tr u / N`.
    fn rhs(&self, y: &[f64], out: &mut [f64]) {
        let n = self.n;
        let u = self.u(y);
        let su = matvec(&self.s_tr, &u);
        let r: Vec<f64> = self
            .b_tr
            .iter()
            .zip(&su)
            .map(|(b, x)| b - x / n as f64)
            .collect();
        let (w, g) = y.split_at(n);
        let (dw, dg) = out.split_at_mut(n);
        for i in 0..n {
            dw[i] = crate::linalg::dot(&g[i * n..(i + 1) * n], &r);
            let a = self.g2 / n as f64 * w[i];
            for (d, rj) in dg[i * n..(i + 1) * n].iter_mut().zip(&r) {
                *d = a * rj;
            }
        }
    }
}

fn matvec(a: &[f64], x: &[f64]) -> Vec<f64> {
    let n = x.len();
    a.chunks(n).map(|row| crate::linalg::dot(row, x)).collect()
}

/// The finite rich model of width `width` (`samples`: `None` for the population loss),
/// seed `index`, trained by gradient flow from `w = 0`, `G = I` with an adaptive
/// Bogacki-Shampine 3(2) integrator (relative tolerance 1e-6); losses at `times`
/// (increasing). With `gamma0 = 0` this is the random-feature model of
/// [`super::finite::simulate`] (same draws).
#[allow(clippy::too_many_arguments)]
pub fn simulate_rich(
    spec: &super::spectrum::Spectrum,
    width: usize,
    samples: Option<usize>,
    gamma0: f64,
    seed: u64,
    index: u64,
    times: &[f64],
    progress: &dyn Progress,
) -> Result<super::finite::FiniteCurve> {
    use super::finite::{draw_data, draw_projection};
    use crate::linalg::{gemm, rm, tr};
    let (n, m) = (width, spec.modes);
    let ks: Vec<f64> = (1..=m).map(|k| k as f64).collect();
    let lambda: Vec<f64> = ks.iter().map(|&k| spec.lambda(k)).collect();
    let w_star: Vec<f64> = ks.iter().map(|&k| spec.target(k)).collect();
    let c0: f64 = ks.iter().map(|&k| spec.power(k)).sum();
    let a0 = draw_projection(spec, seed, index, n);
    // population: b = A0 Lambda w*, S = A0 Lambda A0^T
    let mut al = a0.clone();
    for row in al.chunks_mut(m) {
        for (x, l) in row.iter_mut().zip(&lambda) {
            *x *= l.sqrt();
        }
    }
    let mut s = vec![0.0; n * n];
    gemm(n, m, n, 1.0, &al, rm(m), &al, tr(m), 0.0, &mut s, rm(n));
    drop(al);
    let lw: Vec<f64> = lambda.iter().zip(&w_star).map(|(l, w)| l * w).collect();
    let b = matvec(&a0, &lw);
    let (b_tr, s_tr, y2) = match samples {
        None => (b.clone(), s.clone(), c0),
        Some(p) => {
            let (psi, y) = draw_data(spec, seed, index, p);
            // Phi = Psi A0^T [P x N]: b_tr = Phi^T y / P, S_tr = Phi^T Phi / P
            let mut phi = vec![0.0; p * n];
            gemm(p, m, n, 1.0, &psi, rm(m), &a0, tr(m), 0.0, &mut phi, rm(n));
            drop(psi);
            let mut st = vec![0.0; n * n];
            gemm(
                n,
                p,
                n,
                1.0 / p as f64,
                &phi,
                tr(n),
                &phi,
                rm(n),
                0.0,
                &mut st,
                rm(n),
            );
            let bt: Vec<f64> = (0..n)
                .map(|j| (0..p).map(|i| phi[i * n + j] * y[i]).sum::<f64>() / p as f64)
                .collect();
            (bt, st, crate::linalg::dot(&y, &y) / p as f64)
        }
    };
    drop(a0);
    let model = RichModel {
        n,
        g2: gamma0 * gamma0,
        b_tr,
        s_tr,
        y2,
        b,
        s,
        c0,
    };
    let dim = n + n * n;
    let mut y = vec![0.0; dim];
    for i in 0..n {
        y[n + i * n + i] = 1.0;
    }
    let losses = |y: &[f64]| -> (f64, f64) {
        let u = model.u(y);
        let test = model.quadratic(&model.b, &model.s, model.c0, &u);
        let train = if samples.is_some() {
            model.quadratic(&model.b_tr, &model.s_tr, model.y2, &u)
        } else {
            test
        };
        (test, train)
    };
    let (rtol, atol) = (1e-6, 1e-9);
    let mut k1 = vec![0.0; dim];
    model.rhs(&y, &mut k1);
    let (mut k2, mut k3, mut k4) = (vec![0.0; dim], vec![0.0; dim], vec![0.0; dim]);
    let mut tmp = vec![0.0; dim];
    let mut t = 0.0;
    let mut h: f64 = 1e-2;
    let mut out = (Vec::new(), Vec::new());
    let t_end = times.iter().cloned().fold(0.0, f64::max);
    let mut steps = 0u64;
    for &target in times {
        while t < target {
            let hh = h.min(target - t);
            for i in 0..dim {
                tmp[i] = y[i] + 0.5 * hh * k1[i];
            }
            model.rhs(&tmp, &mut k2);
            for i in 0..dim {
                tmp[i] = y[i] + 0.75 * hh * k2[i];
            }
            model.rhs(&tmp, &mut k3);
            for i in 0..dim {
                tmp[i] = y[i] + hh * (2.0 / 9.0 * k1[i] + 1.0 / 3.0 * k2[i] + 4.0 / 9.0 * k3[i]);
            }
            model.rhs(&tmp, &mut k4);
            let mut err: f64 = 0.0;
            for i in 0..dim {
                let e = hh
                    * (-5.0 / 72.0 * k1[i] + 1.0 / 12.0 * k2[i] + 1.0 / 9.0 * k3[i]
                        - 0.125 * k4[i]);
                err = err.max(e.abs() / (atol + rtol * tmp[i].abs().max(y[i].abs())));
            }
            if !err.is_finite() {
                return Err(Error::Numerical(format!(
                    "the rich model blew up at t = {t}"
                )));
            }
            if err <= 1.0 {
                t += hh;
                std::mem::swap(&mut y, &mut tmp);
                std::mem::swap(&mut k1, &mut k4);
                steps += 1;
                if steps.is_multiple_of(256) {
                    tick(progress, "training", (t / t_end * 1000.0) as u64, 1000)?;
                }
            }
            let factor = if err > 0.0 {
                0.9 * err.powf(-1.0 / 3.0)
            } else {
                5.0
            };
            h = hh * factor.clamp(0.2, 5.0);
            if h < 1e-12 {
                return Err(Error::Numerical(format!(
                    "the rich model's step vanished at t = {t}"
                )));
            }
        }
        let (te, trn) = losses(&y);
        out.0.push(te);
        out.1.push(trn);
    }
    let (test, train) = out;
    let (test_final, train_final) = (*test.last().unwrap_or(&c0), *train.last().unwrap_or(&c0));
    Ok(super::finite::FiniteCurve {
        test,
        train,
        test_final,
        train_final,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;
    use crate::scaling::finite::simulate;
    use crate::scaling::spectrum::Spectrum;
    use crate::scaling::theory::infinite_loss;

    /// At gamma0 = 0 the features do not move and every mode decays at its own rate:
    /// the solver reproduces `sum p e^{-2 lambda t}` to 1e-12 (the diagonal is integrated
    /// exactly).
    #[test]
    fn lazy_limit_is_the_closed_form() {
        let s = Spectrum {
            alpha: 1.5,
            beta: 0.5,
            modes: 5000,
        };
        let nodes = s.nodes();
        let times = [0.5, 5.0, 50.0, 500.0];
        let got = infinite_width_losses(&nodes, 0.0, &times, 0.05, &Silent).unwrap();
        for (t, l) in times.iter().zip(got) {
            let want = infinite_loss(&nodes, *t);
            assert!(((l - want) / want).abs() < 1e-12, "t={t}: {l} vs {want}");
        }
    }

    /// The step (2% of t) is converged: halving it to 0.5% changes the loss by less than
    /// 0.3% up to t = 1e3 at gamma0 = 1 (measured 0.1%).
    #[test]
    fn rich_solution_is_converged_in_the_step() {
        let s = Spectrum {
            alpha: 1.5,
            beta: 0.5,
            modes: 2000,
        };
        let nodes = s.nodes();
        let times = [1.0, 10.0, 100.0, 1000.0];
        let a = infinite_width_losses(&nodes, 1.0, &times, 0.02, &Silent).unwrap();
        let b = infinite_width_losses(&nodes, 1.0, &times, 0.005, &Silent).unwrap();
        for (x, y) in a.iter().zip(&b) {
            assert!(((x - y) / y).abs() < 3e-3, "{x} vs {y}");
        }
    }

    /// The rich finite model at gamma0 = 0 is the random-feature model: the integrated
    /// flow equals the eigenbasis solution of [`simulate`] (same draws) to 1e-6, with
    /// and without data reuse.
    #[test]
    fn finite_rich_model_at_gamma0_zero_is_random_features() {
        let s = Spectrum {
            alpha: 1.5,
            beta: 0.5,
            modes: 512,
        };
        let times = [0.3, 3.0, 30.0, 300.0];
        for p in [None, Some(48)] {
            let a = simulate(&s, Some(32), p, 3, 1, &times).unwrap();
            let b = simulate_rich(&s, 32, p, 0.0, 3, 1, &times, &Silent).unwrap();
            for i in 0..times.len() {
                assert!(
                    (a.test[i] - b.test[i]).abs() < 1e-6 * a.test[i],
                    "{p:?} test"
                );
                assert!(
                    (a.train[i] - b.train[i]).abs() < 1e-6 * a.test[i],
                    "{p:?} train"
                );
            }
        }
    }
}
