//! Statics: Bayesian networks at equilibrium (docs/theory.md section 5).
//!
//! Add weight decay and noise to training and let `t -> infinity` first: the network
//! samples a Gibbs posterior whose infinite-width limit depends on the
//! parameterisation.
//! - [`langevin`]: posterior sampling of finite networks with the finite engine's
//!   Langevin optimiser, averages over time and seeds with error bars;
//! - [`nngp_posterior`]: the fixed-gamma (lazy) limit, GP regression with the NNGP kernel;
//! - [`saddle`]: the muP limit of a two-layer network, a min-max saddle point over kernels;
//! - [`deep_linear`]: the muP limit of deep linear networks in closed form, at any depth
//!   against Langevin networks (the `deep_linear` kind), and its finite-width and
//!   proportional-limit corrections at fixed gamma (the `finite_width` kind);
//! - [`bayes`]: the experiment comparing them as the width grows;
//! - [`benchmark`]: the same posteriors scored on a real data set (test loss and error).

pub mod bayes;
pub mod benchmark;
pub mod deep_linear;
pub mod langevin;
pub mod nngp_posterior;
pub mod saddle;

pub use bayes::{BayesConfig, BayesResult};
