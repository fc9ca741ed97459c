//! Objects that several images of one run upload to (a `for_each` over clouds from one file and one `upload_to`).
//!
//! Each image's create uploads its file and, once the image is available, deletes the object. Done blindly, the
//! first image to become available deletes the object while the other imports still read it, and two uploads of
//! one key at once race each other's multipart uploads. So every create takes a [`Lease`] on its objects for as
//! long as it needs them: uploads of one object run one at a time (the second finds the content in place and
//! sends nothing), and an object is deleted only by the last lease holder, only if none of them asked to keep it.
//! A plan that would upload two different contents to one object is refused ([`SharedUploads::plan`]).
//!
//! This covers one provider process, which is one Terraform run's walk: images applied by other runs are not
//! seen (their objects are theirs to coordinate).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One object in one storage service: endpoint, bucket and key.
pub(super) type ObjectId = (String, String, String);

#[derive(Default)]
struct Entry {
    /// Creates holding a lease on the object now.
    holders: usize,
    /// Whether any holder keeps the object (`keep_uploaded_object`).
    keep: bool,
    /// Serialises uploads of the object.
    upload: Arc<tokio::sync::Mutex<()>>,
}

/// The objects of this process's creates, and the contents its plans upload.
#[derive(Default)]
pub(super) struct SharedUploads {
    leased: Mutex<HashMap<ObjectId, Entry>>,
    planned: Mutex<HashMap<ObjectId, String>>,
}

impl SharedUploads {
    /// Records that a plan uploads content `sha256` to `object`; `Err` with the other content's SHA-256 when
    /// another image planned in this run uploads different content there.
    pub(super) fn plan(&self, object: &ObjectId, sha256: &str) -> Result<(), String> {
        let mut planned = self.planned.lock().unwrap_or_else(|e| e.into_inner());
        match planned.get(object) {
            Some(other) if !other.eq_ignore_ascii_case(sha256) => Err(other.clone()),
            Some(_) => Ok(()),
            None => {
                planned.insert(object.clone(), sha256.to_ascii_lowercase());
                Ok(())
            }
        }
    }

    /// Takes a lease on each of `objects` for one create; `keep` when the create keeps its objects.
    pub(super) fn lease(self: &Arc<Self>, objects: &[ObjectId], keep: bool) -> Lease {
        let mut leased = self.leased.lock().unwrap_or_else(|e| e.into_inner());
        for o in objects {
            let e = leased.entry(o.clone()).or_default();
            e.holders += 1;
            e.keep |= keep;
        }
        Lease {
            shared: Arc::clone(self),
            objects: objects.to_vec(),
            released: false,
        }
    }

    fn upload_lock(&self, object: &ObjectId) -> Arc<tokio::sync::Mutex<()>> {
        let mut leased = self.leased.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(&leased.entry(object.clone()).or_default().upload)
    }

    /// Gives up one holder of each object; returns those this was the last holder of and no holder keeps.
    fn release(&self, objects: &[ObjectId]) -> Vec<ObjectId> {
        let mut leased = self.leased.lock().unwrap_or_else(|e| e.into_inner());
        let mut last = Vec::new();
        for o in objects {
            let Some(e) = leased.get_mut(o) else {
                continue;
            };
            e.holders = e.holders.saturating_sub(1);
            if e.holders == 0 {
                if !e.keep {
                    last.push(o.clone());
                }
                leased.remove(o);
            }
        }
        last
    }
}

/// One create's hold on its objects. Dropped without [`Lease::finish`] (a failed or interrupted create), it lets
/// go and deletes nothing: the object stays for the next apply.
pub(super) struct Lease {
    shared: Arc<SharedUploads>,
    objects: Vec<ObjectId>,
    released: bool,
}

impl Lease {
    /// Waits until no other create of this process uploads `object`, and holds that until the guard is dropped.
    pub(super) async fn upload_turn(&self, object: &ObjectId) -> tokio::sync::OwnedMutexGuard<()> {
        self.shared.upload_lock(object).lock_owned().await
    }

    /// The create's image is available: lets go of every object, and returns those that may be deleted now (no
    /// other create of this run still needs them, and none keeps them).
    pub(super) fn finish(mut self) -> Vec<ObjectId> {
        self.released = true;
        self.shared.release(&self.objects)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if !self.released {
            self.shared.release(&self.objects);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(key: &str) -> ObjectId {
        ("http://127.0.0.1:1".into(), "b".into(), key.into())
    }

    #[test]
    fn only_the_last_holder_deletes() {
        let s = Arc::new(SharedUploads::default());
        let a = s.lease(&[id("k")], false);
        let b = s.lease(&[id("k")], false);
        assert!(a.finish().is_empty(), "b still imports from it");
        assert_eq!(b.finish(), vec![id("k")]);
        // A failed create lets go without deleting; the last available one deletes.
        let failed = s.lease(&[id("k")], false);
        let ok = s.lease(&[id("k")], false);
        drop(failed);
        assert_eq!(ok.finish(), vec![id("k")]);
        // One holder that keeps the object keeps it for all.
        let keep = s.lease(&[id("k")], true);
        let other = s.lease(&[id("k")], false);
        assert!(keep.finish().is_empty());
        assert!(other.finish().is_empty());
        // Nothing is left behind.
        assert!(s.leased.lock().unwrap().is_empty());
    }

    #[test]
    fn two_contents_for_one_object_are_refused_at_plan() {
        let s = SharedUploads::default();
        assert!(s.plan(&id("k"), "aa").is_ok());
        assert!(s.plan(&id("k"), "AA").is_ok());
        assert_eq!(s.plan(&id("k"), "bb"), Err("aa".into()));
        assert!(s.plan(&id("other"), "bb").is_ok());
    }

    #[tokio::test]
    async fn uploads_of_one_object_take_turns() {
        let s = Arc::new(SharedUploads::default());
        let a = s.lease(&[id("k")], false);
        let b = s.lease(&[id("k")], false);
        let turn = a.upload_turn(&id("k")).await;
        let waiting = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            b.upload_turn(&id("k")),
        )
        .await;
        assert!(waiting.is_err(), "b uploaded while a did");
        drop(turn);
        let _turn = b.upload_turn(&id("k")).await;
    }
}
