//! Branch-free f32 `exp` and GELU that the compiler vectorises (libm's `expf` and `erff`
//! are scalar calls with branches): the CPU backend's GELU activation and the softmaxes
//! of the transformer's ops use them. Accuracy (tests below): `exp` within 2 ulp on
//! [-87, 88]; GELU's `Phi` within 2e-7 absolute of the exact `0.5 (1 + erf(x/sqrt 2))`.

const LOG2E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// `e^x` (Cephes' `expf` polynomial after the reduction `x = n ln 2 + r`, `|r| <= ln2/2`);
/// `e^-87.3` (the smallest normal f32) below -87.3, `e^88` above 88.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.3, 88.0);
    let n = (x * LOG2E).round_ties_even();
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    // 2^n from the exponent bits (n in [-126, 127] after the clamp)
    y * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// GELU `phi(x) = x Phi(x)` and `phi'(x) = Phi(x) + x pdf(x)`, with the normal CDF
/// `Phi(x) = 0.5 (1 + erf(x / sqrt 2))` from Abramowitz & Stegun 7.1.26
/// (`|erf error| < 1.5e-7`) and the density from [`exp`].
#[inline(always)]
pub fn gelu(x: f32) -> (f32, f32) {
    let z = x * std::f32::consts::FRAC_1_SQRT_2;
    let a = z.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_8 + t * (-1.453_152 + t * 1.061_405_4))));
    let e = exp(-a * a);
    let erf_abs = 1.0 - poly * e;
    let erf = if z < 0.0 { -erf_abs } else { erf_abs };
    let cdf = 0.5 * (1.0 + erf);
    // pdf(x) = exp(-x^2/2) / sqrt(2 pi) = e / sqrt(2 pi)
    let pdf = 0.398_942_3 * e;
    (x * cdf, cdf + x * pdf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_two_ulp() {
        let mut x = -87.0f32;
        while x < 87.9 {
            let (got, want) = (exp(x), (x as f64).exp());
            let ulp = (want as f32).abs() * f32::EPSILON;
            assert!(
                ((got as f64) - want).abs() <= 2.0 * ulp as f64,
                "exp({x}) = {got}, want {want}"
            );
            x += 0.0137;
        }
        assert_eq!(exp(-100.0), exp(-87.3));
        assert!(exp(100.0).is_finite());
    }

    #[test]
    fn gelu_matches_the_exact_one() {
        use crate::config::Activation;
        let mut x = -12.0f32;
        while x < 12.0 {
            let (p, d) = gelu(x);
            let (pe, de) = (
                Activation::Gelu.phi(x as f64),
                Activation::Gelu.dphi(x as f64),
            );
            assert!(
                (p as f64 - pe).abs() < 3e-7 * (1.0 + x.abs() as f64),
                "phi({x})"
            );
            assert!((d as f64 - de).abs() < 5e-7, "phi'({x}): {d} vs {de}");
            x += 0.0071;
        }
    }
}
