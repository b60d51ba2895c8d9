//! Traces: every number of every example, exchanged with other implementations as JSON Lines
//! (or .npz), in the format of the contract's §3.

mod scan;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ndarray::ArrayD;

use crate::error::{clip, Error, Result};
use crate::limits::Limits;
use crate::nested;
use crate::numfmt::push_json_number;

/// Named arrays in a fixed order.
pub type Named = Vec<(String, ArrayD<f64>)>;

/// One training example's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct ExampleRecord {
    /// Counted from 1.
    pub epoch: usize,
    /// Position in the epoch's order, counted from 1.
    pub example: usize,
    /// 0-based row of the data file.
    pub row: Option<usize>,
    /// Node values, computed with the parameters before this example's update.
    pub forward: Named,
    /// dJ/d(name), each in its node's shape.
    pub adjoints: Named,
    /// Parameter values after this example's update.
    pub params: Named,
}

/// An epoch's metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    pub epoch: usize,
    pub metrics: Vec<(String, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Example(ExampleRecord),
    Epoch(EpochRecord),
    /// The parameters before any update, in the other implementation's names and layout.
    Init(Named),
}

/// A record read from a file with its position there: the line of a JSON Lines file, or the
/// first array of an .npz that belongs to it (counted from 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Numbered {
    pub number: usize,
    pub record: Record,
}

/// Whether a path names an .npz file (by its extension, in any case, or by its content: a zip).
pub fn is_npz(path: &Path) -> bool {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("npz")) {
        return true;
    }
    // By content only for a regular file: reading a pipe's first bytes would consume them.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic)).is_ok()
        && magic == *b"PK\x03\x04"
}

/// Reads a JSON Lines or .npz trace, each record with its number; an archive's arrays within
/// `limits`.
pub fn read_file(path: &Path, limits: Limits) -> Result<Vec<Numbered>> {
    if is_npz(path) {
        read_npz(path, limits)
    } else {
        read_jsonl_numbered(path)
    }
}

/// Appends an array as nested JSON lists (a scalar as a number).
fn write_array(out: &mut Vec<u8>, a: &ArrayD<f64>) {
    fn nested(out: &mut Vec<u8>, shape: &[usize], data: &[f64]) {
        let Some((&n, inner)) = shape.split_first() else {
            push_json_number(out, data[0]);
            return;
        };
        let step: usize = inner.iter().product();
        out.push(b'[');
        for i in 0..n {
            if i > 0 {
                out.extend_from_slice(b", ");
            }
            nested(out, inner, &data[i * step..(i + 1) * step]);
        }
        out.push(b']');
    }
    match a.as_slice() {
        Some(data) => nested(out, a.shape(), data),
        None => nested(out, a.shape(), &a.iter().copied().collect::<Vec<_>>()),
    }
}

fn write_named(out: &mut Vec<u8>, key: &str, items: &Named) {
    push_json_string(out, key);
    out.extend_from_slice(b": {");
    for (i, (name, a)) in items.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        push_json_string(out, name);
        out.extend_from_slice(b": ");
        write_array(out, a);
    }
    out.push(b'}');
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// Appends `s` as a JSON string (as [`json_string`]).
fn push_json_string(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|c| c >= 0x20 && c != b'"' && c != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(json_string(s).as_bytes());
    }
}

fn push_int(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Appends one JSON Lines line (without the newline) to `out`.
pub fn push_json_line(out: &mut Vec<u8>, record: &Record) {
    match record {
        Record::Example(r) => {
            out.extend_from_slice(b"{\"epoch\": ");
            push_int(out, r.epoch);
            out.extend_from_slice(b", \"example\": ");
            push_int(out, r.example);
            if let Some(row) = r.row {
                out.extend_from_slice(b", \"row\": ");
                push_int(out, row);
            }
            out.extend_from_slice(b", ");
            write_named(out, "forward", &r.forward);
            out.extend_from_slice(b", ");
            write_named(out, "adjoints", &r.adjoints);
            out.extend_from_slice(b", ");
            write_named(out, "params", &r.params);
            out.push(b'}');
        }
        Record::Init(params) => {
            out.push(b'{');
            write_named(out, "init", params);
            out.push(b'}');
        }
        Record::Epoch(r) => {
            out.extend_from_slice(b"{\"epoch\": ");
            push_int(out, r.epoch);
            out.extend_from_slice(b", \"metrics\": {");
            for (i, (k, v)) in r.metrics.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                push_json_string(out, k);
                out.extend_from_slice(b": ");
                push_json_number(out, *v);
            }
            out.extend_from_slice(b"}}");
        }
    }
}

/// One JSON Lines line (without the newline).
pub fn to_json_line(record: &Record) -> String {
    let mut out = Vec::new();
    push_json_line(&mut out, record);
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// Writes records to `path` (.jsonl or .npz) atomically: into a temporary file beside it,
/// renamed into place only when complete (see [`crate::output`]).
pub fn write_file(path: &Path, records: &[Record]) -> Result<()> {
    write_streaming(path, |put| records.iter().try_for_each(put))
}

/// Writes the records that `produce` hands to its argument, one at a time as they come, to
/// `path` (.jsonl, or .npz when the name ends so in any case); returns what `produce` returns.
/// Nothing but the record being written is held in memory.
pub fn write_streaming<T>(
    path: &Path,
    produce: impl FnOnce(&mut dyn FnMut(&Record) -> Result<()>) -> Result<T>,
) -> Result<T> {
    // JSON Lines or .npz, by the name: another extension (x.csv) is a mistake, not a format.
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    if let Some(ext) = ext.as_deref().filter(|e| !["jsonl", "json", "ndjson", "npz"].contains(e)) {
        return Err(Error::file(
            path,
            format!("a trace is written as JSON Lines (.jsonl) or .npz, not .{}", clip(ext)),
        ));
    }
    let npz_name = ext.as_deref() == Some("npz");
    if !npz_name {
        // Records go through a bounded channel to a thread that formats and writes them, so the
        // run and the formatting share the work; memory stays a few records.
        return crate::output::write_stream(path, |w| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Record>(64);
            std::thread::scope(|scope| {
                let writer = scope.spawn(move || -> Result<()> {
                    let mut line = Vec::with_capacity(1 << 16);
                    for r in rx {
                        line.clear();
                        push_json_line(&mut line, &r);
                        line.push(b'\n');
                        w.write_all(&line).map_err(|e| crate::output::io_error(path, e))?;
                    }
                    Ok(())
                });
                let produced = produce(&mut |r| {
                    tx.send(r.clone()).map_err(|_| Error::file(path, "cannot write the trace: the writer stopped"))
                });
                drop(tx);
                let written = writer
                    .join()
                    .unwrap_or_else(|_| Err(Error::file(path, "cannot write the trace: the writer failed")));
                // The writer's own error says more than "stopped".
                written.and(produced)
            })
        });
    }
    let npz_error = |e: ndarray_npy::WriteNpzError| Error::file(path, format!("cannot write the trace: {e}"));
    crate::output::write_seekable(path, |w| {
        let mut npz = ndarray_npy::NpzWriter::new(w);
        let out = produce(&mut |r| add_npz(&mut npz, r).map_err(npz_error))?;
        npz.finish().map_err(npz_error)?;
        Ok(out)
    })
}

fn add_npz<W: std::io::Write + std::io::Seek>(
    npz: &mut ndarray_npy::NpzWriter<W>,
    r: &Record,
) -> std::result::Result<(), ndarray_npy::WriteNpzError> {
    match r {
        Record::Example(r) => {
            for (section, items) in [("forward", &r.forward), ("adjoints", &r.adjoints), ("params", &r.params)] {
                for (name, a) in items {
                    npz.add_array(format!("e{}/x{}/{}/{}", r.epoch, r.example, section, name), a)?;
                }
            }
            if let Some(row) = r.row {
                npz.add_array(format!("e{}/x{}/row", r.epoch, r.example), &ndarray::arr0(row as i64))?;
            }
        }
        Record::Init(params) => {
            for (name, a) in params {
                npz.add_array(format!("init/{name}"), a)?;
            }
        }
        Record::Epoch(r) => {
            for (k, v) in &r.metrics {
                npz.add_array(format!("e{}/metrics/{}", r.epoch, k), &ndarray::arr0(*v))?;
            }
        }
    }
    Ok(())
}

/// Reads a JSON Lines trace. Python's `json` spellings NaN, Infinity and -Infinity are accepted.
pub fn read_jsonl(path: &Path) -> Result<Vec<Record>> {
    Ok(read_jsonl_numbered(path)?.into_iter().map(|n| n.record).collect())
}

fn read_jsonl_numbered(path: &Path) -> Result<Vec<Numbered>> {
    let mut out = Vec::new();
    for_each_jsonl_record(path, |n, _| {
        out.push(n);
        Ok(true)
    })?;
    Ok(out)
}

fn cannot_read(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::file(path, format!("cannot read the trace: {e}"))
}

/// The text of one line read as bytes (without its end of line), as `str::lines` gives it.
fn line_text<'a>(path: &Path, number: usize, bytes: &'a [u8]) -> Result<&'a str> {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|_| Error::Trace {
        file: path.display().to_string(),
        record: number,
        message: crate::input::utf8_error(bytes).map(|(_, m)| m).unwrap_or_else(|| "not UTF-8 text".into()),
    })
}

/// Parses line `number` of a JSON Lines trace (`None` for a blank line). Without `numbers`
/// the arrays may hold zeros instead of their numbers (the record is checked all the same).
fn parse_line(file: &str, number: usize, line: &str, numbers: bool) -> Result<Option<Record>> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    if let Some(record) = scan::record(line, numbers) {
        return Ok(Some(record));
    }
    let bad = |message: String| Error::Trace { file: file.to_string(), record: number, message };
    let value: serde_json::Value = serde_json::from_str(&quote_non_finite(line))
        .map_err(|e| bad(format!("not valid JSON at column {}: {e}", e.column())))?;
    parse_record(&value).map(Some).map_err(bad)
}

/// Reads a JSON Lines trace one record at a time, in file order, handing each (numbered) to
/// `f` with the byte offset of its line, for [`JsonlCursor::read_at`]. Memory: one line.
/// `f` says whether it needs the next records' numbers (else their arrays may hold zeros).
pub fn for_each_jsonl_record(path: &Path, mut f: impl FnMut(Numbered, u64) -> Result<bool>) -> Result<()> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).map_err(|e| cannot_read(path, e))?;
    let regular = file.metadata().map_err(|e| cannot_read(path, e))?.is_file();
    // A regular file streams; a pipe or device is read up to a bound (it may never end).
    let mut reader: Box<dyn BufRead> = if regular {
        Box::new(std::io::BufReader::with_capacity(1 << 20, file))
    } else {
        Box::new(std::io::Cursor::new(crate::input::read_bounded(path, "the trace", None)?))
    };
    let name = path.display().to_string();
    let mut line = Vec::new();
    let (mut offset, mut number) = (0u64, 0usize);
    let mut numbers = true;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(|e| cannot_read(path, e))?;
        if n == 0 {
            return Ok(());
        }
        number += 1;
        if let Some(record) = parse_line(&name, number, line_text(path, number, &line)?, numbers)? {
            numbers = f(Numbered { number, record }, offset)?;
        }
        offset += n as u64;
    }
}

/// Reads single records of a JSON Lines trace by their line's offset, seeking only when they
/// are not read in file order.
#[derive(Debug)]
pub struct JsonlCursor {
    path: std::path::PathBuf,
    reader: std::io::BufReader<std::fs::File>,
    position: u64,
    line: Vec<u8>,
}

impl JsonlCursor {
    pub fn open(path: &Path) -> Result<JsonlCursor> {
        let file = std::fs::File::open(path).map_err(|e| cannot_read(path, e))?;
        Ok(JsonlCursor {
            path: path.to_path_buf(),
            reader: std::io::BufReader::with_capacity(1 << 20, file),
            position: 0,
            line: Vec::new(),
        })
    }

    /// The record on line `number`, which starts at byte `offset`.
    pub fn read_at(&mut self, offset: u64, number: usize) -> Result<Record> {
        use std::io::{BufRead, Seek};
        let path = self.path.clone();
        if offset != self.position {
            self.reader.seek(std::io::SeekFrom::Start(offset)).map_err(|e| cannot_read(&path, e))?;
        }
        self.line.clear();
        let n = self.reader.read_until(b'\n', &mut self.line).map_err(|e| cannot_read(&path, e))?;
        self.position = offset + n as u64;
        let text = line_text(&path, number, &self.line)?;
        parse_line(&path.display().to_string(), number, text, true)?
            .ok_or_else(|| cannot_read(&path, format!("record {number} is gone (was the file changed?)")))
    }
}

fn read_npz(path: &Path, limits: Limits) -> Result<Vec<Numbered>> {
    let mut npz = NpzTrace::open(path, limits)?;
    let mut out = Vec::new();
    npz.for_each(|r| {
        out.push(r);
        Ok(())
    })?;
    Ok(out)
}

/// One array of an .npz record: its key in the archive and the key's place in the archive's
/// directory (counted from 1, the number errors about it carry).
#[derive(Debug, Clone)]
struct NpzKey {
    number: usize,
    /// The key without `.npy`, as messages name it.
    key: String,
    /// Its entry's index in the archive.
    entry: usize,
}

/// Where an array of an example record goes.
#[derive(Debug, Clone)]
enum NpzPart {
    Row,
    Forward(String),
    Adjoints(String),
    Params(String),
}

/// An .npz trace read one record at a time: the archive's directory, checked and grouped by
/// record, and the archive to read each record's arrays from when it is wanted. A record's
/// number is that of its first key.
pub struct NpzTrace {
    path: PathBuf,
    zip: zip::ZipArchive<std::io::BufReader<std::fs::File>>,
    init: Option<NpzRecord<String>>,
    examples: BTreeMap<(usize, usize), NpzRecord<NpzPart>>,
    epochs: BTreeMap<usize, NpzRecord<String>>,
    limits: Limits,
}

/// A record's number and its keys, each with what it holds.
type NpzRecord<T> = (usize, Vec<(NpzKey, T)>);

impl std::fmt::Debug for NpzTrace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NpzTrace").field("path", &self.path).field("examples", &self.examples.len()).finish()
    }
}

impl NpzTrace {
    /// Reads and checks the archive's directory and each array's header (not the numbers),
    /// within `limits`.
    pub fn open(path: &Path, limits: Limits) -> Result<NpzTrace> {
        let unreadable = |e: String| Error::file(path, format!("not a readable .npz: {e}"));
        let file = std::fs::File::open(path).map_err(|e| Error::file(path, format!("cannot read the trace: {e}")))?;
        let zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| unreadable(e.to_string()))?;
        let names: Vec<String> =
            (0..zip.len()).map(|i| zip.name_for_index(i).unwrap_or_default().to_string()).collect();
        let mut trace = NpzTrace {
            path: path.to_path_buf(),
            zip,
            init: None,
            examples: BTreeMap::new(),
            epochs: BTreeMap::new(),
            limits,
        };
        let mut numbers = 0u64;
        for (i, name) in names.iter().enumerate() {
            let bad = |message: String| Error::Trace { file: path.display().to_string(), record: i + 1, message };
            numbers +=
                npz_entry_claim(&mut trace.zip, i, limits).map_err(|e| bad(format!("key `{}`: {e}", clip(name))))?;
            if numbers > limits.max_numbers as u64 {
                return Err(bad(format!(
                    "the archive holds more than {} numbers, bptui's limit (raise it with --max-numbers N)",
                    limits.max_numbers
                )));
            }
            let key = name.strip_suffix(".npy").unwrap_or(name);
            trace
                .file(NpzKey { number: i + 1, key: key.to_string(), entry: i })
                .map_err(|e| bad(format!("key `{key}`: {e}")))?;
        }
        Ok(trace)
    }

    /// Files a key under its record, or says what is wrong with its name.
    fn file(&mut self, key: NpzKey) -> std::result::Result<(), String> {
        const SHAPE: &str = "expected e{epoch}/x{example}/{forward|adjoints|params}/{name}, e{epoch}/x{example}/row, \
                             e{epoch}/metrics/{name} or init/{name}";
        let parts: Vec<String> = key.key.split('/').map(str::to_string).collect();
        let number = key.number;
        if parts[0] == "init" && parts.len() == 2 {
            self.init.get_or_insert_with(|| (number, vec![])).1.push((key, parts[1].clone()));
            return Ok(());
        }
        let counter = |p: Option<&String>, prefix: char| {
            p.and_then(|p| p.strip_prefix(prefix)).and_then(|n| n.parse::<usize>().ok()).filter(|&n| n > 0)
        };
        let Some(epoch) = counter(parts.first(), 'e') else {
            return Err(format!("{SHAPE} (epochs and examples count from 1)"));
        };
        if parts.get(1).map(String::as_str) == Some("metrics") && parts.len() == 3 {
            self.epochs.entry(epoch).or_insert_with(|| (number, vec![])).1.push((key, parts[2].clone()));
            return Ok(());
        }
        let Some(example) = counter(parts.get(1), 'x') else {
            return Err(format!("{SHAPE} (epochs and examples count from 1)"));
        };
        let part = match (parts.get(2).map(String::as_str), parts.get(3)) {
            (Some("row"), None) => NpzPart::Row,
            (Some("forward"), Some(name)) if parts.len() == 4 => NpzPart::Forward(name.clone()),
            (Some("adjoints"), Some(name)) if parts.len() == 4 => NpzPart::Adjoints(name.clone()),
            (Some("params"), Some(name)) if parts.len() == 4 => NpzPart::Params(name.clone()),
            _ => return Err(SHAPE.to_string()),
        };
        self.examples.entry((epoch, example)).or_insert_with(|| (number, vec![])).1.push((key, part));
        Ok(())
    }

    /// Every record in order (the init record, the examples by epoch and example, the epochs'
    /// metrics), each read when `f` is called with it.
    pub fn for_each(&mut self, mut f: impl FnMut(Numbered) -> Result<()>) -> Result<()> {
        if let Some((number, keys)) = self.init.clone() {
            let mut params = Vec::with_capacity(keys.len());
            for (key, name) in keys {
                params.push((name, self.array(&key)?));
            }
            f(Numbered { number, record: Record::Init(params) })?;
        }
        let examples: Vec<(usize, usize)> = self.examples.keys().copied().collect();
        for (epoch, example) in examples {
            let record = self.example(epoch, example)?.expect("an example of the directory");
            f(record)?;
        }
        for (epoch, (number, keys)) in self.epochs.clone() {
            let mut metrics = Vec::with_capacity(keys.len());
            for (key, name) in keys {
                let v = scalar_of(&self.array(&key)?).ok_or_else(|| self.bad(&key, "a metric is one number"))?;
                metrics.push((name, v));
            }
            f(Numbered { number, record: Record::Epoch(EpochRecord { epoch, metrics }) })?;
        }
        Ok(())
    }

    /// The record of an example, read from the archive; `None` when the archive has none.
    pub fn example(&mut self, epoch: usize, example: usize) -> Result<Option<Numbered>> {
        let Some((number, keys)) = self.examples.get(&(epoch, example)).cloned() else { return Ok(None) };
        let mut rec = ExampleRecord { epoch, example, row: None, forward: vec![], adjoints: vec![], params: vec![] };
        for (key, part) in keys {
            let array = self.array(&key)?;
            match part {
                NpzPart::Row => {
                    let row = scalar_of(&array)
                        .and_then(whole_row)
                        .ok_or_else(|| self.bad(&key, "the row is the 0-based data row, a whole number ≥ 0"))?;
                    rec.row = Some(row);
                }
                NpzPart::Forward(name) => rec.forward.push((name, array)),
                NpzPart::Adjoints(name) => rec.adjoints.push((name, array)),
                NpzPart::Params(name) => rec.params.push((name, array)),
            }
        }
        Ok(Some(Numbered { number, record: Record::Example(rec) }))
    }

    fn array(&mut self, key: &NpzKey) -> Result<ArrayD<f64>> {
        let array = match self.zip.by_index(key.entry) {
            Ok(mut entry) => {
                let size = entry.size();
                crate::npy::read(&mut entry, size, self.limits)
            }
            Err(e) => Err(e.to_string()),
        };
        array.map_err(|e| self.bad(key, &e))
    }

    fn bad(&self, key: &NpzKey, message: &str) -> Error {
        Error::Trace {
            file: self.path.display().to_string(),
            record: key.number,
            message: format!("key `{}`: {message}", key.key),
        }
    }
}

/// The numbers an archive entry's .npy header claims, checked against the entry's length
/// (itself at most what deflate can make of the compressed bytes).
fn npz_entry_claim<R: std::io::Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    index: usize,
    limits: Limits,
) -> std::result::Result<u64, String> {
    let mut entry = zip.by_index(index).map_err(|e| e.to_string())?;
    let (size, compressed) = (entry.size(), entry.compressed_size());
    // Deflate expands at most about 1032 to 1.
    if size > compressed.saturating_mul(1100).saturating_add(1 << 16) {
        return Err(format!("the archive claims {size} bytes from {compressed} compressed bytes"));
    }
    crate::npy::check(&mut entry, size, limits).map(|c| c.numbers)
}

fn scalar_of(a: &ArrayD<f64>) -> Option<f64> {
    (a.len() == 1).then(|| a.iter().next().copied()).flatten()
}

/// A row number written as a float (.npz) or a JSON number: whole, ≥ 0, not absurdly large.
fn whole_row(r: f64) -> Option<usize> {
    (r.is_finite() && r >= 0.0 && r.fract() == 0.0 && r < ROW_LIMIT as f64).then_some(r as usize)
}

/// Rows at or past this are refused (both readers): more rows than any data file holds.
pub(crate) const ROW_LIMIT: u64 = 9_000_000_000_000_000 / 1000;

/// Replaces bare NaN / Infinity / -Infinity tokens (outside strings) by marker strings that
/// serde_json accepts.
fn quote_non_finite(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.contains("NaN") && !line.contains("Infinity") {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        let mut replaced = false;
        for (token, marker) in
            [("-Infinity", "\"\u{E000}-inf\""), ("Infinity", "\"\u{E000}inf\""), ("NaN", "\"\u{E000}nan\"")]
        {
            if rest.starts_with(token) {
                out.push_str(marker);
                rest = &rest[token.len()..];
                replaced = true;
                break;
            }
        }
        if !replaced {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    std::borrow::Cow::Owned(out)
}

fn number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => match s.as_str() {
            "\u{E000}nan" => Some(f64::NAN),
            "\u{E000}inf" => Some(f64::INFINITY),
            "\u{E000}-inf" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// JSON's numbers (and the markers `quote_non_finite` puts for NaN and the infinities) and
/// arrays. A trace's array may be empty: a node may have no entries.
impl nested::NestedValue for serde_json::Value {
    const EMPTY_LISTS: bool = true;

    fn number(&self) -> Option<f64> {
        number(self)
    }

    fn items(&self) -> Option<&[Self]> {
        self.as_array().map(Vec::as_slice)
    }

    fn describe(&self) -> String {
        self.to_string()
    }
}

fn parse_record(v: &serde_json::Value) -> std::result::Result<Record, String> {
    let obj = v.as_object().ok_or("expected a JSON object")?;
    if let Some(init) = obj.get("init") {
        if obj.len() != 1 {
            return Err("an init record holds only \"init\": {name: array, ...}".into());
        }
        let init = init.as_object().ok_or("\"init\" must be an object of arrays")?;
        return init
            .iter()
            .map(|(name, v)| nested::array(v).map(|a| (name.clone(), a)).map_err(|e| format!("init.{name}: {e}")))
            .collect::<std::result::Result<Named, String>>()
            .map(Record::Init);
    }
    let epoch = obj
        .get("epoch")
        .and_then(|e| e.as_u64())
        .filter(|&e| e > 0)
        .ok_or("expected an integer \"epoch\" counted from 1 (or an \"init\" record)")? as usize;
    if let Some(m) = obj.get("metrics") {
        let m = m.as_object().ok_or("\"metrics\" must be an object of numbers")?;
        let mut metrics = Vec::new();
        for (k, v) in m {
            metrics.push((k.clone(), number(v).ok_or(format!("metric \"{k}\" must be a number"))?));
        }
        return Ok(Record::Epoch(EpochRecord { epoch, metrics }));
    }
    let example = obj
        .get("example")
        .and_then(|e| e.as_u64())
        .filter(|&e| e > 0)
        .ok_or("expected an integer \"example\" counted from 1, or \"metrics\"")? as usize;
    let row = match obj.get("row") {
        None | Some(serde_json::Value::Null) => None,
        Some(r) => Some(r.as_f64().and_then(whole_row).ok_or_else(|| {
            format!("\"row\" is the 0-based data row, a whole number ≥ 0; got {}", clip(&r.to_string()))
        })?),
    };
    for key in obj.keys() {
        if !["epoch", "example", "row", "forward", "adjoints", "params"].contains(&key.as_str()) {
            return Err(format!(
                "unknown key \"{}\": an example record has epoch, example, row, forward, adjoints, params",
                clip(key)
            ));
        }
    }
    let section = |key: &str| -> std::result::Result<Named, String> {
        let Some(s) = obj.get(key) else { return Ok(Vec::new()) };
        let s = s.as_object().ok_or(format!("\"{key}\" must be an object of arrays"))?;
        s.iter()
            .map(|(name, v)| nested::array(v).map(|a| (name.clone(), a)).map_err(|e| format!("{key}.{name}: {e}")))
            .collect()
    };
    Ok(Record::Example(ExampleRecord {
        epoch,
        example,
        row,
        forward: section("forward")?,
        adjoints: section("adjoints")?,
        params: section("params")?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_tokens_survive_a_round_trip() {
        let r = Record::Example(ExampleRecord {
            epoch: 1,
            example: 1,
            row: Some(0),
            forward: vec![("a".into(), ndarray::arr1(&[f64::NAN, f64::INFINITY, -1.5]).into_dyn())],
            adjoints: vec![("J".into(), ndarray::arr0(1.0).into_dyn())],
            params: vec![],
        });
        let line = to_json_line(&r);
        assert!(line.contains("[NaN, Infinity, -1.5]"), "{line}");
        let v: serde_json::Value = serde_json::from_str(&quote_non_finite(&line)).unwrap();
        let Record::Example(back) = parse_record(&v).unwrap() else { panic!("example expected") };
        assert!(back.forward[0].1[[0]].is_nan());
        assert_eq!(back.forward[0].1[[1]], f64::INFINITY);
    }
}
