//! The solvable model of scaling laws (docs/theory.md section 7): finite random-feature
//! models approach the DMFT as `N` and `P` grow, the fitted exponents follow the
//! predicted laws (time, model, data, compute-optimal), data reuse opens a train-test
//! gap, and feature learning speeds up hard tasks only.

use scaling_playground::kind::Kind;
use scaling_playground::progress::Silent;
use scaling_playground::scaling::feature::{infinite_width_losses, simulate_rich};
use scaling_playground::scaling::finite::simulate;
use scaling_playground::scaling::kind::ScalingConfig;
use scaling_playground::scaling::result::{Law, ScalingResult};
use scaling_playground::scaling::spectrum::Spectrum;
use scaling_playground::scaling::theory::{Sizes, final_losses, losses};

fn times() -> Vec<f64> {
    (0..=12).map(|i| 10f64.powf(i as f64 / 3.0 - 1.0)).collect()
}

/// Mean over `seeds` finite models of `(test, train)` at `times`, and the test loss as
/// `t -> infinity`.
fn finite_mean(
    s: &Spectrum,
    n: usize,
    p: usize,
    seeds: u64,
    times: &[f64],
) -> (Vec<f64>, Vec<f64>, f64) {
    let mut test = vec![0.0; times.len()];
    let mut train = vec![0.0; times.len()];
    let mut fin = 0.0;
    for i in 0..seeds {
        let c = simulate(s, Some(n), Some(p), 7, i, times).unwrap();
        for j in 0..times.len() {
            test[j] += c.test[j] / seeds as f64;
            train[j] += c.train[j] / seeds as f64;
        }
        fin += c.test_final / seeds as f64;
    }
    (test, train, fin)
}

fn gap(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| ((x - y) / y).abs())
        .fold(0.0, f64::max)
}

/// Growing `N`, `P` and `M` together (the DMFT's proportional limit, `P = 1.5 N`,
/// `M = 4 N`), the seed-averaged test loss of finite models approaches the theory: the
/// largest relative gap over t = 0.1..1e3 falls from 7.5% (N = 32, 16 seeds) to 4.0%
/// (N = 128, 8 seeds) and 2.4% (N = 512, 4 seeds), and at t = infinity from 12.4% to
/// 8.5% and 1.0% (close to the interpolation threshold N = P the final loss has heavy
/// tails over seeds). Required: both gaps fall at every step, the largest model within
/// 3%.
#[test]
fn finite_models_approach_the_theory_as_n_and_p_grow() {
    let times = times();
    let mut last = (f64::INFINITY, f64::INFINITY);
    for (n, seeds) in [(32usize, 16u64), (128, 8), (512, 4)] {
        let p = 3 * n / 2;
        let s = Spectrum {
            alpha: 1.5,
            beta: 0.5,
            modes: 4 * n,
        };
        let nodes = s.exact_nodes();
        let sz = Sizes::new(Some(n), Some(p));
        let (th_test, _): (Vec<f64>, Vec<f64>) =
            losses(&nodes, sz, &times).unwrap().into_iter().unzip();
        let (th_final, _) = final_losses(&nodes, sz);
        let (test, _, fin) = finite_mean(&s, n, p, seeds, &times);
        let g = (gap(&test, &th_test), ((fin - th_final) / th_final).abs());
        println!(
            "N={n} P={p} M={}: largest relative gap {:.4}, at t = infinity {:.4}",
            4 * n,
            g.0,
            g.1
        );
        assert!(
            g.0 < last.0 && g.1 < last.1,
            "N={n}: gaps {g:?} after {last:?}"
        );
        last = g;
    }
    assert!(
        last.0 < 0.03 && last.1 < 0.03,
        "largest model: gaps {last:?}"
    );
}

fn theory_laws(alpha: f64, beta: f64, gamma0s: Vec<f64>) -> ScalingResult {
    ScalingConfig {
        alpha,
        beta,
        widths: vec![32, 64, 128, 256, 512, 1024],
        samples: vec![0, 32, 64, 128, 256, 512, 1024],
        gamma0s,
        seeds: 0,
        ..Default::default()
    }
    .run(&Silent)
    .unwrap()
}

fn check(name: &str, law: &Law, tol: f64) {
    let fit = law
        .theory
        .as_ref()
        .unwrap_or_else(|| panic!("{name}: no theory fit"));
    println!(
        "{name}: fitted {:.4} over {:?}, predicted {:.4}",
        fit.exponent, fit.range, law.predicted
    );
    assert!(
        (fit.exponent - law.predicted).abs() < tol,
        "{name}: fitted {} vs predicted {}",
        fit.exponent,
        law.predicted
    );
}

/// The theory's curves follow the predicted laws in every bottleneck (the laws are fitted
/// on the untruncated task). A hard task (alpha = 1.5, beta = 0.5): time `t^-beta`
/// (fitted over 1e2..1e4: 0.5001 against 0.5), model and data size at `t = infinity`
/// (`N^-alpha min(beta, 1)`, `P^-alpha min(beta, 2)`, fitted over the upper half of
/// 32..1024: 0.745 and 0.749 against 0.75), the compute-optimal frontier (`L* ~
/// C^-0.295` against 0.300, `N* ~ C^0.411` against 0.400). An easy task (alpha = 2,
/// beta = 1.5): time 1.5000 against 1.5; model 1.994 against alpha = 2 (the projection's
/// variance, `N^-alpha`, outlasts the bias `N^-alpha beta`); data 2.993 against alpha
/// beta = 3; frontier `L* ~ C^-0.758` against alpha beta / (alpha beta + 1) = 0.75 and
/// `N* ~ C^0.477` against 0.5 (the balance of `t^-beta` with `N^-1 t^-(1 - 1/alpha)`).
/// Tolerances: 0.02 for time and the hard frontier, 0.03 for the sizes and the easy
/// frontier (0.06 for the easy sizes, whose exponents are four times larger).
#[test]
fn fitted_exponents_match_the_predicted_laws() {
    let hard = theory_laws(1.5, 0.5, vec![0.0]);
    let l = &hard.laws[0];
    check("hard: time", &l.time, 0.02);
    check("hard: width", &l.width, 0.03);
    check("hard: data", &l.data, 0.03);
    check("hard: compute loss", &l.compute_loss, 0.02);
    check("hard: compute width", &l.compute_width, 0.02);
    let easy = theory_laws(2.0, 1.5, vec![0.0]);
    let l = &easy.laws[0];
    check("easy: time", &l.time, 0.02);
    check("easy: width", &l.width, 0.06);
    check("easy: data", &l.data, 0.06);
    check("easy: compute loss", &l.compute_loss, 0.03);
    check("easy: compute width", &l.compute_width, 0.03);
}

/// Feature learning (gamma0 = 1) raises the time exponent of a hard task from beta =
/// 0.5 to 2 beta / (1 + beta) = 0.667 (fitted over 1e2..1e4: 0.658) and leaves an easy
/// task's (beta = 1.5) at beta (1.507); the lazy curves keep beta (0.5001, 1.5000).
/// Tolerance 0.02.
#[test]
fn feature_learning_speeds_up_hard_tasks_only() {
    for beta in [0.5, 1.5] {
        let r = theory_laws(1.5, beta, vec![0.0, 1.0]);
        for l in &r.laws {
            check(
                &format!("beta {beta} gamma0 {}: time", l.gamma0),
                &l.time,
                0.02,
            );
        }
        let lazy = r.laws[0].time.theory.as_ref().unwrap().exponent;
        let rich = r.laws[1].time.theory.as_ref().unwrap().exponent;
        if beta < 1.0 {
            assert!(rich > lazy + 0.1, "hard task: rich {rich} vs lazy {lazy}");
        } else {
            assert!(
                (rich - lazy).abs() < 0.02,
                "easy task: rich {rich} vs lazy {lazy}"
            );
        }
    }
}

/// The compute-optimal frontier of finite models (N = 16..512 at P = infinity, M =
/// 4096, 4 seeds, the envelope of their mean curves) has the predicted exponents:
/// `L* ~ C^-0.315` (predicted 0.300) and `N* ~ C^0.395` (predicted 0.400); tolerance
/// 0.03 and 0.05 (the widths are an octave apart, so `N*` is a staircase).
#[test]
fn finite_models_have_the_compute_optimal_frontier() {
    let r = ScalingConfig {
        widths: vec![16, 32, 64, 128, 256, 512],
        modes: 4096,
        seeds: 4,
        ..Default::default()
    }
    .run(&Silent)
    .unwrap();
    let l = &r.laws[0];
    for (name, law, tol) in [
        ("loss", &l.compute_loss, 0.03),
        ("width", &l.compute_width, 0.05),
    ] {
        let f = law.finite.as_ref().unwrap();
        println!(
            "compute {name}: finite {:.4}, predicted {:.4}",
            f.exponent, law.predicted
        );
        assert!(
            (f.exponent - law.predicted).abs() < tol,
            "{name}: {} vs {}",
            f.exponent,
            law.predicted
        );
    }
}

/// Reusing P = 256 points (N = infinity, M = 2048): the train loss falls below the test
/// loss and the gap grows with time; the theory's gap at t = 1e3 (0.03945) matches the
/// finite models' (8 seeds: 0.03950) within 10%, and their test and train curves are
/// within 6% of the theory's at every time (measured 3.0% and 5.1%).
#[test]
fn data_reuse_opens_a_train_test_gap() {
    let times = times();
    let s = Spectrum {
        alpha: 1.5,
        beta: 0.5,
        modes: 2048,
    };
    let p = 256;
    let th = losses(&s.exact_nodes(), Sizes::new(None, Some(p)), &times).unwrap();
    let gaps: Vec<f64> = th.iter().map(|(te, tr)| te - tr).collect();
    assert!(
        gaps.windows(2).all(|w| w[1] >= w[0] - 1e-9),
        "gap grows: {gaps:?}"
    );
    let (mut test, mut train) = (vec![0.0; times.len()], vec![0.0; times.len()]);
    let seeds = 8;
    for i in 0..seeds {
        let c = simulate(&s, None, Some(p), 11, i, &times).unwrap();
        for j in 0..times.len() {
            test[j] += c.test[j] / seeds as f64;
            train[j] += c.train[j] / seeds as f64;
        }
    }
    let (th_test, th_train): (Vec<f64>, Vec<f64>) = th.iter().copied().unzip();
    let last = times.len() - 1;
    let (g_th, g_fin) = (gaps[last], test[last] - train[last]);
    println!(
        "gap at t = {}: theory {g_th:.5}, finite {g_fin:.5}; curve gaps test {:.4} train {:.4}",
        times[last],
        gap(&test, &th_test),
        gap(&train, &th_train)
    );
    assert!(((g_fin - g_th) / g_th).abs() < 0.1);
    assert!(gap(&test, &th_test) < 0.06 && gap(&train, &th_train) < 0.06);
}

/// Rich finite models (gamma0 = 1, P = infinity, M = 4096) approach the infinite-width
/// feature-learning theory as N grows, over t = 0.1..10 (before the width bottleneck):
/// the largest relative gap of the mean over 4 seeds falls from 43.6% (N = 64) to 10.5%
/// (N = 256), as 1/N; required: at least halved, and below 15% at N = 256. The heavier
/// N = 1024 check: [`rich_finite_models_approach_the_theory_at_large_width`].
#[test]
fn rich_finite_models_approach_the_feature_learning_theory() {
    let gaps = rich_gaps(&[64, 256], 4);
    assert!(gaps[1] < 0.5 * gaps[0] && gaps[1] < 0.15, "{gaps:?}");
}

/// At N = 1024 (2 seeds) the rich model is within 4% of the theory over t = 0.1..10
/// (about 60 s): `cargo test --release --test theory rich_finite_models_approach_the_theory_at_large_width -- --ignored --nocapture`.
#[test]
#[ignore]
fn rich_finite_models_approach_the_theory_at_large_width() {
    let gaps = rich_gaps(&[1024], 2);
    assert!(gaps[0] < 0.04, "{gaps:?}");
}

fn rich_gaps(widths: &[usize], seeds: u64) -> Vec<f64> {
    let s = Spectrum {
        alpha: 1.5,
        beta: 0.5,
        modes: 4096,
    };
    let times: Vec<f64> = (0..=6).map(|i| 10f64.powf(i as f64 / 3.0 - 1.0)).collect();
    let th = infinite_width_losses(&s.nodes(), 1.0, &times, 0.02, &Silent).unwrap();
    widths
        .iter()
        .map(|&n| {
            let mut mean = vec![0.0; times.len()];
            for i in 0..seeds {
                let c = simulate_rich(&s, n, None, 1.0, 5, i, &times, &Silent).unwrap();
                for (m, t) in mean.iter_mut().zip(&c.test) {
                    *m += t / seeds as f64;
                }
            }
            let g = gap(&mean, &th);
            println!("rich N={n}: largest relative gap {g:.4}");
            g
        })
        .collect()
}
