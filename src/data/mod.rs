//! Datasets: one example per row, the label first, then the features, from a CSV file (no
//! header) or from rows written inline in the model file.

use std::path::Path;

use ndarray::Array2;

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

    /// Builds a dataset from rows `[label, x1, x2, …]`; `row_error` locates a bad row.
    pub fn from_rows(source: &str, rows: &[Vec<f64>], row_error: impl Fn(usize, String) -> Error) -> Result<Dataset> {
        let Some(first) = rows.first() else {
            return Err(row_error(0, "no examples: expected at least one row [label, x1, x2, ...]".into()));
        };
        let width = first.len();
        if width < 2 {
            return Err(row_error(0, format!("a row needs a label and at least one feature, got {} number(s)", width)));
        }
        let mut features = Array2::zeros((rows.len(), width - 1));
        let mut labels = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            if row.len() != width {
                return Err(row_error(
                    i,
                    format!(
                        "expected {} numbers (the label and {} features, as in the first row), got {}",
                        width,
                        width - 1,
                        row.len()
                    ),
                ));
            }
            labels.push(row[0]);
            for (j, &v) in row[1..].iter().enumerate() {
                features[[i, j]] = v;
            }
        }
        Ok(Dataset { source: source.to_string(), features, labels })
    }

    /// Reads a CSV file without header: label, then features, one example per row.
    pub fn from_csv(path: &Path) -> Result<Dataset> {
        let file = path.display().to_string();
        let bytes = crate::input::read_bounded(path, "the data file", None)?;
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes.as_slice());
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| Error::Data {
                file: file.clone(),
                row: e.position().map(|p| p.line() as usize).unwrap_or(0),
                message: format!("not valid CSV: {e}"),
            })?;
            let line = record.position().map(|p| p.line() as usize).unwrap_or(rows.len() + 1);
            if record.len() == 1 && record[0].trim().is_empty() {
                continue; // a blank line
            }
            let mut row = Vec::with_capacity(record.len());
            for (col, cell) in record.iter().enumerate() {
                let value: f64 = cell.trim().parse().map_err(|_| Error::Data {
                    file: file.clone(),
                    row: line,
                    message: format!(
                        "column {}: expected a number, got {:?}{}",
                        col + 1,
                        crate::trace::clip(cell),
                        if line == 1 { " (the file must not have a header row)" } else { "" }
                    ),
                })?;
                row.push(value);
            }
            rows.push(row);
            lines.push(line);
        }
        if rows.is_empty() {
            return Err(Error::file(path, "no examples: the data file is empty (expected rows: label, x1, x2, ...)"));
        }
        Dataset::from_rows(&file, &rows, |i, message| Error::Data {
            file: file.clone(),
            row: lines.get(i).copied().unwrap_or(i + 1),
            message,
        })
    }
}
