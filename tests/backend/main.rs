//! The backend seam: every GPU kernel against the CPU on lavapipe (skips, and says so, without an adapter), device fallbacks, the DMFT on a device.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/conformance.rs"]
mod conformance;

mod dmft;
mod kernels;
