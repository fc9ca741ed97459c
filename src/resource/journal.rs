//! The create journal: a small file per create in progress, written before the import call, so that a create
//! repeated after the provider died (a cancelled CI job, an OOM kill, a closed laptop) finds the image its
//! earlier attempt started instead of importing a second one.
//!
//! Terraform records an image in state only when the provider returns from ApplyResourceChange, and an import
//! takes up to an hour: a provider killed in between leaves an image that no state knows. The journal says, for
//! one configuration of one account, when the import was sent, with which idempotency token, and (once the cloud
//! answered) which image it made. It lives in the user's state directory (`$XDG_STATE_HOME`, else
//! `~/.local/state`), one JSON file per create, and is removed as soon as Terraform has the image.
//!
//! A journal that cannot be written (a read-only home, a full disk) does not stop a create; it only takes away
//! this protection, and a warning says so.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::model::attr::*;
use crate::cloud::{DataDisk, Env, ImportRequest, Param};

/// What the journal remembers of one create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The idempotency token sent with the import (ECS `ClientToken`); a repeated create sends it again, so a
    /// call that did reach the cloud returns the same image.
    pub token: String,
    /// When the import was sent, in Unix seconds (this machine's clock).
    pub sent_at: i64,
    /// The image the cloud made, once it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// The cloud's import task (ECS `TaskId`), once it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
}

/// The journal directory of this user.
#[derive(Debug, Clone)]
pub struct Journal {
    dir: Option<PathBuf>,
}

/// A fingerprint of everything an import call says about the image, for one account, and of the content of the
/// local files it is uploaded from (`contents`: their SHA-256s, empty for `source_url` images, which keeps their
/// fingerprints as they were): two creates with the same fingerprint ask for the same image. It is also the marker
/// tag put on images where the cloud takes tags at import, so the image itself proves which configuration made it.
pub(super) fn fingerprint(account: &str, req: &ImportRequest, contents: &[String]) -> String {
    // Every field is named here, none left to `..`: a field added to the request does not compile until it is
    // put in the fingerprint or deliberately left out (as the token and the time-out are: how the call is made,
    // not what it asks for). The options are hashed in the parameter table's order, which is the order
    // fingerprints have always had; one declared after the first fingerprints only when set, so that adding a
    // parameter changes no earlier create's fingerprint.
    let ImportRequest {
        region,
        name,
        description,
        source_url,
        options,
        tags,
        data_disks,
        idempotency_token: _,
        import_timeout: _,
    } = req;
    let mut h = Sha256::new();
    let mut field = |name: &str, value: &str| {
        h.update(name.as_bytes());
        h.update([0]);
        h.update(value.as_bytes());
        h.update([0]);
    };
    field("account", account);
    field(REGION, region);
    field(NAME, name);
    field(DESCRIPTION, description.as_deref().unwrap_or(""));
    field(SOURCE_URL, source_url);
    for param in Param::options() {
        match options.get(param) {
            Some(v) => field(param.attribute(), &v.fingerprint_text()),
            None if param.def().always_fingerprinted => field(param.attribute(), ""),
            None => {}
        }
    }
    for (k, v) in tags {
        field("tag", k);
        field("value", v);
    }
    for c in contents {
        field("content", c);
    }
    for DataDisk {
        source_url,
        format,
        size_gb,
    } in data_disks
    {
        field("disk", source_url);
        field("disk_format", format.as_deref().unwrap_or(""));
        field(
            "disk_size",
            &size_gb.map(|s| s.to_string()).unwrap_or_default(),
        );
    }
    hex::encode(&h.finalize()[..16])
}

impl Journal {
    /// The journal under `$XDG_STATE_HOME/terraform-provider-cloudimage/creates`, else
    /// `~/.local/state/terraform-provider-cloudimage/creates`; none without either.
    pub fn from_env(env: &dyn Env) -> Self {
        let base = env
            .var("XDG_STATE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| env.home_dir().map(|h| h.join(".local/state")));
        Self {
            dir: base.map(|b| b.join("terraform-provider-cloudimage").join("creates")),
        }
    }

    /// A journal in `dir` (tests).
    pub fn at(dir: &Path) -> Self {
        Self {
            dir: Some(dir.to_path_buf()),
        }
    }

    fn path(&self, key: &str) -> Option<PathBuf> {
        // Keys are hex fingerprints; anything else is refused rather than used as a path.
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.dir.as_ref().map(|d| d.join(format!("{key}.json")))
    }

    /// The entry of a create that an earlier run started and did not finish, if any.
    pub fn load(&self, key: &str) -> Option<Entry> {
        let text = std::fs::read(self.path(key)?).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Writes an entry so that it survives a crash right after this returns (written aside, synced, renamed).
    pub fn save(&self, key: &str, entry: &Entry) -> Result<(), String> {
        let path = self
            .path(key)
            .ok_or_else(|| "no state directory (set HOME or XDG_STATE_HOME)".to_string())?;
        let dir = path
            .parent()
            .ok_or_else(|| "journal path has no directory".to_string())?;
        create_private_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let text = serde_json::to_vec(entry).map_err(|e| e.to_string())?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)
            .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
        tmp.write_all(&text)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        tmp.persist(&path)
            .map_err(|e| format!("cannot write {}: {}", path.display(), e.error))?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Forgets a create: Terraform has the image now (or knows it failed).
    pub fn remove(&self, key: &str) {
        if let Some(path) = self.path(key) {
            if let Err(e) = std::fs::remove_file(&path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(path = %path.display(), error = %e, "cannot remove a create journal entry");
                }
            }
        }
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::OptionValue;

    fn request(name: &str) -> ImportRequest {
        ImportRequest {
            region: "cn-beijing".into(),
            name: name.into(),
            source_url: "oss://b/k.qcow2".into(),
            idempotency_token: "differs-per-attempt".into(),
            ..ImportRequest::default()
        }
    }

    /// Fingerprints are marker tags on images already made and keys of journals already written: a full request
    /// hashes to what it always did.
    #[test]
    fn fingerprints_are_stable() {
        let mut r = request("web");
        r.description = Some("d".into());
        r.options
            .set(Param::Format, Some(OptionValue::Text("qcow2".into())))
            .set(
                Param::Architecture,
                Some(OptionValue::Text("x86_64".into())),
            )
            .set(Param::Force, Some(OptionValue::Flag(true)))
            .set(Param::SystemDiskSizeGb, Some(OptionValue::Gib(40)));
        r.tags.insert("env".into(), "dev".into());
        r.data_disks.push(crate::cloud::DataDisk {
            source_url: "oss://b/d.raw".into(),
            format: Some("raw".into()),
            size_gb: Some(20),
        });
        let fp = fingerprint("acct", &r, &["ab".repeat(32)]);
        assert_eq!(fp, "f9801aac5e0dca744f4dd00b8fe538f1");
    }

    #[test]
    fn fingerprint_follows_the_request_not_the_attempt() {
        let a = fingerprint("acct", &request("web"), &[]);
        let mut again = request("web");
        again.idempotency_token = "another".into();
        assert_eq!(a, fingerprint("acct", &again, &[]));
        assert_ne!(a, fingerprint("acct", &request("web2"), &[]));
        assert_ne!(a, fingerprint("other account", &request("web"), &[]));
        assert_eq!(a.len(), 32);
        // Another content uploaded to the same object is another image.
        let one = fingerprint("acct", &request("web"), &["1".repeat(64)]);
        assert_ne!(one, a);
        assert_ne!(one, fingerprint("acct", &request("web"), &["2".repeat(64)]));
    }

    #[test]
    fn entries_survive_and_go() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::at(&dir.path().join("creates"));
        let key = fingerprint("acct", &request("web"), &[]);
        assert_eq!(j.load(&key), None);
        let e = Entry {
            token: "t".into(),
            sent_at: 1,
            image_id: Some("m-1".into()),
            task_id: None,
        };
        j.save(&key, &e).unwrap();
        assert_eq!(j.load(&key), Some(e));
        j.remove(&key);
        assert_eq!(j.load(&key), None);
        assert!(j
            .save(
                "../escape",
                &Entry {
                    token: "t".into(),
                    sent_at: 1,
                    image_id: None,
                    task_id: None
                }
            )
            .is_err());
    }
}
