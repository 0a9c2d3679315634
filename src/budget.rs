//! Resource budgets: the memory and work of a config, estimated before anything is
//! allocated, so that an oversized config is refused up front with the limit named
//! instead of crashing a browser tab or the machine.

use crate::config::TrainConfig;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Default memory budget of the page (a browser tab; wasm32 memory tops out at 4 GiB).
pub const PAGE_MEMORY_BYTES: u64 = 1 << 30;
/// Default memory budget of the CLI (`--max-memory` overrides it).
pub const CLI_MEMORY_BYTES: u64 = 16 << 30;

/// Estimated peak memory and arithmetic work of a computation.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Default)]
pub struct Cost {
    /// Peak bytes held at once with one cell of a sweep running, the result included.
    pub bytes: u64,
    /// Bytes each further cell of a sweep running at the same time adds (0 for single
    /// runs).
    pub cell_bytes: u64,
    /// Bytes of the result's JSON text (compact), for callers that hold it in memory.
    pub json_bytes: u64,
    /// Floating-point operations, roughly.
    pub flops: f64,
}

/// Bytes of one number in compact JSON, about (`0.123456789012345` plus a comma).
pub const JSON_BYTES_PER_NUMBER: f64 = 20.0;

impl Cost {
    /// The larger memory and the summed work of two parts run one after the other.
    pub fn then(self, other: Cost) -> Cost {
        Cost {
            bytes: self.bytes.max(other.bytes),
            cell_bytes: self.cell_bytes.max(other.cell_bytes),
            json_bytes: self.json_bytes.max(other.json_bytes),
            flops: self.flops + other.flops,
        }
    }

    /// Peak bytes with `in_flight` cells of a sweep at once and, if `with_json`, the
    /// result's JSON text held too.
    pub fn peak(&self, in_flight: usize, with_json: bool) -> u64 {
        let extra = self
            .cell_bytes
            .saturating_mul(in_flight.saturating_sub(1) as u64);
        let json = if with_json { self.json_bytes } else { 0 };
        self.bytes.saturating_add(extra).saturating_add(json)
    }

    /// Refuse a peak above `limit` bytes, naming both.
    pub fn check(&self, limit: u64, in_flight: usize, with_json: bool) -> Result<()> {
        let peak = self.peak(in_flight, with_json);
        if peak > limit {
            let cells = if in_flight > 1 && self.cell_bytes > 0 {
                format!(" ({in_flight} cells at once)")
            } else {
                String::new()
            };
            return Err(Error::Budget(format!(
                "this config needs about {}{cells} of memory, over the limit of {}; reduce width, depth, seeds or data size",
                human(peak),
                human(limit)
            )));
        }
        Ok(())
    }
}

/// `1.5 GiB`-style sizes.
pub fn human(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", units[u])
}

/// f64 bytes to u64, saturating (estimates of absurd configs exceed 2^64).
pub fn saturate(bytes: f64) -> u64 {
    if bytes >= u64::MAX as f64 {
        u64::MAX
    } else {
        bytes.max(0.0) as u64
    }
}

/// `(D, C, P_train, P_test)` of a config's data without loading it (upper bounds for
/// CSV, whose shape is only known after parsing).
pub fn data_shape(cfg: &TrainConfig) -> (u64, u64, u64, u64) {
    use crate::data::DataConfig as D;
    match &cfg.data {
        D::Teacher {
            dim, train, test, ..
        } => (*dim as u64, 1, *train as u64, *test as u64),
        D::Sine { train, test, .. } => (2, 1, *train as u64, *test as u64),
        D::Spirals { train, test, .. } => (3, 2, *train as u64, *test as u64),
        D::Digits {
            train,
            test,
            classes,
            ..
        } => {
            let c = if classes.is_empty() {
                10
            } else {
                classes.len()
            };
            (64, c as u64, *train as u64, *test as u64)
        }
        D::Csv { text, .. } => {
            let cols = text.lines().next().map_or(1, |h| h.split(',').count()) as u64;
            let rows = text.lines().count() as u64;
            (cols, 1, rows, 0)
        }
        D::Inline { x, y, x_test, .. } => (
            x.first().map_or(1, Vec::len) as u64,
            y.first().map_or(1, Vec::len) as u64,
            x.len() as u64,
            x_test.len() as u64,
        ),
    }
}
