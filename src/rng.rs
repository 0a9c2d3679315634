//! Explicit, reproducible random streams. There is no global RNG: every draw comes from a
//! stream named by (master seed, purpose, index), so the numbers of seed `s` of an
//! ensemble do not depend on how many other seeds run beside it, on threads or on the
//! platform.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

/// Purposes of random streams; distinct tags give independent streams.
#[derive(Clone, Copy, Debug)]
#[repr(u64)]
pub enum Stream {
    Data = 1,
    Init = 2,
    Batches = 3,
    Noise = 4,
    Teacher = 5,
    Theory = 6,
}

/// SplitMix64 finaliser: a bijective mix of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream for (`seed`, `purpose`, `index`, `sub`).
pub fn stream(seed: u64, purpose: Stream, index: u64, sub: u64) -> StdRng {
    let k = mix(mix(mix(seed) ^ purpose as u64) ^ index).wrapping_add(mix(sub));
    StdRng::seed_from_u64(k)
}

/// A standard normal draw.
pub fn normal(rng: &mut StdRng) -> f64 {
    StandardNormal.sample(rng)
}

/// `n` standard normals as f32.
pub fn normals_f32(rng: &mut StdRng, n: usize, scale: f64) -> Vec<f32> {
    (0..n).map(|_| (normal(rng) * scale) as f32).collect()
}

/// `n` standard normals as f64.
pub fn normals(rng: &mut StdRng, n: usize) -> Vec<f64> {
    (0..n).map(|_| normal(rng)).collect()
}
