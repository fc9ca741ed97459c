//! Pacing state shared by every provider process of one user on one machine: one small JSON file per key (cloud,
//! account, region, action) in a private directory, read and written under an exclusive `flock`. Parallel
//! `terraform apply` runs on one account (several workspaces in one CI job, `terragrunt run-all`) then take their
//! turns from one budget instead of each sending the whole quota. No daemon: the kernel drops a dead process's
//! lock, and its unanswered turns are given back by [`super::window::Window::tidy`].

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rustix::fs::{flock, FlockOperation};
use sha2::{Digest, Sha256};

use super::window::Window;

/// Where the shared state goes: `CLOUDIMAGE_PACING_DIR`, else the user's runtime directory (`$XDG_RUNTIME_DIR`,
/// private to the user and emptied at logout), else the cache directory (`$XDG_CACHE_HOME`, else `~/.cache`), each
/// under `terraform-provider-cloudimage/pacing`. `CLOUDIMAGE_SHARED_PACING=0` turns sharing off (each process then
/// paces itself, adapting to the cloud's throttling alone).
pub(crate) fn default_dir() -> Option<PathBuf> {
    if std::env::var_os("CLOUDIMAGE_SHARED_PACING").is_some_and(|v| v == "0") {
        return None;
    }
    let absolute = |v: std::ffi::OsString| {
        let p = PathBuf::from(v);
        p.is_absolute().then_some(p)
    };
    if let Some(dir) = std::env::var_os("CLOUDIMAGE_PACING_DIR").and_then(absolute) {
        return Some(dir);
    }
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .and_then(absolute)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").and_then(absolute))
        .or_else(|| {
            std::env::var_os("HOME")
                .and_then(absolute)
                .map(|h| h.join(".cache"))
        })?;
    Some(base.join("terraform-provider-cloudimage").join("pacing"))
}

/// Why the shared state could not be used (the caller falls back to pacing in this process alone).
#[derive(Debug, thiserror::Error)]
pub(crate) enum SharedError {
    /// A file system call failed.
    #[error("pacing state {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
}

/// A directory of shared pacing files.
#[derive(Debug, Clone)]
pub(crate) struct SharedDir {
    dir: PathBuf,
}

/// Unix time in nanoseconds: the clock every process sharing a file agrees on.
pub(crate) fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Whether process `pid` still exists (signal 0). Only "no such process" says it is gone; anything else (another
/// user's process) counts as alive.
fn alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    !matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}

impl SharedDir {
    /// State files in `dir` (made on first use, private to the user).
    pub(crate) fn new(dir: PathBuf) -> Self {
        SharedDir { dir }
    }

    /// The file of `key`: a hash, so account names and endpoints are not spelled out on disk.
    fn file_of(&self, key: &str) -> PathBuf {
        let digest = Sha256::digest(key.as_bytes());
        self.dir
            .join(format!("{}.json", hex::encode(&digest[..16])))
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SharedError + '_ {
        move |source| SharedError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Runs `f` on the state of `key` under the file's exclusive lock, with the time now and after tidying (turns
    /// of processes that are gone given back), and writes the state back. Blocking: call it off the async threads.
    pub(crate) fn with<R>(
        &self,
        key: &str,
        ceiling: f64,
        f: impl FnOnce(&mut Window, u64) -> R,
    ) -> Result<R, SharedError> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(Self::io(&self.dir))?;
        let path = self.file_of(key);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(Self::io(&path))?;
        flock(&file, FlockOperation::LockExclusive)
            .map_err(|e| Self::io(&path)(std::io::Error::from(e)))?;
        let out = Self::locked(&mut file, ceiling, f).map_err(Self::io(&path));
        // Closing the file drops the lock as well; unlocking first lets a waiter in before the close.
        let _ = flock(&file, FlockOperation::Unlock);
        out
    }

    fn locked<R>(
        file: &mut File,
        ceiling: f64,
        f: impl FnOnce(&mut Window, u64) -> R,
    ) -> std::io::Result<R> {
        let mut text = Vec::new();
        file.read_to_end(&mut text)?;
        // An empty, torn or foreign file is a fresh state: the worst it costs is one window of turns.
        let mut window: Window = serde_json::from_slice(&text).unwrap_or_default();
        let now = unix_nanos();
        window.tidy(now, ceiling, alive);
        let out = f(&mut window, now);
        let text = serde_json::to_vec(&window).map_err(std::io::Error::other)?;
        file.seek(SeekFrom::Start(0))?;
        file.set_len(0)?;
        file.write_all(&text)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::window::Take;
    use super::*;

    #[test]
    fn processes_share_one_budget_and_a_dead_one_holds_none() {
        let dir = tempfile::tempdir().unwrap();
        let shared = SharedDir::new(dir.path().join("pacing"));
        let key = "tencentcloud https://cvm AKID ap-guangzhou ImportImage";
        // A process that took a turn and died without an answer (a real, finished process id).
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let taken = shared
            .with(key, 2.0, |w, now| w.try_take(now, 2.0, 1, dead))
            .unwrap();
        assert_eq!(taken, Take::Taken);
        // This process takes the other turn; the third finds none free until an answer comes (the dead process's
        // turn counts as answered when it is found dead, so it is free a window later).
        let me = std::process::id();
        let second = shared
            .with(key, 2.0, |w, now| w.try_take(now, 2.0, 2, me))
            .unwrap();
        assert_eq!(second, Take::Taken);
        let third = shared
            .with(key, 2.0, |w, now| w.try_take(now, 2.0, 3, me))
            .unwrap();
        assert!(matches!(third, Take::WaitUntil(_)), "{third:?}");
        // Another key is another budget.
        let other = shared
            .with("other", 2.0, |w, now| w.try_take(now, 2.0, 4, me))
            .unwrap();
        assert_eq!(other, Take::Taken);
        // The files are the user's only.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("pacing"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn a_garbled_file_is_a_fresh_state() {
        let dir = tempfile::tempdir().unwrap();
        let shared = SharedDir::new(dir.path().to_path_buf());
        std::fs::write(shared.file_of("k"), b"{not json").unwrap();
        let t = shared
            .with("k", 1.0, |w, now| {
                w.try_take(now, 1.0, 1, std::process::id())
            })
            .unwrap();
        assert_eq!(t, Take::Taken);
    }
}
