//! Training data: synthetic tasks, the shipped digits subsample, CSV files and inline
//! arrays, all normalised so that x.x / D = O(1).
//!
//! A [`DataConfig`] says how to make the data; [`DataConfig::load`] turns it into a
//! [`Dataset`] of row-major `f64` arrays. Everything random is drawn from the config's
//! own seed, so the same config always gives the same points.

mod csv;
mod digits;
mod synthetic;

pub use self::csv::{CsvTable, MAX_COLUMNS, csv_shape, parse_csv, read_table};

use crate::error::{Error, Result, check_range};
use serde::{Deserialize, Serialize};

/// Largest number of points (train + test) and input dimension a config may ask for.
pub const MAX_POINTS: usize = 100_000;
pub const MAX_DIM: usize = 4096;
/// Largest CSV or inline payload, in bytes or values.
pub const MAX_CSV_BYTES: usize = 8 << 20;

/// The teacher of a Gaussian-input regression task, y = teacher(x) + noise.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Teacher {
    /// y = beta . x / sqrt(D), beta ~ N(0, I).
    #[default]
    Linear,
    /// y = He_3-like single-index: y = tanh(2 beta.x/sqrt(D)) with a random direction.
    SingleIndex,
    /// A random two-layer tanh network of width 32.
    TwoLayer,
}

/// How to make the data set.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "task", rename_all = "snake_case", deny_unknown_fields)]
pub enum DataConfig {
    /// x ~ N(0, I_D), y = teacher(x) + noise * N(0, 1).
    Teacher {
        #[serde(default)]
        teacher: Teacher,
        dim: usize,
        train: usize,
        #[serde(default)]
        test: usize,
        #[serde(default)]
        noise: f64,
        #[serde(default)]
        seed: u64,
    },
    /// 1-D regression y = sin(t), t uniform in [-pi, pi]; x = (t / 1.8, 1) (a bias input).
    Sine {
        train: usize,
        #[serde(default)]
        test: usize,
        #[serde(default)]
        noise: f64,
        #[serde(default)]
        seed: u64,
    },
    /// Two interleaved spirals in the plane, two classes one-hot; x = (u, v, 1) scaled.
    Spirals {
        train: usize,
        #[serde(default)]
        test: usize,
        #[serde(default)]
        noise: f64,
        #[serde(default)]
        seed: u64,
    },
    /// The shipped subsample of the UCI 8x8 optical digits (500 images, CC BY 4.0),
    /// pixels standardised; `classes` picks digits (default all ten), one-hot targets.
    Digits {
        train: usize,
        #[serde(default)]
        test: usize,
        #[serde(default)]
        classes: Vec<u8>,
        #[serde(default)]
        seed: u64,
    },
    /// A numeric CSV table (see [`read_table`] for the syntax and the header rule: the
    /// first row is a header when none of its cells is a number, otherwise the columns
    /// are `col1..colN`); the `target` column (default: the last) is y, the rest are x,
    /// standardised; rows are shuffled and split.
    Csv {
        text: String,
        #[serde(default)]
        target: Option<String>,
        #[serde(default)]
        test_fraction: f64,
        #[serde(default)]
        seed: u64,
    },
    /// Explicit arrays: rows of x and of y (y rows may be scalars).
    Inline {
        x: Vec<Vec<f64>>,
        y: Vec<Vec<f64>>,
        #[serde(default)]
        x_test: Vec<Vec<f64>>,
        #[serde(default)]
        y_test: Vec<Vec<f64>>,
    },
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig::Teacher {
            teacher: Teacher::Linear,
            dim: 16,
            train: 16,
            test: 64,
            noise: 0.0,
            seed: 0,
        }
    }
}

/// A data set as row-major arrays: `x_train` is `[P x D]`, `y_train` is `[P x C]`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Input dimension D.
    pub dim: usize,
    /// Output dimension C (1 for scalar regression, the class count for one-hot).
    pub outputs: usize,
    pub x_train: Vec<f64>,
    pub y_train: Vec<f64>,
    pub x_test: Vec<f64>,
    pub y_test: Vec<f64>,
    /// Column names of x, where the source had them (CSV).
    #[serde(default)]
    pub feature_names: Vec<String>,
}

impl Dataset {
    /// Number of training points P.
    pub fn p_train(&self) -> usize {
        self.x_train.len() / self.dim.max(1)
    }
    /// Number of test points.
    pub fn p_test(&self) -> usize {
        self.x_test.len() / self.dim.max(1)
    }
    /// Row `mu` of the training inputs.
    pub fn x_row(&self, mu: usize) -> &[f64] {
        &self.x_train[mu * self.dim..(mu + 1) * self.dim]
    }
    /// Input kernel Phi^0 = X X^T / D over the training set, `[P x P]` row-major.
    pub fn input_kernel(&self) -> Vec<f64> {
        gram(&self.x_train, &self.x_train, self.dim)
    }
    /// Cross input kernel X_test X^T / D, `[P_test x P]`.
    pub fn input_kernel_test(&self) -> Vec<f64> {
        gram(&self.x_test, &self.x_train, self.dim)
    }
    /// Training targets of the first output, `[P]` (the scalar target for theory).
    pub fn y_scalar(&self) -> Vec<f64> {
        self.y_train.chunks(self.outputs).map(|r| r[0]).collect()
    }

    /// Validate shapes and finiteness; used for inline and CSV data.
    pub fn check(&self) -> Result<()> {
        if self.dim == 0 || self.outputs == 0 {
            return Err(Error::Data("empty inputs or targets".into()));
        }
        if self.x_train.is_empty() {
            return Err(Error::Data("no training points".into()));
        }
        if !self.x_train.len().is_multiple_of(self.dim)
            || self.y_train.len() != self.p_train() * self.outputs
            || !self.x_test.len().is_multiple_of(self.dim)
            || self.y_test.len() != self.p_test() * self.outputs
        {
            return Err(Error::Data("ragged rows in x or y".into()));
        }
        let all = [&self.x_train, &self.y_train, &self.x_test, &self.y_test];
        if all.iter().any(|v| v.iter().any(|z| !z.is_finite())) {
            return Err(Error::Data("non-finite value in the data".into()));
        }
        Ok(())
    }
}

/// `A B^T / D` for row-major `A [n x D]`, `B [m x D]`.
pub fn gram(a: &[f64], b: &[f64], dim: usize) -> Vec<f64> {
    let n = a.len() / dim;
    let m = b.len() / dim;
    let mut k = vec![0.0; n * m];
    for i in 0..n {
        let ai = &a[i * dim..(i + 1) * dim];
        for j in 0..m {
            let bj = &b[j * dim..(j + 1) * dim];
            k[i * m + j] = ai.iter().zip(bj).map(|(p, q)| p * q).sum::<f64>() / dim as f64;
        }
    }
    k
}

impl DataConfig {
    /// Number of training points the config asks for (0 where it is only known after
    /// parsing, as for CSV).
    pub fn train_size(&self) -> usize {
        match self {
            DataConfig::Teacher { train, .. }
            | DataConfig::Sine { train, .. }
            | DataConfig::Spirals { train, .. }
            | DataConfig::Digits { train, .. } => *train,
            DataConfig::Inline { x, .. } => x.len(),
            DataConfig::Csv { .. } => MAX_POINTS,
        }
    }

    /// Output dimension C of the data set the config makes (one-hot tasks have one
    /// column per class; inline data as many as its first `y` row).
    pub fn outputs(&self) -> usize {
        match self {
            DataConfig::Spirals { .. } => 2,
            DataConfig::Digits { classes, .. } if classes.is_empty() => 10,
            DataConfig::Digits { classes, .. } => classes.len(),
            DataConfig::Inline { y, .. } => y.first().map_or(1, Vec::len),
            DataConfig::Teacher { .. } | DataConfig::Sine { .. } | DataConfig::Csv { .. } => 1,
        }
    }

    /// Range-check the fields; the error names the field.
    pub fn validate(&self) -> Result<()> {
        let split = |train: usize, test: usize| -> Result<()> {
            check_range("data.train", train, 1, MAX_POINTS)?;
            check_range("data.test", test, 0, MAX_POINTS - train)?;
            Ok(())
        };
        let noise_ok = |noise: f64| -> Result<()> {
            if !(noise.is_finite() && noise >= 0.0) {
                return Err(Error::config("data.noise", "a finite number >= 0"));
            }
            Ok(())
        };
        match self {
            DataConfig::Teacher {
                dim,
                train,
                test,
                noise,
                ..
            } => {
                check_range("data.dim", *dim, 1, MAX_DIM)?;
                split(*train, *test)?;
                noise_ok(*noise)
            }
            DataConfig::Sine {
                train, test, noise, ..
            }
            | DataConfig::Spirals {
                train, test, noise, ..
            } => {
                split(*train, *test)?;
                noise_ok(*noise)
            }
            DataConfig::Digits {
                train,
                test,
                classes,
                ..
            } => {
                if classes.iter().any(|&c| c > 9) {
                    return Err(Error::config("data.classes", "digits between 0 and 9"));
                }
                let mut seen = [false; 10];
                for &c in classes {
                    if seen[c as usize] {
                        return Err(Error::config("data.classes", "distinct digits"));
                    }
                    seen[c as usize] = true;
                }
                let available = digits::available(classes);
                check_range("data.train", *train, 1, available)?;
                check_range("data.test", *test, 0, available - train)
            }
            DataConfig::Csv {
                text,
                target,
                test_fraction,
                ..
            } => {
                check_range("data.text", text.len(), 1, MAX_CSV_BYTES)?;
                check_range("data.test_fraction", *test_fraction, 0.0, 0.9)?;
                let (header, _) = parse_csv(text).map_err(|e| {
                    Error::config("data.text", format!("a numeric CSV table ({e})"))
                })?;
                if let Some(t) = target
                    && !header.contains(t)
                {
                    return Err(Error::config("data.target", "the name of a CSV column"));
                }
                Ok(())
            }
            DataConfig::Inline {
                x,
                y,
                x_test,
                y_test,
            } => {
                check_range("data.x", x.len(), 1, MAX_POINTS)?;
                check_range("data.x_test", x_test.len(), 0, MAX_POINTS)?;
                if y.len() != x.len() {
                    return Err(Error::config(
                        "data.y",
                        format!("{} rows like data.x", x.len()),
                    ));
                }
                if y_test.len() != x_test.len() {
                    return Err(Error::config(
                        "data.y_test",
                        format!("{} rows like data.x_test", x_test.len()),
                    ));
                }
                let d = x[0].len();
                check_range("data.x[0]", d, 1, MAX_DIM)?;
                let c = y[0].len();
                check_range("data.y[0]", c, 1, 1024)?;
                for (name, rows, width) in [
                    ("data.x", x, d),
                    ("data.y", y, c),
                    ("data.x_test", x_test, d),
                    ("data.y_test", y_test, c),
                ] {
                    for (i, r) in rows.iter().enumerate() {
                        if r.len() != width {
                            return Err(Error::config(
                                format!("{name}[{i}]"),
                                format!("{width} values like the first row"),
                            ));
                        }
                        if r.iter().any(|v| !v.is_finite()) {
                            return Err(Error::config(format!("{name}[{i}]"), "finite numbers"));
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// Make the data set.
    pub fn load(&self) -> Result<Dataset> {
        self.validate()?;
        let ds = match self {
            DataConfig::Teacher {
                teacher,
                dim,
                train,
                test,
                noise,
                seed,
            } => synthetic::teacher(*teacher, *dim, *train, *test, *noise, *seed),
            DataConfig::Sine {
                train,
                test,
                noise,
                seed,
            } => synthetic::sine(*train, *test, *noise, *seed),
            DataConfig::Spirals {
                train,
                test,
                noise,
                seed,
            } => synthetic::spirals(*train, *test, *noise, *seed),
            DataConfig::Digits {
                train,
                test,
                classes,
                seed,
            } => digits::load(*train, *test, classes, *seed)?,
            DataConfig::Csv {
                text,
                target,
                test_fraction,
                seed,
            } => self::csv::load(text, target.as_deref(), *test_fraction, *seed)?,
            DataConfig::Inline {
                x,
                y,
                x_test,
                y_test,
            } => Dataset {
                dim: x[0].len(),
                outputs: y[0].len(),
                x_train: x.concat(),
                y_train: y.concat(),
                x_test: x_test.concat(),
                y_test: y_test.concat(),
                feature_names: vec![],
            },
        };
        ds.check()?;
        Ok(ds)
    }
}

/// Standardise each column of `x [n x d]` to zero mean and unit variance using the
/// statistics of the first `n_fit` rows (the training rows); constant columns become 0.
pub(crate) fn standardise(x: &mut [f64], d: usize, n_fit: usize) {
    let n_fit = n_fit.max(1);
    for j in 0..d {
        let mean = (0..n_fit).map(|i| x[i * d + j]).sum::<f64>() / n_fit as f64;
        let var = (0..n_fit)
            .map(|i| (x[i * d + j] - mean).powi(2))
            .sum::<f64>()
            / n_fit as f64;
        let s = if var > 1e-12 { var.sqrt().recip() } else { 0.0 };
        for row in x.chunks_mut(d) {
            row[j] = (row[j] - mean) * s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teacher_inputs_have_unit_norm_per_dimension() {
        let ds = DataConfig::Teacher {
            teacher: Teacher::Linear,
            dim: 32,
            train: 200,
            test: 10,
            noise: 0.0,
            seed: 3,
        }
        .load()
        .unwrap();
        let k = ds.input_kernel();
        let p = ds.p_train();
        let mean_diag = (0..p).map(|i| k[i * p + i]).sum::<f64>() / p as f64;
        assert!((mean_diag - 1.0).abs() < 0.05, "{mean_diag}");
        assert_eq!(ds.p_test(), 10);
    }

    #[test]
    fn every_task_loads_with_finite_normalised_inputs() {
        let cfgs = [
            DataConfig::Sine {
                train: 20,
                test: 5,
                noise: 0.1,
                seed: 1,
            },
            DataConfig::Spirals {
                train: 40,
                test: 10,
                noise: 0.0,
                seed: 1,
            },
            DataConfig::Digits {
                train: 50,
                test: 20,
                classes: vec![],
                seed: 1,
            },
            DataConfig::Digits {
                train: 30,
                test: 10,
                classes: vec![3, 8],
                seed: 1,
            },
            DataConfig::Teacher {
                teacher: Teacher::SingleIndex,
                dim: 8,
                train: 9,
                test: 3,
                noise: 0.0,
                seed: 2,
            },
            DataConfig::Teacher {
                teacher: Teacher::TwoLayer,
                dim: 8,
                train: 9,
                test: 3,
                noise: 0.0,
                seed: 2,
            },
        ];
        for c in cfgs {
            let ds = c.load().unwrap();
            assert_eq!(c.outputs(), ds.outputs, "{c:?}");
            let k = ds.input_kernel();
            let p = ds.p_train();
            let mean_diag = (0..p).map(|i| k[i * p + i]).sum::<f64>() / p as f64;
            assert!(mean_diag > 0.2 && mean_diag < 5.0, "{c:?}: {mean_diag}");
        }
        let d = DataConfig::Digits {
            train: 30,
            test: 10,
            classes: vec![3, 8],
            seed: 1,
        }
        .load()
        .unwrap();
        assert_eq!(d.outputs, 2);
        assert_eq!(d.dim, 64);
    }

    #[test]
    fn same_seed_same_data() {
        let c = DataConfig::Spirals {
            train: 10,
            test: 2,
            noise: 0.1,
            seed: 7,
        };
        assert_eq!(c.load().unwrap(), c.load().unwrap());
    }

    #[test]
    fn bad_fields_are_named() {
        let c = DataConfig::Teacher {
            teacher: Teacher::Linear,
            dim: 0,
            train: 5,
            test: 0,
            noise: 0.0,
            seed: 0,
        };
        match c.validate() {
            Err(Error::Config { field, .. }) => assert_eq!(field, "data.dim"),
            e => panic!("{e:?}"),
        }
        let c = DataConfig::Inline {
            x: vec![vec![1.0, 2.0], vec![1.0]],
            y: vec![vec![1.0], vec![2.0]],
            x_test: vec![],
            y_test: vec![],
        };
        match c.validate() {
            Err(Error::Config { field, .. }) => assert_eq!(field, "data.x[1]"),
            e => panic!("{e:?}"),
        }
    }
}
