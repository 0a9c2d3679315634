//! The shipped data set: a 500-image subsample of the UCI 8x8 optical digits
//! (CC BY 4.0, see `data/digits/LICENSE.md`), gzip-compressed inside the binary.

use super::{Dataset, standardise, synthetic::split};
use crate::error::{Error, Result};
use crate::rng::{Stream, stream};
use rand::seq::SliceRandom;

static DIGITS_GZ: &[u8] = include_bytes!("../../data/digits/digits-500.csv.gz");
const PER_CLASS: usize = 50;

/// Images available for the chosen classes (all ten when `classes` is empty).
pub fn available(classes: &[u8]) -> usize {
    PER_CLASS
        * if classes.is_empty() {
            10
        } else {
            classes.len()
        }
}

/// Decompress the table: 500 rows of 64 pixels and a label.
fn table() -> Result<Vec<(Vec<f64>, u8)>> {
    // gzip: a 10-byte header (no optional fields here), the deflate stream, an 8-byte trailer
    let body = DIGITS_GZ
        .get(10..DIGITS_GZ.len().saturating_sub(8))
        .ok_or_else(|| Error::Data("digits table truncated".into()))?;
    let raw = miniz_oxide::inflate::decompress_to_vec(body)
        .map_err(|e| Error::Data(format!("digits table: {e:?}")))?;
    let text = String::from_utf8(raw).map_err(|_| Error::Data("digits table not UTF-8".into()))?;
    text.lines()
        .map(|line| {
            let v: Vec<f64> = line.split(',').filter_map(|t| t.parse().ok()).collect();
            if v.len() != 65 {
                return Err(Error::Data("digits row without 65 values".into()));
            }
            Ok((v[..64].to_vec(), v[64] as u8))
        })
        .collect()
}

/// A shuffled split of the chosen classes, one-hot targets, standardised pixels.
pub fn load(train: usize, test: usize, classes: &[u8], seed: u64) -> Result<Dataset> {
    let classes: Vec<u8> = if classes.is_empty() {
        (0..10).collect()
    } else {
        classes.to_vec()
    };
    let mut rows: Vec<(Vec<f64>, u8)> = table()?
        .into_iter()
        .filter(|(_, c)| classes.contains(c))
        .collect();
    rows.shuffle(&mut stream(seed, Stream::Data, 3, 0));
    rows.truncate(train + test);
    let c = classes.len();
    let mut x = Vec::with_capacity(rows.len() * 64);
    let mut y = vec![0.0; rows.len() * c];
    for (i, (px, label)) in rows.iter().enumerate() {
        x.extend_from_slice(px);
        let k = classes.iter().position(|z| z == label).unwrap_or(0);
        y[i * c + k] = 1.0;
    }
    standardise(&mut x, 64, train);
    Ok(split(x, y, 64, c, train))
}
