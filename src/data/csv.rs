//! Numeric CSV tables, read with the `csv` crate: the data task `csv` and the CLI's
//! `kernel --x-file` share one reader and one header rule.
//!
//! Syntax: RFC 4180 as the `csv` crate reads it: fields separated by `,`, optionally
//! quoted with `"` (a quoted field may hold commas, newlines and `""` for a quote); lines
//! end in LF, CRLF or CR; a UTF-8 byte-order mark at the start is ignored; spaces around
//! a field are trimmed; blank lines are skipped.
//!
//! **Header rule.** A cell is a *number* when Rust's `f64` parser accepts it after
//! trimming (`1`, `-2.5e3`, `.5`; also `nan` and `inf`, which are then refused as not
//! finite). The first non-blank row is
//! - a header if none of its cells is a number,
//! - the first data row if all of its cells are numbers,
//! - an error if it mixes the two (a typo in a data row or a number in a header would
//!   otherwise silently drop a data row or misname the columns).
//!
//! Without a header the columns are named `col1`, `col2`, ... Every data row must have
//! as many cells as the first row, each a finite number; an error names the row (the
//! line of the file where the row starts, from 1), the column (from 1) and its name.

use super::{Dataset, MAX_CSV_BYTES, MAX_DIM, MAX_POINTS, standardise, synthetic::split};
use crate::error::{Error, Result};
use crate::rng::{Stream, stream};
use rand::seq::SliceRandom;

/// A numeric table read from CSV text.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvTable {
    /// Column names: the header's cells, or `col1..colN` without a header.
    pub names: Vec<String>,
    /// Whether the first row was a header.
    pub has_header: bool,
    /// Data rows, each `names.len()` finite numbers.
    pub rows: Vec<Vec<f64>>,
}

/// Most columns a table may have (inputs and a target).
pub const MAX_COLUMNS: usize = MAX_DIM + 1;

/// The text without its byte-order mark, after the size check.
fn body(text: &str) -> Result<&str> {
    if text.len() > MAX_CSV_BYTES {
        return Err(Error::Data(format!(
            "CSV of {} bytes, larger than {MAX_CSV_BYTES}",
            text.len()
        )));
    }
    // The `csv` crate skips a BOM in its reader too; stripping it here keeps the byte
    // offsets of records relative to the text that [`row_of`] counts lines in.
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

fn reader(text: &str) -> ::csv::Reader<&[u8]> {
    ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(text.as_bytes())
}

fn csv_error(e: &::csv::Error) -> Error {
    Error::Data(format!("CSV: {e}"))
}

/// The 1-based row (line of the file, ended by LF, CRLF or CR) where `rec` starts.
/// (The `csv` crate counts only LFs, and its record positions include the blank lines
/// skipped before a record.)
fn row_of(text: &str, rec: &::csv::ByteRecord) -> usize {
    let bytes = text.as_bytes();
    let mut start = rec
        .position()
        .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX))
        .min(bytes.len());
    while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
        start += 1;
    }
    let before = &bytes[..start];
    let crs = before
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\r' && before.get(i + 1) != Some(&b'\n'))
        .count();
    1 + crs + before.iter().filter(|&&b| b == b'\n').count()
}

/// A blank line (only spaces): one empty field.
fn is_blank(rec: &::csv::ByteRecord) -> bool {
    rec.len() == 1 && rec[0].is_empty()
}

fn cell_text(cell: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(cell)
}

fn as_number(cell: &[u8]) -> Option<f64> {
    std::str::from_utf8(cell).ok()?.parse().ok()
}

/// Check the first row's width and classify it by the header rule: `Ok(true)` for a
/// header, `Ok(false)` for data.
fn is_header(text: &str, first: &::csv::ByteRecord) -> Result<bool> {
    if first.len() > MAX_COLUMNS {
        return Err(Error::Data(format!(
            "CSV row {} has {} columns, more than {MAX_COLUMNS}",
            row_of(text, first),
            first.len()
        )));
    }
    let numbers: Vec<bool> = first.iter().map(|c| as_number(c).is_some()).collect();
    match (
        numbers.iter().position(|&n| !n),
        numbers.iter().position(|&n| n),
    ) {
        (None, _) => Ok(false),
        (Some(_), None) => Ok(true),
        (Some(word), Some(num)) => Err(Error::Data(format!(
            "CSV row {} mixes numbers and text (column {} is `{}`, column {} is `{}`): a \
             header row holds no numbers and a data row only numbers",
            row_of(text, first),
            word + 1,
            cell_text(&first[word]),
            num + 1,
            cell_text(&first[num]),
        ))),
    }
}

/// Read a numeric table by the module's header rule; refuses ragged rows, non-numeric
/// or non-finite cells, more than [`MAX_POINTS`] rows, [`MAX_COLUMNS`] columns or
/// [`MAX_CSV_BYTES`] bytes, naming the row and column.
pub fn read_table(text: &str) -> Result<CsvTable> {
    let text = body(text)?;
    let mut rdr = reader(text);
    let mut rec = ::csv::ByteRecord::new();
    let mut names: Option<Vec<String>> = None;
    let mut has_header = false;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    while rdr.read_byte_record(&mut rec).map_err(|e| csv_error(&e))? {
        if is_blank(&rec) {
            continue;
        }
        match &names {
            Some(names) => {
                if rows.len() >= MAX_POINTS {
                    return Err(Error::Data(format!("CSV has more than {MAX_POINTS} rows")));
                }
                rows.push(data_row(text, &rec, names)?);
            }
            None => {
                has_header = is_header(text, &rec)?;
                let first = if has_header {
                    header_names(&rec)?
                } else {
                    let generated: Vec<String> =
                        (1..=rec.len()).map(|j| format!("col{j}")).collect();
                    rows.push(data_row(text, &rec, &generated)?);
                    generated
                };
                names = Some(first);
            }
        }
    }
    let Some(names) = names else {
        return Err(Error::Data("CSV is empty".into()));
    };
    if rows.is_empty() {
        return Err(Error::Data("CSV has a header but no data rows".into()));
    }
    Ok(CsvTable {
        names,
        has_header,
        rows,
    })
}

/// The header's cells, which must be distinct (the data task picks its target by name).
fn header_names(rec: &::csv::ByteRecord) -> Result<Vec<String>> {
    let header: Vec<String> = rec.iter().map(|c| cell_text(c).into_owned()).collect();
    for (j, name) in header.iter().enumerate() {
        if let Some(k) = header[..j].iter().position(|h| h == name) {
            return Err(Error::Data(format!(
                "CSV header names columns {} and {} both `{name}`",
                k + 1,
                j + 1
            )));
        }
    }
    Ok(header)
}

/// One data row: as many cells as there are columns, each a finite number.
fn data_row(text: &str, rec: &::csv::ByteRecord, names: &[String]) -> Result<Vec<f64>> {
    if rec.len() != names.len() {
        return Err(Error::Data(format!(
            "CSV row {} has {} cells, the first row has {}",
            row_of(text, rec),
            rec.len(),
            names.len()
        )));
    }
    rec.iter()
        .zip(names)
        .enumerate()
        .map(|(j, (cell, name))| {
            let why = match as_number(cell) {
                Some(v) if v.is_finite() => return Ok(v),
                Some(_) => "is not a finite number",
                None => "is not a number",
            };
            Err(Error::Data(format!(
                "CSV row {} column {} (`{name}`): `{}` {why}",
                row_of(text, rec),
                j + 1,
                cell_text(cell)
            )))
        })
        .collect()
}

/// `(data rows, columns)` of a CSV text by the same reader and header rule as
/// [`read_table`], without converting the cells: for cost estimates. Errors only where
/// the text is not CSV at all or breaks the size limits or the header rule.
pub fn csv_shape(text: &str) -> Result<(usize, usize)> {
    let text = body(text)?;
    let mut rdr = reader(text);
    let mut rec = ::csv::ByteRecord::new();
    let mut cols = None;
    let mut rows = 0usize;
    while rdr.read_byte_record(&mut rec).map_err(|e| csv_error(&e))? {
        if is_blank(&rec) {
            continue;
        }
        if cols.is_none() {
            cols = Some(rec.len());
            if is_header(text, &rec)? {
                continue;
            }
        }
        rows += 1;
        if rows > MAX_POINTS {
            return Err(Error::Data(format!("CSV has more than {MAX_POINTS} rows")));
        }
    }
    Ok((rows, cols.unwrap_or(0)))
}

/// A table for the data task: [`read_table`] with at least one input column and a
/// target. Returns the column names and the rows.
pub fn parse_csv(text: &str) -> Result<(Vec<String>, Vec<Vec<f64>>)> {
    let table = read_table(text)?;
    if table.names.len() < 2 {
        return Err(Error::Data(
            "CSV needs at least one input column and a target".into(),
        ));
    }
    Ok((table.names, table.rows))
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
        let e = parse_csv("a,y\n1,2\nx,3\n").unwrap_err().to_string();
        assert!(
            e.contains("row 3 column 1 (`a`): `x` is not a number"),
            "{e}"
        );
        let e = parse_csv("a,y\n1,2,3\n").unwrap_err().to_string();
        assert!(e.contains("row 2 has 3 cells, the first row has 2"), "{e}");
        let e = parse_csv("").unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        let e = parse_csv("a,y\nNaN,1\n").unwrap_err().to_string();
        assert!(
            e.contains("row 2 column 1 (`a`): `NaN` is not a finite"),
            "{e}"
        );
        let e = parse_csv("a,y\n").unwrap_err().to_string();
        assert!(e.contains("no data rows"), "{e}");
        let e = parse_csv("y\n1\n").unwrap_err().to_string();
        assert!(e.contains("input column and a target"), "{e}");
        let e = parse_csv("a,a\n1,2\n").unwrap_err().to_string();
        assert!(e.contains("columns 1 and 2 both `a`"), "{e}");
    }

    #[test]
    fn quotes_bom_and_line_ends() {
        let want = vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]];
        for text in [
            "a,b,y\n1,2,3\n4,5,6\n",
            "\u{feff}a,b,y\r\n1,2,3\r\n4,5,6\r\n",
            "a,b,y\r1,2,3\r4,5,6",
            "\"a\",\" b \",\"y\"\n\"1\",2,3\n\n4,5,  6\n",
            "\u{feff}\n\na,b,y\n1,2,3\n   \n4,5,6\n\n",
        ] {
            let t = read_table(text).unwrap();
            assert_eq!(t.names, ["a", "b", "y"], "{text:?}");
            assert!(t.has_header);
            assert_eq!(t.rows, want, "{text:?}");
            assert_eq!(csv_shape(text).unwrap(), (2, 3), "{text:?}");
        }
        // a quoted header cell may hold a comma; it stays one column
        let t = read_table("\"price, USD\",y\n1,2\n").unwrap();
        assert_eq!(t.names, ["price, USD", "y"]);
        assert_eq!(t.rows, vec![vec![1.0, 2.0]]);
        let ds = load("\"price, USD\",y\n1,2\n3,4\n", None, 0.0, 0).unwrap();
        assert_eq!(ds.feature_names, ["price, USD"]);
        assert_eq!(ds.y_train.len(), 2);
        // a quoted comma inside a data row is one (non-numeric) cell, not two
        let e = read_table("a,b\n\"1,5\",2\n").unwrap_err().to_string();
        assert!(
            e.contains("row 2 column 1 (`a`): `1,5` is not a number"),
            "{e}"
        );
    }

    #[test]
    fn header_rule_is_total() {
        // all numbers: no header, every row is data
        let t = read_table("1,2\n3,4\n").unwrap();
        assert!(!t.has_header);
        assert_eq!(t.names, ["col1", "col2"]);
        assert_eq!(t.rows, vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
        assert_eq!(csv_shape("1,2\n3,4\n").unwrap(), (2, 2));
        // a typo in the first data row is an error, not a dropped row
        let e = read_table("1,2x\n3,4\n").unwrap_err().to_string();
        assert!(e.contains("row 1 mixes numbers and text"), "{e}");
        assert!(e.contains("column 2 is `2x`"), "{e}");
        assert!(csv_shape("1,2x\n3,4\n").is_err());
        // the reported row is the file's line, blank lines included
        let e = read_table("\n\nx,y\n1,2\n\n3,oops\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 6 column 2 (`y`): `oops`"), "{e}");
        let e = read_table("x,y\r1,2\r\r3,oops\r").unwrap_err().to_string();
        assert!(e.contains("row 4 column 2 (`y`)"), "{e}");
        let e = read_table("\r\n\r\nx,y\r\n1,2,3\r\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 4 has 3 cells"), "{e}");
        let e = read_table("\n\n1,a\n").unwrap_err().to_string();
        assert!(e.contains("row 3 mixes"), "{e}");
        let e = read_table("x,y\r\n1,2\r\n3,oops").unwrap_err().to_string();
        assert!(e.contains("row 3 column 2 (`y`)"), "{e}");
        // headerless columns are named in errors too
        let e = read_table("1,2\n3,\n").unwrap_err().to_string();
        assert!(
            e.contains("row 2 column 2 (`col2`): `` is not a number"),
            "{e}"
        );
    }

    #[test]
    fn limits() {
        let wide = (0..=MAX_COLUMNS).map(|j| j.to_string()).collect::<Vec<_>>();
        let e = read_table(&wide.join(",")).unwrap_err().to_string();
        assert!(e.contains(&format!("{} columns", MAX_COLUMNS + 1)), "{e}");
        let mut long = String::from("x,y\n");
        for _ in 0..=MAX_POINTS {
            long.push_str("1,2\n");
        }
        let e = read_table(&long).unwrap_err().to_string();
        assert!(e.contains("more than 100000 rows"), "{e}");
        assert!(csv_shape(&long).is_err());
        let big = "1".repeat(MAX_CSV_BYTES + 1);
        assert!(read_table(&big).unwrap_err().to_string().contains("larger"));
    }
}
