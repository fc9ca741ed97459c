//! Disk image inspection: what a local file or a stored object is, before a cloud spends half an hour importing it.
//!
//! [`inspect`] tells the container format from the bytes themselves (qcow2, VMDK, VHD, ISO 9660, or raw; VHDX and
//! VDI are recognised so they are not taken for raw), the guest disk's virtual size, and, where the guest's first
//! sectors can be read through the container, its partition table and the boot mode that table implies
//! ([`BootMode`]). It knows nothing of clouds or Terraform: the resource turns its findings into plan-time errors and
//! computed values.
//!
//! Everything reads through [`ReadAt`], so a local [`FileReader`] and a ranged-GET object reader
//! (`cloud::storage::ObjectReader`) are inspected by the same code. Input is untrusted: every offset and size from a
//! header is bounds-checked, reads are capped at [`MAX_READ_LEN`], and nothing allocates from a header field
//! beyond that.
//!
//! [`hash_cache`] keeps the SHA-256 of large local files keyed by their identity on disk, so an unchanged file is
//! not re-read on every plan.

mod error;
mod fields;
pub mod hash_cache;
pub mod partition;
mod qcow2;
mod read_at;
pub mod synth;
mod vhd;
mod vmdk;

use std::io;
use std::sync::Arc;

pub use error::DiskError;
pub use partition::{BootMode, Partition, PartitionTable, PartitionType};
pub use qcow2::Qcow2Detail;
pub use read_at::{check_read_len, BytesReader, CachedReader, FileReader, ReadAt, MAX_READ_LEN};
pub use vhd::{VhdDetail, VhdDiskType};
pub use vmdk::{VmdkDetail, VmdkKind};

/// A disk image container format, as told by the file's own bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// No known container: the bytes are the guest disk.
    Raw,
    /// QEMU qcow2 (or the old qcow, version 1).
    Qcow2,
    /// VMware VMDK (sparse extent or descriptor).
    Vmdk,
    /// Virtual PC / Hyper-V VHD.
    Vhd,
    /// Hyper-V VHDX (recognised, not read).
    Vhdx,
    /// VirtualBox VDI (recognised, not read).
    Vdi,
    /// ISO 9660 optical disc image.
    Iso,
}

impl Format {
    /// The usual lower-case name (`raw`, `qcow2`, `vmdk`, `vhd`, `vhdx`, `vdi`, `iso`), as clouds spell formats
    /// modulo case.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::Qcow2 => "qcow2",
            Format::Vmdk => "vmdk",
            Format::Vhd => "vhd",
            Format::Vhdx => "vhdx",
            Format::Vdi => "vdi",
            Format::Iso => "iso",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Format-specific facts from the container's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    /// Nothing beyond the format (raw, ISO, VHDX, VDI).
    None,
    /// qcow2 header facts.
    Qcow2(Qcow2Detail),
    /// VMDK header and descriptor facts.
    Vmdk(VmdkDetail),
    /// VHD footer facts.
    Vhd(VhdDetail),
}

/// Whether the guest disk inside the container could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuestAccess {
    /// Its first sectors were read; the partition table is what they hold.
    Read,
    /// Not read, and why (a feature this inspector does not follow; not necessarily a broken image).
    Unreadable(String),
}

/// Everything [`inspect`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// The container format.
    pub format: Format,
    /// Header facts of that format.
    pub detail: Detail,
    /// Size of the guest disk in bytes, where the container records it (raw and ISO: the file size).
    pub virtual_size: Option<u64>,
    /// Whether the guest's first sectors were read.
    pub guest: GuestAccess,
    /// The guest's partition table ([`PartitionTable::NotRead`] when the guest was not read).
    pub partition_table: PartitionTable,
    /// The boot mode the partition table implies.
    pub boot_mode: BootMode,
    /// One sentence on why [`Inspection::boot_mode`] is what it is (for diagnostics).
    pub boot_reason: String,
    /// Why this file is not a whole disk on its own, where its container says so: a backing or parent file, an
    /// external data file, extent files, encryption, features qemu refuses. A cloud imports the one file, so such
    /// an import cannot boot. The files it names are never opened.
    pub incomplete: Option<String>,
}

/// The guest disk inside a container.
#[derive(Clone)]
pub enum Guest {
    /// Readable: guest offsets in, guest bytes out (unallocated areas read as zeros).
    Readable(Arc<dyn ReadAt>),
    /// Not readable by this inspector, and why.
    Unreadable(String),
}

impl std::fmt::Debug for Guest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Guest::Readable(r) => write!(f, "Readable({} bytes)", r.size()),
            Guest::Unreadable(why) => write!(f, "Unreadable({why:?})"),
        }
    }
}

/// An opened container: its format, header facts, and the guest disk where it can be read.
#[derive(Debug, Clone)]
pub struct Container {
    /// The container format.
    pub format: Format,
    /// Header facts.
    pub detail: Detail,
    /// Guest size in bytes, where recorded.
    pub virtual_size: Option<u64>,
    /// The guest disk.
    pub guest: Guest,
    /// See [`Inspection::incomplete`].
    pub incomplete: Option<String>,
}

pub(crate) struct Opened {
    pub(crate) detail: Detail,
    pub(crate) virtual_size: Option<u64>,
    pub(crate) guest: Result<Arc<dyn ReadAt>, String>,
    pub(crate) incomplete: Option<String>,
}

/// The smallest disk image: one 512-byte sector. Anything shorter (an empty file, a truncated download) is no
/// disk, whatever a cloud's import makes of it.
pub const MIN_IMAGE_SIZE: u64 = 512;

/// Bytes probed at the start of a file: enough for every magic but ISO's.
const HEAD: usize = 1024;
/// ISO 9660: the primary volume descriptor is sector 16 (2048-byte sectors); `CD001` follows its type byte.
const ISO_MAGIC_AT: u64 = 16 * 2048 + 1;

/// Tells the format of `file` from its bytes.
pub async fn detect_format(file: &dyn ReadAt) -> Result<Format, DiskError> {
    let size = file.size();
    let head = read_up_to(file, 0, HEAD).await?;
    // A VMDK descriptor is a short text file (its data lives elsewhere, which the caller is told).
    if size < MIN_IMAGE_SIZE && !vmdk::is_descriptor(&head) {
        return Err(DiskError::TooSmall { size });
    }
    if head.starts_with(qcow2::MAGIC) {
        return Ok(Format::Qcow2);
    }
    if head.starts_with(vmdk::MAGIC) {
        return Ok(Format::Vmdk);
    }
    if head.starts_with(b"vhdxfile") {
        return Ok(Format::Vhdx);
    }
    // VDI: the signature 0xBEDA107F at 0x40 (VirtualBox's VDIHeader).
    if fields::le32(&head, 0x40) == 0xBEDA_107F {
        return Ok(Format::Vdi);
    }
    if size >= 512 {
        let tail = read_up_to(file, size - 512, 512).await?;
        if vhd::is_footer(&tail) {
            return Ok(Format::Vhd);
        }
    }
    if head.starts_with(vhd::COOKIE) {
        // The copy of the footer a dynamic VHD keeps at the start, without the footer at the end.
        return Err(DiskError::corrupt(
            "vhd",
            "the footer is missing from the end of the file (truncated?)",
        ));
    }
    if vmdk::is_descriptor(&head) {
        return Ok(Format::Vmdk);
    }
    if read_up_to(file, ISO_MAGIC_AT, 5).await?.as_slice() == b"CD001" {
        return Ok(Format::Iso);
    }
    Ok(Format::Raw)
}

/// Opens the container in `file`: detects the format, parses its header, and gives the guest disk as a [`ReadAt`]
/// where this inspector can follow the format.
pub async fn open_container(file: Arc<dyn ReadAt>) -> Result<Container, DiskError> {
    let format = detect_format(&*file).await?;
    let opened = match format {
        Format::Qcow2 => qcow2::open(Arc::clone(&file)).await?,
        Format::Vmdk => {
            if read_up_to(&*file, 0, 4).await?.as_slice() == vmdk::MAGIC {
                vmdk::open_sparse(Arc::clone(&file)).await?
            } else {
                vmdk::open_descriptor(Arc::clone(&file)).await?
            }
        }
        Format::Vhd => vhd::open(Arc::clone(&file)).await?,
        Format::Raw | Format::Iso => Opened {
            detail: Detail::None,
            virtual_size: Some(file.size()),
            guest: Ok(Arc::clone(&file)),
            incomplete: None,
        },
        Format::Vhdx | Format::Vdi => Opened {
            detail: Detail::None,
            virtual_size: None,
            guest: Err(format!(
                "{format} images are recognised but not read by this inspector"
            )),
            incomplete: None,
        },
    };
    Ok(Container {
        format,
        detail: opened.detail,
        virtual_size: opened.virtual_size,
        guest: match opened.guest {
            Ok(r) => Guest::Readable(r),
            Err(why) => Guest::Unreadable(why),
        },
        incomplete: opened.incomplete,
    })
}

/// Inspects a disk image: format, header facts, virtual size, partition table and boot mode.
///
/// `Err` only when the data cannot be read or a container structure is corrupt (the cloud's import would fail on it
/// too); a guest this inspector cannot follow gives `Ok` with [`GuestAccess::Unreadable`]. Wrap a slow reader (an
/// object in storage) in a [`CachedReader`] first.
pub async fn inspect(file: Arc<dyn ReadAt>) -> Result<Inspection, DiskError> {
    let c = open_container(file).await?;
    let incomplete = c.incomplete.clone();
    let (guest, partition_table) = match c.guest {
        Guest::Unreadable(reason) => (GuestAccess::Unreadable(reason), PartitionTable::NotRead),
        Guest::Readable(g) => match partition::read_partition_table(&*g).await {
            Ok(t) => (GuestAccess::Read, t),
            Err(DiskError::Unsupported(reason)) => {
                (GuestAccess::Unreadable(reason), PartitionTable::NotRead)
            }
            Err(e) => return Err(e),
        },
    };
    let (boot_mode, boot_reason) = partition_table.boot_mode();
    Ok(Inspection {
        format: c.format,
        detail: c.detail,
        virtual_size: c.virtual_size,
        guest,
        partition_table,
        boot_mode,
        boot_reason,
        incomplete,
    })
}

/// Inspects a local file.
pub async fn inspect_file(path: &std::path::Path) -> Result<Inspection, DiskError> {
    let reader = FileReader::open(path).map_err(|source| DiskError::Read {
        offset: 0,
        len: 0,
        source,
    })?;
    inspect(Arc::new(reader)).await
}

/// Reads up to `len` bytes (fewer at the end of the data).
async fn read_up_to(r: &dyn ReadAt, offset: u64, len: usize) -> Result<Vec<u8>, DiskError> {
    r.read_at(offset, len)
        .await
        .map_err(|e| from_io(e, offset, len))
}

/// Reads exactly `len` bytes, or fails with [`DiskError::Truncated`].
pub(crate) async fn read_exact(
    r: &dyn ReadAt,
    offset: u64,
    len: usize,
    what: &'static str,
) -> Result<Vec<u8>, DiskError> {
    if len > MAX_READ_LEN {
        return Err(DiskError::Unsupported(format!(
            "{what} of {len} bytes is larger than this inspector reads"
        )));
    }
    let b = read_up_to(r, offset, len).await?;
    if b.len() != len {
        return Err(DiskError::Truncated {
            what,
            offset,
            len,
            size: r.size(),
        });
    }
    Ok(b)
}

/// Recovers a [`DiskError`] that a guest reader carried inside an `io::Error`, else wraps the I/O error.
pub(crate) fn from_io(e: io::Error, offset: u64, len: usize) -> DiskError {
    if e.get_ref().is_some_and(|inner| inner.is::<DiskError>()) {
        if let Some(inner) = e.into_inner() {
            if let Ok(d) = inner.downcast::<DiskError>() {
                return *d;
            }
        }
        return DiskError::Unsupported("guest read failed".into());
    }
    DiskError::Read {
        offset,
        len,
        source: e,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use partition::tests::{write_gpt, write_mbr};
    use partition::{BIOS_BOOT_GUID, ESP_GUID};

    /// Linux filesystem data partition type.
    pub(crate) const LINUX_GUID: &str = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";

    fn mem(d: Vec<u8>) -> Arc<dyn ReadAt> {
        Arc::new(BytesReader::new(d))
    }

    #[tokio::test]
    async fn raw_gpt_disk() {
        let mut d = vec![0u8; 2 << 20];
        write_gpt(
            &mut d,
            &[
                (ESP_GUID, 2048, 3071, 0, "EFI"),
                (LINUX_GUID, 3072, 4000, 0, "root"),
            ],
        );
        let i = inspect(mem(d)).await.unwrap();
        assert_eq!(i.format, Format::Raw);
        assert_eq!(i.virtual_size, Some(2 << 20));
        assert_eq!(i.guest, GuestAccess::Read);
        assert_eq!(i.boot_mode, BootMode::Uefi, "{}", i.boot_reason);
        assert_eq!(i.partition_table.partitions().len(), 2);
    }

    #[tokio::test]
    async fn iso_and_small_files() {
        let mut d = vec![0u8; 40 << 10];
        d[ISO_MAGIC_AT as usize..ISO_MAGIC_AT as usize + 5].copy_from_slice(b"CD001");
        let i = inspect(mem(d.clone())).await.unwrap();
        assert_eq!(i.format, Format::Iso);
        assert_eq!(i.partition_table, PartitionTable::None);
        // An isohybrid image: ISO plus an MBR with boot code and an EFI partition.
        write_mbr(&mut d, &[(0x00, false, 0, 0), (0xEF, false, 64, 16)], true);
        let i = inspect(mem(d)).await.unwrap();
        assert_eq!((i.format, i.boot_mode), (Format::Iso, BootMode::Hybrid));
        // Files shorter than a sector are no disk; one sector of zeros is a raw disk with nothing in it.
        for n in [0usize, 3, 511] {
            let r = inspect(mem(vec![0u8; n])).await;
            assert!(matches!(r, Err(DiskError::TooSmall { .. })), "{n}: {r:?}");
        }
        let i = inspect(mem(vec![0u8; 512])).await.unwrap();
        assert_eq!((i.format, i.boot_mode), (Format::Raw, BootMode::Unknown));
    }

    #[tokio::test]
    async fn recognised_but_unread_formats() {
        let mut d = vec![0u8; 4096];
        d[..8].copy_from_slice(b"vhdxfile");
        let i = inspect(mem(d)).await.unwrap();
        assert_eq!(i.format, Format::Vhdx);
        assert!(matches!(i.guest, GuestAccess::Unreadable(_)));
        let mut d = vec![0u8; 4096];
        d[0x40..0x44].copy_from_slice(&0xBEDA_107Fu32.to_le_bytes());
        assert_eq!(inspect(mem(d)).await.unwrap().format, Format::Vdi);
    }

    /// Builds a minimal qcow2 v3 image (64 KiB clusters) whose guest holds `guest` in its first cluster.
    pub(crate) fn tiny_qcow2(guest: &[u8], virtual_size: u64) -> Vec<u8> {
        let c = 65_536usize;
        // clusters: 0 header, 1 L1, 2 L2, 3 data
        let mut f = vec![0u8; 4 * c];
        f[0..4].copy_from_slice(qcow2::MAGIC);
        f[4..8].copy_from_slice(&3u32.to_be_bytes());
        f[20..24].copy_from_slice(&16u32.to_be_bytes());
        f[24..32].copy_from_slice(&virtual_size.to_be_bytes());
        let l1_entries = virtual_size.div_ceil(c as u64 * 8192).max(1) as u32;
        f[36..40].copy_from_slice(&l1_entries.to_be_bytes());
        f[40..48].copy_from_slice(&(c as u64).to_be_bytes());
        f[100..104].copy_from_slice(&104u32.to_be_bytes());
        f[c..c + 8].copy_from_slice(&((2 * c) as u64 | 1 << 63).to_be_bytes());
        f[2 * c..2 * c + 8].copy_from_slice(&((3 * c) as u64 | 1 << 63).to_be_bytes());
        f[3 * c..3 * c + guest.len()].copy_from_slice(guest);
        f
    }

    #[tokio::test]
    async fn qcow2_hand_built_reads_through_tables() {
        let mut guest = vec![0u8; 65_536];
        write_mbr(&mut guest, &[(0x83, true, 2048, 100)], true);
        let f = tiny_qcow2(&guest, 1 << 30);
        let i = inspect(mem(f.clone())).await.unwrap();
        assert_eq!(i.format, Format::Qcow2);
        assert_eq!(i.virtual_size, Some(1 << 30));
        assert_eq!(i.boot_mode, BootMode::Bios, "{}", i.boot_reason);
        assert!(
            matches!(&i.detail, Detail::Qcow2(d) if d.version == 3 && d.cluster_size == 65_536)
        );

        // Compressed cluster: detected, guest unreadable (not an error).
        let mut c = f.clone();
        c[2 * 65_536] |= 0x40;
        let i = inspect(mem(c)).await.unwrap();
        assert!(
            matches!(&i.guest, GuestAccess::Unreadable(r) if r.contains("compressed")),
            "{:?}",
            i.guest
        );

        // A backing file is refused.
        let mut b = f.clone();
        b[8..16].copy_from_slice(&512u64.to_be_bytes());
        b[16..20].copy_from_slice(&8u32.to_be_bytes());
        b[512..520].copy_from_slice(b"base.img");
        let i = inspect(mem(b)).await.unwrap();
        assert!(
            matches!(&i.detail, Detail::Qcow2(d) if d.backing_file.as_deref() == Some("base.img"))
        );
        assert!(matches!(i.guest, GuestAccess::Unreadable(_)));
    }

    #[tokio::test]
    async fn hostile_qcow2_headers_are_errors_not_panics() {
        let mut guest = vec![0u8; 512];
        write_mbr(&mut guest, &[(0x83, true, 2048, 100)], true);
        let base = tiny_qcow2(&guest, 1 << 30);
        type Breaker = Box<dyn Fn(&mut Vec<u8>)>;
        let cases: Vec<(&str, Breaker)> = vec![
            (
                "cluster bits",
                Box::new(|f| f[20..24].copy_from_slice(&63u32.to_be_bytes())),
            ),
            (
                "huge size",
                Box::new(|f| f[24..32].copy_from_slice(&u64::MAX.to_be_bytes())),
            ),
            (
                "l1 offset",
                Box::new(|f| f[40..48].copy_from_slice(&(!0xffffu64).to_be_bytes())),
            ),
            (
                "l2 offset",
                Box::new(|f| {
                    f[65_536..65_544].copy_from_slice(&0x00ff_ffff_ffff_0000u64.to_be_bytes())
                }),
            ),
            (
                "data offset",
                Box::new(|f| {
                    f[131_072..131_080].copy_from_slice(&0x00ff_ffff_ffff_0000u64.to_be_bytes())
                }),
            ),
            (
                "misaligned",
                Box::new(|f| f[131_072..131_080].copy_from_slice(&0x200u64.to_be_bytes())),
            ),
            (
                "backing name",
                Box::new(|f| {
                    f[8..16].copy_from_slice(&u64::MAX.to_be_bytes());
                    f[16..20].copy_from_slice(&u32::MAX.to_be_bytes());
                }),
            ),
            (
                "version",
                Box::new(|f| f[4..8].copy_from_slice(&9u32.to_be_bytes())),
            ),
            ("truncated", Box::new(|f| f.truncate(40))),
        ];
        for (name, break_it) in cases {
            let mut f = base.clone();
            break_it(&mut f);
            let r = inspect(mem(f)).await;
            assert!(
                r.is_err() || matches!(r, Ok(ref i) if i.guest != GuestAccess::Read),
                "{name}: {r:?}"
            );
        }
    }

    #[tokio::test]
    async fn bios_boot_partition_gpt() {
        let mut d = vec![0u8; 1 << 20];
        write_gpt(&mut d, &[(BIOS_BOOT_GUID, 34, 2047, 0, "")]);
        assert_eq!(inspect(mem(d)).await.unwrap().boot_mode, BootMode::Bios);
    }
}
