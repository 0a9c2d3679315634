//! A small decoder-only transformer at its scaling limits: token or continuous
//! embeddings, learned positions, pre-norm blocks of multi-head causal self-attention and
//! an MLP with residual branches `beta (L0/L)^alpha`, a readout; SP, muP, depth-muP
//! (alpha = 1/2) and CompleteP (alpha = 1) with Adam's per-tensor rates and epsilons
//! ([`param`]); forward and backward by hand, batched over an ensemble of members
//! (learning rates times seeds) on the backend seam ([`model`], [`train`]); tasks that fit
//! a browser ([`task`]). `docs/transformer.md` has the equations, the exponent table and
//! the checks.

pub mod config;
pub mod coord;
pub mod cost;
pub mod heads;
pub mod kind;
pub mod model;
pub mod param;
pub mod task;
pub mod train;
pub mod transfer;

pub use config::{
    NormChoice, TfObserve, TfOptimizer, TfParam, TransformerConfig, TransformerModel,
};
pub use model::{Transformer, Workspace};
pub use task::SeqTask;
pub use train::{MembersRun, RunOptions, train_members, train_members_on};
