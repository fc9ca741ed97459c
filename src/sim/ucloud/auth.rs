//! UCloud / SurferCloud request verification: `PublicKey` lookup, optional `SecurityToken`,
//! and the SHA-1 `Signature` over the sorted parameters.
//!
//! Form and query requests are signed over their flat `Name.N` parameters. JSON requests are
//! signed the way UCloud's Go SDK JSON encoder does it: top-level keys, with arrays and objects
//! concatenated in place (`ImageIds` + `id1id2`), which is what the real gateway must accept.

use std::collections::BTreeMap;

use cloudimage::cloud::ucloud::sign::ucloud_signature;
use cloudimage::cloud::Secret;
use serde_json::{Map, Value};

use crate::auth::same_signature;
use crate::cloud::KeyFamily;
use crate::creds::Credentials;

/// Why a UCloud request was refused; each maps to the gateway's RetCode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum UAuthError {
    /// No `Signature` parameter (RetCode 170).
    #[error("Missing signature")]
    MissingSignature,
    /// Unknown or missing `PublicKey` (RetCode 172).
    #[error("User Not Exists")]
    UnknownKey,
    /// Signature mismatch (RetCode 171).
    #[error("Signature VerifyAC Error")]
    BadSignature,
    /// Security token missing, unexpected or wrong (RetCode 174).
    #[error("Token Not Exists")]
    BadToken,
}

impl UAuthError {
    /// The RetCode UCloud's gateway answers with.
    pub(crate) fn ret_code(&self) -> i64 {
        match self {
            UAuthError::MissingSignature => 170,
            UAuthError::BadSignature => 171,
            UAuthError::UnknownKey => 172,
            UAuthError::BadToken => 174,
        }
    }
}

fn concat(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(concat).collect(),
        Value::Object(m) => {
            let sorted: BTreeMap<&String, &Value> = m.iter().collect();
            sorted
                .into_iter()
                .map(|(k, v)| format!("{k}{}", concat(v)))
                .collect()
        }
    }
}

/// The signed parameter map of a JSON body (Go SDK JSON-encoder semantics).
pub(crate) fn json_signing_params(obj: &Map<String, Value>) -> BTreeMap<String, String> {
    obj.iter().map(|(k, v)| (k.clone(), concat(v))).collect()
}

/// Verifies `signed` (every signed parameter, including `Signature` and `PublicKey`).
pub(crate) fn verify(
    signed: &BTreeMap<String, String>,
    creds: &Credentials,
    family: KeyFamily,
) -> Result<(), UAuthError> {
    let sig = signed
        .get("Signature")
        .filter(|s| !s.is_empty())
        .ok_or(UAuthError::MissingSignature)?;
    let key = signed
        .get("PublicKey")
        .and_then(|pk| creds.find(family, pk))
        .ok_or(UAuthError::UnknownKey)?;
    let expected = ucloud_signature(signed, &Secret::new(key.secret.as_str()));
    if !same_signature(&expected, &sig.to_ascii_lowercase()) {
        return Err(UAuthError::BadSignature);
    }
    match (&key.token, signed.get("SecurityToken")) {
        (None, None) => Ok(()),
        (Some(want), Some(got)) if want == got => Ok(()),
        _ => Err(UAuthError::BadToken),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::creds::KeyPair;

    fn creds() -> Credentials {
        Credentials {
            ucloud: vec![KeyPair {
                id: "ucloudsomeone@example.com1296235120854146120".into(),
                secret: "46f09bb9fab4f12dfc160dae12273d5332b5debe".into(),
                token: None,
            }],
            ..Credentials::default()
        }
    }

    fn doc_params() -> BTreeMap<String, String> {
        [
            ("Action", "DescribeUHostInstance"),
            ("Region", "cn-bj2"),
            ("Limit", "10"),
            ("PublicKey", "ucloudsomeone@example.com1296235120854146120"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn documented_example_verifies() {
        // UCloud's signature guide: this request signs to cba5cf5e...
        let mut p = doc_params();
        p.insert(
            "Signature".into(),
            "cba5cf5ec4d4233d206b1b54951e3787350a642f".into(),
        );
        assert_eq!(verify(&p, &creds(), KeyFamily::Ucloud), Ok(()));
        p.insert("Limit".into(), "11".into());
        assert_eq!(
            verify(&p, &creds(), KeyFamily::Ucloud),
            Err(UAuthError::BadSignature)
        );
    }

    #[test]
    fn missing_and_unknown() {
        let p = doc_params();
        assert_eq!(
            verify(&p, &creds(), KeyFamily::Ucloud),
            Err(UAuthError::MissingSignature)
        );
        let mut p = doc_params();
        p.insert("Signature".into(), "x".into());
        p.insert("PublicKey".into(), "other".into());
        assert_eq!(
            verify(&p, &creds(), KeyFamily::Ucloud),
            Err(UAuthError::UnknownKey)
        );
        assert_eq!(UAuthError::UnknownKey.ret_code(), 172);
    }

    #[test]
    fn json_arrays_concatenate() {
        let v: Value = serde_json::json!({
            "Action": "DescribeImage", "ImageIds": ["a", "b"], "Limit": 20, "Auth": true,
            "Obj": {"b": 1, "a": "x"}
        });
        let m = json_signing_params(v.as_object().unwrap());
        assert_eq!(m["ImageIds"], "ab");
        assert_eq!(m["Limit"], "20");
        assert_eq!(m["Auth"], "true");
        assert_eq!(m["Obj"], "axb1");
    }

    #[test]
    fn tokens_must_match_the_key() {
        let mut c = creds();
        c.ucloud[0].token = Some("tok".into());
        let mut p = doc_params();
        p.insert("SecurityToken".into(), "tok".into());
        let sig = ucloud_signature(&p, &Secret::new(c.ucloud[0].secret.as_str()));
        p.insert("Signature".into(), sig);
        assert_eq!(verify(&p, &c, KeyFamily::Ucloud), Ok(()));
        let mut p2 = doc_params();
        let sig = ucloud_signature(&p2, &Secret::new(c.ucloud[0].secret.as_str()));
        p2.insert("Signature".into(), sig);
        assert_eq!(
            verify(&p2, &c, KeyFamily::Ucloud),
            Err(UAuthError::BadToken)
        );
    }
}
