//! The host tier: one sealed file per entry in a folder of the user's own.
//!
//! - The folder is created 0700; one owned by another user, or writable by
//!   group or others, is refused, never used with less protection.
//! - Entries are 0600, written to a temporary file in the same folder,
//!   fsynced and renamed into place, so no reader ever sees a torn one; they
//!   are opened without following symlinks and must be regular files of
//!   ours. An unreadable or undecryptable entry is a miss and is overwritten.
//! - Each entry has a lock file held with `flock`, which the kernel releases
//!   when its holder dies, so no lock goes stale.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{EntryInfo, SharedStore, StoreLock, seal};
use crate::fork;
use crate::problem::{Problem, ProblemKind};

const ENTRY: &str = ".entry";
const LOCK: &str = ".lock";
/// A sealed token is well under this; a larger file is not ours.
const MAX_ENTRY_BYTES: u64 = 64 * 1024;

/// Files under one folder.
pub struct FileStore {
    folder: PathBuf,
}

impl FileStore {
    /// Creates the folder (0700) if need be, and checks that it is ours alone.
    pub fn open(folder: &Path) -> Result<FileStore, Problem> {
        let refused = |detail: String| {
            Problem::new(ProblemKind::InvalidConfig, detail)
                .with_instance("#/cache")
                .with_extension("key", "cache")
        };
        match DirBuilder::new().recursive(true).mode(0o700).create(folder) {
            Ok(()) => {}
            Err(error) => {
                return Err(refused(format!(
                    "the cache folder \"{}\" cannot be created: {error}",
                    folder.display()
                )));
            }
        }
        let meta = fs::symlink_metadata(folder).map_err(|error| {
            refused(format!(
                "the cache folder \"{}\" cannot be read: {error}",
                folder.display()
            ))
        })?;
        if !meta.is_dir() {
            return Err(refused(format!(
                "the cache folder \"{}\" is not a folder (a symlink is not followed)",
                folder.display()
            )));
        }
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(refused(format!(
                "the cache folder \"{}\" belongs to another user; tokens are kept only in a folder of your own",
                folder.display()
            )));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(refused(format!(
                "the cache folder \"{}\" is writable by others (mode {:o}); make it 0700",
                folder.display(),
                meta.mode() & 0o777
            )));
        }
        Ok(FileStore {
            folder: folder.to_owned(),
        })
    }

    fn path(&self, name: &str, suffix: &str) -> PathBuf {
        self.folder.join(format!("{name}{suffix}"))
    }

    fn problem(&self, path: &Path, what: &str, error: impl std::fmt::Display) -> Problem {
        Problem::new(
            ProblemKind::InvalidConfig,
            format!("the cache entry \"{}\" {what}: {error}", path.display()),
        )
        .with_instance("#/cache")
        .with_extension("key", "cache")
    }
}

/// Entry names are hex; anything else never names a file here.
fn check_name(name: &str) -> Result<(), Problem> {
    if !name.is_empty() && name.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(Problem::new(
            ProblemKind::Internal,
            "a cache entry name is not hex; this is a bug, please report it",
        ))
    }
}

fn open_no_follow(path: &Path, options: &mut OpenOptions) -> std::io::Result<File> {
    options
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

impl SharedStore for FileStore {
    fn load(&self, name: &str) -> Result<Option<Vec<u8>>, Problem> {
        check_name(name)?;
        let path = self.path(name, ENTRY);
        let file = match open_no_follow(&path, OpenOptions::new().read(true)) {
            Ok(file) => file,
            Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
            Err(error) if error.raw_os_error() == Some(libc::ELOOP) => {
                return Err(self.problem(&path, "is a symlink, which is never followed", error));
            }
            Err(error) => return Err(self.problem(&path, "cannot be read", error)),
        };
        let meta = file
            .metadata()
            .map_err(|error| self.problem(&path, "cannot be read", error))?;
        // SAFETY: geteuid has no preconditions.
        if !meta.is_file() || meta.uid() != unsafe { libc::geteuid() } {
            return Err(self.problem(&path, "is not a file of yours", "refused"));
        }
        let mut bytes = Vec::new();
        // Unreadable or oversized: a miss, overwritten by the next save.
        if file
            .take(MAX_ENTRY_BYTES + 1)
            .read_to_end(&mut bytes)
            .is_err()
            || bytes.len() as u64 > MAX_ENTRY_BYTES
        {
            return Ok(None);
        }
        Ok(Some(bytes))
    }

    fn save(&self, name: &str, sealed: &[u8], _ttl: Duration) -> Result<(), Problem> {
        check_name(name)?;
        let path = self.path(name, ENTRY);
        let mut nonce = [0u8; 8];
        let _ = getrandom::fill(&mut nonce);
        let temporary = self.folder.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            u64::from_le_bytes(nonce)
        ));
        let written = open_no_follow(
            &temporary,
            OpenOptions::new().write(true).create_new(true).mode(0o600),
        )
        .and_then(|mut file| {
            file.write_all(sealed)?;
            file.sync_all()
        })
        .and_then(|()| fs::rename(&temporary, &path));
        if let Err(error) = written {
            let _ = fs::remove_file(&temporary);
            return Err(self.problem(&path, "cannot be written", error));
        }
        Ok(())
    }

    fn lock(
        &self,
        name: &str,
        wait: Duration,
        _lease: Duration,
    ) -> Result<Option<StoreLock>, Problem> {
        check_name(name)?;
        let path = self.path(name, LOCK);
        let file = open_no_follow(
            &path,
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .mode(0o600),
        )
        .map_err(|error| self.problem(&path, "cannot be opened as a lock", error))?;
        let fd = file.as_raw_fd();
        let mut file = Some(file);
        super::poll_for_lock(wait, |_| {
            // SAFETY: a valid descriptor, open until `file` is taken.
            if unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return Ok(file.take().map(|file| StoreLock::new(HeldLock::new(file))));
            }
            let error = std::io::Error::last_os_error();
            if error.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(self.problem(&path, "cannot be locked", error));
            }
            Ok(None)
        })
    }

    fn remove(&self, name: &str) -> Result<(), Problem> {
        check_name(name)?;
        let path = self.path(name, ENTRY);
        match fs::remove_file(&path) {
            Err(error) if error.kind() != ErrorKind::NotFound => {
                Err(self.problem(&path, "cannot be removed", error))
            }
            _ => Ok(()),
        }
    }

    fn list(&self) -> Result<Vec<EntryInfo>, Problem> {
        let mut entries = Vec::new();
        let read = fs::read_dir(&self.folder)
            .map_err(|error| self.problem(&self.folder, "cannot be listed", error))?;
        for item in read.flatten() {
            let file_name = item.file_name();
            let Some(name) = file_name.to_str().and_then(|n| n.strip_suffix(ENTRY)) else {
                continue;
            };
            if check_name(name).is_err() {
                continue;
            }
            let expires_at = self
                .load(name)
                .ok()
                .flatten()
                .and_then(|bytes| seal::expires_at(&bytes))
                .flatten();
            entries.push(EntryInfo {
                name: name.to_owned(),
                expires_at,
            });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    fn clear(&self) -> Result<usize, Problem> {
        let entries = self.list()?;
        for entry in &entries {
            self.remove(&entry.name)?;
            let _ = fs::remove_file(self.path(&entry.name, LOCK));
        }
        Ok(entries.len())
    }

    fn describe(&self) -> String {
        format!("file:{}", self.folder.display())
    }
}

/// A held `flock`; dropping it closes the file, which releases the lock. A
/// child forked meanwhile closes its copy at once (see [`fork`]).
struct HeldLock {
    _registered: fork::ClosedInChildren,
    _file: File,
}

impl HeldLock {
    fn new(file: File) -> HeldLock {
        HeldLock {
            _registered: fork::ClosedInChildren::register(file.as_raw_fd()),
            _file: file,
        }
    }
}
