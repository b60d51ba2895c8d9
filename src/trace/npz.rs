//! .npz traces: each record's arrays under keys such as `e1/x2/forward/a`, written as they
//! come, and read back one record at a time from the archive's checked directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ndarray::ArrayD;

use super::record::{whole_row, EpochRecord, ExampleRecord, Numbered, Record};
use crate::error::{clip, Error, Result};
use crate::limits::Limits;

/// Writes the records that `produce` hands to its argument to `path` as an .npz archive, as
/// [`super::write_streaming`] does.
pub(super) fn write_streaming<T>(
    path: &Path,
    produce: impl FnOnce(&mut dyn FnMut(&Record) -> Result<()>) -> Result<T>,
) -> Result<T> {
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

pub(super) fn read_npz(path: &Path, limits: Limits) -> Result<Vec<Numbered>> {
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
