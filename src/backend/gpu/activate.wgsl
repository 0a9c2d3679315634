// Fused activation and derivative:  phi[i] = act(h[i]),  dphi[i] = act'(h[i]),  i < n.
//
// Shapes: h, phi, dphi are flat [n] (any batch layout).
// Tiling: 256 invocations per workgroup, one element each; the grid is 2-D
//   (x = min(groups, 65535), y = ceil(groups / x)) so n may exceed 65535 * 256.
// act: 0 relu, 1 tanh, 2 erf, 3 gelu (exact, x Phi(x)), 4 linear.
// erf / tanh are written out here (WGSL has no erf, and tanh loses relative accuracy
// near 0 on some drivers): Taylor / continued fraction near 0, exponential tails beyond.

struct Params {
    n: u32,
    act: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> h: array<f32>;
@group(0) @binding(2) var<storage, read_write> phi: array<f32>;
@group(0) @binding(3) var<storage, read_write> dphi: array<f32>;

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

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = (wg.y * nwg.x + wg.x) * 256u + li;
    if (i >= p.n) {
        return;
    }
    let x = h[i];
    switch p.act {
        case 0u: {
            let on = x > 0.0;
            phi[i] = select(0.0, x, on);
            dphi[i] = select(0.0, 1.0, on);
        }
        case 1u: {
            let t = tanh_f(x);
            phi[i] = t;
            dphi[i] = 1.0 - t * t;
        }
        case 2u: {
            phi[i] = erf_f(x);
            dphi[i] = FRAC_2_SQRT_PI * exp(-x * x);
        }
        case 3u: {
            let c = normal_cdf(x);
            phi[i] = x * c;
            dphi[i] = c + x * INV_SQRT_2PI * exp(-0.5 * x * x);
        }
        default: {
            phi[i] = x;
            dphi[i] = 1.0;
        }
    }
}
