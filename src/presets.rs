//! Named, ready-to-run configs, one per claim of the talk (Bordelon, "Scaling Limits
//! for Learning", 2025) plus the statics comparison and a plain training run: one click
//! in the page, `run --preset NAME` in the CLI. This is the one list of presets; each is
//! small enough to run in well under a minute natively (a few times that in the
//! browser).

use crate::config::{Activation, Arch, OptimizerConfig, Parameterization, TrainConfig};
use crate::data::{DataConfig, Teacher};
use crate::experiments::landscape::{LandscapeConfig, log_grid};
use crate::experiments::richness::{AlignedKernel, RichnessConfig};
use crate::experiments::transfer::{TransferAxis, TransferConfig, lr_grid};
use crate::experiments::{CoordCheckConfig, WidthConvergenceConfig};
use crate::run::RunConfig;
use crate::scaling::kind::ScalingConfig;
use crate::statics::BayesConfig;
use crate::statics::benchmark::BayesDataConfig;
use crate::statics::deep_linear::{DeepLinearConfig, FiniteWidthConfig};
use crate::statics::saddle::SaddleConfig;
use crate::theory::depth::DepthLimitConfig;
use crate::transformer::TransformerConfig;
use crate::transformer::heads::TransformerHeadsConfig;
use crate::transformer::transfer::{TfAxis, TransformerTransferConfig};
use crate::transformer::{TfParam, TransformerModel};

/// A named config and the claim it reproduces.
pub struct Preset {
    pub name: &'static str,
    /// The claim, in one line.
    pub claim: &'static str,
    /// Builds the config.
    pub config: fn() -> RunConfig,
}

/// Every preset, in the order the CLI and the page list them.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "width-convergence",
        claim: "Mean-field (muP) networks approach the DMFT limit as width grows (squared deviation ~ 1/N), while with gamma = O(1) (NTK scaling) training gets lazier and slower as width grows (slide 'Training Wide Neural Networks')",
        config: || RunConfig::WidthConvergence(width_convergence()),
    },
    Preset {
        name: "lr-transfer-width",
        claim: "Under muP the best learning rate stays put from width 64 to 1024; under SP it drifts to smaller rates (slide 'Practical Application: Hyperparameter Transfer')",
        config: || RunConfig::Transfer(lr_transfer_width()),
    },
    Preset {
        name: "lr-transfer-depth",
        claim: "With 1/sqrt(L) residual branches (depth-muP) the best learning rate stays put from depth 2 to 16; without them it drifts (slide 'Practical Application: Hyperparameter Transfer')",
        config: || RunConfig::Transfer(lr_transfer_depth()),
    },
    Preset {
        name: "coord-check",
        claim: "After a few steps every layer's activations and their updates are O(1) at every width under muP, while under SP the updates grow with width (muP coordinate check)",
        config: || RunConfig::CoordCheck(coord_check()),
    },
    Preset {
        name: "lazy-vs-rich",
        claim: "Small gamma0 is lazy (kernels stay put: kernel regression); gamma0 = O(1) is rich (the feature kernel moves, aligns with the target y y^T, and training is faster) (slide 'Lazy vs Rich Operating Regimes')",
        config: || RunConfig::Richness(lazy_vs_rich()),
    },
    Preset {
        name: "depth-limit",
        claim: "With 1/sqrt(L) residual branches the network has a depth limit: the variance follows dH/dtau = beta^2 <phi(h)^2> in layer time tau = l/L (slide 'The Large Depth and Width Limit')",
        config: || depth_limit(),
    },
    Preset {
        name: "bayes",
        claim: "Langevin-sampled networks approach the muP saddle point at fixed gamma0 and the NNGP posterior at fixed gamma (talk: 'New Results on muP/MF Statics')",
        config: || RunConfig::Bayes(bayes()),
    },
    Preset {
        name: "lr-landscape",
        claim: "The optimal learning rate is flat in gamma0 when lazy (gamma0 << 1) and falls as gamma0^(2/(L+1) - 2) when rich (gamma0 >> 1), for L = 1, 2, 3 hidden ReLU layers; at large gamma0 the loss plateaus, then drops (Atanasov, Meterez, Simon & Pehlevan, ICLR 2025)",
        config: || RunConfig::Landscape(lr_landscape()),
    },
    Preset {
        name: "deep-linear-statics",
        claim: "Bayesian deep linear muP networks amplify only the target direction: the layer overlaps c_l = (1 - chi)^l of the closed form grow with gamma0 and depth, and Langevin-sampled networks (N = 128) land on them (Lauditi, Bordelon & Pehlevan 2025; talk: 'New Results on muP/MF Statics')",
        config: || RunConfig::DeepLinear(deep_linear_statics()),
    },
    Preset {
        name: "finite-width-statics",
        claim: "At fixed gamma the kernels of Bayesian deep linear networks deviate from the NNGP by (l/N)[gamma^2/(1+r)^2 - 1/(1+r)] along the target, and with P = alpha N they renormalise by c(alpha) (talk: 'Weak Feature Expansion', 'Proportional Limit')",
        config: || RunConfig::FiniteWidth(finite_width_statics()),
    },
    Preset {
        name: "bayes-digits",
        claim: "The talk's claim that the muP posterior beats the NNGP on image data, checked on the shipped digits (100 training, 400 test images, ten classes): test loss and error of the NNGP posterior, muP saddle points and Langevin-sampled muP networks across gamma0, reported either way (talk: 'New Results on muP/MF Statics')",
        config: || RunConfig::BayesData(bayes_digits()),
    },
    Preset {
        name: "scaling-compute-optimal",
        claim: "Random features of a power-law spectrum (alpha = 1.5, beta = 0.5): the loss falls as t^-beta until the model bottleneck N^-alpha beta, and at fixed compute C = N t the best width grows as N* ~ C^(1/(1+alpha)) with L* ~ C^-(alpha beta/(1+alpha)) (Bordelon, Atanasov & Pehlevan, ICML 2024: the compute-optimal frontier)",
        config: || RunConfig::ScalingLaw(scaling_compute_optimal()),
    },
    Preset {
        name: "scaling-data-reuse",
        claim: "Reusing P samples (infinite width): the test loss stalls at the data bottleneck P^-alpha min(beta, 2) while the train loss keeps falling; the train-test gap builds up gradually as the data are reused (ICML 2024: train and test loss with data reuse)",
        config: || RunConfig::ScalingLaw(scaling_data_reuse()),
    },
    Preset {
        name: "scaling-feature-learning",
        claim: "A hard task (beta = 0.5 < 1): letting the features learn (gamma0 = 1) raises the time exponent from beta to 2 beta/(1+beta) (Bordelon, Atanasov & Pehlevan, ICLR 2025: feature learning improves the scaling of hard tasks)",
        config: || RunConfig::ScalingLaw(scaling_feature_learning(0.5)),
    },
    Preset {
        name: "scaling-feature-learning-easy",
        claim: "An easy task (beta = 1.5 > 1): feature learning (gamma0 = 1) leaves the time exponent at beta (ICLR 2025: no gain for tasks in the kernel's RKHS)",
        config: || RunConfig::ScalingLaw(scaling_feature_learning(1.5)),
    },
    Preset {
        name: "transformer-lr-width",
        claim: "Transformers, Adam, widths 16 to 128: under muP the best learning rate moves at most one grid step, under SP two to three, towards smaller rates (Yang et al. 2022, Tensor Programs V)",
        config: || RunConfig::TransformerTransfer(transformer_lr_width()),
    },
    Preset {
        name: "transformer-lr-depth",
        claim: "Transformers, Adam, depths 1 to 16: with residual branches scaled 1/L and in-block rates kept (CompleteP) the best learning rate moves at most one grid step (1/sqrt(L), depth-muP: one or two), without depth scaling (alpha = 0) it moves two, towards smaller rates (Bordelon et al. 2024; Dey et al. 2025)",
        config: || RunConfig::TransformerTransfer(transformer_lr_depth()),
    },
    Preset {
        name: "transformer-heads",
        claim: "Under muP the heads' attention maps become alike as the head size grows (their spread collapses: the infinite head-size limit of Bordelon, Chaudhry & Pehlevan 2024); under SP they stay different",
        config: || RunConfig::TransformerHeads(transformer_heads()),
    },
    Preset {
        name: "train-mlp",
        claim: "A muP MLP learns a linear teacher: the loss of 4 seeds falls together.",
        config: || RunConfig::Train(train_mlp()),
    },
];

/// `(name, claim)` of every preset.
pub fn list() -> Vec<(&'static str, &'static str)> {
    PRESETS.iter().map(|p| (p.name, p.claim)).collect()
}

/// The config of a preset, by name.
pub fn preset(name: &str) -> Option<RunConfig> {
    PRESETS
        .iter()
        .find(|p| p.name == name)
        .map(|p| (p.config)())
}

/// A small regression task shared by the presets: Gaussian inputs, a two-layer tanh
/// teacher, `train` points in `dim` dimensions and a test split.
fn task(train: usize, dim: usize, test: usize) -> DataConfig {
    DataConfig::Teacher {
        teacher: Teacher::TwoLayer,
        dim,
        train,
        test,
        noise: 0.0,
        seed: 1,
    }
}

/// Two-layer tanh under mean-field/muP (gamma0 = 1) against the DMFT, and the talk's
/// "common practice" gamma = O(1) (NTK scaling with gamma = 4, which equals the
/// mean-field net at N = 16 and gets lazier, and slower, as N grows).
fn width_convergence() -> WidthConvergenceConfig {
    let mut c = WidthConvergenceConfig {
        widths: vec![16, 64, 256, 1024, 4096],
        contrast: vec![Parameterization::Ntk { gamma0: 4.0 }],
        ..Default::default()
    };
    c.base.seeds = 8;
    c
}

fn lr_transfer_width() -> TransferConfig {
    let mut base = TrainConfig {
        data: task(32, 16, 64),
        steps: 40,
        seeds: 1,
        optimizer: OptimizerConfig::Gd { lr: 0.1 },
        ..Default::default()
    };
    base.model.depth = 3;
    base.model.activation = Activation::Relu;
    TransferConfig {
        base,
        axis: TransferAxis::Width,
        // 64..1024: 7.4 s in the page on two idle cores (bench/README.md)
        widths: vec![64, 128, 256, 512, 1024],
        depths: vec![],
        lrs: lr_grid(1.0 / 128.0, 2.0, 11),
        params: vec![Parameterization::Sp, Parameterization::Mup { gamma0: 1.0 }],
        divergence_threshold: 10.0,
    }
}

fn lr_transfer_depth() -> TransferConfig {
    let mut base = TrainConfig {
        data: task(32, 16, 64),
        steps: 40,
        seeds: 1,
        optimizer: OptimizerConfig::Gd { lr: 0.1 },
        ..Default::default()
    };
    base.model.arch = Arch::Resnet;
    base.model.width = 128;
    base.model.activation = Activation::Relu;
    base.model.beta = 1.0;
    TransferConfig {
        base,
        axis: TransferAxis::Depth,
        widths: vec![],
        depths: vec![2, 4, 8, 16],
        lrs: lr_grid(1.0 / 64.0, 2.0, 13),
        params: vec![
            Parameterization::DepthMup { gamma0: 1.0 },
            Parameterization::Mup { gamma0: 1.0 },
        ],
        divergence_threshold: 10.0,
    }
}

fn coord_check() -> CoordCheckConfig {
    let mut c = CoordCheckConfig::default();
    c.base.data = task(32, 16, 0);
    c.base.model.activation = Activation::Relu;
    c.widths = vec![64, 128, 256, 512, 1024, 2048];
    c
}

fn lazy_vs_rich() -> RichnessConfig {
    let mut base = TrainConfig {
        data: task(32, 8, 64),
        steps: 200,
        seeds: 2,
        optimizer: OptimizerConfig::Gd { lr: 0.5 },
        param: Parameterization::Mup { gamma0: 1.0 },
        ..Default::default()
    };
    base.model.width = 256;
    base.model.depth = 2;
    base.model.activation = Activation::Tanh;
    base.model.centered = true;
    RichnessConfig {
        base,
        gamma0s: vec![0.01, 0.1, 0.3, 1.0, 3.0],
        kernel: AlignedKernel::Phi,
        records: 40,
    }
}

/// The (gamma0, eta) landscape: width 128, 64 points, 500 GD steps, gamma0 from 1e-3
/// to 1e2 (four per decade), learning rates 2^-12..2^8, 1, 2 and 3 hidden ReLU layers.
fn lr_landscape() -> LandscapeConfig {
    LandscapeConfig {
        data: task(64, 16, 0),
        width: 128,
        depths: vec![1, 2, 3],
        gamma0s: log_grid(1e-3, 1e2, 21),
        lrs: lr_grid(1.0 / 4096.0, 2.0, 21),
        steps: 500,
        threshold: 0.05,
        divergence: 100.0,
        below_best: 2,
        batch: 6,
        records: 60,
        lazy_max: 0.1,
        rich_min: 3.0,
        ..Default::default()
    }
}

/// Deep linear muP statics: depths 1-3 at beta = 10, Langevin networks of width 128 at
/// gamma0 = 0.5, 1, 2.
fn deep_linear_statics() -> DeepLinearConfig {
    DeepLinearConfig {
        depths: vec![1, 2, 3],
        betas: vec![10.0],
        gamma0s: (0..=30).map(|k| k as f64 * 0.1).collect(),
        sample_gamma0s: vec![0.5, 1.0, 2.0],
        width: 128,
        points: 4,
        lr: 0.2,
        burn_in: 500,
        steps: 2000,
        seeds: 8,
        ..Default::default()
    }
}

/// Finite-width corrections: NTK (gamma = 2) and muP (gamma0 = 1) networks of two
/// hidden layers at N = 8..64, beta = 1; the proportional limit at N = 64, alpha = 0.25,
/// 0.5, 1.
fn finite_width_statics() -> FiniteWidthConfig {
    FiniteWidthConfig {
        depth: 2,
        beta: 1.0,
        params: vec![
            Parameterization::Ntk { gamma0: 2.0 },
            Parameterization::Mup { gamma0: 1.0 },
        ],
        widths: vec![8, 16, 32, 64],
        points: 4,
        alphas: vec![0.25, 0.5, 1.0],
        alpha_width: 64,
        alpha_lr: 0.25,
        lr: 0.1,
        burn_in: 1000,
        steps: 5000,
        seeds: 16,
        ..Default::default()
    }
}

/// Bayesian networks on the digits: the NNGP, saddle points at gamma0 = 0.1, 0.3 and
/// muP networks of width 256 (8 seeds) at gamma0 = 0.3, 1, 3, sampled for 1000 + 3000
/// Langevin steps of 0.4 (chains of half that length still drift by ~10% in test loss).
fn bayes_digits() -> BayesDataConfig {
    BayesDataConfig {
        data: DataConfig::Digits {
            train: 100,
            test: 400,
            classes: vec![],
            seed: 0,
        },
        beta: 10.0,
        gamma0s: vec![0.3, 1.0, 3.0],
        saddle_gamma0s: vec![0.1, 0.3],
        width: 256,
        lr: 0.4,
        burn_in: 1000,
        steps: 3000,
        seeds: 8,
        saddle: SaddleConfig {
            samples: 2000,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Layer time: H^l of finite depth-muP ResNets at initialisation against the ODE
/// dH/dtau = beta^2 <phi(h)^2> (the theory engine's depth limit).
fn depth_limit() -> RunConfig {
    RunConfig::DepthLimit(DepthLimitConfig {
        activation: Activation::Relu,
        beta: 1.0,
        h0: 1.0,
        depths: vec![1, 2, 4, 8, 16, 32, 64],
        ode_steps: 200,
        x: vec![],
    })
}

/// Langevin networks at widths 32, 128 and 512, 16 chains of 2000 steps each: enough
/// samples that the kernel distance to each limit falls with width (about 0.07, 0.02,
/// 0.01) instead of sitting on the sampling noise, which shorter chains make flat.
fn bayes() -> BayesConfig {
    BayesConfig {
        widths: vec![32, 128, 512],
        steps: 2000,
        seeds: 16,
        ..Default::default()
    }
}

/// A muP tanh MLP on a linear teacher, four seeds.
fn train_mlp() -> TrainConfig {
    TrainConfig {
        data: DataConfig::Teacher {
            teacher: Teacher::Linear,
            dim: 16,
            train: 64,
            test: 64,
            noise: 0.0,
            seed: 0,
        },
        model: crate::config::ModelConfig {
            width: 256,
            depth: 2,
            activation: Activation::Tanh,
            ..Default::default()
        },
        param: Parameterization::Mup { gamma0: 1.0 },
        optimizer: OptimizerConfig::Gd { lr: 0.5 },
        steps: 200,
        seeds: 4,
        ..Default::default()
    }
}

/// Widths 16..512 at infinite data, 4 seeds each, against the theory: the time and
/// model bottlenecks and the compute-optimal frontier (M = 8192 modes, so that the
/// truncation hardly bends the width law).
fn scaling_compute_optimal() -> ScalingConfig {
    ScalingConfig {
        alpha: 1.5,
        beta: 0.5,
        modes: 8192,
        widths: vec![16, 32, 64, 128, 256, 512],
        samples: vec![0],
        seeds: 4,
        t_max: 1e4,
        ..Default::default()
    }
}

/// Infinite width (kernel regression on all M = 8192 features), 32..256 reused samples:
/// train against test loss.
fn scaling_data_reuse() -> ScalingConfig {
    ScalingConfig {
        alpha: 1.5,
        beta: 0.5,
        modes: 8192,
        widths: vec![0],
        samples: vec![32, 64, 128, 256],
        seeds: 2,
        t_max: 1e4,
        ..Default::default()
    }
}

/// Lazy and rich (gamma0 = 0, 1) at infinite width (theory) and N = 128 (finite models).
fn scaling_feature_learning(beta: f64) -> ScalingConfig {
    ScalingConfig {
        alpha: 1.5,
        beta,
        modes: 4096,
        widths: vec![0, 128],
        samples: vec![0],
        gamma0s: vec![0.0, 1.0],
        seeds: 2,
        t_max: 1e3,
        ..Default::default()
    }
}

/// The shared setup of the transformer presets (the design of the PyTorch
/// reference): the shipped corpus, 4 heads, context 16, batch 16, 150 Adam steps with 5 %
/// warmup and linear decay to 0, embeddings of std 1, fresh windows every step, one seed
/// per cell, scored by the mean training loss of the last 20 steps.
fn transformer_base() -> TransformerConfig {
    let mut base = TransformerConfig {
        model: TransformerModel {
            width: 32,
            heads: 4,
            depth: 2,
            context: 16,
            ..Default::default()
        },
        batch: 16,
        steps: 150,
        seeds: 1,
        ..Default::default()
    };
    base.observe.every = 10;
    base.observe.test_sequences = 0;
    base.observe.attention = false;
    base.observe.score_window = 20;
    base
}

/// Widths 16..128 (head size 4..32) x 8 rates 2^-10..2^-3, SP against muP (base width
/// 16, base head size 4).
fn transformer_lr_width() -> TransformerTransferConfig {
    let mut base = transformer_base();
    base.model.base_width = 16;
    base.model.base_head_dim = 4;
    TransformerTransferConfig {
        base,
        axis: TfAxis::Width,
        widths: vec![16, 32, 64, 128],
        lrs: lr_grid(1.0 / 1024.0, 2.0, 8),
        params: vec![TfParam::Sp, TfParam::mup()],
        alphas: vec![0.0],
        ..Default::default()
    }
}

/// Width 32, depths 1..16 x 7 rates 2^-9..2^-3, muP with alpha = 0, 1/2 and 1 (base depth
/// 2); two seeds per cell.
fn transformer_lr_depth() -> TransformerTransferConfig {
    let mut base = transformer_base();
    base.seeds = 2;
    base.model.base_depth = 2;
    TransformerTransferConfig {
        base,
        axis: TfAxis::Depth,
        depths: vec![1, 2, 4, 8, 16],
        lrs: lr_grid(1.0 / 512.0, 2.0, 7),
        params: vec![TfParam::mup()],
        alphas: vec![0.0, 0.5, 1.0],
        ..Default::default()
    }
}

/// 4 heads of size 4..64 trained 100 steps, SP against muP (without the zero query, so
/// that the heads differ at initialisation).
fn transformer_heads() -> TransformerHeadsConfig {
    TransformerHeadsConfig::default()
}
