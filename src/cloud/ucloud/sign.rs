//! UCloud (and SurferCloud) signature: SHA-1 over the sorted, concatenated `key value` pairs
//! followed by the private key.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

use crate::cloud::Secret;

/// Computes UCloud's `Signature` parameter (lower-case hex SHA-1).
///
/// `params` must already be flattened (see [`ucloud_flatten`]) and must not contain `Signature`
/// itself; a `Signature` entry is skipped so a verifier can pass the received map unchanged.
pub fn ucloud_signature(params: &BTreeMap<String, String>, private_key: &Secret) -> String {
    let mut h = Sha1::new();
    for (k, v) in params {
        if k == "Signature" {
            continue;
        }
        h.update(k.as_bytes());
        h.update(v.as_bytes());
    }
    h.update(private_key.expose().as_bytes());
    hex::encode(h.finalize())
}

/// Flattens a JSON request object into UCloud's `Name.N` / `Name.N.Field` parameter form.
///
/// Arrays become `Name.0`, `Name.1`, ...; nested objects become `Name.Field`; booleans become
/// `true`/`false`; numbers keep their JSON text; nulls are dropped.
pub fn ucloud_flatten(obj: &Map<String, Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in obj {
        flatten_into(k, v, &mut out);
    }
    out
}

fn flatten_into(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Null => {}
        Value::Bool(b) => {
            out.insert(prefix.to_string(), b.to_string());
        }
        Value::Number(n) => {
            out.insert(prefix.to_string(), n.to_string());
        }
        Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten_into(&format!("{prefix}.{i}"), item, out);
            }
        }
        Value::Object(m) => {
            for (k, item) in m {
                flatten_into(&format!("{prefix}.{k}"), item, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_example() {
        let params: BTreeMap<String, String> = [
            ("Action", "CreateUHostInstance"),
            ("CPU", "2"),
            ("ChargeType", "Month"),
            ("DiskSpace", "10"),
            ("ImageId", "f43736e1-65a5-4bea-ad2e-8a46e18883c2"),
            ("LoginMode", "Password"),
            ("Memory", "2048"),
            ("Name", "Host01"),
            ("Password", "VUNsb3VkLmNu"),
            ("PublicKey", "ucloudsomeone@example.com1296235120854146120"),
            ("Quantity", "1"),
            ("Region", "cn-bj2"),
            ("Zone", "cn-bj2-04"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            ucloud_signature(
                &params,
                &Secret::new("46f09bb9fab4f12dfc160dae12273d5332b5debe")
            ),
            "4f9ef5df2abab2c6fccd1e9515cb7e2df8c6bb65"
        );
    }

    #[test]
    fn signature_param_is_ignored() {
        let mut p = BTreeMap::new();
        p.insert("Action".to_string(), "X".to_string());
        let k = Secret::new("k");
        let a = ucloud_signature(&p, &k);
        p.insert("Signature".to_string(), "abc".to_string());
        assert_eq!(a, ucloud_signature(&p, &k));
    }

    #[test]
    fn flatten_arrays_objects_bools() {
        let v = serde_json::json!({
            "ImageIds": ["a", "b"],
            "Disks": [{"Type": "CLOUD_SSD", "Size": 20, "IsBoot": true}],
            "Skip": null,
            "Limit": 5
        });
        let m = ucloud_flatten(v.as_object().unwrap());
        assert_eq!(m["ImageIds.0"], "a");
        assert_eq!(m["ImageIds.1"], "b");
        assert_eq!(m["Disks.0.Type"], "CLOUD_SSD");
        assert_eq!(m["Disks.0.Size"], "20");
        assert_eq!(m["Disks.0.IsBoot"], "true");
        assert_eq!(m["Limit"], "5");
        assert!(!m.contains_key("Skip"));
    }
}
