//! What a `scaling_law` run returns: theory and finite curves per grid point, the laws
//! fitted to both against the predicted exponents, the compute-optimal envelope, and
//! their CSV tables.

use super::kind::ScalingConfig;
use super::laws::{Envelope, Fit, Predicted, envelope, power_fit, power_fit_within, predicted};
use serde::{Deserialize, Serialize};

/// A theory curve: test and train loss at the config's times, and as `t -> infinity`
/// (`None`: not available, or divergent).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TheoryCurve {
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub test: Vec<f64>,
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub train: Vec<f64>,
    pub test_final: Option<f64>,
    pub train_final: Option<f64>,
}

/// Finite models of one grid point: mean and standard deviation over seeds.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FiniteStats {
    pub seeds: usize,
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub test: Vec<f64>,
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub test_std: Vec<f64>,
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub train: Vec<f64>,
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub train_std: Vec<f64>,
    /// As `t -> infinity` (random features: exact; feature learning: at `t_max`).
    pub test_final: Option<f64>,
    pub train_final: Option<f64>,
}

/// One grid point.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScalingCurve {
    /// N (`None`: infinite).
    pub width: Option<usize>,
    /// P (`None`: infinite).
    pub samples: Option<usize>,
    pub gamma0: f64,
    pub theory: Option<TheoryCurve>,
    pub finite: Option<FiniteStats>,
}

/// One law: the predicted exponent and the fitted ones.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Law {
    pub predicted: f64,
    /// Fitted to the theory.
    pub theory: Option<Fit>,
    /// Fitted to the finite models (mean over seeds).
    pub finite: Option<Fit>,
    /// Which curves the finite fit used, in words.
    pub finite_from: String,
}

/// A loss against a size (`t -> infinity`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct SizeSweep {
    pub size: Vec<f64>,
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub loss: Vec<f64>,
}

/// The laws at one gamma0. Exponents are positive for falling losses (`L ~ x^-e`); the
/// compute-optimal width's is positive for a growing `N* ~ C^e`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Laws {
    pub gamma0: f64,
    pub predicted: Predicted,
    /// `L ~ t^-e` at `N = P = infinity` (theory: fitted over `[t_max / 100, t_max]`;
    /// finite: the largest model, from t = 10 until its loss comes within a factor 3 of
    /// its final value).
    pub time: Law,
    /// `L(t = infinity) ~ N^-e` at `P = infinity`.
    pub width: Law,
    /// `L(t = infinity) ~ P^-e` at `N = infinity`.
    pub data: Law,
    /// `L*(C) ~ C^-e` on the compute-optimal frontier (`P = infinity`).
    pub compute_loss: Law,
    /// `N*(C) ~ C^e`.
    pub compute_width: Law,
    /// The theory's curve at `N = P = infinity` (the time bottleneck) of the untruncated
    /// task.
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub reference: Vec<f64>,
    /// The theory's `L(t = infinity)` against `N` and against `P` (random features,
    /// untruncated task).
    pub width_sweep: Option<SizeSweep>,
    pub data_sweep: Option<SizeSweep>,
    /// Compute-optimal envelopes: of theory curves at 4 widths per octave (random
    /// features, untruncated task), and of the finite models' mean curves.
    pub envelope_theory: Option<Envelope>,
    pub envelope_finite: Option<Envelope>,
}

/// The theory's part of the laws at one gamma0 (cell 0), on the untruncated task
/// ([`LAW_MODES`]).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TheoryLaws {
    pub gamma0: f64,
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub reference: Vec<f64>,
    pub width_sweep: Option<SizeSweep>,
    pub data_sweep: Option<SizeSweep>,
    pub envelope: Option<Envelope>,
}

/// One cell's result.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ScalingCell {
    Laws(Vec<TheoryLaws>),
    Theory(Option<TheoryCurve>),
    Finite(Option<FiniteRecord>),
}

/// A finite model's curves (a cell).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FiniteRecord {
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub test: Vec<f64>,
    #[serde(deserialize_with = "crate::json_nan::null_as_nan")]
    pub train: Vec<f64>,
    pub test_final: f64,
    pub train_final: f64,
}

/// The result.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScalingResult {
    /// The times of every curve.
    pub times: Vec<f64>,
    /// Every grid point, gamma0 slowest, then P, then N.
    pub curves: Vec<ScalingCurve>,
    /// The laws, one entry per gamma0.
    pub laws: Vec<Laws>,
}

/// A grid point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub width: Option<usize>,
    pub samples: Option<usize>,
    pub gamma0: f64,
}

/// Largest size first counts infinity as the largest.
pub(super) fn size_key(v: Option<usize>) -> usize {
    v.unwrap_or(usize::MAX)
}

/// Mean and standard deviation over seeds.
pub(super) fn stats(runs: &[&FiniteRecord]) -> Option<FiniteStats> {
    if runs.is_empty() {
        return None;
    }
    let n = runs.len() as f64;
    let ms = |get: &dyn Fn(&FiniteRecord) -> &Vec<f64>| -> (Vec<f64>, Vec<f64>) {
        let len = get(runs[0]).len();
        (0..len)
            .map(|i| {
                let m = runs.iter().map(|r| get(r)[i]).sum::<f64>() / n;
                let v = runs.iter().map(|r| (get(r)[i] - m).powi(2)).sum::<f64>() / n;
                (m, v.sqrt())
            })
            .unzip()
    };
    let (test, test_std) = ms(&|r| &r.test);
    let (train, train_std) = ms(&|r| &r.train);
    let mean = |f: &dyn Fn(&FiniteRecord) -> f64| {
        let m = runs.iter().map(|r| f(r)).sum::<f64>() / n;
        m.is_finite().then_some(m)
    };
    Some(FiniteStats {
        seeds: runs.len(),
        test,
        test_std,
        train,
        train_std,
        test_final: mean(&|r| r.test_final),
        train_final: mean(&|r| r.train_final),
    })
}

/// The time law of a finite model over its time-limited stretch: from t = 10 to where the
/// loss comes within a factor 3 of its final value (the model or data bottleneck); at
/// least half a decade, else none.
fn time_limited_fit(times: &[f64], f: &FiniteStats) -> Option<Fit> {
    let floor = 3.0 * f.test_final.unwrap_or(0.0).max(0.0);
    let end = times
        .iter()
        .zip(&f.test)
        .take_while(|(_, l)| **l > floor)
        .map(|(t, _)| *t)
        .last()?;
    if end < 10.0 * 10f64.sqrt() {
        return None;
    }
    power_fit_within(times, &f.test, 10.0, end)
}

fn size_word(v: Option<usize>) -> String {
    v.map_or("inf".to_string(), |x| x.to_string())
}

fn describe(pt: &ScalingCurve) -> String {
    format!("N={} P={}", size_word(pt.width), size_word(pt.samples))
}

/// The laws at one gamma0: the theory's fits and the finite models'.
pub(super) fn laws(
    cfg: &ScalingConfig,
    times: &[f64],
    curves: &[ScalingCurve],
    tl: TheoryLaws,
) -> Laws {
    let g = tl.gamma0;
    let pred = predicted(cfg.alpha, cfg.beta, g);
    let window = (cfg.t_max / 100.0, cfg.t_max);
    let mine: Vec<&ScalingCurve> = curves
        .iter()
        .filter(|c| c.gamma0 == g && c.finite.is_some())
        .collect();
    fn finite_of(c: &ScalingCurve) -> &FiniteStats {
        c.finite
            .as_ref()
            .expect("filtered to curves with finite models")
    }
    // time: the finite group with the largest N, then P
    let biggest = mine
        .iter()
        .max_by_key(|c| (size_key(c.width), size_key(c.samples)))
        .copied();
    let time = Law {
        predicted: pred.time,
        theory: power_fit_within(times, &tl.reference, window.0, window.1),
        finite: biggest.and_then(|c| time_limited_fit(times, finite_of(c))),
        finite_from: biggest.map(describe).unwrap_or_default(),
    };
    let final_of = |c: &ScalingCurve| {
        let f = finite_of(c);
        f.test_final.or(f.test.last().copied()).unwrap_or(f64::NAN)
    };
    // width: finite widths at the largest P
    let p_max = mine.iter().map(|c| size_key(c.samples)).max();
    let by_width: Vec<&ScalingCurve> = mine
        .iter()
        .filter(|c| Some(size_key(c.samples)) == p_max && c.width.is_some())
        .copied()
        .collect();
    let width_fit = (by_width.len() >= 2)
        .then(|| {
            let x: Vec<f64> = by_width
                .iter()
                .map(|c| c.width.unwrap_or(0) as f64)
                .collect();
            let y: Vec<f64> = by_width.iter().map(|c| final_of(c)).collect();
            power_fit(&x, &y)
        })
        .flatten();
    let upper = |s: &SizeSweep| {
        let (lo, hi) = (s.size[0], s.size[s.size.len() - 1]);
        power_fit_within(&s.size, &s.loss, (lo * hi).sqrt(), hi)
    };
    let width = Law {
        predicted: pred.width,
        theory: tl.width_sweep.as_ref().and_then(upper),
        finite: width_fit,
        finite_from: by_width
            .first()
            .map(|c| format!("P={}", size_word(c.samples)))
            .unwrap_or_default(),
    };
    // data: finite P at the largest N
    let n_max = mine.iter().map(|c| size_key(c.width)).max();
    let by_data: Vec<&ScalingCurve> = mine
        .iter()
        .filter(|c| Some(size_key(c.width)) == n_max && c.samples.is_some())
        .copied()
        .collect();
    let data_fit = (by_data.len() >= 2)
        .then(|| {
            let x: Vec<f64> = by_data
                .iter()
                .map(|c| c.samples.unwrap_or(0) as f64)
                .collect();
            let y: Vec<f64> = by_data.iter().map(|c| final_of(c)).collect();
            power_fit(&x, &y)
        })
        .flatten();
    let data = Law {
        predicted: pred.data,
        theory: tl.data_sweep.as_ref().and_then(upper),
        finite: data_fit,
        finite_from: by_data
            .first()
            .map(|c| format!("N={}", size_word(c.width)))
            .unwrap_or_default(),
    };
    // compute: the finite widths' mean curves at the largest P
    let env_finite = (by_width.len() >= 2).then(|| {
        let cs: Vec<(f64, Vec<f64>)> = by_width
            .iter()
            .map(|c| (c.width.unwrap_or(0) as f64, finite_of(c).test.clone()))
            .collect();
        envelope(times, &cs)
    });
    let flip = |f: Option<Fit>| {
        f.map(|mut f| {
            f.exponent = -f.exponent;
            f
        })
    };
    let from = by_width
        .first()
        .map(|c| format!("P={}", size_word(c.samples)))
        .unwrap_or_default();
    let compute_loss = Law {
        predicted: pred.compute_loss,
        theory: tl.envelope.as_ref().and_then(|e| e.loss_fit.clone()),
        finite: env_finite.as_ref().and_then(|e| e.loss_fit.clone()),
        finite_from: from.clone(),
    };
    let compute_width = Law {
        predicted: pred.compute_width,
        theory: flip(tl.envelope.as_ref().and_then(|e| e.width_fit.clone())),
        finite: flip(env_finite.as_ref().and_then(|e| e.width_fit.clone())),
        finite_from: from,
    };
    Laws {
        gamma0: g,
        predicted: pred,
        time,
        width,
        data,
        compute_loss,
        compute_width,
        reference: tl.reference,
        width_sweep: tl.width_sweep,
        data_sweep: tl.data_sweep,
        envelope_theory: tl.envelope,
        envelope_finite: env_finite,
    }
}

fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        String::new()
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(num).unwrap_or_default()
}

/// `scaling_curves`: one row per grid point, source and time; `scaling_laws`: one row
/// per gamma0 and law; `scaling_envelope`: the compute-optimal frontiers.
pub fn csv(r: &ScalingResult) -> Vec<(String, String)> {
    let size = size_word;
    let mut c = String::from("width,samples,gamma0,source,t,test,train,test_std,train_std\n");
    for cv in &r.curves {
        let head = format!("{},{},{}", size(cv.width), size(cv.samples), cv.gamma0);
        if let Some(t) = &cv.theory {
            for (i, time) in r.times.iter().enumerate() {
                c.push_str(&format!(
                    "{head},theory,{time},{},{},,\n",
                    num(t.test[i]),
                    num(t.train[i])
                ));
            }
        }
        if let Some(f) = &cv.finite {
            for (i, time) in r.times.iter().enumerate() {
                c.push_str(&format!(
                    "{head},finite,{time},{},{},{},{}\n",
                    num(f.test[i]),
                    num(f.train[i]),
                    num(f.test_std[i]),
                    num(f.train_std[i])
                ));
            }
        }
    }
    let mut l = String::from("gamma0,law,predicted,theory,finite,finite_from\n");
    let mut e = String::from("gamma0,source,compute,loss,width\n");
    for law in &r.laws {
        for (name, x) in [
            ("time", &law.time),
            ("width", &law.width),
            ("data", &law.data),
            ("compute_loss", &law.compute_loss),
            ("compute_width", &law.compute_width),
        ] {
            l.push_str(&format!(
                "{},{name},{},{},{},{}\n",
                law.gamma0,
                num(x.predicted),
                opt(x.theory.as_ref().map(|f| f.exponent)),
                opt(x.finite.as_ref().map(|f| f.exponent)),
                x.finite_from
            ));
        }
        for (src, env) in [
            ("theory", &law.envelope_theory),
            ("finite", &law.envelope_finite),
        ] {
            if let Some(env) = env {
                for i in 0..env.compute.len() {
                    e.push_str(&format!(
                        "{},{src},{},{},{}\n",
                        law.gamma0,
                        env.compute[i],
                        num(env.loss[i]),
                        env.width[i]
                    ));
                }
            }
        }
    }
    vec![
        ("scaling_curves".into(), c),
        ("scaling_laws".into(), l),
        ("scaling_envelope".into(), e),
    ]
}
