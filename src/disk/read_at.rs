//! Positional reads: the one thing disk inspection needs from where an image lives.
//!
//! The same inspection code reads a local file, a ranged GET of an object in storage, or the guest disk inside a
//! qcow2/VMDK/VHD container, because all of them are [`ReadAt`].

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The largest single read an inspection makes; readers may refuse larger ones (a guard against sizes taken from
/// hostile headers turning into huge allocations).
pub const MAX_READ_LEN: usize = 4 << 20;

/// Random access to a byte range of something with a known size.
///
/// Exists so that disk inspection does not care whether the bytes come from a local file, an HTTP range request or
/// a container format's guest view.
#[async_trait::async_trait]
pub trait ReadAt: Send + Sync {
    /// Size in bytes of the readable data.
    fn size(&self) -> u64;

    /// Reads up to `len` bytes at `offset`. Returns fewer only where the data ends (an empty vector at or past the
    /// end); never more than `len`. Implementations may refuse `len > MAX_READ_LEN`.
    async fn read_at(&self, offset: u64, len: usize) -> io::Result<Vec<u8>>;
}

/// Checks a requested length against [`MAX_READ_LEN`]; implementations call it first.
pub fn check_read_len(len: usize) -> io::Result<()> {
    if len > MAX_READ_LEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("read of {len} bytes exceeds the {MAX_READ_LEN}-byte limit"),
        ));
    }
    Ok(())
}

/// A local file read with `pread` on tokio's blocking pool.
#[derive(Debug, Clone)]
pub struct FileReader {
    file: Arc<std::fs::File>,
    size: u64,
    path: PathBuf,
}

impl FileReader {
    /// Opens `path` for positional reads; its size is taken once, now.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a regular file", path.display()),
            ));
        }
        Ok(Self {
            file: Arc::new(file),
            size: meta.len(),
            path: path.to_path_buf(),
        })
    }

    /// The path this reader was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[async_trait::async_trait]
impl ReadAt for FileReader {
    fn size(&self) -> u64 {
        self.size
    }

    async fn read_at(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        check_read_len(len)?;
        let file = Arc::clone(&self.file);
        tokio::task::spawn_blocking(move || pread_up_to(&file, offset, len))
            .await
            .map_err(io::Error::other)?
    }
}

/// Reads up to `len` bytes at `offset`, stopping early only at end of file.
pub(crate) fn pread_up_to(file: &std::fs::File, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; len];
    let mut done = 0;
    while done < len {
        let Some(at) = offset.checked_add(done as u64) else {
            break;
        };
        match file.read_at(&mut buf[done..], at) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(done);
    Ok(buf)
}

/// Bytes in memory as a [`ReadAt`] (tests, and data already fetched).
#[derive(Debug, Clone)]
pub struct BytesReader(pub Arc<Vec<u8>>);

impl BytesReader {
    /// Wraps `data`.
    pub fn new(data: Vec<u8>) -> Self {
        Self(Arc::new(data))
    }
}

#[async_trait::async_trait]
impl ReadAt for BytesReader {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }

    async fn read_at(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        check_read_len(len)?;
        let Ok(start) = usize::try_from(offset) else {
            return Ok(Vec::new());
        };
        if start >= self.0.len() {
            return Ok(Vec::new());
        }
        let end = start.saturating_add(len).min(self.0.len());
        Ok(self.0[start..end].to_vec())
    }
}

/// Block size of [`CachedReader`].
const CACHE_BLOCK: u64 = 64 << 10;

/// A small read cache in front of a slow [`ReadAt`] (an object in storage): reads are rounded to 64 KiB blocks
/// and the last few blocks are kept, so the handful of nearby header, table and sector reads of an inspection cost
/// a handful of requests.
pub struct CachedReader {
    inner: Arc<dyn ReadAt>,
    capacity: usize,
    blocks: Mutex<Vec<(u64, Arc<Vec<u8>>)>>,
}

impl CachedReader {
    /// Caches up to `capacity` 64 KiB blocks of `inner`.
    pub fn new(inner: Arc<dyn ReadAt>, capacity: usize) -> Self {
        Self {
            inner,
            capacity: capacity.max(1),
            blocks: Mutex::new(Vec::new()),
        }
    }

    fn cached(&self, block: u64) -> Option<Arc<Vec<u8>>> {
        let mut blocks = self.blocks.lock().ok()?;
        let pos = blocks.iter().position(|(b, _)| *b == block)?;
        // Most recently used at the end.
        let entry = blocks.remove(pos);
        let data = Arc::clone(&entry.1);
        blocks.push(entry);
        Some(data)
    }

    fn remember(&self, block: u64, data: Arc<Vec<u8>>) {
        if let Ok(mut blocks) = self.blocks.lock() {
            blocks.retain(|(b, _)| *b != block);
            if blocks.len() >= self.capacity {
                blocks.remove(0);
            }
            blocks.push((block, data));
        }
    }

    async fn block(&self, block: u64) -> io::Result<Arc<Vec<u8>>> {
        if let Some(data) = self.cached(block) {
            return Ok(data);
        }
        let data = Arc::new(
            self.inner
                .read_at(block * CACHE_BLOCK, CACHE_BLOCK as usize)
                .await?,
        );
        self.remember(block, Arc::clone(&data));
        Ok(data)
    }
}

#[async_trait::async_trait]
impl ReadAt for CachedReader {
    fn size(&self) -> u64 {
        self.inner.size()
    }

    async fn read_at(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        check_read_len(len)?;
        let end = offset.saturating_add(len as u64).min(self.size());
        let mut out = Vec::with_capacity(end.saturating_sub(offset) as usize);
        let mut pos = offset;
        while pos < end {
            let block = pos / CACHE_BLOCK;
            let data = self.block(block).await?;
            let within = (pos - block * CACHE_BLOCK) as usize;
            if within >= data.len() {
                break; // the inner reader ended early
            }
            let take = (data.len() - within).min((end - pos) as usize);
            out.extend_from_slice(&data[within..within + take]);
            pos += take as u64;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(BytesReader, AtomicUsize);

    #[async_trait::async_trait]
    impl ReadAt for Counting {
        fn size(&self) -> u64 {
            self.0.size()
        }
        async fn read_at(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
            self.1.fetch_add(1, Ordering::SeqCst);
            self.0.read_at(offset, len).await
        }
    }

    #[tokio::test]
    async fn bytes_reader_clamps_at_the_end() {
        let r = BytesReader::new((0u8..10).collect());
        assert_eq!(r.read_at(8, 5).await.unwrap(), vec![8, 9]);
        assert!(r.read_at(10, 5).await.unwrap().is_empty());
        assert!(r.read_at(u64::MAX, 5).await.unwrap().is_empty());
        assert!(r.read_at(0, MAX_READ_LEN + 1).await.is_err());
    }

    #[tokio::test]
    async fn cached_reader_serves_nearby_reads_from_one_block() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let inner = Arc::new(Counting(
            BytesReader::new(data.clone()),
            AtomicUsize::new(0),
        ));
        let cached = CachedReader::new(inner.clone(), 4);
        assert_eq!(cached.read_at(10, 100).await.unwrap(), data[10..110]);
        assert_eq!(cached.read_at(512, 512).await.unwrap(), data[512..1024]);
        assert_eq!(inner.1.load(Ordering::SeqCst), 1);
        // Across a block boundary and past the end.
        let at = 65_536 - 10;
        assert_eq!(
            cached.read_at(at, 20).await.unwrap(),
            data[at as usize..at as usize + 20]
        );
        assert_eq!(cached.read_at(199_990, 100).await.unwrap(), data[199_990..]);
        assert!(cached.read_at(300_000, 10).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn file_reader_reads_positions() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"hello world").unwrap();
        let r = FileReader::open(&p).unwrap();
        assert_eq!(r.size(), 11);
        assert_eq!(r.read_at(6, 100).await.unwrap(), b"world");
        assert!(FileReader::open(dir.path()).is_err());
    }
}
