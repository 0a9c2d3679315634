//! Resource budgets: the memory and work of a config, estimated before anything is
//! allocated, so that an oversized config is refused up front with the limit named
//! instead of crashing a browser tab or the machine.

use crate::config::TrainConfig;
use crate::data::DataConfig;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Default memory budget of the page (a browser tab; wasm32 memory tops out at 4 GiB).
pub const PAGE_MEMORY_BYTES: u64 = 1 << 30;
/// Default memory budget of the CLI (`--max-memory` overrides it).
pub const CLI_MEMORY_BYTES: u64 = 16 << 30;

/// Estimated peak memory and arithmetic work of a computation.
///
/// Every kind's estimate ([`crate::kind::Kind::cost`]) lives beside its engine and
/// counts what the engine allocates: data (training and test points), the per-layer or
/// per-sample arrays, the result, and for sweeps the cells' results held until they are
/// assembled. `tests/kinds_cost.rs` holds each estimate to 0.5x..2x of the measured
/// peak over a spread of configs.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Default)]
pub struct Cost {
    /// Peak bytes held at once with one group of cells of a sweep running (a group
    /// trains as one ensemble: [`crate::kind::Sweep::groups`]), the result included.
    pub bytes: u64,
    /// Bytes each further group of a sweep running at the same time adds (0 for single
    /// runs).
    pub cell_bytes: u64,
    /// Bytes of the record's JSON text (compact): the result and the config echoed
    /// beside it.
    pub json_bytes: u64,
    /// Floating-point operations, roughly.
    pub flops: f64,
}

/// Bytes of one number in compact JSON, about (`0.123456789012345` plus a comma).
pub const JSON_BYTES_PER_NUMBER: f64 = 20.0;

/// Memory a JSON text of a given length holds while it is built: the buffer doubles as
/// it grows, so it holds 1x..2x the text (1.44x on average over lengths).
pub const JSON_BUFFER_FACTOR: f64 = 1.5;

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
    /// record's JSON text built in memory too (its buffer, [`JSON_BUFFER_FACTOR`] times
    /// the text).
    pub fn peak(&self, in_flight: usize, with_json: bool) -> u64 {
        let extra = self
            .cell_bytes
            .saturating_mul(in_flight.saturating_sub(1) as u64);
        let json = if with_json {
            saturate(self.json_bytes as f64 * JSON_BUFFER_FACTOR)
        } else {
            0
        };
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

/// `(D, C, P_train, P_test)` of a config's data without loading it: see [`shape_of`].
pub fn data_shape(cfg: &TrainConfig) -> (u64, u64, u64, u64) {
    shape_of(&cfg.data)
}

/// `(D, C, P_train, P_test)` of a data config without loading it, in `O(1)` for every
/// task but CSV. A CSV text is read once by the loader's reader without converting its
/// cells ([`crate::data::csv_shape`]): its data rows are split as the loader splits
/// them (`floor(rows test_fraction)` test rows); `D` is the column count less the
/// target.
pub fn shape_of(data: &DataConfig) -> (u64, u64, u64, u64) {
    use crate::data::DataConfig as D;
    match data {
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
        D::Csv {
            text,
            test_fraction,
            ..
        } => {
            // the reader's own count (its header rule, quotes, line ends); a text it
            // refuses is refused by validation, before any cost is asked
            let (rows, cols) = crate::data::csv_shape(text).unwrap_or((0, 2));
            let rows = rows as u64;
            let test = (rows as f64 * test_fraction.clamp(0.0, 1.0)).floor() as u64;
            let test = test.min(rows);
            ((cols as u64).saturating_sub(1).max(1), 1, rows - test, test)
        }
        D::Inline { x, y, x_test, .. } => (
            x.first().map_or(1, Vec::len) as u64,
            y.first().map_or(1, Vec::len) as u64,
            x.len() as u64,
            x_test.len() as u64,
        ),
    }
}

/// Bytes of a loaded data set of this shape held by an engine: inputs and targets of
/// the training and test points, `8 (P + P_test)(D + C)` (f64).
pub fn dataset_bytes(shape: (u64, u64, u64, u64)) -> f64 {
    let (d, c, p, pt) = shape;
    8.0 * (p + pt) as f64 * (d + c) as f64
}

/// Bytes of a clone of the data config (what a sweep's cell config carries): the CSV
/// text, or the inline rows (`Vec<Vec<f64>>`: 24 bytes and 8 per value a row); nothing
/// for the generated tasks.
pub fn payload_bytes(data: &DataConfig) -> f64 {
    use crate::data::DataConfig as D;
    let rows =
        |r: &Vec<Vec<f64>>| r.len() as f64 * (24.0 + 8.0 * r.first().map_or(0, Vec::len) as f64);
    match data {
        D::Csv { text, .. } => text.len() as f64,
        D::Inline {
            x,
            y,
            x_test,
            y_test,
        } => rows(x) + rows(y) + rows(x_test) + rows(y_test),
        _ => 0.0,
    }
}

/// Bytes the data config adds to a record's JSON (the config is echoed beside the
/// result): the CSV text with its line ends escaped, or the inline values; a few dozen
/// bytes for the generated tasks.
pub fn payload_json_bytes(data: &DataConfig) -> f64 {
    use crate::data::DataConfig as D;
    match data {
        D::Csv { text, .. } => {
            let escaped = text
                .bytes()
                .filter(|b| matches!(b, b'\n' | b'\r' | b'"' | b'\\'))
                .count();
            (text.len() + escaped) as f64
        }
        D::Inline {
            x,
            y,
            x_test,
            y_test,
        } => {
            rows_json_bytes(x)
                + rows_json_bytes(y)
                + rows_json_bytes(x_test)
                + rows_json_bytes(y_test)
        }
        _ => 100.0,
    }
}

/// Bytes of `rows` input rows of a config (`Vec<Vec<f64>>`) in its JSON echo.
pub fn rows_json_bytes(rows: &[Vec<f64>]) -> f64 {
    rows.len() as f64 * (2.0 + JSON_BYTES_PER_NUMBER * rows.first().map_or(0, Vec::len) as f64)
}
