//! Sequence tasks that fit a browser: next-character prediction on a shipped public-domain
//! text, an algorithmic copy task and in-context linear regression. A task makes batches
//! of `B` sequences of `T` positions: the input rows `U [B T x V_in]` (one-hot tokens or
//! continuous vectors, shared by every ensemble member) and the targets of each position.

use crate::backend::LossKind;
use crate::error::{Error, Result, check_range};
use crate::rng::normal;
use rand::RngExt;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

static CORIOLANUS_GZ: &[u8] = include_bytes!("../../data/coriolanus/coriolanus.txt.gz");

/// Largest copy-task alphabet and regression dimension.
pub const MAX_VOCAB: usize = 1024;
pub const MAX_DIM: usize = 256;

fn sixteen() -> usize {
    16
}

/// What the model learns.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "task", rename_all = "snake_case", deny_unknown_fields)]
pub enum SeqTask {
    /// Next-character prediction (cross-entropy over the 61-character alphabet) on the
    /// shipped corpus, Shakespeare's *Coriolanus* (public domain, `data/coriolanus/`):
    /// windows of `T + 1` characters at uniformly random offsets, fresh every step, from
    /// its first 90 %; held-out windows from its last 10 %.
    Corpus {},
    /// Copying: `T/2` random symbols, a separator, the same symbols again; the loss is
    /// on the copy (which attention solves by looking back `T/2` positions).
    Copy {
        /// Symbols (the model's vocabulary is one more: the separator).
        #[serde(default = "sixteen")]
        vocab: usize,
    },
    /// In-context linear regression (Garg et al. 2022): each sequence has its own
    /// `w ~ N(0, I_d)`; positions alternate `x_k ~ N(0, I_d)` (input `(x_k, 0)`) and
    /// `y_k = w.x_k / sqrt(d) + noise xi` (input `(0, y_k)`); at each `x_k` the model
    /// predicts `y_k` (squared loss).
    InContextRegression {
        dim: usize,
        #[serde(default)]
        noise: f64,
    },
}

impl Default for SeqTask {
    fn default() -> Self {
        SeqTask::Corpus {}
    }
}

/// A batch of sequences.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// `U [B T x V_in]`.
    pub inputs: Vec<f32>,
    /// `[B T x target_width]`: class ids (-1: no target) or `(weight, y)`.
    pub targets: Vec<f32>,
    /// Positions that carry a target.
    pub count: usize,
    /// The input token of each position (one-hot tasks; empty otherwise).
    pub tokens: Vec<u32>,
}

/// The shipped corpus as ids over its sorted alphabet.
pub struct Corpus {
    pub alphabet: Vec<char>,
    pub ids: Vec<u8>,
}

/// The decompressed corpus (decoded once per process).
pub fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        // gzip: a 10-byte header (no optional fields), the deflate stream, an 8-byte trailer
        let body = &CORIOLANUS_GZ[10..CORIOLANUS_GZ.len() - 8];
        let raw =
            miniz_oxide::inflate::decompress_to_vec(body).expect("the shipped corpus inflates");
        let text = String::from_utf8(raw).expect("the shipped corpus is UTF-8");
        let mut alphabet: Vec<char> = vec![];
        for c in text.chars() {
            if let Err(i) = alphabet.binary_search(&c) {
                alphabet.insert(i, c);
            }
        }
        let ids = text
            .chars()
            .map(|c| alphabet.binary_search(&c).unwrap_or(0) as u8)
            .collect();
        Corpus { alphabet, ids }
    })
}

/// Characters of the shipped corpus (without decompressing it).
pub const CORPUS_ALPHABET: usize = 61;
pub const CORPUS_CHARS: usize = 154_469;

impl SeqTask {
    pub fn validate(&self, context: usize) -> Result<()> {
        match self {
            SeqTask::Corpus {} => Ok(()),
            SeqTask::Copy { vocab } => {
                check_range("task.vocab", *vocab, 2, MAX_VOCAB)?;
                if !context.is_multiple_of(2) {
                    return Err(Error::config(
                        "model.context",
                        "an even context for the copy task (symbols, then their copy)",
                    ));
                }
                Ok(())
            }
            SeqTask::InContextRegression { dim, noise } => {
                check_range("task.dim", *dim, 1, MAX_DIM)?;
                if !(noise.is_finite() && *noise >= 0.0) {
                    return Err(Error::config("task.noise", "a finite number >= 0"));
                }
                if !context.is_multiple_of(2) {
                    return Err(Error::config(
                        "model.context",
                        "an even context for in-context regression ((x, y) pairs)",
                    ));
                }
                Ok(())
            }
        }
    }

    /// Rows of the embedding `V_in`: the vocabulary, or the input dimension.
    pub fn input_width(&self) -> usize {
        match self {
            SeqTask::Corpus {} => CORPUS_ALPHABET,
            SeqTask::Copy { vocab } => vocab + 1,
            SeqTask::InContextRegression { dim, .. } => dim + 1,
        }
    }

    /// Whether inputs are one-hot tokens.
    pub fn one_hot(&self) -> bool {
        !matches!(self, SeqTask::InContextRegression { .. })
    }

    /// Outputs per position C (logits, or 1).
    pub fn outputs(&self) -> usize {
        match self {
            SeqTask::InContextRegression { .. } => 1,
            _ => self.input_width(),
        }
    }

    pub fn loss(&self) -> LossKind {
        match self {
            SeqTask::InContextRegression { .. } => LossKind::Squared,
            _ => LossKind::CrossEntropy,
        }
    }

    /// Numbers per target.
    pub fn target_width(&self) -> usize {
        match self.loss() {
            LossKind::CrossEntropy => 1,
            LossKind::Squared => 2,
        }
    }

    /// `b` sequences of `t` positions drawn from `rng` (held-out text when `test`).
    pub fn batch(&self, rng: &mut StdRng, b: usize, t: usize, test: bool) -> Batch {
        let v = self.input_width();
        let rows = b * t;
        let mut inputs = vec![0.0f32; rows * v];
        let mut targets = Vec::with_capacity(rows * self.target_width());
        let mut tokens = Vec::with_capacity(rows);
        let mut count = 0;
        let mut token = |inputs: &mut [f32], r: usize, id: u32| {
            inputs[r * v + id as usize] = 1.0;
            tokens.push(id);
        };
        match self {
            SeqTask::Corpus {} => {
                let c = corpus();
                let split = c.ids.len() * 9 / 10;
                let (lo, hi) = if test {
                    (split, c.ids.len())
                } else {
                    (0, split)
                };
                for s in 0..b {
                    let start = rng.random_range(lo..hi - t);
                    for p in 0..t {
                        token(&mut inputs, s * t + p, c.ids[start + p] as u32);
                        targets.push(c.ids[start + p + 1] as f32);
                    }
                }
                count = rows;
            }
            SeqTask::Copy { vocab } => {
                let k = t / 2;
                let sep = *vocab as u32;
                for s in 0..b {
                    let sym: Vec<u32> =
                        (0..k).map(|_| rng.random_range(0..*vocab as u32)).collect();
                    // z = symbols, separator, symbols: inputs z[0..t], targets z[1..=t]
                    let z: Vec<u32> = sym
                        .iter()
                        .copied()
                        .chain([sep])
                        .chain(sym.iter().copied())
                        .collect();
                    for p in 0..t {
                        token(&mut inputs, s * t + p, z[p]);
                        if p >= k {
                            targets.push(z[p + 1] as f32);
                            count += 1;
                        } else {
                            targets.push(-1.0);
                        }
                    }
                }
            }
            SeqTask::InContextRegression { dim, noise } => {
                let d = *dim;
                for s in 0..b {
                    let w: Vec<f64> = (0..d).map(|_| normal(rng)).collect();
                    for k in 0..t / 2 {
                        let x: Vec<f64> = (0..d).map(|_| normal(rng)).collect();
                        let y = w.iter().zip(&x).map(|(a, b)| a * b).sum::<f64>()
                            / (d as f64).sqrt()
                            + noise * normal(rng);
                        let rx = s * t + 2 * k;
                        for (i, xi) in x.iter().enumerate() {
                            inputs[rx * v + i] = *xi as f32;
                        }
                        inputs[(rx + 1) * v + d] = y as f32;
                        targets.extend([1.0, y as f32, 0.0, 0.0]);
                        count += 1;
                    }
                }
            }
        }
        Batch {
            inputs,
            targets,
            count,
            tokens,
        }
    }

    /// A readable label for each position of sequence `s` of a batch (the character,
    /// the symbol, or `x1`, `y1`, ...).
    pub fn labels(&self, batch: &Batch, s: usize, t: usize) -> Vec<String> {
        match self {
            SeqTask::Corpus {} => {
                let a = &corpus().alphabet;
                batch.tokens[s * t..(s + 1) * t]
                    .iter()
                    .map(|&id| match a[id as usize] {
                        '\n' => "⏎".to_string(),
                        ' ' => "␣".to_string(),
                        ch => ch.to_string(),
                    })
                    .collect()
            }
            SeqTask::Copy { vocab } => batch.tokens[s * t..(s + 1) * t]
                .iter()
                .map(|&id| {
                    if id as usize == *vocab {
                        "|".into()
                    } else {
                        id.to_string()
                    }
                })
                .collect(),
            SeqTask::InContextRegression { .. } => (0..t)
                .map(|p| format!("{}{}", if p % 2 == 0 { "x" } else { "y" }, p / 2 + 1))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};

    #[test]
    fn the_corpus_has_its_documented_shape() {
        let c = corpus();
        assert_eq!(c.alphabet.len(), CORPUS_ALPHABET);
        assert_eq!(c.ids.len(), CORPUS_CHARS);
        assert_eq!(c.alphabet[0], '\n');
    }

    #[test]
    fn corpus_targets_are_the_next_characters() {
        let task = SeqTask::Corpus {};
        let b = task.batch(&mut stream(0, Stream::Batches, 0, 0), 3, 8, false);
        assert_eq!(b.inputs.len(), 24 * CORPUS_ALPHABET);
        for s in 0..3 {
            for p in 0..7 {
                assert_eq!(b.targets[s * 8 + p] as u32, b.tokens[s * 8 + p + 1]);
            }
        }
        assert_eq!(b.count, 24);
    }

    #[test]
    fn copy_targets_repeat_the_first_half() {
        let task = SeqTask::Copy { vocab: 5 };
        let b = task.batch(&mut stream(0, Stream::Batches, 0, 0), 2, 6, false);
        // position 3 holds the separator's successor: the first symbol again
        for s in 0..2 {
            assert_eq!(b.tokens[s * 6 + 3], 5);
            assert_eq!(&b.targets[s * 6..s * 6 + 3], &[-1.0; 3]);
            for p in 3..6 {
                assert_eq!(b.targets[s * 6 + p] as u32, b.tokens[s * 6 + p - 3]);
            }
        }
        assert_eq!(b.count, 6);
    }

    #[test]
    fn regression_targets_are_linear_in_x() {
        let task = SeqTask::InContextRegression { dim: 3, noise: 0.0 };
        let b = task.batch(&mut stream(0, Stream::Batches, 0, 0), 1, 8, false);
        // the y-token of pair k carries the target of its x-token
        for k in 0..4 {
            let y_in = b.inputs[(2 * k + 1) * 4 + 3];
            assert_eq!(b.targets[2 * (2 * k)], 1.0);
            assert_eq!(b.targets[2 * (2 * k) + 1], y_in);
            assert_eq!(b.targets[2 * (2 * k + 1)], 0.0);
        }
        assert_eq!(b.count, 4);
    }
}
