// The activations and their derivatives, shared by activate.wgsl and the matmul's fused
// epilogue (matmul.wgsl): concatenated before either (kernels.rs), so both compute the
// same f32 values from the same input.
// act: 0 relu, 1 tanh, 2 erf, 3 gelu (exact, x Phi(x)), 4 linear.
// erf / tanh are written out here (WGSL has no erf, and tanh loses relative accuracy
// near 0 on some drivers): Taylor / continued fraction near 0, exponential tails beyond.

const FRAC_2_SQRT_PI: f32 = 1.1283791670955126;
const FRAC_1_SQRT_2: f32 = 0.7071067811865476;
const INV_SQRT_2PI: f32 = 0.3989422804014327;

// erfc(x) for x >= 0.5 (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7), no cancellation.
fn erfc_tail(x: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.3275911 * x);
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741
        + t * (-1.453152027 + t * 1.061405429))));
    return poly * exp(-x * x);
}

// erf(x): Taylor series for |x| < 0.5 (13 terms, converged in f32), tail form beyond.
fn erf_f(x: f32) -> f32 {
    let ax = abs(x);
    if (ax < 0.5) {
        let x2 = x * x;
        var term = x;
        var sum = x;
        for (var k = 1u; k < 13u; k++) {
            let kf = f32(k);
            term = -term * x2 / kf;
            sum += term / (2.0 * kf + 1.0);
        }
        return FRAC_2_SQRT_PI * sum;
    }
    return sign(x) * (1.0 - erfc_tail(ax));
}

// Standard normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2, accurate in the lower tail.
fn normal_cdf(x: f32) -> f32 {
    let z = x * FRAC_1_SQRT_2;
    if (z < -0.5) {
        return 0.5 * erfc_tail(-z);
    }
    return 0.5 * (1.0 + erf_f(z));
}

// tanh: Lambert's continued fraction for |x| < 1, 1 - 2 / (e^{2|x|} + 1) beyond.
fn tanh_f(x: f32) -> f32 {
    let ax = abs(x);
    if (ax < 1.0) {
        let x2 = x * x;
        var d = 15.0;
        d = 13.0 + x2 / d;
        d = 11.0 + x2 / d;
        d = 9.0 + x2 / d;
        d = 7.0 + x2 / d;
        d = 5.0 + x2 / d;
        d = 3.0 + x2 / d;
        d = 1.0 + x2 / d;
        return x / d;
    }
    let e = exp(2.0 * min(ax, 15.0));
    return sign(x) * (1.0 - 2.0 / (e + 1.0));
}

// (phi, dphi) = (act(x), act'(x)).
fn act_pair(act: u32, x: f32) -> vec2<f32> {
    switch act {
        case 0u: {
            let on = x > 0.0;
            return vec2<f32>(select(0.0, x, on), select(0.0, 1.0, on));
        }
        case 1u: {
            let t = tanh_f(x);
            return vec2<f32>(t, 1.0 - t * t);
        }
        case 2u: {
            return vec2<f32>(erf_f(x), FRAC_2_SQRT_PI * exp(-x * x));
        }
        case 3u: {
            let c = normal_cdf(x);
            return vec2<f32>(x * c, c + x * INV_SQRT_2PI * exp(-0.5 * x * x));
        }
        default: {
            return vec2<f32>(x, 1.0);
        }
    }
}
