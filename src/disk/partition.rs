//! Partition tables (MBR and GPT) of the guest disk, and the boot mode they imply.
//!
//! MBR layout: the four 16-byte entries at 446 and the 0x55AA signature at 510. GPT layout: UEFI specification
//! 2.10, chapter 5 (header at LBA 1, CRC32 over the header and the entry array; the backup header at the last
//! LBA). Partition type GUIDs: EFI System Partition `C12A7328-F81F-11D2-BA4B-00A0C93EC93B` (UEFI spec), BIOS boot
//! partition `21686148-6449-6E6F-744E-656564454649` (GRUB's), MBR type 0xEF (EFI system) and 0xEE (GPT
//! protective).

use super::error::DiskError;
use super::fields::{le32, le64, slice};
use super::read_at::ReadAt;

/// The GPT type of an EFI System Partition.
pub const ESP_GUID: &str = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
/// The GPT type of a BIOS boot partition (where GRUB keeps its core image on a GPT disk booted by BIOS).
pub const BIOS_BOOT_GUID: &str = "21686148-6449-6E6F-744E-656564454649";
const MBR_ESP: u8 = 0xEF;
const MBR_PROTECTIVE: u8 = 0xEE;
/// GPT attribute bit 2: "legacy BIOS bootable" (used by syslinux's gptmbr).
const GPT_LEGACY_BIOS_BOOTABLE: u64 = 1 << 2;
/// Largest GPT entry array read (the usual one is 16 KiB).
const MAX_ENTRY_ARRAY: u64 = 1 << 20;

/// How a guest disk can boot, judged from its partition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootMode {
    /// Only a UEFI path: an EFI System Partition and no BIOS boot path.
    Uefi,
    /// Only a BIOS path: MBR boot code or an active partition, or a GPT BIOS boot partition; no ESP.
    Bios,
    /// Both paths: either firmware boots it.
    Hybrid,
    /// Neither could be told (no partition table, unreadable guest, or no boot path found).
    Unknown,
}

impl BootMode {
    /// True when BIOS firmware can boot the disk as far as the partition table tells.
    pub fn boots_with_bios(self) -> bool {
        matches!(self, BootMode::Bios | BootMode::Hybrid)
    }
    /// True when UEFI firmware can boot the disk as far as the partition table tells.
    pub fn boots_with_uefi(self) -> bool {
        matches!(self, BootMode::Uefi | BootMode::Hybrid)
    }
    /// Lower-case name for messages: `uefi`, `bios`, `hybrid`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            BootMode::Uefi => "uefi",
            BootMode::Bios => "bios",
            BootMode::Hybrid => "hybrid",
            BootMode::Unknown => "unknown",
        }
    }
}

/// A partition's type as its table records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartitionType {
    /// MBR system id byte.
    Mbr(u8),
    /// GPT type GUID, upper-case canonical text.
    Gpt(String),
}

/// One partition of the guest disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// 1-based number (the entry's position in its table).
    pub number: u32,
    /// Type byte or GUID.
    pub type_id: PartitionType,
    /// Start in bytes from the start of the disk.
    pub start: u64,
    /// Length in bytes.
    pub size: u64,
    /// MBR active flag, or GPT "legacy BIOS bootable" attribute.
    pub bootable: bool,
    /// GPT partition name (empty for MBR).
    pub name: String,
}

impl Partition {
    /// True for an EFI System Partition.
    pub fn is_esp(&self) -> bool {
        match &self.type_id {
            PartitionType::Mbr(t) => *t == MBR_ESP,
            PartitionType::Gpt(g) => g == ESP_GUID,
        }
    }
    /// True for a GPT BIOS boot partition.
    pub fn is_bios_boot(&self) -> bool {
        matches!(&self.type_id, PartitionType::Gpt(g) if g == BIOS_BOOT_GUID)
    }
}

/// What was found at the start of the guest disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartitionTable {
    /// No MBR signature: an unpartitioned disk (or a file system directly on it).
    None,
    /// A classic MBR.
    Mbr {
        /// Its non-empty primary entries.
        partitions: Vec<Partition>,
        /// True when the first 440 bytes hold boot code (not all zero).
        boot_code: bool,
    },
    /// A GUID partition table.
    Gpt {
        /// Its used entries.
        partitions: Vec<Partition>,
        /// Logical sector size the table was found with (512 or 4096).
        sector_size: u64,
        /// True when only the backup header at the end of the disk was valid.
        from_backup: bool,
    },
    /// A protective MBR without a valid GPT behind it, or a broken GPT.
    Invalid {
        /// What is wrong.
        reason: String,
    },
    /// The guest disk could not be read (see [`super::GuestAccess`]).
    NotRead,
}

impl PartitionTable {
    /// The partitions found (empty unless MBR or GPT).
    pub fn partitions(&self) -> &[Partition] {
        match self {
            PartitionTable::Mbr { partitions, .. } | PartitionTable::Gpt { partitions, .. } => {
                partitions
            }
            _ => &[],
        }
    }

    /// The boot mode this table implies, with a sentence saying why.
    pub fn boot_mode(&self) -> (BootMode, String) {
        let esp = self
            .partitions()
            .iter()
            .find(|p| p.is_esp())
            .map(|p| p.number);
        let (bios, bios_why) = match self {
            PartitionTable::Mbr {
                partitions,
                boot_code,
            } => {
                let active = partitions.iter().find(|p| p.bootable).map(|p| p.number);
                match (boot_code, active) {
                    (true, _) => (true, "boot code in the MBR".to_string()),
                    (false, Some(n)) => (true, format!("active MBR partition {n}")),
                    _ => (false, String::new()),
                }
            }
            PartitionTable::Gpt { partitions, .. } => {
                if let Some(p) = partitions.iter().find(|p| p.is_bios_boot()) {
                    (true, format!("BIOS boot partition {}", p.number))
                } else if let Some(p) = partitions.iter().find(|p| p.bootable) {
                    (
                        true,
                        format!("legacy-BIOS-bootable GPT partition {}", p.number),
                    )
                } else {
                    (false, String::new())
                }
            }
            PartitionTable::None => return (BootMode::Unknown, "no partition table".into()),
            PartitionTable::Invalid { reason } => return (BootMode::Unknown, reason.clone()),
            PartitionTable::NotRead => {
                return (BootMode::Unknown, "the guest disk was not read".into())
            }
        };
        let table = if matches!(self, PartitionTable::Gpt { .. }) {
            "GPT"
        } else {
            "MBR"
        };
        match (esp, bios) {
            (Some(n), true) => (
                BootMode::Hybrid,
                format!("{table} with an EFI system partition ({n}) and {bios_why}"),
            ),
            (Some(n), false) => (
                BootMode::Uefi,
                format!("{table} with an EFI system partition ({n}) and no BIOS boot path"),
            ),
            (None, true) => (
                BootMode::Bios,
                format!("{table} with {bios_why} and no EFI system partition"),
            ),
            (None, false) => (
                BootMode::Unknown,
                format!("{table} with neither an EFI system partition nor a BIOS boot path"),
            ),
        }
    }
}

/// Formats 16 on-disk GUID bytes (first three fields little-endian) as upper-case text.
pub(crate) fn guid_text(b: &[u8]) -> String {
    let b = slice(b, 0, 16);
    if b.len() != 16 {
        return String::new();
    }
    format!(
        "{:02X}{:02X}{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}",
        b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
    )
}

/// Reads exactly `len` guest bytes at `offset`, `None` where the guest is shorter.
async fn guest_bytes(
    guest: &dyn ReadAt,
    offset: u64,
    len: usize,
) -> Result<Option<Vec<u8>>, DiskError> {
    let b = guest
        .read_at(offset, len)
        .await
        .map_err(|e| super::from_io(e, offset, len))?;
    Ok((b.len() == len).then_some(b))
}

/// Reads the partition table at the start of `guest`.
pub async fn read_partition_table(guest: &dyn ReadAt) -> Result<PartitionTable, DiskError> {
    let Some(mbr) = guest_bytes(guest, 0, 512).await? else {
        return Ok(PartitionTable::None);
    };
    if slice(&mbr, 510, 2) != [0x55, 0xAA] {
        return Ok(PartitionTable::None);
    }
    let mut partitions = Vec::new();
    let mut protective = false;
    for i in 0..4usize {
        let e = slice(&mbr, 446 + i * 16, 16);
        let status = e.first().copied().unwrap_or(0);
        let kind = e.get(4).copied().unwrap_or(0);
        if status != 0 && status != 0x80 {
            // Not a partition table (a volume boot record of a file system written directly on the disk).
            return Ok(PartitionTable::None);
        }
        if kind == 0 {
            continue;
        }
        protective |= kind == MBR_PROTECTIVE;
        partitions.push(Partition {
            number: i as u32 + 1,
            type_id: PartitionType::Mbr(kind),
            start: u64::from(le32(e, 8)) * 512,
            size: u64::from(le32(e, 12)) * 512,
            bootable: status == 0x80,
            name: String::new(),
        });
    }
    if protective {
        return read_gpt(guest).await;
    }
    Ok(PartitionTable::Mbr {
        boot_code: slice(&mbr, 0, 440).iter().any(|&b| b != 0),
        partitions,
    })
}

/// Finds a valid GPT: primary header at LBA 1, else the backup at the last LBA; 512- then 4096-byte sectors.
async fn read_gpt(guest: &dyn ReadAt) -> Result<PartitionTable, DiskError> {
    let mut last_problem = String::from("protective MBR but no GPT header");
    for sector_size in [512u64, 4096] {
        let last_lba = (guest.size() / sector_size).saturating_sub(1);
        for (lba, backup) in [(1u64, false), (last_lba, true)] {
            if lba < 1 {
                continue;
            }
            match read_gpt_at(guest, sector_size, lba).await? {
                GptResult::Found(partitions) => {
                    return Ok(PartitionTable::Gpt {
                        partitions,
                        sector_size,
                        from_backup: backup,
                    })
                }
                GptResult::Absent => {}
                GptResult::Broken(why) => last_problem = why,
            }
        }
    }
    Ok(PartitionTable::Invalid {
        reason: last_problem,
    })
}

enum GptResult {
    Found(Vec<Partition>),
    Absent,
    Broken(String),
}

async fn read_gpt_at(guest: &dyn ReadAt, ss: u64, lba: u64) -> Result<GptResult, DiskError> {
    let Some(h) = guest_bytes(guest, lba * ss, ss as usize).await? else {
        return Ok(GptResult::Absent);
    };
    if slice(&h, 0, 8) != b"EFI PART" {
        return Ok(GptResult::Absent);
    }
    let header_size = le32(&h, 12) as usize;
    if !(92..=ss as usize).contains(&header_size) {
        return Ok(GptResult::Broken(format!("GPT header size {header_size}")));
    }
    let mut copy = slice(&h, 0, header_size).to_vec();
    if let Some(crc) = copy.get_mut(16..20) {
        crc.fill(0);
    }
    if crc32fast::hash(&copy) != le32(&h, 16) {
        return Ok(GptResult::Broken("GPT header CRC mismatch".into()));
    }
    if le64(&h, 24) != lba {
        return Ok(GptResult::Broken("GPT header records another LBA".into()));
    }
    let entries_lba = le64(&h, 72);
    let count = u64::from(le32(&h, 80));
    let entry_size = u64::from(le32(&h, 84));
    if entry_size < 128 || entry_size % 8 != 0 || count.saturating_mul(entry_size) > MAX_ENTRY_ARRAY
    {
        return Ok(GptResult::Broken(format!(
            "GPT entry array of {count} entries of {entry_size} bytes"
        )));
    }
    let array_len = (count * entry_size) as usize;
    let Some(at) = entries_lba.checked_mul(ss) else {
        return Ok(GptResult::Broken("GPT entry array offset overflows".into()));
    };
    let Some(array) = guest_bytes(guest, at, array_len).await? else {
        return Ok(GptResult::Broken(
            "GPT entry array past the end of the disk".into(),
        ));
    };
    if crc32fast::hash(&array) != le32(&h, 88) {
        return Ok(GptResult::Broken("GPT entry array CRC mismatch".into()));
    }
    let mut partitions = Vec::new();
    for i in 0..count as usize {
        let e = slice(&array, i * entry_size as usize, 128);
        if slice(e, 0, 16).iter().all(|&b| b == 0) {
            continue;
        }
        let first = le64(e, 32);
        let last = le64(e, 40);
        let name: Vec<u16> = slice(e, 56, 72)
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|&c| c != 0)
            .collect();
        partitions.push(Partition {
            number: i as u32 + 1,
            type_id: PartitionType::Gpt(guid_text(e)),
            start: first.saturating_mul(ss),
            size: last
                .saturating_sub(first)
                .saturating_add(1)
                .saturating_mul(ss),
            bootable: le64(e, 48) & GPT_LEGACY_BIOS_BOOTABLE != 0,
            name: String::from_utf16_lossy(&name),
        });
    }
    Ok(GptResult::Found(partitions))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::disk::read_at::BytesReader;
    use crate::disk::synth;

    pub(crate) fn guid_bytes(text: &str) -> [u8; 16] {
        synth::guid_bytes(text).unwrap()
    }

    /// A test partition: (type GUID, first LBA, last LBA, attributes, name).
    pub(crate) type GptPart<'a> = (&'a str, u64, u64, u64, &'a str);

    pub(crate) fn write_gpt(disk: &mut [u8], parts: &[GptPart<'_>]) {
        let parts: Vec<_> = parts
            .iter()
            .map(
                |&(type_guid, first_lba, last_lba, attributes, name)| synth::GptPartition {
                    type_guid,
                    first_lba,
                    last_lba,
                    attributes,
                    name,
                },
            )
            .collect();
        synth::write_gpt(disk, &parts).unwrap();
    }

    pub(crate) fn write_mbr(disk: &mut [u8], parts: &[(u8, bool, u32, u32)], boot_code: bool) {
        let parts: Vec<_> = parts
            .iter()
            .map(|&(kind, active, first_lba, sectors)| synth::MbrPartition {
                kind,
                active,
                first_lba,
                sectors,
            })
            .collect();
        synth::write_mbr(disk, &parts, boot_code).unwrap();
    }

    async fn table(disk: Vec<u8>) -> PartitionTable {
        read_partition_table(&BytesReader::new(disk)).await.unwrap()
    }

    #[test]
    fn guid_round_trip() {
        assert_eq!(guid_text(&guid_bytes(ESP_GUID)), ESP_GUID);
        assert_eq!(
            guid_bytes(ESP_GUID)[..4],
            [0x28, 0x73, 0x2A, 0xC1],
            "first field is little-endian on disk"
        );
    }

    #[tokio::test]
    async fn gpt_boot_modes() {
        let mut d = vec![0u8; 1 << 20];
        write_gpt(&mut d, &[(ESP_GUID, 2048, 4095, 0, "EFI System")]);
        let t = table(d).await;
        assert_eq!(t.boot_mode().0, BootMode::Uefi, "{t:?}");
        assert_eq!(t.partitions()[0].name, "EFI System");

        let mut d = vec![0u8; 1 << 20];
        write_gpt(
            &mut d,
            &[
                (BIOS_BOOT_GUID, 34, 2047, 0, ""),
                (crate::disk::tests::LINUX_GUID, 2048, 2000, 0, "root"),
            ],
        );
        assert_eq!(table(d).await.boot_mode().0, BootMode::Bios);

        let mut d = vec![0u8; 1 << 20];
        write_gpt(
            &mut d,
            &[
                (BIOS_BOOT_GUID, 34, 2047, 0, ""),
                (ESP_GUID, 2048, 4095, 0, ""),
            ],
        );
        let (mode, why) = table(d).await.boot_mode();
        assert_eq!(mode, BootMode::Hybrid, "{why}");

        let mut d = vec![0u8; 1 << 20];
        write_gpt(
            &mut d,
            &[(
                crate::disk::tests::LINUX_GUID,
                34,
                2047,
                GPT_LEGACY_BIOS_BOOTABLE,
                "",
            )],
        );
        assert_eq!(table(d).await.boot_mode().0, BootMode::Bios);

        let mut d = vec![0u8; 1 << 20];
        write_gpt(&mut d, &[(crate::disk::tests::LINUX_GUID, 34, 2047, 0, "")]);
        assert_eq!(table(d).await.boot_mode().0, BootMode::Unknown);
    }

    #[tokio::test]
    async fn gpt_backup_and_corruption() {
        let mut d = vec![0u8; 1 << 20];
        write_gpt(&mut d, &[(ESP_GUID, 2048, 4095, 0, "")]);
        // Break the primary header's CRC: the backup at the last LBA is used.
        d[512 + 16] ^= 0xFF;
        let t = table(d.clone()).await;
        assert!(
            matches!(
                t,
                PartitionTable::Gpt {
                    from_backup: true,
                    ..
                }
            ),
            "{t:?}"
        );
        // Break the backup too.
        let last = d.len() - 512;
        d[last + 16] ^= 0xFF;
        let t = table(d).await;
        assert!(matches!(t, PartitionTable::Invalid { .. }), "{t:?}");
        assert_eq!(t.boot_mode().0, BootMode::Unknown);
    }

    #[tokio::test]
    async fn hostile_gpt_entry_counts_are_refused_without_allocating() {
        let mut d = vec![0u8; 64 << 10];
        write_gpt(&mut d, &[(ESP_GUID, 40, 50, 0, "")]);
        for lba in [1usize, d.len() / 512 - 1] {
            let h = &mut d[lba * 512..lba * 512 + 92];
            h[80..84].copy_from_slice(&u32::MAX.to_le_bytes());
            h[84..88].copy_from_slice(&u32::MAX.to_le_bytes());
            h[16..20].fill(0);
            let crc = crc32fast::hash(h);
            h[16..20].copy_from_slice(&crc.to_le_bytes());
        }
        let t = table(d).await;
        assert!(
            matches!(&t, PartitionTable::Invalid { reason } if reason.contains("entry array")),
            "{t:?}"
        );
    }

    #[tokio::test]
    async fn mbr_boot_modes() {
        let mut d = vec![0u8; 4096];
        write_mbr(&mut d, &[(0x83, true, 2048, 100)], false);
        assert_eq!(table(d).await.boot_mode().0, BootMode::Bios);

        let mut d = vec![0u8; 4096];
        write_mbr(&mut d, &[(0x83, false, 2048, 100)], true);
        assert_eq!(table(d).await.boot_mode().0, BootMode::Bios);

        let mut d = vec![0u8; 4096];
        write_mbr(&mut d, &[(MBR_ESP, false, 2048, 100)], false);
        assert_eq!(table(d).await.boot_mode().0, BootMode::Uefi);

        let mut d = vec![0u8; 4096];
        write_mbr(
            &mut d,
            &[(MBR_ESP, false, 2048, 100), (0x83, true, 4096, 100)],
            true,
        );
        assert_eq!(table(d).await.boot_mode().0, BootMode::Hybrid);

        let mut d = vec![0u8; 4096];
        write_mbr(&mut d, &[(0x83, false, 2048, 100)], false);
        assert_eq!(table(d).await.boot_mode().0, BootMode::Unknown);

        // A file system's boot sector (invalid status bytes) is no partition table.
        let mut d = vec![0u8; 4096];
        write_mbr(&mut d, &[(0x83, false, 2048, 100)], true);
        d[446] = 0x12;
        assert_eq!(table(d).await, PartitionTable::None);
        assert_eq!(table(vec![0u8; 100]).await, PartitionTable::None);
    }
}
