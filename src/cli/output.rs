//! Writing `--out` and `--csv` files without losing anything.
//!
//! What happens to the path given, checked before a run ([`check_file`], [`check_dir`])
//! and again when writing ([`write_file`]):
//!
//! - **missing**: created, if its directory exists (a missing directory is refused before
//!   the run, so hours of work do not end in "No such file or directory");
//! - **regular file**: replaced atomically: the bytes go to a new temporary file in the
//!   same directory (created exclusively, with a name unique to this process and call),
//!   are flushed to disk, and the temporary is renamed over the file. A reader, or a
//!   concurrent run with the same `--out`, sees the old file or a new one, never half of
//!   one. The file's permissions are kept; a read-only file is refused;
//! - **symlink**: written through: the chain is followed and the file it ends in is
//!   replaced as above, so the link stays a link (it was made to point somewhere on
//!   purpose). A chain ending in a directory or special file is refused like one;
//!   a dangling link creates its target if the target's directory exists;
//! - **directory, FIFO, socket or device**: refused with its kind named (a rename would
//!   replace it with a regular file; opening a FIFO would block until a reader came);
//! - **an unwritable directory**: refused before the run (a probe file is created and
//!   removed).
//!
//! The only files ever removed are the temporaries created here. (A file with several
//! hard links gets a new inode: its other names keep the old content.)

use scaling_playground::error::Error;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Most symlinks followed from one path (the kernel's own limit is 40).
const MAX_LINKS: usize = 40;

/// Refuse before a run what [`write_file`] would refuse after it: the file's directory
/// must exist and take new files; an existing file must be a regular, writable one (or
/// a symlink to one). `flag` names the option in errors (`--out`).
pub fn check_file(flag: &str, path: &Path) -> Result<(), Error> {
    let target = resolve(flag, path)?;
    check_replaceable(flag, path, &target)?;
    probe(flag, path, &parent_dir(&target))
}

/// Refuse before a run a `--csv` directory that could not be written: an existing path
/// must be a directory (or a symlink to one) that takes new files; a missing one is
/// created later, inside an existing, writable directory.
pub fn check_dir(flag: &str, dir: &Path) -> Result<(), Error> {
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => probe(flag, dir, dir),
        Ok(m) => Err(refused(flag, dir, &format!("is {}", kind(&m.file_type())))),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let parent = parent_dir(dir);
            match fs::metadata(&parent) {
                Ok(m) if m.is_dir() => probe(flag, dir, &parent),
                Ok(_) => Err(refused(
                    flag,
                    dir,
                    "is inside something that is not a directory",
                )),
                Err(_) => Err(refused(
                    flag,
                    dir,
                    &format!(
                        "is in a directory that does not exist ({})",
                        parent.display()
                    ),
                )),
            }
        }
        Err(e) => Err(refused(flag, dir, &e.to_string())),
    }
}

/// Create the `--csv` directory if it is missing (one level; its parent was checked).
pub fn create_dir(flag: &str, dir: &Path) -> Result<(), Error> {
    match fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(refused(flag, dir, &e.to_string())),
    }
}

/// Write `bytes` to `path` by the rules of the module: through a unique temporary file,
/// flushed, renamed over a regular file or a missing path (through symlinks).
pub fn write_file(flag: &str, path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_with(flag, path, |w| w.write_all(bytes))
}

/// [`write_file`] with the contents streamed by `fill` (a result is serialised straight
/// into the temporary file, never held in memory as text).
pub fn write_with(
    flag: &str,
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    let target = resolve(flag, path)?;
    let existing = check_replaceable(flag, path, &target)?;
    let dir = parent_dir(&target);
    let (mut file, tmp) = create_temp(&dir, &target).map_err(|e| {
        refused(
            flag,
            path,
            &format!("cannot create a file in {}: {e}", dir.display()),
        )
    })?;
    let written = (|| {
        if let Some(perms) = existing {
            file.set_permissions(perms)?;
        }
        let mut buffered = std::io::BufWriter::new(&mut file);
        fill(&mut buffered)?;
        buffered.flush()?;
        drop(buffered);
        file.sync_all()
    })();
    drop(file);
    if let Err(e) = written {
        tmp.remove();
        return Err(Error::Data(format!("{}: {e}", path.display())));
    }
    // The path may have changed while the bytes were written: check it once more.
    if let Err(e) = check_replaceable(flag, path, &target) {
        tmp.remove();
        return Err(e);
    }
    if let Err(e) = fs::rename(&tmp.0, &target) {
        tmp.remove();
        return Err(Error::Data(format!("{}: {e}", path.display())));
    }
    // Make the rename itself durable; not every platform can open a directory.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Follow symlinks from `path` to the path that is not one (which may be missing).
fn resolve(flag: &str, path: &Path) -> Result<PathBuf, Error> {
    let mut p = path.to_path_buf();
    for _ in 0..=MAX_LINKS {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = fs::read_link(&p).map_err(|e| refused(flag, path, &e.to_string()))?;
                p = if to.is_absolute() {
                    to
                } else {
                    parent_dir(&p).join(to)
                };
            }
            _ => return Ok(p),
        }
    }
    Err(refused(
        flag,
        path,
        &format!("is a chain of more than {MAX_LINKS} symlinks"),
    ))
}

/// `Ok(Some(permissions))` for a writable regular file, `Ok(None)` for a missing path
/// whose directory exists, an error naming what `target` is otherwise.
fn check_replaceable(
    flag: &str,
    path: &Path,
    target: &Path,
) -> Result<Option<fs::Permissions>, Error> {
    let via = if target == path {
        String::new()
    } else {
        format!(" (the symlink's target {})", target.display())
    };
    if target.file_name().is_none() {
        return Err(refused(flag, path, &format!("names no file{via}")));
    }
    match fs::symlink_metadata(target) {
        Ok(m) if m.is_file() => {
            if m.permissions().readonly() {
                return Err(refused(flag, path, &format!("is read-only{via}")));
            }
            Ok(Some(m.permissions()))
        }
        Ok(m) => Err(refused(
            flag,
            path,
            &format!(
                "is {}{via}; only regular files are replaced",
                kind(&m.file_type())
            ),
        )),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let dir = parent_dir(target);
            match fs::metadata(&dir) {
                Ok(m) if m.is_dir() => Ok(None),
                Ok(_) => Err(refused(
                    flag,
                    path,
                    &format!("is inside a non-directory{via}"),
                )),
                Err(_) => Err(refused(
                    flag,
                    path,
                    &format!(
                        "is in a directory that does not exist ({}){via}",
                        dir.display()
                    ),
                )),
            }
        }
        Err(e) => Err(refused(flag, path, &format!("{e}{via}"))),
    }
}

/// Create and remove a temporary file in `dir`: the cheap, exact test of "can write
/// here" (permission bits alone miss read-only mounts and ACLs).
fn probe(flag: &str, path: &Path, dir: &Path) -> Result<(), Error> {
    match create_temp(dir, path) {
        Ok((file, tmp)) => {
            drop(file);
            tmp.remove();
            Ok(())
        }
        Err(e) => Err(refused(
            flag,
            path,
            &format!("cannot create files in {}: {e}", dir.display()),
        )),
    }
}

/// A temporary file this process created; [`Temp::remove`] deletes it.
struct Temp(PathBuf);

impl Temp {
    fn remove(self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// Create a new file `.<name>.<pid>-<n>-<nanos>.tmp` in `dir`, exclusively: an existing
/// file of that name (however unlikely) is never opened, truncated or removed.
fn create_temp(dir: &Path, like: &Path) -> std::io::Result<(File, Temp)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let stem: String = like
        .file_name()
        .map(|n| n.to_string_lossy().chars().take(64).collect())
        .unwrap_or_else(|| "out".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut last = None;
    for _ in 0..64 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!(".{stem}.{}-{n}-{nanos}.tmp", std::process::id());
        let p = dir.join(name);
        match OpenOptions::new().write(true).create_new(true).open(&p) {
            Ok(f) => return Ok((f, Temp(p))),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

/// The directory `p` is in (`.` for a bare file name).
fn parent_dir(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// What a non-regular file is, in words.
fn kind(t: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symlink"
    } else {
        "not a regular file"
    }
}

fn refused(flag: &str, path: &Path, why: &str) -> Error {
    Error::config(
        flag,
        format!("a path it can write: {} {why}", path.display()),
    )
}
