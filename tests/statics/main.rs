//! Bayesian statics: Langevin networks, the NNGP posterior, the muP saddle point and deep linear closed forms.

#[path = "../common/mod.rs"]
mod common;

mod bayes;
mod benchmark;
mod deep_linear;
mod finite_width;
mod two_layer;
