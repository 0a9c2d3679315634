//! Stability verdicts of an abc-parameterisation (Yang & Hu 2021), in this crate's
//! convention (see [`super::param`]): weight matrix `l` (input `l = 0`, readout `l = L`)
//! is `N^{-a_l} W` with `W ~ N(0, N^{-2 b_l})`, trained at rate `eta N^{-c}`.
//!
//! Only two combinations per layer matter (the rest is the symmetry
//! `a -> a + t, b -> b - t, c -> c - 2t`):
//!
//! ```text
//! init scale    i_l = a_l + b_l      (how big the effective weights start)
//! update scale  u_l = 2 a_l + c      (how big one step moves the effective weights)
//! ```
//!
//! With the input fan-in fixed, the theory's conditions read
//!
//! ```text
//! stable at init:    i_0 = 0, i_l = 1/2 (hidden), i_L >= 1/2
//! r := min(i_L, u_L) + min_{l < L} (u_l + [l = 0]) - 1
//! stable training:   r >= 0
//! function learning: nontrivial, i_L + r = 1 or u_L = 1
//! feature learning:  r = 0 (features move by Theta(1)); r > 0 is the kernel regime
//! ```
//!
//! The page's abc explorer shows these verdicts; it asks the core for them so that the
//! page and the CLI cannot disagree.

use super::param::exponents;
use crate::config::{Arch, Parameterization};
use crate::error::{Error, Result};
use serde::Serialize;

const EPS: f64 = 1e-9;

fn eq(x: f64, y: f64) -> bool {
    (x - y).abs() < EPS
}

/// One of the three conditions, with a sentence saying why it holds or fails.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Condition {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

/// The verdict on exponents `a`, `b` (one per weight matrix) and `c`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Verdict {
    /// `r`, the feature-learning exponent (0: features move by Theta(1)).
    pub r: f64,
    /// Init scales `a_l + b_l`.
    pub init: Vec<f64>,
    /// Update scales `2 a_l + c`.
    pub update: Vec<f64>,
    /// Stable at init and in training; function learning; feature learning.
    pub conditions: Vec<Condition>,
    /// The named parameterisation these invariants are, up to the abc symmetry
    /// (`"mup"`, `"ntk"`, `"sp"`, `"sp_lr_1_over_n"`), if any.
    pub named: Option<String>,
    /// A sentence naming it for people.
    pub known: String,
}

fn fmt(x: f64) -> String {
    let v = (x * 1e4).round() / 1e4;
    format!("{v}")
}

/// Judge exponents `a`, `b` (one per weight matrix, at least 2) and `c`.
pub fn verdict(a: &[f64], b: &[f64], c: f64) -> Result<Verdict> {
    let n = a.len();
    if n < 2 || b.len() != n {
        return Err(Error::config(
            "param.b",
            format!(
                "as many b as a exponents, at least 2 (one per weight matrix); got {} a and {} b",
                a.len(),
                b.len()
            ),
        ));
    }
    if !a.iter().chain(b).chain([&c]).all(|v| v.is_finite()) {
        return Err(Error::config("param", "finite exponents"));
    }
    let last = n - 1;
    let init: Vec<f64> = a.iter().zip(b).map(|(x, y)| x + y).collect();
    let update: Vec<f64> = a.iter().map(|x| 2.0 * x + c).collect();
    let hidden_ok = init[1..last].iter().all(|&v| eq(v, 0.5));
    let stable_init = eq(init[0], 0.0) && hidden_ok && init[last] >= 0.5 - EPS;
    let inner = (0..last)
        .map(|l| update[l] + if l == 0 { 1.0 } else { 0.0 })
        .fold(f64::INFINITY, f64::min);
    let r = init[last].min(update[last]) + inner - 1.0;
    let stable_train = stable_init && r >= -EPS;
    let nontrivial = stable_train && (eq(init[last] + r, 1.0) || eq(update[last], 1.0));
    let feature = nontrivial && eq(r, 0.0);
    let conditions = vec![
        Condition {
            name: "Stable forward and backward passes (activations and gradients O(1) at init)"
                .into(),
            ok: stable_init,
            detail: if !stable_init {
                "init scales must be a0+b0 = 0, hidden a+b = 1/2, readout a+b >= 1/2".into()
            } else if stable_train {
                format!("and updates stay bounded (r = {} >= 0)", fmt(r))
            } else {
                format!(
                    "but a width-independent step blows up as N grows (r = {} < 0)",
                    fmt(r)
                )
            },
        },
        Condition {
            name: "Function learning (the output moves by Theta(1): df/dt = Theta(1))".into(),
            ok: nontrivial,
            detail: if nontrivial {
                "readout condition met".into()
            } else {
                "the output does not move at order one".into()
            },
        },
        Condition {
            name: "Feature learning (hidden features move by Theta(1): dh/dt = Theta(1))".into(),
            ok: feature,
            detail: if feature {
                "r = 0".into()
            } else if nontrivial {
                format!("r = {} > 0: kernel (lazy) regime", fmt(r))
            } else {
                "needs the two above and r = 0".into()
            },
        },
    ];
    let named = identify(&init, &update);
    let known = match named.as_deref() {
        Some("mup") => "µP / mean field (maximal feature learning)".to_string(),
        Some("ntk") => "NTK parameterisation (kernel regime)".into(),
        Some("sp") => {
            "standard parameterisation with a width-independent learning rate (unstable as N grows)"
                .into()
        }
        Some(_) => "standard parameterisation with learning rate ~ 1/N (kernel regime)".into(),
        None if feature => {
            "a feature-learning parameterisation (not one of the named presets)".into()
        }
        None => "not one of the named parameterisations".into(),
    };
    Ok(Verdict {
        r,
        init,
        update,
        conditions,
        named,
        known,
    })
}

/// The invariants `(a + b, 2a + c)` of exponents.
fn invariants(a: &[f64], b: &[f64], c: f64) -> (Vec<f64>, Vec<f64>) {
    (
        a.iter().zip(b).map(|(x, y)| x + y).collect(),
        a.iter().map(|x| 2.0 * x + c).collect(),
    )
}

/// Which named parameterisation has these invariants (compared with the exponent table
/// of [`exponents`], so the two cannot disagree).
fn identify(init: &[f64], update: &[f64]) -> Option<String> {
    let n = init.len();
    let depth = n - 1; // an MLP with this many weight matrices
    let same = |x: &[f64], y: &[f64]| x.iter().zip(y).all(|(p, q)| eq(*p, *q));
    let named = [
        ("mup", Parameterization::Mup { gamma0: 1.0 }, 0.0),
        ("ntk", Parameterization::Ntk { gamma0: 1.0 }, 0.0),
        ("sp", Parameterization::Sp, 0.0),
        // SP with the learning rate scaled by 1/N: c = 1
        ("sp_lr_1_over_n", Parameterization::Sp, 1.0),
    ];
    named.into_iter().find_map(|(name, p, dc)| {
        let (a, b, c, _) = exponents(&p, Arch::Mlp, depth);
        debug_assert_eq!(a.len(), Arch::Mlp.weight_matrices(depth));
        let (i, u) = invariants(&a, &b, c + dc);
        (same(&i, init) && same(&u, update)).then(|| name.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(p: Parameterization, depth: usize) -> Verdict {
        let (a, b, c, _) = exponents(&p, Arch::Mlp, depth);
        verdict(&a, &b, c).unwrap()
    }

    fn oks(v: &Verdict) -> Vec<bool> {
        v.conditions.iter().map(|c| c.ok).collect()
    }

    #[test]
    fn the_named_parameterisations_get_their_textbook_verdicts() {
        for depth in [1, 2, 5] {
            let sp = of(Parameterization::Sp, depth);
            assert_eq!(oks(&sp), [true, false, false], "SP: stable init only");
            assert_eq!(sp.named.as_deref(), Some("sp"));
            assert!(sp.r <= 0.0);
            let ntk = of(Parameterization::Ntk { gamma0: 1.0 }, depth);
            assert_eq!(oks(&ntk), [true, true, false], "NTK: kernel regime");
            assert_eq!(ntk.named.as_deref(), Some("ntk"));
            assert!(ntk.r > 0.0);
            let mup = of(Parameterization::Mup { gamma0: 1.0 }, depth);
            assert_eq!(oks(&mup), [true, true, true], "muP: feature learning");
            assert_eq!(mup.named.as_deref(), Some("mup"));
            assert_eq!(mup.r, 0.0);
            assert!(mup.known.contains("mean field"));
        }
    }

    #[test]
    fn the_abc_symmetry_keeps_the_verdict() {
        let (a, b, c, _) = exponents(&Parameterization::Mup { gamma0: 1.0 }, Arch::Mlp, 2);
        let t = 0.25;
        let a2: Vec<f64> = a.iter().map(|x| x + t).collect();
        let b2: Vec<f64> = b.iter().map(|x| x - t).collect();
        let v = verdict(&a2, &b2, c - 2.0 * t).unwrap();
        assert_eq!(v.named.as_deref(), Some("mup"));
        assert_eq!(oks(&v), [true, true, true]);
    }

    #[test]
    fn sp_with_a_one_over_n_rate_is_a_kernel_regime() {
        let (a, b, _, _) = exponents(&Parameterization::Sp, Arch::Mlp, 1);
        let v = verdict(&a, &b, 1.0).unwrap();
        assert_eq!(v.named.as_deref(), Some("sp_lr_1_over_n"));
        assert_eq!(oks(&v), [true, true, false]);
    }

    #[test]
    fn bad_input_names_the_field() {
        let e = verdict(&[0.0, 1.0], &[0.0], 0.0).unwrap_err().to_string();
        assert!(e.contains("param.b"), "{e}");
        assert!(verdict(&[0.0], &[0.0], 0.0).is_err());
        assert!(verdict(&[0.0, f64::NAN], &[0.0, 0.0], 0.0).is_err());
    }
}
