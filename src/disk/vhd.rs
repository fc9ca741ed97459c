//! VHD (Virtual PC / Hyper-V generation 1): the `conectix` footer, fixed disks and the dynamic disk's block
//! allocation table.
//!
//! Layout from Microsoft's "Virtual Hard Disk Image Format Specification" and QEMU's `block/vpc.c`
//! (qemu/qemu). Fixed and dynamic disks are read; a differencing disk is detected but not read (its parent holds
//! the unchanged sectors).

use std::io;
use std::sync::Arc;

use super::error::DiskError;
use super::fields::{be32, be64, slice};
use super::qcow2::read_mapped;
use super::read_at::{check_read_len, ReadAt};
use super::{read_exact, Detail, Opened};

pub(crate) const COOKIE: &[u8; 8] = b"conectix";
const DYNAMIC_COOKIE: &[u8; 8] = b"cxsparse";
const FORMAT: &str = "vhd";
const FOOTER: u64 = 512;
const SECTOR: u64 = 512;
const UNALLOCATED: u32 = u32::MAX;

/// The VHD disk type from the footer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VhdDiskType {
    /// Type 2: the guest bytes, then the footer.
    Fixed,
    /// Type 3: blocks allocated on demand through a table.
    Dynamic,
    /// Type 4: changes against a parent VHD.
    Differencing,
    /// Any other value.
    Other(u32),
}

/// What the VHD footer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VhdDetail {
    /// Fixed, dynamic or differencing.
    pub disk_type: VhdDiskType,
    /// The creator application tag (`qemu`, `vpc `, `win `, ...), trimmed.
    pub creator: String,
}

/// True when `tail` (the last 512 bytes of a file) is a VHD footer.
pub(crate) fn is_footer(tail: &[u8]) -> bool {
    slice(tail, 0, 8) == COOKIE
}

/// One's-complement sum of the footer bytes, with the checksum field (64..68) counted as zero.
fn footer_checksum(f: &[u8]) -> u32 {
    let sum = f
        .iter()
        .enumerate()
        .filter(|(i, _)| !(64..68).contains(i))
        .fold(0u32, |acc, (_, &b)| acc.wrapping_add(u32::from(b)));
    !sum
}

const DIFFERENCING: &str = "the VHD is a differencing disk; its parent holds the unchanged sectors";

/// Parses the footer (the last 512 bytes of `file`) and opens the guest where possible.
pub(crate) async fn open(file: Arc<dyn ReadAt>) -> Result<Opened, DiskError> {
    let size = file.size();
    let at = size.checked_sub(FOOTER).ok_or(DiskError::Truncated {
        what: "vhd footer",
        offset: 0,
        len: FOOTER as usize,
        size,
    })?;
    let f = read_exact(&*file, at, FOOTER as usize, "vhd footer").await?;
    if footer_checksum(&f) != be32(&f, 64) {
        return Err(DiskError::corrupt(FORMAT, "footer checksum mismatch"));
    }
    let data_offset = be64(&f, 16);
    let current_size = be64(&f, 48);
    let disk_type = match be32(&f, 60) {
        2 => VhdDiskType::Fixed,
        3 => VhdDiskType::Dynamic,
        4 => VhdDiskType::Differencing,
        n => VhdDiskType::Other(n),
    };
    let creator = String::from_utf8_lossy(slice(&f, 28, 4))
        .trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .to_string();
    let detail = Detail::Vhd(VhdDetail { disk_type, creator });
    let guest: Result<Arc<dyn ReadAt>, String> = match disk_type {
        VhdDiskType::Fixed => {
            // The guest is exactly the bytes before the footer (ECS refuses other sizes with
            // InvalidVHDImage.IncorrectSize).
            if current_size != at {
                return Err(DiskError::corrupt(
                    FORMAT,
                    format!(
                        "the footer says the fixed disk has {current_size} bytes, but {at} bytes precede the footer"
                    ),
                ));
            }
            Ok(Arc::new(Window {
                file,
                size: current_size,
            }))
        }
        VhdDiskType::Dynamic => Ok(Arc::new(
            DynamicGuest::open(file, data_offset, current_size).await?,
        )),
        VhdDiskType::Differencing => Err(DIFFERENCING.into()),
        VhdDiskType::Other(n) => return Err(DiskError::corrupt(FORMAT, format!("disk type {n}"))),
    };
    let incomplete = (disk_type == VhdDiskType::Differencing).then(|| DIFFERENCING.to_string());
    Ok(Opened {
        incomplete,
        detail,
        virtual_size: Some(current_size),
        guest,
    })
}

/// The first `size` bytes of a file (a fixed VHD's guest).
struct Window {
    file: Arc<dyn ReadAt>,
    size: u64,
}

#[async_trait::async_trait]
impl ReadAt for Window {
    fn size(&self) -> u64 {
        self.size
    }

    async fn read_at(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        check_read_len(len)?;
        let len = self.size.saturating_sub(offset).min(len as u64) as usize;
        if len == 0 {
            return Ok(Vec::new());
        }
        self.file.read_at(offset, len).await
    }
}

/// A dynamic VHD's guest, through its block allocation table.
struct DynamicGuest {
    file: Arc<dyn ReadAt>,
    table_offset: u64,
    max_entries: u32,
    block_size: u64,
    bitmap_bytes: u64,
    size: u64,
}

impl DynamicGuest {
    async fn open(file: Arc<dyn ReadAt>, at: u64, size: u64) -> Result<Self, DiskError> {
        let h = read_exact(&*file, at, 1024, "vhd dynamic disk header").await?;
        if slice(&h, 0, 8) != DYNAMIC_COOKIE {
            return Err(DiskError::corrupt(
                FORMAT,
                "no dynamic disk header at the footer's data offset",
            ));
        }
        let table_offset = be64(&h, 16);
        let max_entries = be32(&h, 28);
        let block_size = u64::from(be32(&h, 32));
        // The specification's default is 2 MiB; QEMU writes 2 MiB or 512 KiB. Anything not a power of two between
        // one sector and 256 MiB is refused.
        if !block_size.is_power_of_two() || !(SECTOR..=(256 << 20)).contains(&block_size) {
            return Err(DiskError::corrupt(
                FORMAT,
                format!("block size {block_size}"),
            ));
        }
        if u64::from(max_entries).saturating_mul(block_size) < size {
            return Err(DiskError::corrupt(
                FORMAT,
                "the block table does not cover the disk size",
            ));
        }
        // One bit per sector, padded to whole sectors.
        let bitmap_bytes = (block_size / SECTOR).div_ceil(8).div_ceil(SECTOR) * SECTOR;
        Ok(Self {
            file,
            table_offset,
            max_entries,
            block_size,
            bitmap_bytes,
            size,
        })
    }

    async fn map(&self, pos: u64) -> Result<Option<u64>, DiskError> {
        let block = pos / self.block_size;
        if block >= u64::from(self.max_entries) {
            return Err(DiskError::corrupt(FORMAT, "offset beyond the block table"));
        }
        let at = self
            .table_offset
            .checked_add(block * 4)
            .ok_or_else(|| DiskError::corrupt(FORMAT, "block table offset overflows"))?;
        let b = read_exact(&*self.file, at, 4, "vhd block table entry").await?;
        let entry = be32(&b, 0);
        if entry == UNALLOCATED {
            return Ok(None);
        }
        Ok(Some(u64::from(entry) * SECTOR + self.bitmap_bytes))
    }
}

#[async_trait::async_trait]
impl ReadAt for DynamicGuest {
    fn size(&self) -> u64 {
        self.size
    }

    async fn read_at(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        check_read_len(len)?;
        read_mapped(
            self.size,
            self.block_size,
            offset,
            len,
            |pos| self.map(pos),
            &*self.file,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_skips_its_own_field() {
        let mut f = vec![0u8; 512];
        f[..8].copy_from_slice(COOKIE);
        let c = footer_checksum(&f);
        f[64..68].copy_from_slice(&c.to_be_bytes());
        assert_eq!(footer_checksum(&f), c);
        assert!(is_footer(&f));
    }
}
