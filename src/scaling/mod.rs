//! The solvable model of neural scaling laws (docs/theory.md section 7): a
//! random-feature model of power-law spectrum trained by gradient flow, its DMFT loss
//! curves `L(t, N, P)`, the same model at finite `N` and `P`, and the laws read off both.

pub mod complex;
pub mod feature;
pub mod finite;
pub mod kind;
pub mod laws;
pub mod result;
pub mod spectrum;
pub mod talbot;
pub mod theory;
