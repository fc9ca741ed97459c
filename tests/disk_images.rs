//! Disk inspection over real container files: raw disks with known boot layouts, converted by `qemu-img` into
//! qcow2 (v2 and v3, two cluster sizes), VMDK (monolithicSparse, streamOptimized, monolithicFlat descriptor), VHD
//! (dynamic and fixed), VHDX and VDI, then inspected from the files. Also: reads through each container compared
//! byte for byte with the raw disk, variants the inspector must refuse to read (backing file, compressed
//! clusters), and mutated headers that must give errors, never panics.
// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod disk_support;
mod support;

use std::path::Path;
use std::sync::Arc;

use cloudimage::disk::{
    self, BootMode, Detail, FileReader, Format, Guest, GuestAccess, ReadAt, VhdDiskType, VmdkKind,
};
use disk_support::{convert, luks_qcow2, qcow2_overlay, qemu, raw_disk, write, Layout};

const SIZE: usize = 48 << 20;

/// (file name, qemu-img format, -o options, expected format).
const READABLE: [(&str, &str, &str, Format); 7] = [
    ("d.raw", "raw", "", Format::Raw),
    ("d-v3.qcow2", "qcow2", "compat=1.1", Format::Qcow2),
    ("d-v2.qcow2", "qcow2", "compat=0.10", Format::Qcow2),
    ("d-4k.qcow2", "qcow2", "cluster_size=4096", Format::Qcow2),
    ("d.vmdk", "vmdk", "subformat=monolithicSparse", Format::Vmdk),
    (
        "d-dyn.vhd",
        "vpc",
        "subformat=dynamic,force_size=on",
        Format::Vhd,
    ),
    (
        "d-fixed.vhd",
        "vpc",
        "subformat=fixed,force_size=on",
        Format::Vhd,
    ),
];

async fn inspect(path: &Path) -> disk::Inspection {
    disk::inspect_file(path)
        .await
        .unwrap_or_else(|e| panic!("inspect {}: {e}", path.display()))
}

#[tokio::test]
async fn every_readable_container_shows_the_guest_boot_layout() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (layout, mode) in [
        (Layout::UefiGpt, BootMode::Uefi),
        (Layout::BiosGpt, BootMode::Bios),
        (Layout::BiosMbr, BootMode::Bios),
        (Layout::HybridGpt, BootMode::Hybrid),
    ] {
        let raw = write(dir.path(), "src.raw", &raw_disk(layout, SIZE));
        for (name, fmt, opts, expected) in READABLE {
            let path = dir.path().join(name);
            convert(&raw, &path, fmt, opts);
            let i = inspect(&path).await;
            assert_eq!(i.format, expected, "{layout:?} {name}");
            assert_eq!(i.virtual_size, Some(SIZE as u64), "{layout:?} {name}");
            assert_eq!(i.guest, GuestAccess::Read, "{layout:?} {name}");
            assert_eq!(i.boot_mode, mode, "{layout:?} {name}: {}", i.boot_reason);
            match (&i.detail, name) {
                (Detail::Qcow2(d), "d-v2.qcow2") => assert_eq!(d.version, 2),
                (Detail::Qcow2(d), "d-4k.qcow2") => assert_eq!(d.cluster_size, 4096),
                (Detail::Qcow2(d), _) => assert_eq!((d.version, d.cluster_size), (3, 65_536)),
                (Detail::Vmdk(d), _) => {
                    assert_eq!(d.kind, VmdkKind::Sparse);
                    assert_eq!(d.create_type.as_deref(), Some("monolithicSparse"));
                }
                (Detail::Vhd(d), "d-dyn.vhd") => assert_eq!(d.disk_type, VhdDiskType::Dynamic),
                (Detail::Vhd(d), _) => assert_eq!(d.disk_type, VhdDiskType::Fixed),
                (Detail::None, "d.raw") => {}
                (other, _) => panic!("{name}: unexpected detail {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn guest_reads_through_containers_match_the_raw_disk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let raw_bytes = raw_disk(Layout::HybridGpt, SIZE);
    let raw = write(dir.path(), "src.raw", &raw_bytes);
    let ranges: [(u64, usize); 7] = [
        (0, 512),
        (512, 17_408),
        ((3 << 20) - 200, 200_400),
        ((1 << 20) - 7, 70_000),
        (40 << 20, 4096),
        (SIZE as u64 - 1000, 1000),
        (SIZE as u64 - 10, 100),
    ];
    for (name, fmt, opts, _) in READABLE {
        let path = dir.path().join(name);
        convert(&raw, &path, fmt, opts);
        let c = disk::open_container(Arc::new(FileReader::open(&path).expect("open")))
            .await
            .expect("open container");
        let Guest::Readable(guest) = c.guest else {
            panic!("{name}: guest not readable: {:?}", c.guest)
        };
        assert_eq!(guest.size(), SIZE as u64, "{name}");
        for (at, len) in ranges {
            let got = guest.read_at(at, len).await.expect("guest read");
            let end = (at as usize + len).min(SIZE);
            assert!(
                got == raw_bytes[at as usize..end],
                "{name}: guest bytes at {at}+{len} differ from the raw disk"
            );
        }
    }
}

#[tokio::test]
async fn variants_that_cannot_be_read_are_detected_and_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let raw = write(dir.path(), "src.raw", &raw_disk(Layout::UefiGpt, 8 << 20));
    let p = |n: &str| dir.path().join(n);
    let s = |n: &str| p(n).to_str().expect("utf-8").to_string();

    // Compressed clusters (qemu-img convert -c).
    qemu(&[
        "convert",
        "-c",
        "-f",
        "raw",
        "-O",
        "qcow2",
        &s("src.raw"),
        &s("c.qcow2"),
    ]);
    let i = inspect(&p("c.qcow2")).await;
    assert_eq!(i.format, Format::Qcow2);
    assert!(
        matches!(&i.guest, GuestAccess::Unreadable(r) if r.contains("compressed")),
        "{:?}",
        i.guest
    );
    assert_eq!(i.boot_mode, BootMode::Unknown);

    // An overlay with a backing file.
    convert(&raw, &p("base.qcow2"), "qcow2", "");
    qcow2_overlay(&p("base.qcow2"), &p("overlay.qcow2"));
    let i = inspect(&p("overlay.qcow2")).await;
    assert!(
        matches!(&i.detail, Detail::Qcow2(d) if d.backing_file.as_deref() == Some(s("base.qcow2").as_str())),
        "{:?}",
        i.detail
    );
    assert!(matches!(&i.guest, GuestAccess::Unreadable(r) if r.contains("backing file")));
    assert_eq!(i.virtual_size, Some(8 << 20));

    // VMDK streamOptimized (compressed grains).
    convert(&raw, &p("s.vmdk"), "vmdk", "subformat=streamOptimized");
    let i = inspect(&p("s.vmdk")).await;
    assert_eq!((i.format, i.virtual_size), (Format::Vmdk, Some(8 << 20)));
    assert!(
        matches!(&i.detail, Detail::Vmdk(d) if d.create_type.as_deref() == Some("streamOptimized"))
    );
    assert!(matches!(&i.guest, GuestAccess::Unreadable(r) if r.contains("compressed")));

    // VMDK descriptor with a flat extent in another file.
    convert(&raw, &p("flat.vmdk"), "vmdk", "subformat=monolithicFlat");
    let i = inspect(&p("flat.vmdk")).await;
    assert_eq!((i.format, i.virtual_size), (Format::Vmdk, Some(8 << 20)));
    match &i.detail {
        Detail::Vmdk(d) => {
            assert_eq!(d.kind, VmdkKind::Descriptor);
            assert_eq!(d.extent_files, vec!["flat-flat.vmdk".to_string()]);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&i.guest, GuestAccess::Unreadable(r) if r.contains("descriptor")));
    // Its extent is the raw disk itself.
    assert_eq!(
        inspect(&p("flat-flat.vmdk")).await.boot_mode,
        BootMode::Uefi
    );

    // Formats recognised so they are not taken for raw.
    convert(&raw, &p("d.vhdx"), "vhdx", "");
    assert_eq!(inspect(&p("d.vhdx")).await.format, Format::Vhdx);
    convert(&raw, &p("d.vdi"), "vdi", "");
    assert_eq!(inspect(&p("d.vdi")).await.format, Format::Vdi);
}

/// Every inspection of the corpus finishes within this bound (a hang is a failure, not a slow test).
const BOUND: std::time::Duration = std::time::Duration::from_secs(5);

async fn within_bound<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, f)
        .await
        .expect("an inspection took longer than its bound")
}

/// Sets a VHD footer's disk type (at the end of the file, and the copy at the start of a dynamic one) and fixes
/// the footer checksum (one's complement of the byte sum, the checksum field counted as zero).
fn set_vhd_disk_type(path: &Path, disk_type: u32) {
    let mut bytes = std::fs::read(path).expect("read vhd");
    let len = bytes.len();
    for at in [len - 512, 0] {
        if &bytes[at..at + 8] != b"conectix" {
            continue;
        }
        let footer = &mut bytes[at..at + 512];
        footer[60..64].copy_from_slice(&disk_type.to_be_bytes());
        footer[64..68].fill(0);
        let sum = footer
            .iter()
            .fold(0u32, |a, &b| a.wrapping_add(u32::from(b)));
        footer[64..68].copy_from_slice(&(!sum).to_be_bytes());
    }
    std::fs::write(path, bytes).expect("write vhd");
}

/// The probe corpus of files that are not a whole disk on their own (issue 17): each is named as incomplete with
/// its reason, within the time bound, and no file it names is opened (one names a FIFO, which would block an
/// open for reading until the bound).
#[tokio::test]
async fn incomplete_images_are_named_and_what_they_name_is_never_opened() {
    let dir = tempfile::tempdir().expect("tempdir");
    let raw = write(dir.path(), "src.raw", &raw_disk(Layout::UefiGpt, 8 << 20));
    let p = |n: &str| dir.path().join(n);
    let s = |n: &str| p(n).to_str().expect("utf-8").to_string();
    let fifo = p("extent.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());

    convert(&raw, &p("base.qcow2"), "qcow2", "");
    qemu(&[
        "create",
        "-f",
        "qcow2",
        "-b",
        &s("base.qcow2"),
        "-F",
        "qcow2",
        &s("overlay.qcow2"),
    ]);
    qemu(&[
        "create",
        "-f",
        "qcow2",
        "-o",
        &format!("data_file={}", s("data.raw")),
        &s("external.qcow2"),
        "8M",
    ]);
    luks_qcow2(&p("luks.qcow2"), "8M");
    // An incompatible feature bit qemu does not know (bit 40).
    convert(&raw, &p("unknown.qcow2"), "qcow2", "compat=1.1");
    let mut q = std::fs::read(p("unknown.qcow2")).expect("read");
    q[72..80].copy_from_slice(&(1u64 << 40).to_be_bytes());
    std::fs::write(p("unknown.qcow2"), q).expect("write");
    convert(&raw, &p("flat.vmdk"), "vmdk", "subformat=monolithicFlat");
    std::fs::write(
        p("passwd.vmdk"),
        format!(
            "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\
             RW 4096 FLAT \"/etc/passwd\" 0\nRW 4096 FLAT \"{}\" 0\n",
            fifo.display()
        ),
    )
    .expect("write descriptor");
    convert(&raw, &p("diff.vhd"), "vpc", "subformat=dynamic");
    set_vhd_disk_type(&p("diff.vhd"), 4);

    for (name, format, words) in [
        ("overlay.qcow2", Format::Qcow2, "backing file"),
        ("external.qcow2", Format::Qcow2, "external data file"),
        ("luks.qcow2", Format::Qcow2, "encrypted"),
        (
            "unknown.qcow2",
            Format::Qcow2,
            "unknown incompatible features",
        ),
        ("flat.vmdk", Format::Vmdk, "extent files"),
        ("passwd.vmdk", Format::Vmdk, "/etc/passwd"),
        ("diff.vhd", Format::Vhd, "differencing"),
    ] {
        let started = std::time::Instant::now();
        let i = within_bound(disk::inspect_file(&p(name)))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(i.format, format, "{name}");
        let why = i
            .incomplete
            .unwrap_or_else(|| panic!("{name} was not named incomplete"));
        assert!(why.contains(words), "{name}: {why}");
        assert!(!matches!(i.guest, GuestAccess::Read), "{name}");
        assert!(started.elapsed() < BOUND, "{name}");
    }
    // Whole images are not incomplete.
    for (name, fmt, opts, _) in READABLE {
        convert(&raw, &p(name), fmt, opts);
        assert_eq!(inspect(&p(name)).await.incomplete, None, "{name}");
    }
    // Nothing shorter than a sector is a disk.
    for n in [0usize, 1, 511] {
        std::fs::write(p("tiny.raw"), vec![0u8; n]).expect("write");
        let r = disk::inspect_file(&p("tiny.raw")).await;
        assert!(
            matches!(r, Err(disk::DiskError::TooSmall { .. })),
            "{n}: {r:?}"
        );
    }
}

/// A small deterministic generator (xorshift) so the mutation test is repeatable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[tokio::test]
async fn mutated_and_truncated_headers_give_errors_not_panics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let raw = write(dir.path(), "src.raw", &raw_disk(Layout::HybridGpt, 4 << 20));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut outcomes = [0usize; 3]; // read, unreadable, error
    for (name, fmt, opts) in [
        ("m.qcow2", "qcow2", ""),
        ("m4k.qcow2", "qcow2", "cluster_size=4096"),
        ("m.vmdk", "vmdk", ""),
        ("m.vhd", "vpc", "subformat=dynamic"),
        ("mf.vhd", "vpc", "subformat=fixed"),
    ] {
        let path = dir.path().join(name);
        convert(&raw, &path, fmt, opts);
        let original = std::fs::read(&path).expect("read");
        // Where the metadata lives: the start of the file and, for VHD, the footer at the end.
        let len = original.len();
        for round in 0..150 {
            let mut bytes = original.clone();
            for _ in 0..1 + round % 8 {
                let at = if name.ends_with(".vhd") && rng.next() % 2 == 0 {
                    len - 1 - (rng.next() as usize % 512)
                } else {
                    rng.next() as usize % len.min(8192)
                };
                bytes[at] = rng.next() as u8;
            }
            if round % 10 == 9 {
                bytes.truncate(rng.next() as usize % len);
            }
            let reader: Arc<dyn ReadAt> = Arc::new(disk::BytesReader::new(bytes));
            match within_bound(disk::inspect(reader)).await {
                Ok(i) if i.guest == GuestAccess::Read => outcomes[0] += 1,
                Ok(_) => outcomes[1] += 1,
                Err(_) => outcomes[2] += 1,
            }
        }
    }
    // Every mutation was handled; some were harmless, some broke the image.
    assert!(outcomes[0] > 0 && outcomes[2] > 0, "{outcomes:?}");
}
