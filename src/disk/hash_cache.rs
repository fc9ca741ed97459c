//! The SHA-256 of a local file, remembered across runs so an unchanged 10 GiB image is not re-read on every plan.
//!
//! An entry is keyed by the file's canonical path and trusted only while the file's identity on disk is the same:
//! size, modification time, change time, inode and device. The change time cannot be set by tools (unlike the
//! modification time, which `cp -p`, `rsync -t` or `touch -d` restore), so a rewrite that keeps the old mtime is
//! still noticed. A file modified within [`RACY_WINDOW`] before its hash was taken is hashed again next time, since
//! a write in the same timestamp tick would not show in its metadata (git's "racily clean" rule).
//!
//! Entries live one per file in `$XDG_CACHE_HOME/terraform-provider-cloudimage/sha256/` (else
//! `~/.cache/terraform-provider-cloudimage/sha256/`), written atomically; a damaged or foreign entry is a miss.
//!
//! Within one process, callers that ask for the same file while it is being read wait for that read instead of
//! starting their own: Terraform plans up to ten resources at once, and a `for_each` over several clouds from one
//! freshly built 10 GiB image would otherwise read it once per cloud, all at the same time.

use std::collections::HashMap;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// Directory name under the user's cache directory.
pub const CACHE_DIR_NAME: &str = "terraform-provider-cloudimage";
/// A file whose mtime is this close to (or after) the start of its hashing is not trusted from the cache.
/// Two seconds covers the coarsest common mtime granularity (FAT).
pub const RACY_WINDOW: Duration = Duration::from_secs(2);
/// Largest cache entry read back.
const MAX_ENTRY: u64 = 16 << 10;
/// Read size while hashing.
const CHUNK: usize = 1 << 20;

/// Errors of hashing a file (cache trouble is never an error: it only costs a re-hash).
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The file cannot be opened, examined or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file is not a regular file.
    #[error("{0} is not a regular file")]
    NotAFile(PathBuf),
    /// The file changed while it was being hashed.
    #[error("{0} changed while it was being read; try again once it is complete")]
    Changed(PathBuf),
    /// The caller stopped waiting (Terraform asked the provider to stop) before the file was read.
    #[error("{0}: reading stopped before the end, as asked")]
    Interrupted(PathBuf),
}

/// Sets its flag when dropped: a hash whose caller went away (its future dropped, as a plan interrupted by
/// Ctrl-C drops it) stops reading at the next chunk instead of reading the rest of a large file for nobody.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A file's content digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// True when this call did not read the file: a cache entry, or another caller's read of the same unchanged
    /// file that was under way when this call came.
    pub from_cache: bool,
}

/// One read of a file shared by the callers that came while it ran: the digest, or `None` when that read failed
/// (each waiter then reads for itself, to report its own error).
type SharedRead = Arc<OnceLock<Option<FileDigest>>>;

/// Reads under way in this process, by the identity of the file they read.
fn reads_in_flight() -> &'static Mutex<HashMap<Identity, SharedRead>> {
    static READS: OnceLock<Mutex<HashMap<Identity, SharedRead>>> = OnceLock::new();
    READS.get_or_init(Mutex::default)
}

/// The files this process has read to hash them, each as often as it was read (the tests count reads with it, per
/// file, so that tests reading other files at the same time do not disturb the count).
#[cfg(test)]
static FILES_READ: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// The identity of a file on disk that a cache entry is valid for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
struct Identity {
    path: String,
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    inode: u64,
    device: u64,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Entry {
    identity: Identity,
    sha256: String,
    /// When hashing started, nanoseconds since the epoch.
    hashed_at_ns: i64,
}

fn identity(path: &Path, meta: &std::fs::Metadata) -> Identity {
    Identity {
        path: path.to_string_lossy().into_owned(),
        size: meta.len(),
        mtime_ns: meta
            .mtime()
            .saturating_mul(1_000_000_000)
            .saturating_add(meta.mtime_nsec()),
        ctime_ns: meta
            .ctime()
            .saturating_mul(1_000_000_000)
            .saturating_add(meta.ctime_nsec()),
        inode: meta.ino(),
        device: meta.dev(),
    }
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// The SHA-256 cache of local files.
#[derive(Debug, Clone)]
pub struct HashCache {
    dir: Option<PathBuf>,
}

impl HashCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: PathBuf) -> Self {
        Self { dir: Some(dir) }
    }

    /// A cache that remembers nothing (every call hashes the file).
    pub fn disabled() -> Self {
        Self { dir: None }
    }

    /// The user's cache: `$XDG_CACHE_HOME/terraform-provider-cloudimage/sha256`, else `$HOME/.cache/...`; disabled
    /// when neither variable is set to an absolute path.
    pub fn user_default() -> Self {
        match default_dir(std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME")) {
            Some(dir) => Self::new(dir),
            None => Self::disabled(),
        }
    }

    /// Where entries are kept, if anywhere.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    fn entry_path(&self, canonical: &Path) -> Option<PathBuf> {
        let name = hex::encode(Sha256::digest(canonical.as_os_str().as_encoded_bytes()));
        self.dir.as_ref().map(|d| d.join(format!("{name}.json")))
    }

    /// The cached digest of `path` if the file is unchanged since it was hashed; never reads the file.
    pub fn lookup(&self, path: &Path) -> Result<Option<FileDigest>, HashError> {
        let (canonical, meta) = stat(path)?;
        Ok(self.lookup_identity(&identity(&canonical, &meta)))
    }

    fn lookup_identity(&self, id: &Identity) -> Option<FileDigest> {
        let entry_path = self.entry_path(Path::new(&id.path))?;
        let file = std::fs::File::open(entry_path).ok()?;
        let mut text = String::new();
        file.take(MAX_ENTRY).read_to_string(&mut text).ok()?;
        let entry: Entry = serde_json::from_str(&text).ok()?;
        let racy = entry.hashed_at_ns.saturating_sub(id.mtime_ns) < RACY_WINDOW.as_nanos() as i64;
        let valid_hex =
            entry.sha256.len() == 64 && entry.sha256.bytes().all(|b| b.is_ascii_hexdigit());
        (entry.identity == *id && !racy && valid_hex).then(|| FileDigest {
            sha256: entry.sha256.to_ascii_lowercase(),
            size: id.size,
            from_cache: true,
        })
    }

    /// The SHA-256 of `path`: from the cache when the file is unchanged, else by reading it (on tokio's blocking
    /// pool) and remembering the result.
    ///
    /// Dropping the future stops the read at the next 1 MiB chunk.
    pub async fn sha256(&self, path: &Path) -> Result<FileDigest, HashError> {
        let this = self.clone();
        let path = path.to_path_buf();
        let cancel = Arc::new(AtomicBool::new(false));
        let _stop_on_drop = CancelOnDrop(Arc::clone(&cancel));
        tokio::task::spawn_blocking(move || this.sha256_until(&path, &cancel))
            .await
            .map_err(|e| HashError::Io {
                path: PathBuf::new(),
                source: io::Error::other(e),
            })?
    }

    /// [`HashCache::sha256`] on the calling thread.
    pub fn sha256_blocking(&self, path: &Path) -> Result<FileDigest, HashError> {
        self.sha256_until(path, &AtomicBool::new(false))
    }

    /// [`HashCache::sha256_blocking`] that stops reading once `cancel` is set.
    fn sha256_until(&self, path: &Path, cancel: &AtomicBool) -> Result<FileDigest, HashError> {
        let (canonical, meta) = stat(path)?;
        let before = identity(&canonical, &meta);
        if let Some(hit) = self.lookup_identity(&before) {
            return Ok(hit);
        }
        let shared: SharedRead = Arc::clone(
            reads_in_flight()
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(before.clone())
                .or_default(),
        );
        let mut read_here = None;
        let outcome = shared.get_or_init(|| {
            let result = self.read_and_store(&canonical, before.clone(), cancel);
            let digest = result.as_ref().ok().cloned();
            read_here = Some(result);
            digest
        });
        if read_here.is_some() {
            let mut reads = reads_in_flight()
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if reads.get(&before).is_some_and(|r| Arc::ptr_eq(r, &shared)) {
                reads.remove(&before);
            }
        }
        match (read_here, outcome) {
            (Some(result), _) => result,
            (None, Some(digest)) => Ok(FileDigest {
                from_cache: true,
                ..digest.clone()
            }),
            (None, None) => self.read_and_store(&canonical, before, cancel),
        }
    }

    /// Reads the whole file, checks that it did not change meanwhile, and remembers its digest.
    fn read_and_store(
        &self,
        canonical: &Path,
        before: Identity,
        cancel: &AtomicBool,
    ) -> Result<FileDigest, HashError> {
        #[cfg(test)]
        if let Ok(mut read) = FILES_READ.lock() {
            read.push(canonical.to_path_buf());
        }
        let canonical = canonical.to_path_buf();
        let started = now_ns();
        let io_err = |source| HashError::Io {
            path: canonical.clone(),
            source,
        };
        let mut file = std::fs::File::open(&canonical).map_err(io_err)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; CHUNK];
        let mut total = 0u64;
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(HashError::Interrupted(canonical));
            }
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_err(e)),
            };
            hasher.update(&buf[..n]);
            total += n as u64;
        }
        let after_meta = file.metadata().map_err(io_err)?;
        let after = identity(&canonical, &after_meta);
        if after != before || total != before.size {
            return Err(HashError::Changed(canonical));
        }
        let sha256 = hex::encode(hasher.finalize());
        self.store(&Entry {
            identity: before,
            sha256: sha256.clone(),
            hashed_at_ns: started,
        });
        Ok(FileDigest {
            sha256,
            size: total,
            from_cache: false,
        })
    }

    /// Writes an entry atomically (temporary file + rename); failures are logged and ignored.
    fn store(&self, entry: &Entry) {
        let Some(target) = self.entry_path(Path::new(&entry.identity.path)) else {
            return;
        };
        let result = (|| -> io::Result<()> {
            let dir = target.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir)?;
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            serde_json::to_writer(&mut tmp, entry).map_err(io::Error::other)?;
            tmp.persist(&target).map_err(|e| e.error)?;
            Ok(())
        })();
        if let Err(e) = result {
            tracing::debug!(error = %e, cache = %target.display(), "could not write the file hash cache");
        }
    }
}

/// `$XDG_CACHE_HOME/<name>/sha256` or `$HOME/.cache/<name>/sha256`; relative values are ignored as the XDG base
/// directory specification says.
pub fn default_dir(
    xdg_cache_home: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> Option<PathBuf> {
    let abs = |v: Option<std::ffi::OsString>| v.map(PathBuf::from).filter(|p| p.is_absolute());
    let base = abs(xdg_cache_home).or_else(|| abs(home).map(|h| h.join(".cache")))?;
    Some(base.join(CACHE_DIR_NAME).join("sha256"))
}

fn stat(path: &Path) -> Result<(PathBuf, std::fs::Metadata), HashError> {
    let canonical = std::fs::canonicalize(path).map_err(|source| HashError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let meta = std::fs::metadata(&canonical).map_err(|source| HashError::Io {
        path: canonical.clone(),
        source,
    })?;
    if !meta.is_file() {
        return Err(HashError::NotAFile(canonical));
    }
    Ok((canonical, meta))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::FileTimes;

    fn set_mtime(path: &Path, t: SystemTime) {
        let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        f.set_times(FileTimes::new().set_modified(t)).unwrap();
    }

    fn old() -> SystemTime {
        SystemTime::now() - Duration::from_secs(3600)
    }

    #[test]
    fn hashes_then_serves_from_cache_until_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = HashCache::new(dir.path().join("cache"));
        let file = dir.path().join("disk.img");
        std::fs::write(&file, b"hello").unwrap();
        set_mtime(&file, old());
        let d = cache.sha256_blocking(&file).unwrap();
        assert!(!d.from_cache);
        assert_eq!(
            d.sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        let d2 = cache.sha256_blocking(&file).unwrap();
        assert!(d2.from_cache);
        assert_eq!(d2.sha256, d.sha256);
        // The same path through a symlink is the same entry.
        let link = dir.path().join("link.img");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(cache.lookup(&link).unwrap().is_some());

        // Same size, mtime restored: the ctime still tells.
        std::fs::write(&file, b"jello").unwrap();
        set_mtime(&file, old());
        assert!(cache.lookup(&file).unwrap().is_none());
        let d3 = cache.sha256_blocking(&file).unwrap();
        assert!(!d3.from_cache);
        assert_ne!(d3.sha256, d.sha256);
    }

    #[test]
    fn freshly_written_files_are_rehashed_once() {
        let dir = tempfile::tempdir().unwrap();
        let cache = HashCache::new(dir.path().join("cache"));
        let file = dir.path().join("new.img");
        std::fs::write(&file, b"just built").unwrap();
        assert!(!cache.sha256_blocking(&file).unwrap().from_cache);
        // mtime is within the racy window of the first hash: not trusted.
        assert!(cache.lookup(&file).unwrap().is_none());
    }

    #[test]
    fn damaged_entries_are_misses_and_the_cache_can_be_off() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("cache");
        let cache = HashCache::new(cache_dir.clone());
        let file = dir.path().join("a.img");
        std::fs::write(&file, vec![7u8; 3 << 20]).unwrap();
        set_mtime(&file, old());
        let d = cache.sha256_blocking(&file).unwrap();
        for entry in std::fs::read_dir(&cache_dir).unwrap() {
            std::fs::write(entry.unwrap().path(), b"{not json").unwrap();
        }
        let again = cache.sha256_blocking(&file).unwrap();
        assert!(!again.from_cache);
        assert_eq!(again.sha256, d.sha256);
        let off = HashCache::disabled();
        assert!(!off.sha256_blocking(&file).unwrap().from_cache);
        assert!(!off.sha256_blocking(&file).unwrap().from_cache);
        assert!(matches!(
            cache.sha256_blocking(dir.path()),
            Err(HashError::NotAFile(_))
        ));
        assert!(matches!(
            cache.sha256_blocking(&dir.path().join("nope")),
            Err(HashError::Io { .. })
        ));
    }

    #[test]
    fn callers_that_come_during_a_read_share_it() {
        let dir = tempfile::tempdir().unwrap();
        let cache = HashCache::new(dir.path().join("cache"));
        let file = dir.path().join("shared.img");
        // Big enough that the read is still under way when the other callers come, even in a debug build.
        std::fs::write(&file, vec![5u8; 96 << 20]).unwrap();
        set_mtime(&file, old());
        let barrier = std::sync::Barrier::new(6);
        let digests: Vec<FileDigest> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..6)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        cache.sha256_blocking(&file).unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(digests.iter().all(|d| d.sha256 == digests[0].sha256));
        assert_eq!(digests.iter().filter(|d| !d.from_cache).count(), 1);
        // This file was read once: a caller that comes during the read waits for it, a late one finds the entry.
        let reads = FILES_READ.lock().unwrap();
        assert_eq!(
            reads.iter().filter(|p| p.ends_with("shared.img")).count(),
            1
        );
        drop(reads);
        assert!(reads_in_flight()
            .lock()
            .unwrap()
            .keys()
            .all(|id| !id.path.ends_with("shared.img")));
    }

    #[test]
    fn default_dir_follows_xdg() {
        assert_eq!(
            default_dir(Some("/x/cache".into()), Some("/home/u".into())),
            Some(PathBuf::from(
                "/x/cache/terraform-provider-cloudimage/sha256"
            ))
        );
        assert_eq!(
            default_dir(Some("relative".into()), Some("/home/u".into())),
            Some(PathBuf::from(
                "/home/u/.cache/terraform-provider-cloudimage/sha256"
            ))
        );
        assert_eq!(default_dir(None, None), None);
    }

    /// A hash whose caller stops waiting stops reading: a 4 GiB sparse file is not read to the end.
    #[tokio::test]
    async fn a_dropped_hash_stops_reading() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big.raw");
        std::fs::File::create(&file)
            .unwrap()
            .set_len(4 << 30)
            .unwrap();
        let cache = HashCache::new(dir.path().join("cache"));
        let started = std::time::Instant::now();
        let r = tokio::time::timeout(Duration::from_millis(100), cache.sha256(&file)).await;
        assert!(r.is_err(), "4 GiB hashed in 100 ms?");
        // The blocking read sees the flag at its next chunk; another hash of the file can start at once.
        let flag = AtomicBool::new(true);
        let again = cache.sha256_until(&file, &flag);
        assert!(matches!(again, Err(HashError::Interrupted(_))), "{again:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
