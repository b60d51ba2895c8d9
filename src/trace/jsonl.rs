//! JSON Lines traces: one record a line, written by a thread beside the run, and read in
//! order (with the fast [`scan`](super::scan) first, serde_json for anything unusual) or one
//! line at a time by its offset.

use std::path::Path;

use ndarray::ArrayD;

use super::record::{parse_record, quote_non_finite, Named, Numbered, Record};
use super::scan;
use crate::error::{Error, Result};
use crate::numfmt::push_json_number;

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
fn push_json_line(out: &mut Vec<u8>, record: &Record) {
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

/// Writes the records that `produce` hands to its argument to `path` as JSON Lines, as
/// [`super::write_streaming`] does.
pub(super) fn write_streaming<T>(
    path: &Path,
    produce: impl FnOnce(&mut dyn FnMut(&Record) -> Result<()>) -> Result<T>,
) -> Result<T> {
    // Records go through a bounded channel to a thread that formats and writes them, so the
    // run and the formatting share the work; memory stays a few records.
    crate::output::write_stream(path, |w| {
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
            let written =
                writer.join().unwrap_or_else(|_| Err(Error::file(path, "cannot write the trace: the writer failed")));
            // The writer's own error says more than "stopped".
            written.and(produced)
        })
    })
}

/// Reads a JSON Lines trace. Python's `json` spellings NaN, Infinity and -Infinity are accepted.
pub fn read_jsonl(path: &Path) -> Result<Vec<Record>> {
    Ok(read_jsonl_numbered(path)?.into_iter().map(|n| n.record).collect())
}

pub(super) fn read_jsonl_numbered(path: &Path) -> Result<Vec<Numbered>> {
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::record::{parse_record, quote_non_finite, EpochRecord, ExampleRecord, Record};
    use super::{push_json_line, scan};

    /// One JSON Lines line (without the newline).
    fn to_json_line(record: &Record) -> String {
        let mut out = Vec::new();
        push_json_line(&mut out, record);
        String::from_utf8(out).expect("JSON is UTF-8")
    }

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

    // The fast scan against the exact way, here rather than in scan.rs: lines are written by
    // this file's writer, and the scan sits below it.
    /// The exact way: serde_json's Value, then `parse_record`.
    fn exact(line: &str) -> Option<Record> {
        let v: serde_json::Value = serde_json::from_str(&quote_non_finite(line)).ok()?;
        parse_record(&v).ok()
    }

    fn same(a: &Record, b: &Record) -> bool {
        // NaN-aware: compare the JSON lines written from both.
        to_json_line(a) == to_json_line(b) && format!("{a:?}").len() == format!("{b:?}").len()
    }

    fn line() -> impl Strategy<Value = String> {
        let number = prop_oneof![
            any::<f64>().prop_map(|v| format!("{v:?}")),
            (-1e3f64..1e3).prop_map(|v| format!("{v}")),
            prop::sample::select(vec![
                "0",
                "-0",
                "-0.0",
                "1e400",
                "-1e400",
                "1e-400",
                "NaN",
                "Infinity",
                "-Infinity",
                "01",
                "1.",
                ".5",
                "+1",
                "1e",
                "1E+2",
                "-",
                "NaNx",
                "18446744073709551616",
                "-9223372036854775809",
                "5",
                "1.5e-7",
            ])
            .prop_map(str::to_string),
        ];
        let list = prop::collection::vec(number.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", ")));
        let value = prop_oneof![
            number.clone(),
            list.clone(),
            prop::collection::vec(list, 0..3).prop_map(|v| format!("[{}]", v.join(",")))
        ];
        let name = prop::sample::select(vec!["a", "b", "J", "x\\n", "é", "a"]).prop_map(str::to_string);
        let section = prop::collection::vec((name, value), 0..4).prop_map(|v| {
            format!("{{{}}}", v.iter().map(|(n, x)| format!("\"{n}\": {x}")).collect::<Vec<_>>().join(", "))
        });
        let int = prop::sample::select(vec![
            "1",
            "2",
            "0",
            "-1",
            "1.0",
            "01",
            "null",
            "7",
            "\"3\"",
            "8999999999999999",
            "9000000000000000",
        ])
        .prop_map(str::to_string);
        let key = prop::sample::select(vec![
            "epoch", "example", "row", "forward", "adjoints", "params", "metrics", "init", "other",
        ]);
        prop::collection::vec((key, prop_oneof![int, section, number]), 0..6).prop_map(|kv| {
            format!("{{{}}}", kv.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect::<Vec<_>>().join(", "))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 5000, ..ProptestConfig::default() })]

        /// Whatever the fast reader accepts, it reads as the exact way does.
        #[test]
        fn the_fast_reader_reads_as_serde_json(line in line(), cut in 0usize..200) {
            for text in [line.clone(), line.chars().take(cut).collect::<String>()] {
                if let Some(fast) = scan::record(&text, true) {
                    let slow = exact(&text);
                    prop_assert!(slow.as_ref().is_some_and(|s| same(s, &fast)), "{text}\nfast {fast:?}\nexact {slow:?}");
                }
            }
        }
    }

    #[test]
    fn usual_records_are_read_fast() {
        let r = Record::Example(ExampleRecord {
            epoch: 2,
            example: 7,
            row: Some(31),
            forward: vec![
                ("x".into(), ndarray::arr1(&[0.0, 1.0, -0.0]).into_dyn()),
                ("J".into(), ndarray::arr0(0.25).into_dyn()),
            ],
            adjoints: vec![("a".into(), ndarray::arr2(&[[1e-7, f64::NAN], [f64::INFINITY, -3.5]]).into_dyn())],
            params: vec![],
        });
        let e = Record::Epoch(EpochRecord { epoch: 1, metrics: vec![("train_loss".into(), 0.5)] });
        for r in [r, e] {
            let line = to_json_line(&r);
            let fast = scan::record(&line, true).expect("the usual shape");
            assert!(same(&fast, &exact(&line).unwrap()), "{line}");
        }
    }
}
