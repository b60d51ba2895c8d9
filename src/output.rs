//! Output files (traces, metrics, labels), written so that a failed or interrupted command
//! never leaves half a file: into an unnamed temporary file in the target's folder (Linux's
//! `O_TMPFILE`), given a name and renamed over the target only when complete. Until then the
//! file has no name, so nothing is left behind whatever ends the process, SIGKILL included.
//! Where the filesystem cannot make an unnamed file, a uniquely named `.NAME.*.partial` is
//! used instead, removed if a signal ends the process (not after SIGKILL).
//!
//! A target that exists and is not a regular file (a pipe, a FIFO, a device) is written
//! directly instead, never replaced. One of the process's own descriptors (`/dev/stdout`,
//! `/dev/stderr`, `/dev/fd/N`, `/proc/self/fd/N`, or a link to one) is written through that
//! descriptor, at its offset, even when the shell pointed it at a regular file: in
//! `(echo before; bptui trace M --out /dev/stdout; echo after) > out.txt`, out.txt keeps all
//! three. A symbolic link to a regular file stays a link and the file it points to is replaced.

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
    /// This open descriptor of the process: written through a duplicate of it.
    Descriptor(i32),
}

/// The error for an output file that cannot be written. A reader that went away (a closed
/// pipe) is [`Error::BrokenPipe`], which ends the command quietly.
pub fn io_error(path: &Path, e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return Error::BrokenPipe;
    }
    Error::file(path, format!("cannot write: {e}"))
}

/// The descriptor `path` names, following symbolic links: `/dev/stdout` is 1, `/dev/stderr` 2,
/// `/dev/fd/N` and `/proc/self/fd/N` are N (the last is itself a link, to whatever N is open on,
/// which must not be followed: that would be replacing the shell's file behind its back).
fn named_descriptor(path: &Path) -> Option<i32> {
    let mut path = path.to_path_buf();
    for _ in 0..40 {
        let text = path.to_str()?;
        let own = format!("/proc/{}/fd/", std::process::id());
        let fd = match text {
            "/dev/stdout" => Some(1),
            "/dev/stderr" => Some(2),
            _ => ["/dev/fd/", "/proc/self/fd/", own.as_str()]
                .iter()
                .find_map(|prefix| text.strip_prefix(prefix))
                .and_then(|n| n.parse::<i32>().ok()),
        };
        if fd.is_some() {
            return fd;
        }
        let target = std::fs::read_link(&path).ok()?;
        path = match path.parent() {
            Some(dir) if target.is_relative() => dir.join(target),
            _ => target,
        };
    }
    None
}

/// A duplicate of descriptor `fd`, as a file that closes only the duplicate.
fn duplicate(path: &Path, fd: i32) -> Result<File> {
    use std::os::fd::{AsFd, BorrowedFd};
    // SAFETY: fcntl(F_GETFD) only asks whether `fd` is open; it is borrowed only if it is, and
    // only for the duplicate, while this process keeps it open.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(Error::file(path, format!("cannot write: descriptor {fd} is not open")));
    }
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let owned = borrowed.as_fd().try_clone_to_owned().map_err(|e| io_error(path, e))?;
    Ok(File::from(owned))
}

fn destination(path: &Path) -> Result<Destination> {
    if let Some(fd) = named_descriptor(path) {
        return Ok(Destination::Descriptor(fd));
    }
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
        other => {
            let mut w = BufWriter::new(open_in_place(path, &other)?);
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
        other => {
            let scratch = tempfile::tempfile().map_err(|e| io_error(path, e))?;
            let mut w = BufWriter::new(scratch);
            let out = write(&mut w)?;
            let mut scratch = w.into_inner().map_err(|e| io_error(path, e.into_error()))?;
            scratch.rewind().map_err(|e| io_error(path, e))?;
            let mut file = open_in_place(path, &other)?;
            io::copy(&mut scratch, &mut file).map_err(|e| io_error(path, e))?;
            file.flush().map_err(|e| io_error(path, e))?;
            Ok(out)
        }
    }
}

/// The file a target written in place is written through.
fn open_in_place(path: &Path, destination: &Destination) -> Result<File> {
    match destination {
        Destination::Descriptor(fd) => duplicate(path, *fd),
        _ => OpenOptions::new().write(true).open(path).map_err(|e| io_error(path, e)),
    }
}

/// Writes `text` to `path`.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    write_stream(path, |w| w.write_all(text.as_bytes()).map_err(|e| io_error(path, e)))
}

fn atomic<T>(path: &Path, target: &Path, write: impl FnOnce(&mut BufWriter<File>) -> Result<T>) -> Result<T> {
    let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    use std::os::unix::fs::PermissionsExt;
    // As a newly created file would get (the umask applies), or the mode of the file replaced
    // (set again after creation, which the umask does not touch).
    let replaced = std::fs::metadata(target).ok().map(|m| m.permissions().mode() & 0o7777);
    let mode = replaced.unwrap_or(0o666);
    let (file, temp) = match unnamed_in(dir, mode) {
        Some(file) => (file, Temp::Unnamed),
        None => named_in(path, dir, &name, mode)?,
    };
    if let Some(mode) = replaced {
        file.set_permissions(std::fs::Permissions::from_mode(mode)).map_err(|e| io_error(path, e))?;
    }
    let mut w = BufWriter::new(file);
    let written = write(&mut w).and_then(|out| Ok((out, w.into_inner().map_err(|e| io_error(path, e.into_error()))?)));
    match temp {
        Temp::Unnamed => {
            let (out, file) = written?; // an unnamed file that fails is gone with its descriptor
            link_into_place(path, target, dir, &name, &file).map(|()| out)
        }
        Temp::Named(guard) => {
            let tmp = guard.to_path_buf();
            crate::signals::finish_temp(&tmp, || match written {
                Ok((out, file)) => {
                    drop(file);
                    guard.persist(target).map(|_| out).map_err(|e| io_error(path, e.error))
                }
                Err(e) => {
                    drop(guard); // removes the temporary file
                    Err(e)
                }
            })
        }
    }
}

/// The temporary file an output is written to before it replaces its target.
enum Temp {
    /// `O_TMPFILE`: no name until [`link_into_place`] gives it one.
    Unnamed,
    /// A named `.NAME.XXXXXX.partial` beside the target, removed if a signal ends the process.
    Named(tempfile::TempPath),
}

/// An unnamed regular file in `dir` (`O_TMPFILE`), if the filesystem makes one and
/// `/proc/self/fd` is there to give it a name later.
fn unnamed_in(dir: &Path, mode: u32) -> Option<File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::FromRawFd;
        use std::os::unix::ffi::OsStrExt;
        if !Path::new("/proc/self/fd").is_dir() {
            return None;
        }
        let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
        // SAFETY: open reads a NUL-terminated path; a descriptor it returns is ours to own.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_TMPFILE | libc::O_WRONLY | libc::O_CLOEXEC, mode) };
        (fd >= 0).then(|| unsafe { File::from_raw_fd(fd) })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (dir, mode);
        None
    }
}

/// A named temporary file beside the target, where no unnamed one can be made.
fn named_in(path: &Path, dir: &Path, name: &str, mode: u32) -> Result<(File, Temp)> {
    use std::os::unix::fs::PermissionsExt;
    let mut builder = tempfile::Builder::new();
    let prefix = format!(".{name}.");
    builder.prefix(&prefix).suffix(".partial");
    builder.permissions(std::fs::Permissions::from_mode(mode));
    let tmp = builder.tempfile_in(dir).map_err(|e| io_error(path, e))?;
    crate::signals::register_temp(tmp.path());
    let (file, guard) = tmp.into_parts();
    Ok((file, Temp::Named(guard)))
}

/// Names the unnamed, whole `file`: linked into `dir` under a fresh name and renamed over
/// `target` at once (a link cannot replace a file). The name exists for the time of one
/// rename, with the signal handler held off, and is removed if the rename fails.
fn link_into_place(path: &Path, target: &Path, dir: &Path, name: &str, file: &File) -> Result<()> {
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    let from = std::ffi::CString::new(format!("/proc/self/fd/{}", file.as_raw_fd())).expect("no NUL in a number");
    for attempt in 0..1000u32 {
        let tmp = dir.join(format!(".{name}.{}.{attempt}.partial", std::process::id()));
        let to = std::ffi::CString::new(tmp.as_os_str().as_bytes())
            .map_err(|_| Error::file(path, "cannot write: the path holds a NUL byte"))?;
        crate::signals::register_temp(&tmp);
        let linked = crate::signals::finish_temp(&tmp, || {
            // SAFETY: linkat reads two NUL-terminated paths.
            let r = unsafe {
                libc::linkat(libc::AT_FDCWD, from.as_ptr(), libc::AT_FDCWD, to.as_ptr(), libc::AT_SYMLINK_FOLLOW)
            };
            if r != 0 {
                return Err(io::Error::last_os_error());
            }
            std::fs::rename(&tmp, target).inspect_err(|_| {
                let _ = std::fs::remove_file(&tmp);
            })
        });
        match linked {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_error(path, e)),
        }
    }
    Err(Error::file(path, "cannot write: no free temporary name in its folder"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    /// Both temporary files (the unnamed one, and the named one where there is none) replace
    /// the target whole and leave nothing else; a failed write leaves the target as it was.
    #[test]
    fn both_temporary_files_replace_the_target_or_leave_it() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t.txt");
        std::fs::write(&target, "old\n").unwrap();
        // The named file, as `atomic` makes it where the filesystem has no unnamed ones.
        let (file, temp) = named_in(&target, dir.path(), "t.txt", 0o644).unwrap();
        let Temp::Named(guard) = temp else { panic!("a named file") };
        assert_eq!(names(dir.path()).len(), 2, "the named file is beside the target");
        drop((file, guard));
        assert_eq!(names(dir.path()), ["t.txt"], "and removed when dropped");
        // The unnamed one: no name while it is written, the target's name when it is whole.
        if let Some(mut file) = unnamed_in(dir.path(), 0o644) {
            file.write_all(b"unnamed\n").unwrap();
            assert_eq!(names(dir.path()), ["t.txt"], "no name while written");
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "old\n");
            link_into_place(&target, &target, dir.path(), "t.txt", &file).unwrap();
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "unnamed\n");
        }
        let fail = |_: &mut BufWriter<File>| -> Result<()> { Err(Error::file(&target, "no")) };
        atomic(&target, &target, fail).unwrap_err();
        atomic(&target, &target, |w| w.write_all(b"whole\n").map_err(|e| io_error(&target, e))).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "whole\n");
        assert_eq!(names(dir.path()), ["t.txt"]);
    }
}
