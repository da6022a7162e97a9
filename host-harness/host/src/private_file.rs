//! Files that hold credentials or delivery state (the token store, trigger cursors, webhook
//! subscriptions), safe against a crash, another process and a hostile neighbour:
//!
//! - replaced atomically: a uniquely named temp file (`O_EXCL`, 0600, from `tempfile`) in the
//!   same directory, synced, then renamed over the file, so a crash never leaves half a file
//!   and nothing is world-readable, not even briefly;
//! - read with `O_NOFOLLOW`: a symlink planted where the file should be is refused, never
//!   followed (its target's content would otherwise end up in an error message);
//! - credentials ([`read_secret`]) are refused when group or others may read them (as ssh
//!   refuses a private key): a store that was once readable may already have leaked;
//! - directories the host creates are 0700;
//! - read-modify-write runs under an exclusive advisory lock ([`lock`]) on a sidecar
//!   `.NAME.lock` file, so two processes updating one file never lose each other's changes.
//!   The lock is on the sidecar because the data file is replaced by rename: a lock on it
//!   would be on an inode the next writer no longer uses.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// An exclusive advisory lock on a state file, held until dropped.
#[derive(Debug)]
pub struct Lock {
    file: std::fs::File,
    path: PathBuf,
}

impl Lock {
    /// The lock file (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// Take the exclusive lock of `path`'s sidecar lock file, waiting for another holder to let
/// go. Creates the directory (0700) when missing.
pub fn lock(path: &Path) -> anyhow::Result<Lock> {
    let dir = directory(path)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("state");
    let lock_path = dir.join(format!(".{name}.lock"));
    let file = open_lock_file(&lock_path)
        .with_context(|| format!("opening the lock file {}", lock_path.display()))?;
    file.lock()
        .with_context(|| format!("locking {}", lock_path.display()))?;
    Ok(Lock {
        file,
        path: lock_path,
    })
}

/// Replace `path` with `bytes`, atomically. Callers that read, change and write a file that
/// another process may also write hold its [`lock`] around all three.
pub fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = directory(path)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(&dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Check that a file can be written next to `path` (the directory exists or can be made, and
/// a file can be created in it), without touching `path`.
pub fn check_writable(path: &Path) -> anyhow::Result<()> {
    let dir = directory(path)?;
    tempfile::Builder::new()
        .prefix(".probe-")
        .tempfile_in(&dir)
        .map(drop)
        .with_context(|| format!("{} is not writable", dir.display()))
}

/// A file holding credentials: [`read`], refused when others may read or write it.
pub fn read_secret(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    read_checked(path, true)
}

/// The file's bytes, or `None` when it does not exist yet. A symlink is refused.
pub fn read(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    read_checked(path, false)
}

fn read_checked(path: &Path, secret: bool) -> anyhow::Result<Option<Vec<u8>>> {
    let mut file = match open_nofollow(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if is_symlink_refusal(&e) => anyhow::bail!(
            "{} is a symbolic link; a file holding credentials or state must be a plain file",
            path.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        anyhow::bail!("{} is not a plain file", path.display());
    }
    if secret {
        refuse_shared(path, &meta)?;
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(Some(bytes))
}

/// `path`'s directory, created 0700 when missing.
fn directory(path: &Path) -> anyhow::Result<PathBuf> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    if !dir.is_dir() {
        create_private_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(dir)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn open_nofollow(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

#[cfg(not(unix))]
fn open_nofollow(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

#[cfg(unix)]
fn open_lock_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

#[cfg(not(unix))]
fn open_lock_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// `O_NOFOLLOW` on a symlink fails with `ELOOP`.
fn is_symlink_refusal(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

#[cfg(unix)]
fn refuse_shared(path: &Path, meta: &std::fs::Metadata) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        anyhow::bail!(
            "{} is readable or writable by others (mode {mode:o}); it holds credentials or delivery state: `chmod 600` it (and rotate what it holds if others could read it)",
            path.display()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_shared(_path: &Path, _meta: &std::fs::Metadata) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pf-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn private_files_in_private_directories() {
        let dir = scratch("modes");
        let path = dir.join("nested/state.json");
        write(&path, b"{}").unwrap();
        assert_eq!(read(&path).unwrap().unwrap(), b"{}");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.join("nested")), 0o700);
        // No temp file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.join("nested"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["state.json"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn symlinks_and_shared_files_are_refused_without_their_content() {
        let dir = scratch("refusals");
        std::fs::create_dir_all(&dir).unwrap();
        let elsewhere = dir.join("elsewhere.txt");
        std::fs::write(&elsewhere, "TOP-SECRET-CONTENT").unwrap();
        std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.join("tokens.json");
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        let e = format!("{:#}", read(&link).unwrap_err());
        assert!(e.contains("symbolic link"), "{e}");
        assert!(!e.contains("TOP-SECRET"), "{e}");

        let shared = dir.join("shared.json");
        std::fs::write(&shared, "{}").unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = format!("{:#}", read_secret(&shared).unwrap_err());
        assert!(e.contains("chmod 600"), "{e}");
        assert!(
            read(&shared).is_ok(),
            "state that holds no credentials may be shared"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_lock_excludes_other_holders() {
        let dir = scratch("lock");
        let path = dir.join("state.json");
        let held = lock(&path).unwrap();
        let other = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(held.path())
            .unwrap();
        assert!(other.try_lock().is_err(), "a second holder must wait");
        drop(held);
        assert!(other.try_lock().is_ok());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
