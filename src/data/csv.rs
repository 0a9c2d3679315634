//! CSV loading: a header row, numeric cells, one target column.

use super::{Dataset, MAX_CSV_BYTES, MAX_POINTS, standardise, synthetic::split};
use crate::error::{Error, Result};
use crate::rng::{Stream, stream};
use rand::seq::SliceRandom;

/// Parse CSV text into a header and numeric rows. Rejects ragged rows, non-numeric or
/// non-finite cells and oversized input, naming the row and column.
pub fn parse_csv(text: &str) -> Result<(Vec<String>, Vec<Vec<f64>>)> {
    if text.len() > MAX_CSV_BYTES {
        return Err(Error::Data(format!(
            "CSV larger than {MAX_CSV_BYTES} bytes"
        )));
    }
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let header: Vec<String> = lines
        .next()
        .ok_or_else(|| Error::Data("CSV is empty".into()))?
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .collect();
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        if rows.len() >= MAX_POINTS {
            return Err(Error::Data(format!("CSV has more than {MAX_POINTS} rows")));
        }
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != header.len() {
            return Err(Error::Data(format!(
                "CSV row {} has {} cells, the header has {}",
                i + 2,
                cells.len(),
                header.len()
            )));
        }
        let row = cells
            .iter()
            .enumerate()
            .map(|(j, c)| match c.trim().trim_matches('"').parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(Error::Data(format!(
                    "CSV row {} column {}: not a finite number",
                    i + 2,
                    j + 1
                ))),
            })
            .collect::<Result<Vec<f64>>>()?;
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(Error::Data("CSV has a header but no rows".into()));
    }
    if header.len() < 2 {
        return Err(Error::Data(
            "CSV needs at least one input column and a target".into(),
        ));
    }
    Ok((header, rows))
}

/// Load a regression data set from CSV text: `target` names the y column (default the
/// last); inputs standardised on the training rows; a shuffled train/test split.
pub fn load(text: &str, target: Option<&str>, test_fraction: f64, seed: u64) -> Result<Dataset> {
    let (header, mut rows) = parse_csv(text)?;
    let t = match target {
        None => header.len() - 1,
        Some(name) => header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::config("data.target", "the name of a CSV column"))?,
    };
    rows.shuffle(&mut stream(seed, Stream::Data, 4, 0));
    let n = rows.len();
    let test = ((n as f64) * test_fraction).floor() as usize;
    let train = n - test;
    if train == 0 {
        return Err(Error::Data("no training rows left after the split".into()));
    }
    let d = header.len() - 1;
    let mut x = Vec::with_capacity(n * d);
    let mut y = Vec::with_capacity(n);
    for r in &rows {
        for (j, v) in r.iter().enumerate() {
            if j == t {
                y.push(*v);
            } else {
                x.push(*v);
            }
        }
    }
    standardise(&mut x, d, train);
    let mut ds = split(x, y, d, 1, train);
    ds.feature_names = header
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != t)
        .map(|(_, h)| h.clone())
        .collect();
    Ok(ds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_splits() {
        let text = "a,b,y\n1,2,3\n4,5,6\n7,8,9\n10,11,12\n";
        let ds = load(text, Some("y"), 0.25, 0).unwrap();
        assert_eq!(ds.dim, 2);
        assert_eq!(ds.p_train(), 3);
        assert_eq!(ds.p_test(), 1);
        assert_eq!(ds.feature_names, vec!["a", "b"]);
    }

    #[test]
    fn rejects_bad_cells_with_position() {
        let e = parse_csv("a,y\n1,2\nx,3\n").unwrap_err();
        assert!(e.to_string().contains("row 3 column 1"), "{e}");
        let e = parse_csv("a,y\n1,2,3\n").unwrap_err();
        assert!(e.to_string().contains("3 cells"), "{e}");
        assert!(parse_csv("").is_err());
        assert!(parse_csv("a,y\nNaN,1\n").is_err());
    }
}
