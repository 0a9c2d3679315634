//! Kernels of the infinite network: the golden table of docs/theory.md (section 2.4),
//! quadrature against closed forms, the finite engine's empirical NTK, and the depth
//! limit.

use crate::common::teacher;
use scaling_playground::config::{Activation, Arch, Parameterization, TrainConfig};
use scaling_playground::data::Teacher;
use scaling_playground::error::Error;
use scaling_playground::nn::train;
use scaling_playground::progress::Silent;
use scaling_playground::theory::depth::{finite_depth, kernel_ode, layer_time_ode};
use scaling_playground::theory::kernels::{ActKernel, mlp_kernels, resnet_kernels};
use scaling_playground::theory::lazy::lazy_ntk;

/// Two unit inputs (x.x/D = 1) at cosine `c`, in D = 2.
fn pair(c: f64) -> Vec<Vec<f64>> {
    let s2 = std::f64::consts::SQRT_2;
    vec![
        vec![s2, 0.0],
        vec![s2 * c, s2 * (1.0 - c * c).max(0.0).sqrt()],
    ]
}

#[test]
fn golden_table_of_theory_md() {
    let r2 = std::f64::consts::SQRT_2;
    // (act, sigma_w, hidden layers, cos, NNGP, NTK) from neural-tangents 0.6.5
    let rows = [
        (Activation::Relu, 1.0, 1, 0.0, 0.159155, 0.159155),
        (Activation::Relu, 1.0, 1, 0.5, 0.304499, 0.471166),
        (Activation::Relu, 1.0, 2, 0.5, 0.170976, 0.337870),
        (Activation::Relu, r2, 1, 0.5, 1.217996, 1.884662),
        (Activation::Relu, r2, 3, 1.0, 2.000000, 8.000000),
        (Activation::Erf, 1.0, 1, 0.5, 0.216347, 0.441426),
        (Activation::Erf, 1.0, 1, 1.0, 0.464559, 1.033969),
    ];
    for (act, sw, l, c, nngp, ntk) in rows {
        let (k, t) = mlp_kernels(act, l, sw, &pair(c)).unwrap();
        // the golden value is the off-diagonal entry (the diagonal for cos = 1)
        let (a, b) = (k[0][1], t[0][1]);
        assert!(
            (a - nngp).abs() / nngp < 1e-5,
            "{act:?} {sw} {l} {c}: nngp {a}"
        );
        assert!(
            (b - ntk).abs() / ntk < 1e-5,
            "{act:?} {sw} {l} {c}: ntk {b}"
        );
        // symmetric
        assert!((k[1][0] - a).abs() < 1e-15 && (t[1][0] - b).abs() < 1e-15);
    }
}

#[test]
fn quadrature_matches_closed_forms_and_handles_other_activations() {
    // erf is smooth: 96-point 2-D Gauss-Hermite agrees with the closed form to 1e-6
    let q = ActKernel::quadrature(Activation::Erf, 96);
    let c = ActKernel::new(Activation::Erf);
    for (k11, k12, k22) in [
        (1.0, 0.5, 1.0),
        (2.5, -1.1, 0.9),
        (0.3, 0.29, 0.3),
        (4.0, 1.0, 1.0),
    ] {
        assert!((q.phi_phi(k11, k12, k22) - c.phi_phi(k11, k12, k22)).abs() < 1e-6);
        assert!((q.dphi_dphi(k11, k12, k22) - c.dphi_dphi(k11, k12, k22)).abs() < 1e-6);
    }
    // ReLU's kink only converges algebraically: 150 points get 1e-3
    let q = ActKernel::quadrature(Activation::Relu, 150);
    let c = ActKernel::new(Activation::Relu);
    for (k11, k12, k22) in [(1.0, 0.5, 1.0), (2.0, -0.3, 0.7)] {
        assert!((q.phi_phi(k11, k12, k22) - c.phi_phi(k11, k12, k22)).abs() < 1e-3);
    }
    // tanh by quadrature: E[tanh(u)^2] for u ~ N(0,1) = 0.394294 (1-D reference value)
    let t = ActKernel::new(Activation::Tanh);
    assert!(
        (t.phi_sq(1.0) - 0.394_294).abs() < 2e-6,
        "{}",
        t.phi_sq(1.0)
    );
    // GELU: E[gelu(u) gelu(v)] at full correlation equals the 1-D second moment
    let g = ActKernel::new(Activation::Gelu);
    let gh = scaling_playground::theory::quadrature::GaussHermite::new(120);
    let m2 = gh.expect1(1.0, |u| Activation::Gelu.phi(u).powi(2));
    assert!((g.phi_phi(1.0, 1.0, 1.0) - m2).abs() < 1e-7);
    // kernels for tanh and gelu are finite and positive semidefinite in 2x2
    for act in [Activation::Tanh, Activation::Gelu] {
        let (k, t) = mlp_kernels(act, 2, 1.0, &pair(0.3)).unwrap();
        assert!(k[0][0] * k[1][1] >= k[0][1] * k[0][1]);
        assert!(t[0][0] > 0.0 && t[0][1].is_finite());
    }
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    assert!(matches!(
        mlp_kernels(Activation::Relu, 1, 1.0, &[]),
        Err(Error::Data(_))
    ));
    let ragged = vec![vec![1.0, 2.0], vec![1.0]];
    assert!(matches!(
        mlp_kernels(Activation::Relu, 1, 1.0, &ragged),
        Err(Error::Data(_))
    ));
    let nan = vec![vec![f64::NAN, 1.0]];
    assert!(mlp_kernels(Activation::Tanh, 1, 1.0, &nan).is_err());
    assert!(mlp_kernels(Activation::Relu, 1, -1.0, &pair(0.5)).is_err());
}

#[test]
fn mean_field_ntk_is_the_finite_engines_ntk_at_init() {
    for (act, depth) in [(Activation::Relu, 2), (Activation::Tanh, 1)] {
        let mut c = TrainConfig {
            data: teacher(Teacher::Linear, 8, 4, 0, 1),
            param: Parameterization::Mup { gamma0: 1.5 },
            steps: 0,
            seeds: 4,
            ..Default::default()
        };
        c.model.width = 4096;
        c.model.depth = depth;
        c.model.activation = act;
        c.observe.ntk = true;
        c.observe.test_loss = false;
        let data = c.data.load().unwrap();
        let r = train(&c, &data, &Silent).unwrap();
        let (k, _) = lazy_ntk(&c, &data).unwrap();
        let emp = &r.kernels[0].ntk;
        let mean: Vec<f64> = (0..16)
            .map(|i| emp.iter().map(|s| s[i]).sum::<f64>() / emp.len() as f64)
            .collect();
        let err: f64 = mean
            .iter()
            .zip(&k)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        let norm: f64 = k.iter().map(|v| v * v).sum::<f64>().sqrt();
        // per-seed fluctuations are ~ sqrt(L / N) ~ 3-5% here; the mean of 4 seeds ~ 2%
        assert!(err / norm < 0.05, "{act:?} depth {depth}: {}", err / norm);
    }
}

#[test]
fn resnet_kernels_match_the_finite_engine_at_init() {
    let mut c = TrainConfig {
        data: teacher(Teacher::Linear, 8, 4, 0, 2),
        param: Parameterization::DepthMup { gamma0: 1.0 },
        steps: 0,
        seeds: 4,
        ..Default::default()
    };
    c.model.arch = Arch::Resnet;
    c.model.width = 4096;
    c.model.depth = 4;
    c.model.beta = 1.0;
    c.model.activation = Activation::Relu;
    c.observe.ntk = true;
    c.observe.test_loss = false;
    let data = c.data.load().unwrap();
    let r = train(&c, &data, &Silent).unwrap();
    let (k, _) = lazy_ntk(&c, &data).unwrap();
    let emp = &r.kernels[0].ntk;
    let mean: Vec<f64> = (0..16)
        .map(|i| emp.iter().map(|s| s[i]).sum::<f64>() / emp.len() as f64)
        .collect();
    let err: f64 = mean
        .iter()
        .zip(&k)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt();
    let norm: f64 = k.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!(err / norm < 0.02, "resnet: {}", err / norm);
}

#[test]
fn depth_limit_relu_and_linear() {
    for beta in [0.5, 1.0, 2.0] {
        let h = layer_time_ode(Activation::Relu, 1.3, beta, 200);
        let exact = 1.3 * (beta * beta / 2.0).exp();
        assert!((h[200] - exact).abs() / exact < 1e-6, "relu beta {beta}");
        let h = layer_time_ode(Activation::Linear, 1.0, beta, 200);
        assert!((h[200] - (beta * beta).exp()).abs() < 1e-6);
        // finite L: H(0)(1 + beta^2/2L)^L, approaching the limit as L grows
        let mut prev = f64::INFINITY;
        for l in [1, 4, 16, 64, 256] {
            let f = finite_depth(Activation::Relu, 1.3, beta, l)[l];
            let closed = 1.3 * (1.0 + beta * beta / (2.0 * l as f64)).powi(l as i32);
            assert!((f - closed).abs() < 1e-10);
            let gap = (exact - f).abs();
            assert!(gap < prev);
            prev = gap;
        }
        assert!(prev / exact < 1e-2);
    }
    // the ResNet NNGP at depth L approaches the kernel ODE's Sigma(1), error ~ 1/L
    let x = pair(0.4);
    let kx = [1.0, 0.4, 0.4, 1.0];
    let lim = kernel_ode(Activation::Tanh, 1.0, &kx, 2, 200);
    let mut prev = f64::INFINITY;
    for l in [2, 8, 32, 128] {
        let k = resnet_kernels(Activation::Tanh, l, 1.0, &kx, 2).unwrap();
        let s = &k.sigma[l];
        let gap = (s[1] - lim[1]).abs() + (s[0] - lim[0]).abs();
        assert!(gap < prev);
        prev = gap;
    }
    assert!(prev < 5e-3);
    let _ = x;
}
