//! Datasets: one example per row, the label first, then the features, from a CSV file (no
//! header) or from rows written inline in the model file.

use std::path::Path;

use ndarray::{Array2, ArrayD};

use crate::error::{Error, Result};

/// Examples as a matrix of features (one row per example) and a label per example.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Where the rows came from, for messages: a file path or `inline rows`.
    pub source: String,
    pub features: Array2<f64>,
    pub labels: Vec<f64>,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Features per example.
    pub fn width(&self) -> usize {
        self.features.ncols()
    }

    /// Row `row`'s features into `dst`, a features node's value.
    pub fn features_into(&self, row: usize, dst: &mut ArrayD<f64>) {
        let src = self.features.row(row);
        match (dst.as_slice_mut(), src.as_slice()) {
            (Some(d), Some(s)) => d.copy_from_slice(s),
            _ => dst.assign(&src.into_dyn()),
        }
    }

    /// Row `row`'s label into `dst`, a label node's value.
    pub fn label_into(&self, row: usize, dst: &mut ArrayD<f64>) {
        crate::engine::fill(dst, self.labels[row]);
    }

    /// Builds a dataset from rows `[label, x1, x2, …]`; `row_error` locates a bad row.
    pub fn from_rows(source: &str, rows: &[Vec<f64>], row_error: impl Fn(usize, String) -> Error) -> Result<Dataset> {
        let Some(first) = rows.first() else {
            return Err(row_error(0, "no examples: expected at least one row [label, x1, x2, ...]".into()));
        };
        let width = first.len();
        if width < 2 {
            return Err(row_error(0, too_narrow(width)));
        }
        let mut features = Array2::zeros((rows.len(), width - 1));
        let mut labels = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            if row.len() != width {
                return Err(row_error(i, ragged(width, row.len())));
            }
            labels.push(row[0]);
            for (j, &v) in row[1..].iter().enumerate() {
                features[[i, j]] = v;
            }
        }
        Ok(Dataset { source: source.to_string(), features, labels })
    }

    /// Reads a CSV file without header: label, then features, one example per row. The numbers
    /// go straight into one flat buffer (no row is allocated on its own): a large data file is
    /// read in about the time it takes to scan it.
    pub fn from_csv(path: &Path) -> Result<Dataset> {
        let file = path.display().to_string();
        let bytes = crate::input::read_bounded(path, "the data file", None)?;
        if let Some(data) = plain_numbers(&bytes) {
            return Ok(Dataset { source: file, ..data });
        }
        let data_error = |row: usize, message: String| Error::Data { file: file.clone(), row, message };
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes.as_slice());
        let mut record = csv::ByteRecord::new();
        let mut features: Vec<f64> = Vec::new();
        let mut labels: Vec<f64> = Vec::new();
        let mut width = 0;
        let mut rows = 0;
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let row = e.position().map(|p| p.line() as usize).unwrap_or(0);
                    return Err(data_error(row, format!("not valid CSV: {e}")));
                }
            }
            let line = record.position().map(|p| p.line() as usize).unwrap_or(rows + 1);
            if record.len() == 1 && record[0].trim_ascii().is_empty() {
                continue; // a blank line
            }
            if rows == 0 {
                width = record.len();
                if width < 2 {
                    return Err(data_error(line, too_narrow(width)));
                }
                let first_row = record.as_slice().len() + record.len();
                reserve_rows(&mut features, &mut labels, bytes.len(), first_row, width);
            } else if record.len() != width {
                return Err(data_error(line, ragged(width, record.len())));
            }
            for (col, cell) in record.iter().enumerate() {
                let value = parse_cell(cell).ok_or_else(|| {
                    let cell = String::from_utf8_lossy(cell);
                    let header = if line == 1 { " (the file must not have a header row)" } else { "" };
                    let got = crate::error::clip(&cell);
                    data_error(line, format!("column {}: expected a number, got \"{got}\"{header}", col + 1))
                })?;
                if col == 0 {
                    labels.push(value);
                } else {
                    features.push(value);
                }
            }
            rows += 1;
        }
        if rows == 0 {
            return Err(Error::file(path, "no examples: the data file is empty (expected rows: label, x1, x2, ...)"));
        }
        let features = Array2::from_shape_vec((rows, width - 1), features).expect("every row has width - 1 features");
        Ok(Dataset { source: file, features, labels })
    }
}

/// The usual data file, read fast: lines of numbers separated by commas, no quotes, every line
/// as wide as the first. `None` for anything else (a quote, a stray carriage return, a cell
/// that is not a number, a ragged or too narrow row, no rows): the CSV reader then reads the
/// file and says what is wrong where. Where both read a file they give the same numbers.
fn plain_numbers(bytes: &[u8]) -> Option<Dataset> {
    if bytes.contains(&b'"') {
        return None;
    }
    let (mut features, mut labels) = (Vec::new(), Vec::new());
    let mut width = 0;
    for line in bytes.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.contains(&b'\r') {
            return None;
        }
        if line.trim_ascii().is_empty() {
            continue;
        }
        let start = features.len();
        parse_row(line, &mut labels, &mut features)?;
        let got = features.len() - start + 1;
        if width == 0 {
            width = got;
            reserve_rows(&mut features, &mut labels, bytes.len(), line.len() + 1, width);
        }
        if got != width || width < 2 {
            return None;
        }
    }
    let rows = labels.len();
    (rows > 0).then(|| Dataset {
        source: String::new(),
        features: Array2::from_shape_vec((rows, width - 1), features).expect("every row has width - 1 features"),
        labels,
    })
}

/// A line's comma-separated cells as numbers, in one pass, the first appended to `labels` and
/// the others to `features`: a cell of up to 15 digits is converted as [`parse_cell`] converts
/// it, any other goes through [`parse_cell`].
fn parse_row(line: &[u8], labels: &mut Vec<f64>, features: &mut Vec<f64>) -> Option<()> {
    let mut i = 0;
    let mut out = labels;
    loop {
        let start = i;
        let mut n = 0u64;
        while i < line.len() && line[i].is_ascii_digit() {
            n = n.wrapping_mul(10).wrapping_add(u64::from(line[i] - b'0'));
            i += 1;
        }
        if i == start || i - start > 15 || (i < line.len() && line[i] != b',') {
            let end = line[i..].iter().position(|&b| b == b',').map_or(line.len(), |p| i + p);
            out.push(parse_cell(&line[start..end])?);
            i = end;
        } else {
            out.push(n as f64);
        }
        if i == line.len() {
            return Some(());
        }
        i += 1;
        out = features;
    }
}

/// Room for every row of a file of `file` bytes at once, from the first row's bytes and width
/// (`width` numbers, the label first): never more than the file can hold, since a number
/// takes at least two bytes.
fn reserve_rows(features: &mut Vec<f64>, labels: &mut Vec<f64>, file: usize, first_row: usize, width: usize) {
    let rows = (file / first_row.max(1)).min(file / (2 * width).max(1)) + 1;
    features.reserve(rows * width.saturating_sub(1));
    labels.reserve(rows);
}

/// The first row has too few numbers for a label and a feature.
fn too_narrow(width: usize) -> String {
    format!("a row needs a label and at least one feature, got {width} number(s)")
}

/// A row whose count of numbers is not the first row's.
fn ragged(width: usize, got: usize) -> String {
    format!("expected {width} numbers (the label and {} features, as in the first row), got {got}", width - 1)
}

/// One CSV cell as a number, spaces around it allowed; the same value `str::parse::<f64>` gives.
/// Whole numbers of up to 15 digits, the usual pixel or count, are converted without the general
/// parser (exactly: they are below 2^53).
fn parse_cell(cell: &[u8]) -> Option<f64> {
    let cell = cell.trim_ascii();
    if !cell.is_empty() && cell.len() <= 15 && cell.iter().all(u8::is_ascii_digit) {
        return Some(cell.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')) as f64);
    }
    std::str::from_utf8(cell).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CSV reader's numbers for the same rows: one cell quoted (`"1"`, which it reads as
    /// the number) keeps the fast path out.
    fn by_csv(bytes: &[u8]) -> Result<Dataset> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        let mut quoted = bytes.to_vec();
        if let Some(at) = quoted.iter().position(|b| b.is_ascii_digit()) {
            quoted.insert(at + 1, b'"');
            quoted.insert(at, b'"');
        }
        std::fs::write(&path, &quoted).unwrap();
        Dataset::from_csv(&path)
    }

    #[test]
    fn the_fast_reader_reads_what_the_csv_reader_reads() {
        for text in [
            "1,0,1,0\n0,1,1,1\n",
            "1,0,1,0\r\n0,1,1,1\r\n",
            "1,0.5,-2e-3,7\n\n   \n0, 1 ,1,1",
            "3,0,0,0,0,0,0,0,0,1\n12,1,1,1,1,1,1,1,1,0\n",
            "1,123456789012345,0.1,1e308\n0,-0,nan,inf\n",
            "2,12345678901234567890123,0012,1.\n1,+3,7 ,1e3\n",
        ] {
            let fast = plain_numbers(text.as_bytes()).unwrap_or_else(|| panic!("fast path for {text:?}"));
            let slow = by_csv(text.as_bytes()).unwrap();
            assert_eq!(
                fast.labels.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                slow.labels.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "{text:?}"
            );
            assert_eq!(fast.features.shape(), slow.features.shape(), "{text:?}");
            for (a, b) in fast.features.iter().zip(slow.features.iter()) {
                assert_eq!(a.to_bits(), b.to_bits(), "{text:?}");
            }
        }
        // Anything else goes to the CSV reader, which locates the problem.
        for text in ["1,2\n3\n", "1\n", "", "1,x\n", "1,\"2\"\n", "1,2\r3,4\n", "1,,2\n", "1,2,\n", "1,2x\n"] {
            assert!(plain_numbers(text.as_bytes()).is_none(), "{text:?}");
        }
    }
}
