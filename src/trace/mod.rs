//! Traces: every number of every example, exchanged with other implementations as JSON Lines
//! (or .npz), in the format of the contract's §3.

mod jsonl;
mod npz;
mod record;
mod scan;

use std::path::Path;

use crate::error::{clip, Error, Result};
use crate::limits::Limits;

pub use jsonl::{for_each_jsonl_record, read_jsonl, JsonlCursor};
pub use npz::NpzTrace;
pub use record::{EpochRecord, ExampleRecord, Named, Numbered, Record};

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
        npz::read_npz(path, limits)
    } else {
        jsonl::read_jsonl_numbered(path)
    }
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
    if ext.as_deref() == Some("npz") {
        npz::write_streaming(path, produce)
    } else {
        jsonl::write_streaming(path, produce)
    }
}
