//! Output files (traces, metrics, labels), written so that a failed or interrupted command
//! never leaves half a file: into a uniquely named temporary file beside the target, renamed
//! into place when complete, and removed if SIGTERM or SIGINT ends the process meanwhile.
//!
//! A target that exists and is not a regular file (`/dev/stdout`, a pipe, a FIFO, a device)
//! is written directly instead, never replaced; a symbolic link to a regular file stays a link
//! and the file it points to is replaced.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Where the bytes go.
enum Destination {
    /// A regular file (or none yet) at this path: a temporary file renamed over it.
    Atomic(PathBuf),
    /// Not a regular file: opened and written as it is.
    Stream,
}

/// The error for an output file that cannot be written. A reader that went away (a closed
/// pipe) is [`Error::BrokenPipe`], which ends the command quietly.
pub fn io_error(path: &Path, e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return Error::BrokenPipe;
    }
    Error::file(path, format!("cannot write: {e}"))
}

fn destination(path: &Path) -> Result<Destination> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {
            // Through any symbolic links, so that the link stays and its target is replaced.
            let target = std::fs::canonicalize(path).map_err(|e| io_error(path, e))?;
            Ok(Destination::Atomic(target))
        }
        Ok(m) if m.is_dir() => Err(Error::file(path, "cannot write: it is a directory; expected a file name")),
        Ok(_) => Ok(Destination::Stream),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(Error::file(path, "cannot write: a symbolic link to nothing; remove it or name a file"));
            }
            Ok(Destination::Atomic(path.to_path_buf()))
        }
        Err(e) => Err(io_error(path, e)),
    }
}

/// Writes `path` with `write`, which may stream its output (it never needs to seek).
pub fn write_stream<T>(path: &Path, write: impl FnOnce(&mut (dyn Write + Send)) -> Result<T>) -> Result<T> {
    match destination(path)? {
        Destination::Atomic(target) => atomic(path, &target, |w| write(w)),
        Destination::Stream => {
            let file = OpenOptions::new().write(true).open(path).map_err(|e| io_error(path, e))?;
            let mut w = BufWriter::new(file);
            let out = write(&mut w)?;
            w.flush().map_err(|e| io_error(path, e))?;
            Ok(out)
        }
    }
}

/// Writes `path` with `write`, which may seek (a zip archive). To a target that is not a
/// regular file the archive is made in an anonymous temporary file, then copied.
pub fn write_seekable<T>(path: &Path, write: impl FnOnce(&mut BufWriter<File>) -> Result<T>) -> Result<T> {
    match destination(path)? {
        Destination::Atomic(target) => atomic(path, &target, write),
        Destination::Stream => {
            let scratch = tempfile::tempfile().map_err(|e| io_error(path, e))?;
            let mut w = BufWriter::new(scratch);
            let out = write(&mut w)?;
            let mut scratch = w.into_inner().map_err(|e| io_error(path, e.into_error()))?;
            scratch.rewind().map_err(|e| io_error(path, e))?;
            let mut file = OpenOptions::new().write(true).open(path).map_err(|e| io_error(path, e))?;
            io::copy(&mut scratch, &mut file).map_err(|e| io_error(path, e))?;
            Ok(out)
        }
    }
}

/// Writes `text` to `path`.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    write_stream(path, |w| w.write_all(text.as_bytes()).map_err(|e| io_error(path, e)))
}

fn atomic<T>(path: &Path, target: &Path, write: impl FnOnce(&mut BufWriter<File>) -> Result<T>) -> Result<T> {
    let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let mut builder = tempfile::Builder::new();
    let prefix = format!(".{name}.");
    builder.prefix(&prefix).suffix(".partial");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // As a newly created file would get (the umask applies), or the mode of the file replaced.
        let mode = std::fs::metadata(target).map(|m| m.permissions().mode() & 0o7777).unwrap_or(0o666);
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    let tmp = builder.tempfile_in(dir).map_err(|e| io_error(path, e))?;
    let tmp_path = tmp.path().to_path_buf();
    crate::signals::register_temp(&tmp_path);
    let (file, guard) = tmp.into_parts();
    let mut w = BufWriter::new(file);
    let result = write(&mut w).and_then(|out| {
        let file = w.into_inner().map_err(|e| io_error(path, e.into_error()))?;
        drop(file);
        Ok(out)
    });
    crate::signals::finish_temp(&tmp_path, || match result {
        Ok(out) => guard.persist(target).map(|_| out).map_err(|e| io_error(path, e.error)),
        Err(e) => {
            drop(guard); // removes the temporary file
            Err(e)
        }
    })
}
