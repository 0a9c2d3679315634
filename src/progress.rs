//! Progress reporting and cancellation, shared by every solver and training loop.
//!
//! Long computations take a `&dyn Progress`; they call [`Progress::update`] now and then
//! and stop with [`crate::Error::Cancelled`] when [`Progress::is_cancelled`] says so. The
//! CLI prints a percentage on stderr, the browser worker posts a message, tests pass
//! [`Silent`].

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};

/// A sink for progress and a source of cancellation. `Sync` so that parallel sweeps can
/// share one.
pub trait Progress: Sync {
    /// `done` out of `total` units of work are finished; `stage` names the current part.
    fn update(&self, stage: &str, done: u64, total: u64);
    /// True once the user asked to stop.
    fn is_cancelled(&self) -> bool {
        false
    }
    /// A training run recorded its losses at `step`: `train_loss[seed]` (NaN once that
    /// seed diverged) and `test_loss[seed]` (empty when not observed). Called at every
    /// record, as it happens, so a page can draw curves while they train; ignored by
    /// default.
    fn losses(&self, _step: usize, _train_loss: &[f64], _test_loss: &[f64]) {}
}

/// Reports nothing and never cancels.
pub struct Silent;

impl Progress for Silent {
    fn update(&self, _stage: &str, _done: u64, _total: u64) {}
}

/// Cancels when a flag is set (from another thread, or a test).
pub struct Flag<'a>(pub &'a AtomicBool);

impl Progress for Flag<'_> {
    fn update(&self, _stage: &str, _done: u64, _total: u64) {}
    fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Report progress and return `Err(Cancelled)` if the run was cancelled.
pub fn tick(p: &dyn Progress, stage: &str, done: u64, total: u64) -> Result<()> {
    p.update(stage, done, total);
    if p.is_cancelled() {
        return Err(Error::Cancelled);
    }
    Ok(())
}

/// A progress sink that scales the `done/total` of a sub-task into a slice
/// `[offset, offset + span)` of a parent's total, so nested solvers report one bar.
pub struct Scaled<'a> {
    pub parent: &'a dyn Progress,
    pub offset: u64,
    pub span: u64,
    pub total: u64,
}

impl Progress for Scaled<'_> {
    fn update(&self, stage: &str, done: u64, total: u64) {
        let frac = if total == 0 {
            1.0
        } else {
            done as f64 / total as f64
        };
        let d = self.offset + (frac * self.span as f64) as u64;
        self.parent.update(stage, d.min(self.total), self.total);
    }
    fn is_cancelled(&self) -> bool {
        self.parent.is_cancelled()
    }
}
