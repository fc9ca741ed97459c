//! Disk images for tests: raw disks with a known boot layout (written by `cloudimage::disk::synth`), converted by
//! Debian's `qemu-img` into the container formats the inspector reads.
//!
//! `qemu-img` comes from the machine or from `scripts/install-test-tools` (which installs qemu-utils with apt when
//! it is missing); a machine without it fails the test with that message, nothing here skips.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use cloudimage::disk::partition::{BIOS_BOOT_GUID, ESP_GUID};
use cloudimage::disk::synth::{self, GptPartition, MbrPartition};

/// Linux filesystem data partition type.
pub(crate) const LINUX_GUID: &str = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";

/// The `qemu-img` to run: on PATH, else installed by `scripts/install-test-tools`.
pub(crate) fn qemu_img() -> &'static Path {
    static QEMU_IMG: OnceLock<PathBuf> = OnceLock::new();
    QEMU_IMG.get_or_init(|| {
        let works = || {
            Command::new("qemu-img")
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if !works() {
            crate::support::tools_dir();
            assert!(
                works(),
                "qemu-img is not on PATH and scripts/install-test-tools did not install Debian's qemu-utils"
            );
        }
        PathBuf::from("qemu-img")
    })
}

/// Runs `qemu-img` with `args`, panicking with its output on failure.
pub(crate) fn qemu(args: &[&str]) {
    let out = Command::new(qemu_img())
        .args(args)
        .output()
        .expect("run qemu-img");
    assert!(
        out.status.success(),
        "qemu-img {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An empty qcow2 overlay at `overlay` whose unchanged clusters are in the qcow2 `base`.
pub(crate) fn qcow2_overlay(base: &Path, overlay: &Path) {
    let (b, o) = (
        base.to_str().expect("utf-8 path"),
        overlay.to_str().expect("utf-8 path"),
    );
    qemu(&["create", "-f", "qcow2", "-b", b, "-F", "qcow2", o]);
}

/// A LUKS-encrypted qcow2 of `size` (qemu-img's size syntax) at `path`.
pub(crate) fn luks_qcow2(path: &Path, size: &str) {
    qemu(&[
        "create",
        "--object",
        "secret,id=sec0,data=not-a-real-key",
        "-f",
        "qcow2",
        "-o",
        "encrypt.format=luks,encrypt.key-secret=sec0",
        path.to_str().expect("utf-8 path"),
        size,
    ]);
}

/// Converts the raw disk `src` into `dst` with output format `fmt` and `-o` options (may be empty).
pub(crate) fn convert(src: &Path, dst: &Path, fmt: &str, options: &str) {
    let (s, d) = (
        src.to_str().expect("utf-8 path"),
        dst.to_str().expect("utf-8 path"),
    );
    let mut args = vec!["convert", "-f", "raw", "-O", fmt];
    if !options.is_empty() {
        args.extend(["-o", options]);
    }
    args.extend([s, d]);
    qemu(&args);
}

/// The boot layouts the tests build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// GPT with only an EFI System Partition.
    UefiGpt,
    /// GPT with only a BIOS boot partition (GRUB on GPT, BIOS firmware).
    BiosGpt,
    /// MBR with an active Linux partition and boot code.
    BiosMbr,
    /// GPT with both a BIOS boot partition and an ESP.
    HybridGpt,
}

/// A raw disk of `size` bytes with `layout`, plus recognisable data at 3 MiB - 100 (crossing a 64 KiB cluster and
/// a 1 MiB boundary) and 40 MiB (when the disk is that large), so reads through containers can be compared.
pub(crate) fn raw_disk(layout: Layout, size: usize) -> Vec<u8> {
    let mut d = vec![0u8; size];
    let esp = GptPartition {
        type_guid: ESP_GUID,
        first_lba: 4096,
        last_lba: 8191,
        attributes: 0,
        name: "EFI System Partition",
    };
    let bios = GptPartition {
        type_guid: BIOS_BOOT_GUID,
        first_lba: 2048,
        last_lba: 4095,
        attributes: 0,
        name: "BIOS boot",
    };
    let root = GptPartition {
        type_guid: LINUX_GUID,
        first_lba: 8192,
        last_lba: (size as u64 / 512) - 40,
        attributes: 0,
        name: "root",
    };
    match layout {
        Layout::UefiGpt => synth::write_gpt(&mut d, &[esp, root]),
        Layout::BiosGpt => synth::write_gpt(&mut d, &[bios, root]),
        Layout::HybridGpt => synth::write_gpt(&mut d, &[bios, esp, root]),
        Layout::BiosMbr => synth::write_mbr(
            &mut d,
            &[MbrPartition {
                kind: 0x83,
                active: true,
                first_lba: 2048,
                sectors: (size / 512) as u32 - 2048,
            }],
            true,
        ),
    }
    .expect("write partition table");
    let mut x = 0x1234_5678u32;
    let mut pattern = |len: usize| -> Vec<u8> {
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    };
    let at = (3 << 20) - 100;
    let p = pattern(200_000);
    d[at..at + p.len()].copy_from_slice(&p);
    if size > (41 << 20) {
        let p = pattern(4096);
        d[40 << 20..(40 << 20) + 4096].copy_from_slice(&p);
    }
    d
}

/// Writes `bytes` to `dir/name` and returns the path.
pub(crate) fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write test disk");
    p
}
