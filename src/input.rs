//! Reading input files with bounded memory: a model file is a regular file of at most 16 MiB;
//! a data file or trace that is not a regular file (a pipe, `/dev/zero`) is read up to
//! [`MAX_STREAM_BYTES`] and refused beyond.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// The most bytes read from a data file or trace that is not a regular file: 64 MiB.
pub const MAX_STREAM_BYTES: u64 = 64 << 20;

/// The bytes of `path`; `what` names it in messages ("the data file"). `max` bounds a regular
/// file's size too when given; without it only a non-regular file is bounded.
pub fn read_bounded(path: &Path, what: &str, max: Option<u64>) -> Result<Vec<u8>> {
    let cannot = |e: std::io::Error| Error::file(path, format!("cannot read {what}: {e}"));
    let file = std::fs::File::open(path).map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    if meta.is_dir() {
        return Err(Error::file(path, format!("cannot read {what}: it is a directory")));
    }
    let limit = match (meta.is_file(), max) {
        (true, Some(max)) if meta.len() > max => {
            return Err(Error::file(
                path,
                format!("{what} is {} bytes; bptui reads at most {} ({} MiB)", meta.len(), max, max >> 20),
            ));
        }
        (true, _) => None,
        (false, Some(max)) => Some(max.min(MAX_STREAM_BYTES)),
        (false, None) => Some(MAX_STREAM_BYTES),
    };
    let mut bytes = Vec::new();
    match limit {
        None => {
            let mut file = file;
            file.read_to_end(&mut bytes).map_err(cannot)?;
        }
        Some(limit) => {
            file.take(limit + 1).read_to_end(&mut bytes).map_err(cannot)?;
            if bytes.len() as u64 > limit {
                return Err(Error::file(
                    path,
                    format!(
                        "{what} is not a regular file and goes on past {} MiB, the most bptui reads from a pipe or \
                         device; save it to a file",
                        limit >> 20
                    ),
                ));
            }
        }
    }
    Ok(bytes)
}

/// The 1-based line of the first byte that is not UTF-8, with a message, if any.
pub fn utf8_error(bytes: &[u8]) -> Option<(usize, String)> {
    let e = std::str::from_utf8(bytes).err()?;
    let at = e.valid_up_to();
    let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    let column = at - bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
    Some((line, format!("byte {column} of the line is not UTF-8 text (0x{:02x})", bytes[at])))
}
