//! Every kind through the CLI, links and config files: validation, round trips, unknown fields, hostile input and fuzzing.

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod config_roundtrip;
mod fuzz;
mod links_malformed;
