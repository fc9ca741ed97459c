//! `--state-file`: loads the store at start and writes it atomically (temp file + rename) after
//! every change, so a demo survives a restart and a crash never leaves a half-written file.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::SimError;
use crate::state::{Snapshot, Store};

fn io_err(path: &Path, source: std::io::Error) -> SimError {
    SimError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads the store from `path`; a missing file is an empty store.
pub(crate) fn load(path: &Path) -> Result<Store, SimError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Store::default()),
        Err(e) => return Err(io_err(path, e)),
    };
    let snap: Snapshot = serde_json::from_str(&text).map_err(|source| SimError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Store::from_snapshot(snap))
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

/// Writes `snap` to `path` atomically.
pub(crate) fn save(path: &Path, snap: &Snapshot) -> Result<(), SimError> {
    let bytes = serde_json::to_vec_pretty(snap).map_err(SimError::Serialize)?;
    let tmp = temp_path(path);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_err(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::SimCloud;
    use crate::state::test_image;

    #[test]
    fn save_then_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert_eq!(load(&path).unwrap().all().count(), 0);
        let mut s = Store::default();
        s.insert(test_image(SimCloud::Ucloud, "cn-bj2", "uimage-1", "a"));
        save(&path, &s.snapshot()).unwrap();
        let back = load(&path).unwrap();
        assert!(back.get(SimCloud::Ucloud, "cn-bj2", "uimage-1").is_some());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp file left behind");
    }

    #[test]
    fn bad_json_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, "{not json").unwrap();
        assert!(matches!(load(&path), Err(SimError::Json { .. })));
    }
}
