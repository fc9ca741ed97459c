//! Small synthetic partitioned disks: a protective MBR + GPT, or a classic MBR, written into a byte buffer.
//!
//! Exists for the tests and the benchmark, which build raw disks with a known boot layout and then convert them
//! with `qemu-img` into every container format the inspector reads; no disk tool beyond qemu-img is needed.

use super::partition::ESP_GUID;

/// A GPT partition to write.
#[derive(Debug, Clone)]
pub struct GptPartition<'a> {
    /// Type GUID in canonical text form, e.g. [`ESP_GUID`].
    pub type_guid: &'a str,
    /// First LBA (512-byte sectors).
    pub first_lba: u64,
    /// Last LBA, inclusive.
    pub last_lba: u64,
    /// Attribute bits (bit 2: legacy BIOS bootable).
    pub attributes: u64,
    /// Partition name.
    pub name: &'a str,
}

/// An MBR partition to write.
#[derive(Debug, Clone, Copy)]
pub struct MbrPartition {
    /// System id byte (0x83 Linux, 0xEF EFI system, ...).
    pub kind: u8,
    /// The active (bootable) flag.
    pub active: bool,
    /// First LBA.
    pub first_lba: u32,
    /// Length in sectors.
    pub sectors: u32,
}

/// Why a synthetic disk could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The buffer is too small for the table (GPT needs at least 68 sectors).
    #[error("disk buffer of {0} bytes is too small for the partition table")]
    TooSmall(usize),
    /// A GUID is not 32 hex digits with dashes.
    #[error("invalid GUID {0:?}")]
    BadGuid(String),
    /// More partitions than the table holds.
    #[error("too many partitions ({0})")]
    TooMany(usize),
}

/// The 16 on-disk bytes of a GUID given as text (first three fields little-endian).
pub fn guid_bytes(text: &str) -> Result<[u8; 16], SynthError> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    let bad = || SynthError::BadGuid(text.to_string());
    if hex.len() != 32 {
        return Err(bad());
    }
    let mut b = [0u8; 16];
    for (i, byte) in b.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2).ok_or_else(bad)?, 16)
            .map_err(|_| bad())?;
    }
    b[0..4].reverse();
    b[4..6].reverse();
    b[6..8].reverse();
    Ok(b)
}

/// Writes a protective MBR and primary + backup GPT headers with a 128-entry array (512-byte sectors) into
/// `disk`, whose length is the disk size.
pub fn write_gpt(disk: &mut [u8], parts: &[GptPartition<'_>]) -> Result<(), SynthError> {
    const SS: usize = 512;
    let lbas = (disk.len() / SS) as u64;
    if lbas < 68 {
        return Err(SynthError::TooSmall(disk.len()));
    }
    if parts.len() > 128 {
        return Err(SynthError::TooMany(parts.len()));
    }
    write_mbr(
        disk,
        &[MbrPartition {
            kind: 0xEE,
            active: false,
            first_lba: 1,
            sectors: (lbas - 1).min(u64::from(u32::MAX)) as u32,
        }],
        false,
    )?;
    let mut array = vec![0u8; 128 * 128];
    for (i, p) in parts.iter().enumerate() {
        let e = &mut array[i * 128..(i + 1) * 128];
        e[0..16].copy_from_slice(&guid_bytes(p.type_guid)?);
        // A unique partition GUID that is merely distinct per entry.
        e[16] = i as u8 + 1;
        e[31] = 0x40;
        e[32..40].copy_from_slice(&p.first_lba.to_le_bytes());
        e[40..48].copy_from_slice(&p.last_lba.to_le_bytes());
        e[48..56].copy_from_slice(&p.attributes.to_le_bytes());
        for (j, c) in p.name.encode_utf16().take(36).enumerate() {
            e[56 + 2 * j..58 + 2 * j].copy_from_slice(&c.to_le_bytes());
        }
    }
    let array_crc = crc32fast::hash(&array);
    for (my, alt, array_lba) in [(1u64, lbas - 1, 2u64), (lbas - 1, 1, lbas - 33)] {
        let mut h = [0u8; 92];
        h[0..8].copy_from_slice(b"EFI PART");
        h[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
        h[12..16].copy_from_slice(&92u32.to_le_bytes());
        h[24..32].copy_from_slice(&my.to_le_bytes());
        h[32..40].copy_from_slice(&alt.to_le_bytes());
        h[40..48].copy_from_slice(&34u64.to_le_bytes());
        h[48..56].copy_from_slice(&(lbas - 34).to_le_bytes());
        h[56] = 0x42; // disk GUID: any non-zero value
        h[72..80].copy_from_slice(&array_lba.to_le_bytes());
        h[80..84].copy_from_slice(&128u32.to_le_bytes());
        h[84..88].copy_from_slice(&128u32.to_le_bytes());
        h[88..92].copy_from_slice(&array_crc.to_le_bytes());
        let crc = crc32fast::hash(&h);
        h[16..20].copy_from_slice(&crc.to_le_bytes());
        let at = my as usize * SS;
        disk[at..at + 92].copy_from_slice(&h);
        let a = array_lba as usize * SS;
        disk[a..a + array.len()].copy_from_slice(&array);
    }
    Ok(())
}

/// Writes a classic MBR (up to four primary entries) into the first sector of `disk`; `boot_code` puts a few
/// non-zero bytes where boot code lives.
pub fn write_mbr(
    disk: &mut [u8],
    parts: &[MbrPartition],
    boot_code: bool,
) -> Result<(), SynthError> {
    if disk.len() < 512 {
        return Err(SynthError::TooSmall(disk.len()));
    }
    if parts.len() > 4 {
        return Err(SynthError::TooMany(parts.len()));
    }
    if boot_code {
        // A short jump, as boot sectors begin.
        disk[0..3].copy_from_slice(&[0xEB, 0x63, 0x90]);
    }
    for (i, p) in parts.iter().enumerate() {
        let e = 446 + i * 16;
        disk[e] = if p.active { 0x80 } else { 0 };
        disk[e + 4] = p.kind;
        disk[e + 8..e + 12].copy_from_slice(&p.first_lba.to_le_bytes());
        disk[e + 12..e + 16].copy_from_slice(&p.sectors.to_le_bytes());
    }
    disk[510] = 0x55;
    disk[511] = 0xAA;
    Ok(())
}

/// A GPT disk with one EFI System Partition from 1 MiB to 2 MiB (a UEFI-only layout), the rest unpartitioned.
pub fn uefi_gpt(size: usize) -> Result<Vec<u8>, SynthError> {
    let mut d = vec![0u8; size];
    write_gpt(
        &mut d,
        &[GptPartition {
            type_guid: ESP_GUID,
            first_lba: 2048,
            last_lba: 4095,
            attributes: 0,
            name: "EFI System Partition",
        }],
    )?;
    Ok(d)
}
