//! Synthetic tasks: Gaussian inputs with a teacher, a 1-D sine, two spirals.

use super::{Dataset, Teacher};
use crate::rng::{Stream, normal, normals, stream};
use rand::RngExt;

/// x ~ N(0, I_D) for `train + test` rows, y = teacher(x) + noise * N(0, 1).
pub fn teacher(
    kind: Teacher,
    d: usize,
    train: usize,
    test: usize,
    noise: f64,
    seed: u64,
) -> Dataset {
    let mut rng = stream(seed, Stream::Teacher, 0, 0);
    let n = train + test;
    let sd = (d as f64).sqrt();
    // Teacher parameters first, so they do not depend on the number of points.
    let beta = normals(&mut rng, d);
    let hidden = 32;
    let w1 = normals(&mut rng, hidden * d);
    let w2 = normals(&mut rng, hidden);
    let mut data_rng = stream(seed, Stream::Data, 0, 0);
    let x = normals(&mut data_rng, n * d);
    let y = x
        .chunks(d)
        .map(|xi| {
            let proj = |w: &[f64]| w.iter().zip(xi).map(|(a, b)| a * b).sum::<f64>() / sd;
            let clean = match kind {
                Teacher::Linear => proj(&beta),
                Teacher::SingleIndex => {
                    // normalise the direction so the index is O(1)
                    let nb = (beta.iter().map(|b| b * b).sum::<f64>() / d as f64).sqrt();
                    (2.0 * proj(&beta) / nb).tanh()
                }
                Teacher::TwoLayer => {
                    let s: f64 = (0..hidden)
                        .map(|k| w2[k] * proj(&w1[k * d..(k + 1) * d]).tanh())
                        .sum();
                    s / (hidden as f64).sqrt()
                }
            };
            clean + noise * normal(&mut data_rng)
        })
        .collect::<Vec<_>>();
    split(x, y, d, 1, train)
}

/// t uniform in [-pi, pi], y = sin(t) + noise; x = (t / 1.8, 1) so that x.x/D is about 1.
pub fn sine(train: usize, test: usize, noise: f64, seed: u64) -> Dataset {
    let mut rng = stream(seed, Stream::Data, 1, 0);
    let n = train + test;
    let mut x = Vec::with_capacity(2 * n);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let t: f64 = rng.random_range(-std::f64::consts::PI..std::f64::consts::PI);
        x.extend_from_slice(&[t / 1.8, 1.0]);
        y.push(t.sin() + noise * normal(&mut rng));
    }
    split(x, y, 2, 1, train)
}

/// Two interleaved spirals (1.5 turns each), classes one-hot; x = (u, v, 1) with the
/// radius scaled so x.x/D is O(1).
pub fn spirals(train: usize, test: usize, noise: f64, seed: u64) -> Dataset {
    let mut rng = stream(seed, Stream::Data, 2, 0);
    let n = train + test;
    let mut x = Vec::with_capacity(3 * n);
    let mut y = Vec::with_capacity(2 * n);
    for i in 0..n {
        let class = i % 2;
        let s: f64 = rng.random_range(0.0..1.0);
        let angle = 3.0 * std::f64::consts::PI * s + class as f64 * std::f64::consts::PI;
        let r = 0.2 + 1.8 * s;
        let u = r * angle.cos() + noise * normal(&mut rng);
        let v = r * angle.sin() + noise * normal(&mut rng);
        x.extend_from_slice(&[u, v, 1.0]);
        y.extend_from_slice(if class == 0 { &[1.0, 0.0] } else { &[0.0, 1.0] });
    }
    split(x, y, 3, 2, train)
}

/// First `train` rows are the training set, the rest the test set.
pub(super) fn split(x: Vec<f64>, y: Vec<f64>, d: usize, c: usize, train: usize) -> Dataset {
    let (xa, xb) = x.split_at(train * d);
    let (ya, yb) = y.split_at(train * c);
    Dataset {
        dim: d,
        outputs: c,
        x_train: xa.to_vec(),
        y_train: ya.to_vec(),
        x_test: xb.to_vec(),
        y_test: yb.to_vec(),
        feature_names: vec![],
    }
}
