//! `gen-docs`: writes the registry documentation from the provider's own schema (see `render.rs`).
//!
//! Usage: `cargo run --example gen-docs [-- --check] [-- --root DIR]`, normally through `scripts/gen-docs`.
//! `--check` writes nothing and exits 1 when a committed page differs, naming it; `tests/docs_examples.rs` runs the
//! same comparison in `cargo test`.

mod render;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut check = false;
    let mut root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--root" => match args.next() {
                Some(dir) => root = PathBuf::from(dir),
                None => return usage("--root needs a directory"),
            },
            "-h" | "--help" => {
                println!("usage: gen-docs [--check] [--root DIR]");
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unknown argument {other:?}")),
        }
    }
    let pages = match render::render(&root) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("gen-docs: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stale = Vec::new();
    for page in &pages {
        let path = root.join(&page.path);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == page.content {
            continue;
        }
        if check {
            stale.push(page.path.display().to_string());
            continue;
        }
        if let Some(dir) = path.parent() {
            if let Err(e) = std::fs::create_dir_all(dir) {
                eprintln!("gen-docs: cannot create {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
        }
        if let Err(e) = std::fs::write(&path, &page.content) {
            eprintln!("gen-docs: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", page.path.display());
    }
    if !stale.is_empty() {
        eprintln!(
            "gen-docs: out of date: {}; run scripts/gen-docs",
            stale.join(", ")
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn usage(message: &str) -> ExitCode {
    eprintln!("gen-docs: {message}\nusage: gen-docs [--check] [--root DIR]");
    ExitCode::from(2)
}
