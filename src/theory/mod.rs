//! The infinite-width theory engine: what the networks of [`crate::nn`] become as the
//! width N goes to infinity, for exactly the setups the finite engine trains.
//!
//! - [`quadrature`]: Gauss-Hermite rules, 1-D and 2-D Gaussian expectations;
//! - [`kernels`]: NNGP and NTK of MLPs and depth-muP ResNets (docs/theory.md section 2);
//! - [`lazy`]: kernel-regression trajectories under full-batch GD;
//! - [`dmft`]: discrete-time DMFT of the rich regime (docs/theory.md section 3);
//! - [`depth`]: the layer-time limit at initialisation (docs/theory.md section 4);
//! - [`limits`]: which of these limits describes a given training setup, and why not.
//!
//! Everything is f64 and deterministic given the config's seed.

pub mod depth;
pub mod dmft;
pub mod kernels;
pub mod lazy;
pub mod limits;
pub mod quadrature;

pub use kernels::mlp_kernels;
