//! VMDK: the hosted sparse extent (`KDMV`, monolithicSparse and streamOptimized) and the text descriptor file.
//!
//! Layout from VMware's "Virtual Disk Format 5.0" specification and QEMU's `block/vmdk.c` (qemu/qemu). The guest is
//! read through the grain directory and grain tables of an uncompressed sparse extent without a parent; a
//! streamOptimized (compressed) extent, a delta disk, or a descriptor whose extents are other files is detected
//! but not read.

use std::io;
use std::sync::Arc;

use super::error::DiskError;
use super::fields::{le16, le32, le64, slice};
use super::qcow2::read_mapped;
use super::read_at::{check_read_len, ReadAt};
use super::{read_exact, Detail, Opened};

pub(crate) const MAGIC: &[u8; 4] = b"KDMV";
const FORMAT: &str = "vmdk";
const SECTOR: u64 = 512;
const FLAG_COMPRESSED: u32 = 1 << 16;
const GD_AT_END: u64 = u64::MAX;
/// Largest embedded or stand-alone descriptor read.
const MAX_DESCRIPTOR: usize = 64 << 10;

/// Which kind of VMDK file this is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VmdkKind {
    /// A hosted sparse extent with its descriptor embedded (one-file VMDK).
    Sparse,
    /// A text descriptor only; the data lives in the extent files it names.
    Descriptor,
}

/// What the VMDK header and descriptor say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmdkDetail {
    /// Sparse extent or descriptor file.
    pub kind: VmdkKind,
    /// The descriptor's `createType` (`monolithicSparse`, `streamOptimized`, `monolithicFlat`, ...).
    pub create_type: Option<String>,
    /// The extent files a descriptor names (empty for a sparse file).
    pub extent_files: Vec<String>,
}

/// True when `head` (the first bytes of a file) looks like a VMDK text descriptor.
pub(crate) fn is_descriptor(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(slice(head, 0, head.len().min(1024)));
    let t = text.trim_start();
    t.starts_with("# Disk DescriptorFile")
        || (t.contains("createType=") && t.contains("version=") && !text.contains('\0'))
}

/// Values the descriptor text gives.
#[derive(Debug, Default)]
struct Descriptor {
    create_type: Option<String>,
    has_parent: bool,
    extent_sectors: u64,
    extent_files: Vec<String>,
}

fn parse_descriptor(text: &str) -> Descriptor {
    let mut d = Descriptor::default();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim().trim_matches('"');
            match k.trim() {
                "createType" => d.create_type = Some(v.to_string()),
                "parentCID" => d.has_parent |= !v.eq_ignore_ascii_case("ffffffff"),
                "parentFileNameHint" => d.has_parent = true,
                _ => {}
            }
            continue;
        }
        // Extent line: ACCESS SIZE TYPE ["FILE" [OFFSET]]
        let mut parts = line.split_whitespace();
        let (Some(access), Some(size), Some(_kind)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if matches!(access, "RW" | "RDONLY" | "NOACCESS") {
            if let Ok(n) = size.parse::<u64>() {
                d.extent_sectors = d.extent_sectors.saturating_add(n);
            }
            if let (Some(start), Some(end)) = (line.find('"'), line.rfind('"')) {
                if end > start + 1 {
                    d.extent_files.push(line[start + 1..end].to_string());
                }
            }
        }
    }
    d
}

/// Opens a stand-alone descriptor file: detected, sized from its extents, never read through.
pub(crate) async fn open_descriptor(file: Arc<dyn ReadAt>) -> Result<Opened, DiskError> {
    let len = (file.size() as usize).min(MAX_DESCRIPTOR);
    let text = read_exact(&*file, 0, len, "vmdk descriptor").await?;
    let d = parse_descriptor(&String::from_utf8_lossy(&text));
    let files = d.extent_files.join(", ");
    let why = format!(
        "the file is a VMDK descriptor; the disk data is in its extent files ({files}), which a cloud import of \
         this one file does not see"
    );
    Ok(Opened {
        virtual_size: d.extent_sectors.checked_mul(SECTOR),
        guest: Err(why.clone()),
        incomplete: Some(why),
        detail: Detail::Vmdk(VmdkDetail {
            kind: VmdkKind::Descriptor,
            create_type: d.create_type,
            extent_files: d.extent_files,
        }),
    })
}

/// Parses a sparse extent header (the file begins with [`MAGIC`]) and opens the guest where possible.
pub(crate) async fn open_sparse(file: Arc<dyn ReadAt>) -> Result<Opened, DiskError> {
    let h = read_exact(&*file, 0, SECTOR as usize, "vmdk header").await?;
    let mut header = SparseHeader::parse(&h)?;
    if header.gd_offset == GD_AT_END {
        // streamOptimized: the real header is the footer, one sector before the end-of-stream marker.
        let at = file
            .size()
            .checked_sub(2 * SECTOR)
            .ok_or(DiskError::Truncated {
                what: "vmdk footer",
                offset: 0,
                len: 2 * SECTOR as usize,
                size: file.size(),
            })?;
        let f = read_exact(&*file, at, SECTOR as usize, "vmdk footer").await?;
        if slice(&f, 0, 4) == MAGIC {
            header = SparseHeader::parse(&f)?;
        }
    }
    let descriptor = if header.descriptor_offset != 0 && header.descriptor_size != 0 {
        let len = header
            .descriptor_size
            .saturating_mul(SECTOR)
            .min(MAX_DESCRIPTOR as u64) as usize;
        let at = header
            .descriptor_offset
            .checked_mul(SECTOR)
            .ok_or_else(|| DiskError::corrupt(FORMAT, "descriptor offset overflows"))?;
        let text = read_exact(&*file, at, len, "vmdk embedded descriptor").await?;
        let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
        parse_descriptor(&String::from_utf8_lossy(&text[..end]))
    } else {
        Descriptor::default()
    };
    let virtual_size = header
        .capacity
        .checked_mul(SECTOR)
        .ok_or_else(|| DiskError::corrupt(FORMAT, "capacity overflows"))?;
    let delta = descriptor
        .has_parent
        .then(|| "the VMDK is a delta disk; its parent holds the unchanged sectors".to_string());
    let guest: Result<Arc<dyn ReadAt>, String> =
        if header.flags & FLAG_COMPRESSED != 0 || header.compress_algorithm != 0 {
            Err(
            "the VMDK extent is compressed (streamOptimized); its grains are not decompressed here"
                .into(),
        )
        } else if let Some(why) = &delta {
            Err(why.clone())
        } else if header.gd_offset == GD_AT_END {
            Err("the VMDK grain directory location is missing".into())
        } else {
            Ok(Arc::new(VmdkGuest {
                file,
                grain_bytes: header.grain_size * SECTOR,
                gtes_per_gt: u64::from(header.gtes_per_gt),
                gd_offset: header.gd_offset,
                size: virtual_size,
            }))
        };
    Ok(Opened {
        detail: Detail::Vmdk(VmdkDetail {
            kind: VmdkKind::Sparse,
            create_type: descriptor.create_type,
            extent_files: Vec::new(),
        }),
        virtual_size: Some(virtual_size),
        guest,
        incomplete: delta,
    })
}

struct SparseHeader {
    flags: u32,
    capacity: u64,
    grain_size: u64,
    descriptor_offset: u64,
    descriptor_size: u64,
    gtes_per_gt: u32,
    gd_offset: u64,
    compress_algorithm: u16,
}

impl SparseHeader {
    fn parse(h: &[u8]) -> Result<Self, DiskError> {
        let version = le32(h, 4);
        if !(1..=3).contains(&version) {
            return Err(DiskError::corrupt(
                FORMAT,
                format!("unknown version {version}"),
            ));
        }
        let s = SparseHeader {
            flags: le32(h, 8),
            capacity: le64(h, 12),
            grain_size: le64(h, 20),
            descriptor_offset: le64(h, 28),
            descriptor_size: le64(h, 36),
            gtes_per_gt: le32(h, 44),
            gd_offset: le64(h, 56),
            compress_algorithm: le16(h, 77),
        };
        // QEMU's limits: a power-of-two grain of at most 16 MiB; 512 entries per grain table is what every writer
        // uses, larger tables are refused to keep reads small.
        if !s.grain_size.is_power_of_two() || s.grain_size > (16 << 20) / SECTOR {
            return Err(DiskError::corrupt(
                FORMAT,
                format!("grain size of {} sectors", s.grain_size),
            ));
        }
        if s.gtes_per_gt == 0 || s.gtes_per_gt > 65_536 {
            return Err(DiskError::corrupt(
                FORMAT,
                format!("{} entries per grain table", s.gtes_per_gt),
            ));
        }
        Ok(s)
    }
}

/// The guest disk of an uncompressed sparse extent.
struct VmdkGuest {
    file: Arc<dyn ReadAt>,
    grain_bytes: u64,
    gtes_per_gt: u64,
    gd_offset: u64,
    size: u64,
}

impl VmdkGuest {
    async fn sector_entry(&self, at: u64, what: &'static str) -> Result<u64, DiskError> {
        let b = read_exact(&*self.file, at, 4, what).await?;
        Ok(u64::from(le32(&b, 0)))
    }

    async fn map(&self, pos: u64) -> Result<Option<u64>, DiskError> {
        let grain = pos / self.grain_bytes;
        let gt_index = grain / self.gtes_per_gt;
        let gd_at = self
            .gd_offset
            .checked_mul(SECTOR)
            .and_then(|b| b.checked_add(gt_index * 4))
            .ok_or_else(|| DiskError::corrupt(FORMAT, "grain directory offset overflows"))?;
        let gt_sector = self
            .sector_entry(gd_at, "vmdk grain directory entry")
            .await?;
        if gt_sector == 0 {
            return Ok(None);
        }
        let gte_at = gt_sector * SECTOR + (grain % self.gtes_per_gt) * 4;
        let grain_sector = self.sector_entry(gte_at, "vmdk grain table entry").await?;
        // 0: unallocated, 1: a zeroed grain; neither has data (and there is no parent).
        if grain_sector <= 1 {
            return Ok(None);
        }
        Ok(Some(grain_sector * SECTOR))
    }
}

#[async_trait::async_trait]
impl ReadAt for VmdkGuest {
    fn size(&self) -> u64 {
        self.size
    }

    async fn read_at(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        check_read_len(len)?;
        read_mapped(
            self.size,
            self.grain_bytes,
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
    fn descriptor_extents_and_parents() {
        let text = "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n\
                    createType=\"monolithicFlat\"\n\n# Extent description\nRW 2048 FLAT \"disk-flat.vmdk\" 0\n\
                    RW 1024 FLAT \"disk-2.vmdk\" 0\n";
        let d = parse_descriptor(text);
        assert_eq!(d.create_type.as_deref(), Some("monolithicFlat"));
        assert_eq!(d.extent_sectors, 3072);
        assert_eq!(d.extent_files, vec!["disk-flat.vmdk", "disk-2.vmdk"]);
        assert!(!d.has_parent);
        assert!(is_descriptor(text.as_bytes()));
        let delta = parse_descriptor("parentCID=1234abcd\nparentFileNameHint=\"base.vmdk\"\n");
        assert!(delta.has_parent);
        assert!(!is_descriptor(b"\0\0\0\0 createType= version="));
    }
}
