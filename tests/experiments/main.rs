//! The experiments (sweeps): width convergence, transfer, coordinate checks, richness, sharding and merging.

#[path = "../common/mod.rs"]
mod common;

mod coord_check;
mod landscape;
mod richness;
mod shard;
mod transfer;
mod width_convergence;
