//! One error type for the whole core: every failure names what went wrong and, for bad
//! input, the config field and the values that are allowed.

use std::fmt;

/// Errors of the numerical core. Never a panic for bad input: the CLI turns these into a
/// non-zero exit, the page into a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A config field is missing, malformed or out of range.
    /// `field` is the dotted path (`model.width`), `expected` says what is allowed.
    Config { field: String, expected: String },
    /// Input data could not be read (CSV, JSON, inline arrays).
    Data(String),
    /// A linear-algebra step failed (singular or non-positive-definite kernel).
    Numerical(String),
    /// The config exceeds a resource budget (memory or work) before anything ran.
    Budget(String),
    /// The run was cancelled through its [`crate::progress::Progress`] hook.
    Cancelled,
    /// Another worker of a run split over several ([`crate::nn::split`]) failed or sent
    /// what this one did not expect.
    Worker(String),
}

impl Error {
    /// Shorthand for a config error on `field`.
    pub fn config(field: impl Into<String>, expected: impl Into<String>) -> Self {
        Error::Config {
            field: field.into(),
            expected: expected.into(),
        }
    }
}

impl Error {
    /// The same error with `prefix.` before its field path: an error of a nested config
    /// (a sweep's `base`, a shard's cell) named from the outer config. Other errors are
    /// returned unchanged.
    pub fn within(self, prefix: &str) -> Self {
        match self {
            Error::Config { field, expected } if field.starts_with('[') => Error::Config {
                field: format!("{prefix}{field}"),
                expected,
            },
            Error::Config { field, expected } => Error::Config {
                field: format!("{prefix}.{field}"),
                expected,
            },
            other => other,
        }
    }

    /// The same error with its field path rewritten by `f` (config errors only).
    pub fn map_field(self, f: impl FnOnce(&str) -> String) -> Self {
        match self {
            Error::Config { field, expected } => Error::Config {
                field: f(&field),
                expected,
            },
            other => other,
        }
    }

    /// The config field this error names, if it is a config error.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Config { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config { field, expected } => {
                write!(f, "invalid config field `{field}`: expected {expected}")
            }
            Error::Data(m) => write!(f, "data error: {m}"),
            Error::Numerical(m) => write!(f, "numerical error: {m}"),
            Error::Budget(m) => write!(f, "over budget: {m}"),
            Error::Cancelled => write!(f, "cancelled"),
            Error::Worker(m) => write!(f, "split run: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// Result alias used throughout the core.
pub type Result<T> = std::result::Result<T, Error>;

/// Check `lo <= value <= hi` for a config field, with a message naming the field.
pub fn check_range<T: PartialOrd + fmt::Display + Copy>(
    field: &str,
    value: T,
    lo: T,
    hi: T,
) -> Result<()> {
    // `!(a <= b)` rather than `a > b` so that NaN fails too.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    if !(lo <= value && value <= hi) {
        return Err(Error::config(
            field,
            format!("a value in [{lo}, {hi}], got {value}"),
        ));
    }
    Ok(())
}

/// Check that a float field is finite and positive.
pub fn check_positive(field: &str, value: f64) -> Result<()> {
    if !(value.is_finite() && value > 0.0) {
        return Err(Error::config(
            field,
            format!("a finite number > 0, got {value}"),
        ));
    }
    Ok(())
}
