//! The one atomic file write of the workspace (detections, reports, run configurations,
//! metrics, extracted features): the content goes to a new temporary file in the same folder,
//! which is flushed to disk and renamed over the target, so a reader sees the old file or the
//! new one, never a part. It lives here, in the crate every writer depends on.
//!
//! The temporary name is `.<file>.<pid>-<nanoseconds>-<counter>.tmp`, created exclusively: a
//! name already taken (another writer's, e.g. a process with the same pid on another machine
//! sharing the folder) is never opened, truncated or removed; another name is tried.

use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` atomically (see the module docs).
///
/// # Errors
/// The I/O error of creating, writing, flushing or renaming the temporary file (which is then
/// removed).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |tmp| {
        let mut f = OpenOptions::new().write(true).open(tmp)?;
        f.write_all(bytes)
    })
}

/// Writes `path` atomically with `write`, which fills the (empty, existing) temporary file at
/// the path it is given; the file is then flushed to disk and renamed over `path`.
///
/// # Errors
/// `write`'s error, or the I/O error of the temporary file (which is then removed).
pub fn write_atomic_with<E: From<io::Error>>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    let tmp = create_temporary(path)?;
    let result = write(&tmp).and_then(|()| {
        File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Creates a new, empty temporary file beside `path` under a name no other writer holds.
fn create_temporary(path: &Path) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".to_string());
    loop {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}-{nanos}-{n}.tmp", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(_) => return Ok(tmp),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file is replaced whole and no temporary file is left; a file under the name the
    /// older pid-based scheme used (another writer's) is left alone.
    #[test]
    fn replaces_the_file_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("maan-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.json");
        let other = dir.join(format!(".a.json.{}.tmp", std::process::id()));
        std::fs::write(&other, b"another writer").unwrap();
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second, longer").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second, longer");
        assert_eq!(std::fs::read(&other).unwrap(), b"another writer");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "{names:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A failing writer leaves the old file and no temporary file, and its error comes back.
    #[test]
    fn a_failed_write_keeps_the_old_file() {
        let dir = std::env::temp_dir().join(format!("maan-atomic-fail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("b.txt");
        write_atomic(&path, b"old").unwrap();
        let err = write_atomic_with(&path, |tmp| {
            std::fs::write(tmp, b"half")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
        // A folder that does not exist: an error, not a panic.
        assert!(write_atomic(&dir.join("missing/c.txt"), b"x").is_err());
    }
}
