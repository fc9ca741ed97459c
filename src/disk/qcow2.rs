//! qcow2 (QEMU copy-on-write v2/v3): header, and the guest disk through the L1/L2 cluster tables.
//!
//! Layout from QEMU's `docs/interop/qcow2.txt` (qemu/qemu). Only what a plan-time check needs is followed:
//! uncompressed, unencrypted clusters of an image without a backing file or external data file; anything else
//! makes the guest [`GuestAccess::Unreadable`](super::GuestAccess) with the reason.

use std::io;
use std::sync::Arc;

use super::error::DiskError;
use super::fields::{be32, be64};
use super::read_at::{check_read_len, ReadAt};
use super::{read_exact, Detail, Opened};

pub(crate) const MAGIC: &[u8; 4] = b"QFI\xfb";
const FORMAT: &str = "qcow2";
/// Bits 9-55 of L1 and L2 entries: a host offset.
const OFFSET_MASK: u64 = 0x00ff_ffff_ffff_fe00;
const L2_COMPRESSED: u64 = 1 << 62;
const L2_ZERO: u64 = 1;
/// Incompatible feature bits (v3).
const INCOMPAT_DIRTY: u64 = 1;
const INCOMPAT_CORRUPT: u64 = 1 << 1;
const INCOMPAT_EXTERNAL_DATA: u64 = 1 << 2;
const INCOMPAT_COMPRESSION_TYPE: u64 = 1 << 3;
const INCOMPAT_EXTENDED_L2: u64 = 1 << 4;
/// QEMU's own limit on a backing file name.
const MAX_BACKING_NAME: u32 = 1023;

/// Parses the header at the start of `file` (which begins with [`MAGIC`]) and opens the guest where possible.
pub(crate) async fn open(file: Arc<dyn ReadAt>) -> Result<Opened, DiskError> {
    let h = read_exact(&*file, 0, 104.min(file.size() as usize), "qcow2 header").await?;
    if h.len() < 72 {
        return Err(DiskError::corrupt(FORMAT, "header shorter than 72 bytes"));
    }
    let version = be32(&h, 4);
    let backing_offset = be64(&h, 8);
    let backing_size = be32(&h, 16);
    let cluster_bits = be32(&h, 20);
    let virtual_size = be64(&h, 24);
    let crypt_method = be32(&h, 32);
    let l1_size = be32(&h, 36);
    let l1_offset = be64(&h, 40);
    let incompatible = if version >= 3 { be64(&h, 72) } else { 0 };

    let mut detail = Qcow2Detail {
        version,
        cluster_size: 0,
        backing_file: None,
        encrypted: crypt_method != 0,
    };
    if version == 1 {
        // qcow version 1 shares the magic and keeps the size at the same place.
        return Ok(Opened {
            detail: Detail::Qcow2(detail),
            virtual_size: Some(virtual_size),
            guest: Err("qcow version 1 images are not read by this inspector".into()),
            incomplete: None,
        });
    }
    if !(2..=3).contains(&version) {
        return Err(DiskError::corrupt(
            FORMAT,
            format!("unknown version {version}"),
        ));
    }
    if !(9..=21).contains(&cluster_bits) {
        return Err(DiskError::corrupt(
            FORMAT,
            format!("cluster_bits {cluster_bits} outside 9..=21"),
        ));
    }
    let cluster_size = 1u64 << cluster_bits;
    detail.cluster_size = cluster_size;
    let l2_bits = cluster_bits - 3;
    // Guest bytes one L1 entry covers; the L1 table must cover the whole virtual size.
    let per_l1 = 1u64 << (cluster_bits + l2_bits);
    let needed_l1 = virtual_size.div_ceil(per_l1);
    if u64::from(l1_size) < needed_l1 {
        return Err(DiskError::corrupt(
            FORMAT,
            format!("L1 table of {l1_size} entries cannot cover {virtual_size} bytes"),
        ));
    }
    if l1_offset % cluster_size != 0 {
        return Err(DiskError::corrupt(
            FORMAT,
            "L1 table offset is not cluster aligned",
        ));
    }

    if backing_offset != 0 && backing_size != 0 {
        if backing_size > MAX_BACKING_NAME {
            return Err(DiskError::corrupt(
                FORMAT,
                "backing file name longer than 1023 bytes",
            ));
        }
        let name = read_exact(
            &*file,
            backing_offset,
            backing_size as usize,
            "qcow2 backing file name",
        )
        .await?;
        detail.backing_file = Some(String::from_utf8_lossy(&name).into_owned());
    }

    // What makes this file less than the whole disk: another file holds part of it, or a key is needed to
    // read it, or qemu itself would refuse it. A cloud imports this one file, so each of these is an import that
    // cannot boot.
    let incomplete = if let Some(b) = &detail.backing_file {
        Some(format!(
            "the qcow2 image has a backing file ({b:?}); only the overlay's own clusters are in this file"
        ))
    } else if detail.encrypted {
        Some("the qcow2 image is encrypted; the cloud's import has no key to read it".to_string())
    } else if incompatible & INCOMPAT_EXTERNAL_DATA != 0 {
        Some("the qcow2 image keeps its data in an external data file".to_string())
    } else if incompatible
        & !(INCOMPAT_DIRTY
            | INCOMPAT_CORRUPT
            | INCOMPAT_EXTERNAL_DATA
            | INCOMPAT_COMPRESSION_TYPE
            | INCOMPAT_EXTENDED_L2)
        != 0
    {
        Some(format!(
            "the qcow2 image uses unknown incompatible features {incompatible:#x}, which qemu refuses to open"
        ))
    } else {
        None
    };
    let unreadable = if let Some(why) = &incomplete {
        Some(why.clone())
    } else if incompatible & INCOMPAT_EXTENDED_L2 != 0 {
        Some("the qcow2 image uses extended L2 entries (subclusters)".to_string())
    } else if incompatible & INCOMPAT_CORRUPT != 0 {
        Some("the qcow2 image is marked corrupt".to_string())
    } else {
        None
    };
    let guest: Result<Arc<dyn ReadAt>, String> = match unreadable {
        Some(reason) => Err(reason),
        None => Ok(Arc::new(Qcow2Guest {
            file,
            cluster_bits,
            l2_bits,
            l1_size,
            l1_offset,
            size: virtual_size,
            version,
        })),
    };
    Ok(Opened {
        detail: Detail::Qcow2(detail),
        virtual_size: Some(virtual_size),
        guest,
        incomplete,
    })
}

/// What the qcow2 header says about the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qcow2Detail {
    /// Header version: 2 (QEMU's `compat=0.10`), 3 (`compat=1.1`), or 1 (the old qcow format).
    pub version: u32,
    /// Cluster size in bytes (0 for version 1).
    pub cluster_size: u64,
    /// The backing file name, when the image is an overlay.
    pub backing_file: Option<String>,
    /// True when the image is encrypted.
    pub encrypted: bool,
}

/// Where one guest cluster's data is.
enum Mapping {
    Zero,
    Host(u64),
}

/// The guest disk of a qcow2 image.
struct Qcow2Guest {
    file: Arc<dyn ReadAt>,
    cluster_bits: u32,
    l2_bits: u32,
    l1_size: u32,
    l1_offset: u64,
    size: u64,
    version: u32,
}

impl Qcow2Guest {
    async fn entry(&self, at: u64, what: &'static str) -> Result<u64, DiskError> {
        let b = read_exact(&*self.file, at, 8, what).await?;
        Ok(be64(&b, 0))
    }

    async fn map(&self, guest: u64) -> Result<Mapping, DiskError> {
        let cluster_size = 1u64 << self.cluster_bits;
        let l1_index = guest >> (self.cluster_bits + self.l2_bits);
        if l1_index >= u64::from(self.l1_size) {
            return Err(DiskError::corrupt(
                FORMAT,
                "guest offset beyond the L1 table",
            ));
        }
        let l1_at = self
            .l1_offset
            .checked_add(l1_index * 8)
            .ok_or_else(|| DiskError::corrupt(FORMAT, "L1 table offset overflows"))?;
        let l1 = self.entry(l1_at, "qcow2 L1 entry").await?;
        let l2_offset = l1 & OFFSET_MASK;
        if l2_offset == 0 {
            return Ok(Mapping::Zero);
        }
        if l2_offset % cluster_size != 0 {
            return Err(DiskError::corrupt(
                FORMAT,
                "L2 table offset is not cluster aligned",
            ));
        }
        let l2_index = (guest >> self.cluster_bits) & ((1u64 << self.l2_bits) - 1);
        let l2 = self
            .entry(l2_offset + l2_index * 8, "qcow2 L2 entry")
            .await?;
        if l2 & L2_COMPRESSED != 0 {
            return Err(DiskError::Unsupported(
                "the qcow2 image has compressed clusters, which this inspector does not decompress"
                    .into(),
            ));
        }
        if self.version >= 3 && l2 & L2_ZERO != 0 {
            return Ok(Mapping::Zero);
        }
        let host = l2 & OFFSET_MASK;
        if host == 0 {
            // Unallocated, and there is no backing file: reads as zeros.
            return Ok(Mapping::Zero);
        }
        if host % cluster_size != 0 {
            return Err(DiskError::corrupt(
                FORMAT,
                "data cluster offset is not cluster aligned",
            ));
        }
        Ok(Mapping::Host(host))
    }
}

#[async_trait::async_trait]
impl ReadAt for Qcow2Guest {
    fn size(&self) -> u64 {
        self.size
    }

    async fn read_at(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        check_read_len(len)?;
        read_mapped(
            self.size,
            1u64 << self.cluster_bits,
            offset,
            len,
            |pos| async move {
                Ok(match self.map(pos).await? {
                    Mapping::Zero => None,
                    Mapping::Host(h) => Some(h),
                })
            },
            &*self.file,
        )
        .await
    }
}

/// Reads guest bytes `[offset, offset+len)` (clamped to `size`) one `unit`-sized, `unit`-aligned piece at a time:
/// `map(pos)` gives the host offset of the unit holding `pos` (`None`: zeros).
pub(crate) async fn read_mapped<F, Fut>(
    size: u64,
    unit: u64,
    offset: u64,
    len: usize,
    map: F,
    file: &dyn ReadAt,
) -> io::Result<Vec<u8>>
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = Result<Option<u64>, DiskError>>,
{
    let end = offset.saturating_add(len as u64).min(size);
    let mut out = Vec::with_capacity(end.saturating_sub(offset) as usize);
    let mut pos = offset;
    while pos < end {
        let within = pos % unit;
        let take = (unit - within).min(end - pos) as usize;
        match map(pos).await.map_err(to_io)? {
            None => out.resize(out.len() + take, 0),
            Some(host) => {
                let at = host
                    .checked_add(within)
                    .ok_or_else(|| to_io(DiskError::Unsupported("host offset overflows".into())))?;
                let data = read_exact(file, at, take, "guest data")
                    .await
                    .map_err(to_io)?;
                out.extend_from_slice(&data);
            }
        }
        pos += take as u64;
    }
    Ok(out)
}

/// Guest readers speak `io::Error`; the [`DiskError`] rides inside and is recovered by [`super::from_io`].
pub(crate) fn to_io(e: DiskError) -> io::Error {
    match e {
        DiskError::Read { source, .. } => source,
        other => io::Error::other(other),
    }
}
