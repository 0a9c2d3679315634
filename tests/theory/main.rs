//! The infinite-width theory: NNGP/NTK kernels, lazy dynamics, the two-layer, deep and deep linear DMFT against independent values and finite networks.

#[path = "../common/mod.rs"]
mod common;

mod deep_dmft_long;
mod dmft;
mod kernels;
mod limits;
