//! The finite-width training engine: gradients against finite differences, optimisers, parameterisations, observables, divergence.

#[path = "../common/mod.rs"]
mod common;

mod train;
mod transformer;
