//! Activations phi and their derivatives phi', in f32 (training) and f64 (theory).

use crate::config::Activation;

const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
const FRAC_2_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;
const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;

impl Activation {
    /// phi(x).
    #[inline]
    pub fn phi(self, x: f64) -> f64 {
        match self {
            Activation::Relu => x.max(0.0),
            Activation::Tanh => x.tanh(),
            Activation::Erf => libm::erf(x),
            // exact GELU: x Phi(x), Phi the standard normal CDF
            Activation::Gelu => 0.5 * x * (1.0 + libm::erf(x * FRAC_1_SQRT_2)),
            Activation::Linear => x,
        }
    }

    /// phi'(x) (0 at the ReLU kink).
    #[inline]
    pub fn dphi(self, x: f64) -> f64 {
        match self {
            Activation::Relu => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::Tanh => {
                let t = x.tanh();
                1.0 - t * t
            }
            Activation::Erf => FRAC_2_SQRT_PI * (-x * x).exp(),
            Activation::Gelu => {
                0.5 * (1.0 + libm::erf(x * FRAC_1_SQRT_2))
                    + x * 0.5 * SQRT_2_OVER_PI * (-0.5 * x * x).exp()
            }
            Activation::Linear => 1.0,
        }
    }

    /// phi and phi' in f32, for the training engine.
    #[inline]
    pub fn phi_dphi_f32(self, x: f32) -> (f32, f32) {
        match self {
            Activation::Relu => {
                if x > 0.0 {
                    (x, 1.0)
                } else {
                    (0.0, 0.0)
                }
            }
            Activation::Tanh => {
                let t = x.tanh();
                (t, 1.0 - t * t)
            }
            Activation::Erf => (libm::erff(x), FRAC_2_SQRT_PI as f32 * (-x * x).exp()),
            Activation::Gelu => {
                let c = 0.5 * (1.0 + libm::erff(x * FRAC_1_SQRT_2 as f32));
                let pdf = 0.5 * SQRT_2_OVER_PI as f32 * (-0.5 * x * x).exp();
                (x * c, c + x * pdf)
            }
            Activation::Linear => (x, 1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_finite_differences() {
        for act in Activation::ALL {
            for &x in &[-2.1, -0.7, 0.3, 1.4, 2.5] {
                let e = 1e-6;
                let fd = (act.phi(x + e) - act.phi(x - e)) / (2.0 * e);
                assert!((fd - act.dphi(x)).abs() < 1e-7, "{act:?} at {x}");
                let (p, d) = act.phi_dphi_f32(x as f32);
                assert!((p as f64 - act.phi(x)).abs() < 1e-6, "{act:?} f32 phi");
                assert!((d as f64 - act.dphi(x)).abs() < 1e-6, "{act:?} f32 dphi");
            }
        }
    }
}
