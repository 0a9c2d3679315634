//! The infinite-width theory: NNGP/NTK kernels, lazy dynamics, the two-layer, deep and deep linear DMFT, and the solvable model of scaling laws, against independent values and finite models.

#[path = "../common/mod.rs"]
mod common;

mod deep_dmft_long;
mod dmft;
mod kernels;
mod limits;
mod scaling_laws;
