//! scaling-playground: finite-width neural networks and their infinite-width limits.
//!
//! The numerical core is pure Rust with no platform dependencies:
//! - [`nn`]: finite-width training (MLP, ResNet; SP, NTK, muP, depth-muP, abc; GD, SGD,
//!   Adam, Langevin), batched over seeds;
//! - [`data`]: synthetic tasks, the shipped digits subsample, CSV;
//! - [`backend`]: the `Cpu | Gpu` seam for the array ops;
//! - [`theory`]: the infinite-width limits (NNGP/NTK, lazy dynamics, DMFT, layer time);
//! - [`statics`]: Bayesian networks at equilibrium;
//! - [`linalg`]: the dense f64 linear algebra the theory and statics share;
//! - [`experiments`]: width convergence, transfer, coordinate checks, richness;
//! - [`scaling`]: the solvable model of neural scaling laws, its theory and finite runs;
//! - [`kind`] and [`run`]: every computation as a kind with one config, dispatched in
//!   one place; [`presets`] is the one list of named configs.
//!
//! `web` (wasm32 only) is the one module that touches wasm-bindgen.

pub mod backend;
pub mod budget;
pub mod config;
pub mod data;
pub mod error;
pub mod experiments;
pub mod json;
pub mod json_nan;
pub mod kind;
pub mod linalg;
pub mod link;
pub mod nn;
pub mod packed_gemm;
pub mod presets;
pub mod progress;
pub mod rng;
pub mod run;
pub mod scaling;
pub mod statics;
pub mod theory;
pub mod transformer;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use config::TrainConfig;
pub use error::{Error, Result};
