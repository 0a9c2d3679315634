//! The serde config of a transformer training run: task, model, parameterisation,
//! optimiser, batch, steps, seeds, observables. Every field has a default, so `{"kind":
//! "transformer"}` is a small run (a 2-block, width-64 model on the shipped corpus).

use super::task::SeqTask;
use crate::config::{Activation, no_fields};
use crate::error::{Error, Result, check_positive, check_range};
use serde::{Deserialize, Serialize};

/// Largest width, depth, heads, head size, context and batch a config may ask for (work
/// and memory are budgeted separately, see [`crate::budget`]).
pub const MAX_WIDTH: usize = 8192;
pub const MAX_DEPTH: usize = 256;
pub const MAX_HEADS: usize = 256;
pub const MAX_CONTEXT: usize = 256;
pub const MAX_BATCH: usize = 4096;

/// The architecture this engine builds (present so that a config says what it is).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum TransformerArch {
    /// A decoder-only pre-norm transformer.
    #[default]
    Transformer,
}

/// The normalisation in front of every branch and the readout.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum NormChoice {
    /// Layer norm with a learned gain (no bias).
    #[default]
    Layer,
    /// RMS norm with a learned gain.
    Rms,
    /// No normalisation (the branch reads the residual stream itself).
    None,
}

/// A decoder-only transformer:
///
/// ```text
/// x^0     = m_emb U W_emb + P                      (token or continuous embedding, positions)
/// x^{l+1} = x^l + beta (L0/L)^alpha Attn(norm(x^l))   then the same with MLP(norm(.))
/// f       = m_out norm(x^L) W_out^T
/// ```
///
/// (`docs/transformer.md` has the equations and the exponent table.)
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TransformerModel {
    pub arch: TransformerArch,
    /// d_model N: the width of the residual stream.
    pub width: usize,
    /// Attention heads H.
    pub heads: usize,
    /// Head size dh (null: `width / heads`).
    pub head_dim: Option<usize>,
    /// Blocks L (each: attention then MLP, both pre-norm residual branches).
    pub depth: usize,
    /// Residual exponent: branches are scaled `beta (L0/L)^alpha`; 0 (standard), 1/2
    /// (depth-muP) or 1 (CompleteP).
    pub alpha: f64,
    /// Residual branch strength beta.
    pub beta: f64,
    pub norm: NormChoice,
    /// Context length T (positions per sequence).
    pub context: usize,
    /// MLP hidden width as a multiple of N.
    pub mlp_ratio: usize,
    /// The MLP's nonlinearity.
    pub activation: Activation,
    /// Standard deviation of the token and position embeddings.
    pub embed_std: f64,
    /// Base width N0: muP's multipliers and rates are relative to it (muP = SP at N0).
    pub base_width: usize,
    /// Base depth L0 of the residual scaling `(L0/L)^alpha`.
    pub base_depth: usize,
    /// Base head size dh0: muP's attention scale `sqrt(dh0)/dh` equals SP's `1/sqrt(dh)`
    /// there.
    pub base_head_dim: usize,
}

impl Default for TransformerModel {
    fn default() -> Self {
        TransformerModel {
            arch: TransformerArch::Transformer,
            width: 64,
            heads: 4,
            head_dim: None,
            depth: 2,
            alpha: 0.0,
            beta: 1.0,
            norm: NormChoice::Layer,
            context: 16,
            mlp_ratio: 4,
            activation: Activation::Gelu,
            embed_std: 1.0,
            base_width: 32,
            base_depth: 2,
            base_head_dim: 8,
        }
    }
}

impl TransformerModel {
    /// The head size dh.
    pub fn dh(&self) -> usize {
        self.head_dim
            .unwrap_or(self.width / self.heads.max(1))
            .max(1)
    }
    /// Attention width `Da = H dh`.
    pub fn attn_width(&self) -> usize {
        self.heads * self.dh()
    }
    /// MLP hidden width `F = mlp_ratio N`.
    pub fn ffn(&self) -> usize {
        self.mlp_ratio * self.width
    }
}

fn yes() -> bool {
    true
}

/// How the model scales with width (the residual exponent alpha, in the model, says how
/// it scales with depth): `docs/transformer.md` has the table.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TfParam {
    /// Standard: logits / sqrt(dh), readout unscaled, one Adam rate for every parameter.
    #[serde(deserialize_with = "no_fields")]
    Sp,
    /// muP: logits sqrt(dh0)/dh, readout N0/N, hidden Adam rates and epsilons N0/fan-in;
    /// the query and readout zero at initialisation (Yang et al. 2022) unless switched off.
    Mup {
        #[serde(default = "yes")]
        zero_query: bool,
        #[serde(default = "yes")]
        zero_readout: bool,
    },
}

impl Default for TfParam {
    fn default() -> Self {
        TfParam::Mup {
            zero_query: true,
            zero_readout: true,
        }
    }
}

impl TfParam {
    /// muP with its zero initialisations.
    pub fn mup() -> Self {
        Self::default()
    }
    pub fn is_mup(&self) -> bool {
        matches!(self, TfParam::Mup { .. })
    }
    /// The name of a (width parameterisation, residual exponent) pair in tables: `sp`,
    /// `mup`, `depth_mup` (muP, alpha 1/2), `complete_p` (muP, alpha 1), otherwise the
    /// width name with the exponent (`sp_alpha0.5`).
    pub fn label(&self, alpha: f64) -> String {
        match (self, alpha) {
            (TfParam::Sp, 0.0) => "sp".into(),
            (TfParam::Mup { .. }, 0.0) => "mup".into(),
            (TfParam::Mup { .. }, 0.5) => "depth_mup".into(),
            (TfParam::Mup { .. }, 1.0) => "complete_p".into(),
            (TfParam::Sp, a) => format!("sp_alpha{a}"),
            (TfParam::Mup { .. }, a) => format!("mup_alpha{a}"),
        }
    }
}

/// The learning-rate schedule's shape after warmup.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Decay {
    /// Linearly to 0 at the last step.
    #[default]
    Linear,
    /// Constant after warmup.
    Constant,
}

fn beta1() -> f64 {
    0.9
}
fn beta2() -> f64 {
    0.999
}
fn adam_eps() -> f64 {
    1e-8
}
fn warmup() -> f64 {
    0.05
}

/// The optimiser: Adam with the per-parameter rates and epsilons of the
/// parameterisation, a linear warmup over the first `warmup` fraction of the steps and
/// then `decay`. The rate of step `t` (0-based) is `lr s(t)` with
/// `s(t) = (t + 1) / W` for `t < W = round(warmup T)`, then `(T - t) / (T - W)` (linear)
/// or 1 (constant).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TfOptimizer {
    Adam {
        lr: f64,
        #[serde(default = "beta1")]
        beta1: f64,
        #[serde(default = "beta2")]
        beta2: f64,
        #[serde(default = "adam_eps")]
        eps: f64,
        #[serde(default = "warmup")]
        warmup: f64,
        #[serde(default)]
        decay: Decay,
    },
}

impl Default for TfOptimizer {
    fn default() -> Self {
        TfOptimizer::Adam {
            lr: 0.01,
            beta1: beta1(),
            beta2: beta2(),
            eps: adam_eps(),
            warmup: warmup(),
            decay: Decay::Linear,
        }
    }
}

impl TfOptimizer {
    pub fn lr(&self) -> f64 {
        match self {
            TfOptimizer::Adam { lr, .. } => *lr,
        }
    }
    pub fn with_lr(&self, eta: f64) -> Self {
        let mut o = self.clone();
        match &mut o {
            TfOptimizer::Adam { lr, .. } => *lr = eta,
        }
        o
    }
    /// The schedule's factor `s(t)` at step `t` of `steps`.
    pub fn schedule(&self, t: usize, steps: usize) -> f64 {
        let TfOptimizer::Adam { warmup, decay, .. } = self;
        let w = (warmup * steps as f64).round() as usize;
        if t < w {
            return (t + 1) as f64 / w as f64;
        }
        match decay {
            Decay::Constant => 1.0,
            Decay::Linear => (steps - t) as f64 / (steps - w).max(1) as f64,
        }
    }
}

/// What to record along training.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TfObserve {
    /// Record the training loss (of that step's batch) and the test loss every `every`
    /// steps, and always at the first and last.
    pub every: usize,
    /// Held-out sequences for the test loss and the attention maps (0: none).
    pub test_sequences: usize,
    /// The attention maps of every layer and head on the first test sequence, for the
    /// first seed, at the end.
    pub attention: bool,
    /// Steps at the end whose training losses are averaged into the score.
    pub score_window: usize,
    /// A seed whose loss is NaN, Inf or above this is marked diverged.
    pub divergence_threshold: f64,
}

impl Default for TfObserve {
    fn default() -> Self {
        TfObserve {
            every: 10,
            test_sequences: 16,
            attention: true,
            score_window: 20,
            divergence_threshold: 1e3,
        }
    }
}

/// One transformer training setup (the `transformer` kind): seeds trained as one
/// batched ensemble, every seed on the same fresh batch of sequences at each step.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TransformerConfig {
    pub task: SeqTask,
    pub model: TransformerModel,
    pub param: TfParam,
    pub optimizer: TfOptimizer,
    /// Sequences per step B (fresh ones every step).
    pub batch: usize,
    /// Optimiser steps T.
    pub steps: usize,
    /// Ensemble size S (independent initialisations).
    pub seeds: usize,
    /// Master seed: batches, test set and weights derive from it.
    pub seed: u64,
    pub observe: TfObserve,
}

impl Default for TransformerConfig {
    fn default() -> Self {
        TransformerConfig {
            task: SeqTask::default(),
            model: TransformerModel::default(),
            param: TfParam::default(),
            optimizer: TfOptimizer::default(),
            batch: 16,
            steps: 100,
            seeds: 2,
            seed: 0,
            observe: TfObserve::default(),
        }
    }
}

impl TransformerConfig {
    /// Range-check every field; the error names the first bad one.
    pub fn validate(&self) -> Result<()> {
        self.task.validate(self.model.context)?;
        let m = &self.model;
        check_range("model.width", m.width, 1, MAX_WIDTH)?;
        check_range("model.heads", m.heads, 1, MAX_HEADS.min(m.width.max(1)))?;
        if let Some(dh) = m.head_dim {
            check_range("model.head_dim", dh, 1, MAX_WIDTH)?;
        } else if !m.width.is_multiple_of(m.heads) {
            return Err(Error::config(
                "model.head_dim",
                format!(
                    "a head size (width {} is not a multiple of heads {})",
                    m.width, m.heads
                ),
            ));
        }
        check_range("model.attn_width", m.attn_width(), 1, MAX_WIDTH)?;
        check_range("model.depth", m.depth, 1, MAX_DEPTH)?;
        check_range("model.alpha", m.alpha, 0.0, 2.0)?;
        if !(m.beta.is_finite() && m.beta >= 0.0) {
            return Err(Error::config("model.beta", "a finite number >= 0"));
        }
        check_range("model.context", m.context, 1, MAX_CONTEXT)?;
        check_range("model.mlp_ratio", m.mlp_ratio, 1, 16)?;
        check_positive("model.embed_std", m.embed_std)?;
        check_range("model.base_width", m.base_width, 1, MAX_WIDTH)?;
        check_range("model.base_depth", m.base_depth, 1, MAX_DEPTH)?;
        check_range("model.base_head_dim", m.base_head_dim, 1, MAX_WIDTH)?;
        check_range("batch", self.batch, 1, MAX_BATCH)?;
        check_range("steps", self.steps, 1, crate::config::MAX_STEPS)?;
        check_range("seeds", self.seeds, 1, crate::config::MAX_SEEDS)?;
        let TfOptimizer::Adam {
            lr,
            beta1,
            beta2,
            eps,
            warmup,
            ..
        } = &self.optimizer;
        if !(lr.is_finite() && *lr >= 0.0) {
            return Err(Error::config("optimizer.lr", "a finite number >= 0"));
        }
        check_range("optimizer.beta1", *beta1, 0.0, 0.999_999)?;
        check_range("optimizer.beta2", *beta2, 0.0, 0.999_999_9)?;
        check_positive("optimizer.eps", *eps)?;
        check_range("optimizer.warmup", *warmup, 0.0, 1.0)?;
        let o = &self.observe;
        check_range("observe.every", o.every, 1, crate::config::MAX_STEPS)?;
        check_range("observe.test_sequences", o.test_sequences, 0, MAX_BATCH)?;
        check_range("observe.score_window", o.score_window, 1, self.steps)?;
        check_positive("observe.divergence_threshold", o.divergence_threshold)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_warms_up_then_decays_to_zero() {
        let o = TfOptimizer::default();
        // 100 steps, 5 % warmup: W = 5
        assert!((o.schedule(0, 100) - 0.2).abs() < 1e-12);
        assert!((o.schedule(4, 100) - 1.0).abs() < 1e-12);
        assert!((o.schedule(5, 100) - 1.0).abs() < 1e-12);
        assert!((o.schedule(99, 100) - 1.0 / 95.0).abs() < 1e-12);
    }

    #[test]
    fn labels_name_the_depth_parameterisations() {
        assert_eq!(TfParam::Sp.label(0.0), "sp");
        assert_eq!(TfParam::mup().label(0.5), "depth_mup");
        assert_eq!(TfParam::mup().label(1.0), "complete_p");
        assert_eq!(TfParam::Sp.label(0.5), "sp_alpha0.5");
    }
}
