//! Datasets: one example per row, the label first, then the features, from a CSV file (no
//! header) or from rows written inline in the model file.
//!
//! A row's features are kept as its entries other than +0.0, in column order: the usual data
//! (pixels, counts, one-hot codes) is mostly zeros, and `run` multiplies by the nonzeros only.
//! A −0.0 is kept, so that every row reads back exactly as written.

use std::path::Path;

use ndarray::ArrayD;

use crate::engine::kernels::{self, Sparse};
use crate::error::{Error, Result};

/// Examples as rows of features and a label per example.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Where the rows came from, for messages: a file path or `inline rows`.
    pub source: String,
    pub labels: Vec<f64>,
    /// The rows, in one or more consecutive parts (a large file's halves are read at once).
    parts: Vec<Rows>,
}

/// Every row's features other than +0.0: row `i`'s at `start[i]..start[i + 1]` of `index`
/// (the columns, ascending), and their values.
#[derive(Debug, Clone)]
struct Rows {
    width: usize,
    index: Vec<u32>,
    /// The values of the rows that are not all ones, one row after another.
    value: Vec<f64>,
    start: Vec<usize>,
    /// Where each row's values start in `value`, or [`ONES`] for a row whose every entry is 1
    /// (binary data, whose values need not be stored).
    value_at: Vec<usize>,
    /// As many ones as the longest such row has entries: their values.
    ones: Vec<f64>,
    /// Each row's max |x| (+0 for a row of zeros), NaN when a feature is not finite.
    max_abs: Vec<f64>,
}

/// [`Rows::value_at`] of a row of ones.
const ONES: usize = usize::MAX;

impl Rows {
    fn new(width: usize) -> Rows {
        Rows { width, index: vec![], value: vec![], start: vec![0], value_at: vec![], ones: vec![], max_abs: vec![] }
    }

    /// Room for `rows` more rows and `entries` more features.
    fn reserve(&mut self, rows: usize, entries: usize) {
        self.index.reserve(entries);
        self.start.reserve(rows);
        self.value_at.reserve(rows);
        self.max_abs.reserve(rows);
    }

    /// Appends a row of `width` features.
    fn push(&mut self, row: &[f64]) {
        debug_assert_eq!(row.len(), self.width);
        let (at, value_at) = (self.index.len(), self.value.len());
        // Every entry is written and the end moves past the kept ones: no branch to mispredict
        // on data whose zeros fall anywhere.
        self.index.resize(at + row.len(), 0);
        self.value.resize(value_at + row.len(), 0.0);
        let (index, value) = (&mut self.index[at..], &mut self.value[value_at..]);
        let mut k = 0;
        for (j, &v) in row.iter().enumerate() {
            index[k] = j as u32;
            value[k] = v;
            k += usize::from(v.to_bits() != 0);
        }
        let ones = value[..k].iter().all(|&v| v == 1.0);
        self.value.truncate(if ones { value_at } else { value_at + k });
        self.end_row(at + k, if ones { ONES } else { value_at }, kernels::max_abs(row));
    }

    /// Appends a row given as its cells "d,d,…,d" of one digit each (the usual pixel row), or
    /// returns false (and appends nothing) when `cells` is not such a row.
    fn push_digits(&mut self, cells: &[u8]) -> bool {
        let width = self.width;
        if cells.len() + 1 != 2 * width {
            return false;
        }
        // Digits at even positions, commas at odd ones, checked without a branch per cell.
        let mut bad = 0u8;
        for (i, &b) in cells.iter().enumerate() {
            bad |= if i % 2 == 0 { u8::from(!b.is_ascii_digit()) } else { u8::from(b != b',') };
        }
        if bad != 0 {
            return false;
        }
        let at = self.index.len();
        self.index.reserve(width);
        let mut max = 0;
        // 64 cells at a time: a bit for each nonzero digit, then a visit of the set bits.
        for lo in (0..width).step_by(64) {
            let hi = width.min(lo + 64);
            let mut nonzero = nonzero_digits(cells, lo, hi);
            while nonzero != 0 {
                let j = lo + nonzero.trailing_zeros() as usize;
                self.index.push(j as u32);
                max = max.max(cells[2 * j]);
                nonzero &= nonzero - 1;
            }
        }
        let max = max.saturating_sub(b'0');
        // A digit above 1: the row's values are stored.
        let value_at = if max > 1 { self.value.len() } else { ONES };
        if max > 1 {
            let digits = self.index[at..].iter().map(|&j| f64::from(cells[2 * j as usize] - b'0'));
            self.value.extend(digits);
        }
        self.end_row(self.index.len(), value_at, f64::from(max));
        true
    }

    fn end_row(&mut self, end: usize, value_at: usize, max_abs: f64) {
        self.index.truncate(end);
        let entries = end - self.start.last().copied().unwrap_or(0);
        if value_at == ONES && self.ones.len() < entries {
            self.ones.resize(entries, 1.0);
        }
        self.start.push(end);
        self.value_at.push(value_at);
        self.max_abs.push(max_abs);
    }

    fn row(&self, i: usize) -> Sparse<'_> {
        let (a, b) = (self.start[i], self.start[i + 1]);
        let value = match self.value_at[i] {
            ONES => &self.ones[..b - a],
            at => &self.value[at..at + b - a],
        };
        Sparse { index: &self.index[a..b], value, len: self.width }
    }
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
        self.parts[0].width
    }

    /// Row `row`'s features other than +0.0, in column order (exact: every other is +0.0).
    pub fn row(&self, row: usize) -> Sparse<'_> {
        let (part, i) = self.part(row);
        part.row(i)
    }

    /// [`Dataset::row`] and [`Dataset::row_max_abs`] of row `row`, its part found once.
    pub fn row_and_max_abs(&self, row: usize) -> (Sparse<'_>, f64) {
        let (part, i) = self.part(row);
        (part.row(i), part.max_abs[i])
    }

    /// Asks the CPU to bring where row `row` lies (its start, end, values' place, max |x| and
    /// label) into cache ahead of its use: a hint, which changes nothing.
    pub fn prefetch_row(&self, row: usize) {
        let (part, i) = self.part(row);
        kernels::prefetch(&part.start[i..i + 2]);
        kernels::prefetch(&part.value_at[i..i + 1]);
        kernels::prefetch(&part.max_abs[i..i + 1]);
        kernels::prefetch(&self.labels[row..row + 1]);
    }

    /// Whether row `row`'s features are all finite.
    pub fn row_finite(&self, row: usize) -> bool {
        !self.row_max_abs(row).is_nan()
    }

    /// Row `row`'s max |x| over its features (+0 for a row of zeros), NaN when one is not
    /// finite: [`kernels::max_abs`] of the row.
    pub fn row_max_abs(&self, row: usize) -> f64 {
        let (part, i) = self.part(row);
        part.max_abs[i]
    }

    /// The part that holds row `row`, and the row's place in it.
    fn part(&self, row: usize) -> (&Rows, usize) {
        let mut i = row;
        for part in &self.parts {
            match i.checked_sub(part.max_abs.len()) {
                Some(next) => i = next,
                None => return (part, i),
            }
        }
        panic!("row {row} of a dataset of {} rows", self.len())
    }

    /// Row `row`'s features, every one of them.
    pub fn dense_row(&self, row: usize) -> Vec<f64> {
        let mut out = vec![0.0; self.width()];
        let r = self.row(row);
        for (&j, &v) in r.index.iter().zip(r.value) {
            out[j as usize] = v;
        }
        out
    }

    /// Row `row`'s features into `dst`, a features node's value (as many numbers as the row).
    pub fn features_into(&self, row: usize, dst: &mut ArrayD<f64>) {
        let out = crate::engine::numbers_mut(dst);
        out.fill(0.0);
        let r = self.row(row);
        for (&j, &v) in r.index.iter().zip(r.value) {
            out[j as usize] = v;
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
        let mut features = Rows::new(width - 1);
        let mut labels = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            if row.len() != width {
                return Err(row_error(i, ragged(width, row.len())));
            }
            labels.push(row[0]);
            features.push(&row[1..]);
        }
        Ok(Dataset { source: source.to_string(), labels, parts: vec![features] })
    }

    /// Reads a CSV file without header: label, then features, one example per row. The numbers
    /// go straight into the dataset's rows (no row is allocated on its own): a large data file
    /// is read in about the time it takes to scan it.
    pub fn from_csv(path: &Path) -> Result<Dataset> {
        let file = path.display().to_string();
        if let Some(data) = plain_numbers_in_file(path) {
            return Ok(Dataset { source: file, ..data });
        }
        let bytes = crate::input::read_bounded(path, "the data file", None)?;
        if let Some(data) = plain_numbers(&bytes) {
            return Ok(Dataset { source: file, ..data });
        }
        let data_error = |row: usize, message: String| Error::Data { file: file.clone(), row, message };
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes.as_slice());
        let mut record = csv::ByteRecord::new();
        let mut features = Rows::new(0);
        let mut labels: Vec<f64> = Vec::new();
        let mut cells: Vec<f64> = Vec::new();
        let mut width = 0;
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let row = e.position().map(|p| p.line() as usize).unwrap_or(0);
                    return Err(data_error(row, format!("not valid CSV: {e}")));
                }
            }
            let line = record.position().map(|p| p.line() as usize).unwrap_or(labels.len() + 1);
            if record.len() == 1 && record[0].trim_ascii().is_empty() {
                continue; // a blank line
            }
            if labels.is_empty() {
                width = record.len();
                if width < 2 {
                    return Err(data_error(line, too_narrow(width)));
                }
                features = Rows::new(width - 1);
                let first_row = record.as_slice().len() + record.len();
                reserve_rows(&mut features, &mut labels, bytes.len(), first_row);
            } else if record.len() != width {
                return Err(data_error(line, ragged(width, record.len())));
            }
            cells.clear();
            for (col, cell) in record.iter().enumerate() {
                let value = parse_cell(cell).ok_or_else(|| {
                    let cell = String::from_utf8_lossy(cell);
                    let header = if line == 1 { " (the file must not have a header row)" } else { "" };
                    let got = crate::error::clip(&cell);
                    data_error(line, format!("column {}: expected a number, got \"{got}\"{header}", col + 1))
                })?;
                cells.push(value);
            }
            labels.push(cells[0]);
            features.push(&cells[1..]);
        }
        if labels.is_empty() {
            return Err(Error::file(path, "no examples: the data file is empty (expected rows: label, x1, x2, ...)"));
        }
        Ok(Dataset { source: file, labels, parts: vec![features] })
    }
}

/// A regular file of the usual data ([`plain_numbers`]), read in blocks of 256 KiB into one
/// buffer that is used again (a file read whole would first be copied into as much fresh
/// memory); a file of 1 MiB or more as two halves at once, split at a line's start. `None` for a file that is
/// not a regular file or not plain numbers of one width (and on any error reading it): the
/// file is then read whole, and its errors reported from there.
#[cfg(not(unix))]
fn plain_numbers_in_file(_: &Path) -> Option<Dataset> {
    None
}

#[cfg(unix)]
fn plain_numbers_in_file(path: &Path) -> Option<Dataset> {
    use std::os::unix::fs::FileExt;
    const LARGE: u64 = 1 << 20;
    let file = std::fs::File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    let len = usize::try_from(meta.len()).ok()?;
    // Bytes `start..end` of the file, block by block, into a reader of plain numbers.
    let read = |start: usize, end: usize| -> Option<Dataset> {
        let mut plain = Plain::new(end - start);
        let mut buf = vec![0u8; (end - start).clamp(1, 256 << 10)];
        let (mut at, mut kept) = (start, 0);
        while at < end {
            let want = (end - at).min(buf.len() - kept);
            let got = file.read_at(&mut buf[kept..kept + want], at as u64).ok()?;
            if got == 0 {
                return None; // the file became shorter
            }
            at += got;
            let filled = kept + got;
            // Whole lines now; the start of the next one is kept for the next block.
            let whole = match buf[..filled].iter().rposition(|&b| b == b'\n') {
                Some(i) => i + 1,
                None if filled == buf.len() => {
                    buf.resize(2 * buf.len(), 0); // a line longer than the buffer
                    kept = filled;
                    continue;
                }
                None => 0,
            };
            for line in lines(&buf[..whole]) {
                plain.line(line)?;
            }
            buf.copy_within(whole..filled, 0);
            kept = filled - whole;
        }
        plain.line(&buf[..kept])?;
        plain.finish()
    };
    if meta.len() < LARGE {
        return read(0, len);
    }
    // The second half starts after the first line break past the middle.
    let mid = len / 2;
    let mut window = vec![0u8; (len - mid).min(64 << 10)];
    file.read_exact_at(&mut window, mid as u64).ok()?;
    let Some(at) = find_byte(&window, b'\n') else {
        return read(0, len); // a line longer than the window at the middle
    };
    let split = mid + at + 1;
    let (first, second) = crate::parallel::join(|| read(0, split), || read(split, len));
    let (mut first, second) = (first?, second?);
    if first.width() != second.width() {
        return None;
    }
    first.labels.extend(second.labels);
    first.parts.extend(second.parts);
    Some(first)
}

/// The usual data file, read fast: lines of numbers separated by commas, no quotes, every line
/// as wide as the first. `None` for anything else (a quote, a stray carriage return, a cell
/// that is not a number, a ragged or too narrow row, no rows): the CSV reader then reads the
/// file and says what is wrong where. Where both read a file they give the same numbers.
fn plain_numbers(bytes: &[u8]) -> Option<Dataset> {
    let mut plain = Plain::new(bytes.len());
    for line in lines(bytes) {
        plain.line(line)?;
    }
    plain.finish()
}

/// [`plain_numbers`] line by line.
struct Plain {
    /// The bytes the lines come from (room is made for as many rows as they can hold).
    size: usize,
    features: Rows,
    labels: Vec<f64>,
    cells: Vec<f64>,
}

impl Plain {
    fn new(size: usize) -> Plain {
        Plain { size, features: Rows::new(0), labels: Vec::new(), cells: Vec::new() }
    }

    /// One line, without its b'\n'; `None` when it is not plain numbers as wide as the first.
    fn line(&mut self, line: &[u8]) -> Option<()> {
        // A carriage return anywhere but at the end is the CSV reader's to judge.
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.trim_ascii().is_empty() {
            return (!line.contains(&b'\r')).then_some(());
        }
        let comma = line.iter().position(|&b| b == b',')?;
        if self.labels.is_empty() {
            self.features = Rows::new(line.iter().filter(|&&b| b == b',').count());
            reserve_rows(&mut self.features, &mut self.labels, self.size, line.len() + 1);
        }
        let (label, rest) = (&line[..comma], &line[comma + 1..]);
        if label.contains(&b'\r') || label.contains(&b'"') {
            return None;
        }
        self.labels.push(parse_cell(label)?);
        // A row of digits and commas holds no carriage return and no quote.
        if !self.features.push_digits(rest) {
            if rest.contains(&b'\r') || rest.contains(&b'"') {
                return None;
            }
            self.cells.clear();
            parse_cells(rest, &mut self.cells)?;
            if self.cells.len() != self.features.width {
                return None;
            }
            self.features.push(&self.cells);
        }
        Some(())
    }

    fn finish(self) -> Option<Dataset> {
        let Plain { labels, features, .. } = self;
        (!labels.is_empty()).then(|| Dataset { source: String::new(), labels, parts: vec![features] })
    }
}

/// A bit for each of the cells `lo..hi` (below `lo + 64`) of a row of one-digit cells
/// "d,d,…,d" whose digit is not 0: four cells (eight bytes) at a time.
fn nonzero_digits(cells: &[u8], lo: usize, hi: usize) -> u64 {
    let mut mask = 0u64;
    let mut j = lo;
    while j + 4 <= hi && 2 * j + 8 <= cells.len() {
        let bytes: [u8; 8] = cells[2 * j..2 * j + 8].try_into().expect("eight bytes");
        // Each digit less '0' (0 to 9) in the even bytes, the commas cleared.
        let d = (u64::from_le_bytes(bytes) ^ 0x3030_3030_3030_3030) & 0x00ff_00ff_00ff_00ff;
        // Bit 7 of an even byte: whether its digit is not 0 (d + 127 carries into it for d ≥ 1).
        let set = ((d + 0x007f_007f_007f_007f) | d) & 0x0080_0080_0080_0080;
        // Bits 0, 16, 32, 48 gathered into bits 45 to 48 by one product (no two terms meet).
        let four = ((set >> 7).wrapping_mul(0x0000_2000_4000_8001) >> 45) & 0xf;
        mask |= four << (j - lo);
        j += 4;
    }
    for j in j..hi {
        mask |= u64::from(cells[2 * j] != b'0') << (j - lo);
    }
    mask
}

/// The lines of `bytes`, split at each b'\n' (the last one may be empty), found 64 bytes at a
/// time.
fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(bytes);
    std::iter::from_fn(move || {
        let text = rest?;
        match find_byte(text, b'\n') {
            Some(i) => {
                rest = Some(&text[i + 1..]);
                Some(&text[..i])
            }
            None => rest.take(),
        }
    })
}

/// The first position of `byte` in `text`: each block of 64 bytes is first tested as a whole,
/// in a loop without an early exit that the compiler vectorises.
fn find_byte(text: &[u8], byte: u8) -> Option<usize> {
    let mut start = 0;
    for block in text.chunks(64) {
        if block.iter().fold(false, |found, &b| found | (b == byte)) {
            return block.iter().position(|&b| b == byte).map(|i| start + i);
        }
        start += block.len();
    }
    None
}

/// A line's comma-separated cells as numbers, in one pass, appended to `out`: a cell of up to
/// 15 digits is converted as [`parse_cell`] converts it, any other goes through [`parse_cell`].
fn parse_cells(line: &[u8], out: &mut Vec<f64>) -> Option<()> {
    let mut i = 0;
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
    }
}

/// Room for every row of a file of `file` bytes at once, from the first row's bytes (the label
/// and `features.width` features): never more than the file can hold, since a number takes at
/// least two bytes. Only what is written is touched.
fn reserve_rows(features: &mut Rows, labels: &mut Vec<f64>, file: usize, first_row: usize) {
    let width = features.width + 1;
    let rows = (file / first_row.max(1)).min(file / (2 * width)) + 1;
    features.reserve(rows, rows * features.width);
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

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|v| v.to_bits()).collect()
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
            "1,0,1,0,9\n2,0,0,0,0\n3,1,0,-0,5\n",
            "1,0,-0.0,0.0,-0\n",
        ] {
            let fast = plain_numbers(text.as_bytes()).unwrap_or_else(|| panic!("fast path for {text:?}"));
            let slow = by_csv(text.as_bytes()).unwrap();
            assert_eq!(
                fast.labels.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                slow.labels.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "{text:?}"
            );
            assert_eq!((fast.len(), fast.width()), (slow.len(), slow.width()), "{text:?}");
            for r in 0..fast.len() {
                assert_eq!(bits(&fast.dense_row(r)), bits(&slow.dense_row(r)), "{text:?}");
            }
        }
        // Anything else goes to the CSV reader, which locates the problem.
        for text in ["1,2\n3\n", "1\n", "", "1,x\n", "1,\"2\"\n", "1,2\r3,4\n", "1,,2\n", "1,2,\n", "1,2x\n"] {
            assert!(plain_numbers(text.as_bytes()).is_none(), "{text:?}");
        }
    }

    /// Rows of one-digit cells, of every width up to 200, read as the digits they hold, with
    /// their largest digit as max |x|.
    #[test]
    fn one_digit_rows_read_as_numbers() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for width in 1..=200 {
            let rows: Vec<Vec<u8>> = (0..4)
                .map(|_| (0..width).map(|_| if rng.random_bool(0.7) { 0 } else { rng.random_range(1..10) }).collect())
                .collect();
            let text: String = rows
                .iter()
                .map(|r| format!("3,{}\n", r.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(",")))
                .collect();
            let data = plain_numbers(text.as_bytes()).unwrap();
            for (i, r) in rows.iter().enumerate() {
                let expected: Vec<f64> = r.iter().map(|&d| f64::from(d)).collect();
                assert_eq!(bits(&data.dense_row(i)), bits(&expected), "width {width}");
                let max = r.iter().copied().max().unwrap_or(0);
                assert_eq!(data.row_max_abs(i), f64::from(max), "width {width}");
            }
        }
    }

    /// A file large enough to be read as two halves at once, and one of lines longer than the
    /// blocks it is read in, read as they read whole; a file whose second half goes wrong is
    /// read whole, and the error names its row.
    #[test]
    fn a_large_file_reads_in_halves_as_whole() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let mut text = String::new();
        while text.len() < (1 << 20) + 4321 {
            let cells: Vec<String> = (0..100)
                .map(|_| if rng.random_bool(0.8) { "0".into() } else { rng.random_range(1..10).to_string() })
                .collect();
            text += &format!("{},{}\n", rng.random_range(0..10), cells.join(","));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("large.csv");
        std::fs::write(&path, &text).unwrap();
        let halves = plain_numbers_in_file(&path).expect("read in halves");
        assert_eq!(halves.parts.len(), 2);
        let whole = plain_numbers(text.as_bytes()).unwrap();
        assert_eq!((halves.len(), halves.width()), (whole.len(), whole.width()));
        assert_eq!(bits(&halves.labels), bits(&whole.labels));
        for r in 0..whole.len() {
            assert_eq!(bits(&halves.dense_row(r)), bits(&whole.dense_row(r)), "row {r}");
            assert_eq!(halves.row_max_abs(r).to_bits(), whole.row_max_abs(r).to_bits(), "row {r}");
        }
        // Lines longer than the block the file is read in.
        let long: String = (0..3).map(|r| format!("{r},{}\r\n", vec!["0,1"; 70_000].join(","))).collect();
        let long_path = dir.path().join("long.csv");
        std::fs::write(&long_path, &long).unwrap();
        let (streamed, whole_long) =
            (plain_numbers_in_file(&long_path).unwrap(), plain_numbers(long.as_bytes()).unwrap());
        assert_eq!((streamed.len(), streamed.width()), (3, 140_000));
        for r in 0..3 {
            assert_eq!(bits(&streamed.dense_row(r)), bits(&whole_long.dense_row(r)));
        }
        let rows = whole.len();
        text += "1,2,3\n";
        std::fs::write(&path, &text).unwrap();
        assert!(plain_numbers_in_file(&path).is_none());
        let e = Dataset::from_csv(&path).unwrap_err().to_string();
        assert!(e.contains(&format!("row {}", rows + 1)) && e.contains("expected 101 numbers"), "{e}");
    }

    /// Rows come back exactly as written, through either reader: −0.0 stays −0.0, and a row
    /// keeps its entries other than +0.0 in column order, with its max |x| (NaN when a feature
    /// is not finite).
    #[test]
    fn rows_read_back_exactly() {
        let rows =
            vec![vec![1.0, 0.0, -0.0, 3.5, 0.0], vec![0.0, f64::NAN, 0.0, 0.0, 1.0], vec![2.0, 0.0, 0.0, 0.0, 0.0]];
        let data = Dataset::from_rows("inline rows", &rows, |_, m| Error::Usage(m)).unwrap();
        for (r, row) in rows.iter().enumerate() {
            assert_eq!(bits(&data.dense_row(r)), bits(&row[1..]));
            let mut x = ArrayD::zeros(ndarray::IxDyn(&[2, 2]));
            data.features_into(r, &mut x);
            assert_eq!(bits(x.as_slice().unwrap()), bits(&row[1..]));
        }
        assert_eq!(data.row(0).index, &[1, 2]);
        assert_eq!(bits(data.row(0).value), bits(&[-0.0, 3.5]));
        assert_eq!(data.row(2).index, &[] as &[u32]);
        assert_eq!((0..3).map(|r| data.row_finite(r)).collect::<Vec<_>>(), [true, false, true]);
        assert_eq!((0..3).map(|r| data.row_max_abs(r)).filter(|m| !m.is_nan()).collect::<Vec<_>>(), [3.5, 0.0]);
        let csv = plain_numbers(b"1,0,-0,3.5,0\n2,0,0,0,0\n7,0,1,0,9\n").unwrap();
        assert_eq!(bits(&csv.dense_row(0)), bits(&[0.0, -0.0, 3.5, 0.0]));
        assert_eq!(csv.row(2).index, &[1, 3]);
        assert_eq!(bits(csv.row(2).value), bits(&[1.0, 9.0]));
        assert_eq!(csv.labels, [1.0, 2.0, 7.0]);
        // Rows of ones store no values; a row with another value stores its own.
        for (text, second) in
            [(&b"1,0,1,1\n0,0,0,0\n"[..], [0.0, 0.0, 0.0]), (b"1,0,1.0,1\n0,0,0,1\n", [0.0, 0.0, 1.0])]
        {
            let binary = plain_numbers(text).unwrap();
            assert!(binary.parts[0].value.is_empty());
            assert_eq!(bits(binary.row(0).value), bits(&[1.0, 1.0]));
            assert_eq!(bits(&binary.dense_row(0)), bits(&[0.0, 1.0, 1.0]));
            assert_eq!(bits(&binary.dense_row(1)), bits(&second));
        }
        let mixed = plain_numbers(b"1,0,1,1\n0,2,0,1\n3,1,0,0\n").unwrap();
        assert_eq!(mixed.parts[0].value, [2.0, 1.0]);
        assert_eq!(bits(mixed.row(1).value), bits(&[2.0, 1.0]));
        assert_eq!(bits(mixed.row(2).value), bits(&[1.0]));
        assert_eq!((0..3).map(|r| csv.row_max_abs(r)).collect::<Vec<_>>(), [3.5, 0.0, 9.0]);
    }
}
