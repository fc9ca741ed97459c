//! The key pairs each simulated cloud accepts. Built-in defaults let tests and demos run with
//! no setup; `--credentials FILE` replaces the pairs of any cloud it names.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::cloud::KeyFamily;
use crate::error::SimError;

/// One accepted key pair; with `token` set it is a temporary (STS) credential and requests must
/// carry that exact token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KeyPair {
    /// Public key / SecretId / AccessKeyId.
    pub id: String,
    /// Private key / SecretKey / AccessKeySecret.
    pub secret: String,
    /// Security token for temporary credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// Key pairs per credential family (the JSON shape of `--credentials`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Credentials {
    /// UCloud key pairs.
    #[serde(default)]
    pub ucloud: Vec<KeyPair>,
    /// SurferCloud key pairs.
    #[serde(default)]
    pub surfercloud: Vec<KeyPair>,
    /// Tencent Cloud key pairs.
    #[serde(default)]
    pub tencentcloud: Vec<KeyPair>,
    /// Alibaba Cloud key pairs (ECS and ENS).
    #[serde(default)]
    pub alicloud: Vec<KeyPair>,
    /// Apsara Stack key pairs.
    #[serde(default)]
    pub apsarastack: Vec<KeyPair>,
}

fn pair(id: &str, secret: &str, token: Option<&str>) -> KeyPair {
    KeyPair {
        id: id.to_string(),
        secret: secret.to_string(),
        token: token.map(str::to_string),
    }
}

/// Parses a `--credentials` file body: an object with any of the family keys.
#[derive(Deserialize)]
struct Overrides {
    ucloud: Option<Vec<KeyPair>>,
    surfercloud: Option<Vec<KeyPair>>,
    tencentcloud: Option<Vec<KeyPair>>,
    alicloud: Option<Vec<KeyPair>>,
    apsarastack: Option<Vec<KeyPair>>,
}

impl Default for Credentials {
    /// The documented test credentials (see docs/simulator.md): one permanent pair per family
    /// plus one STS pair for the families that support tokens.
    fn default() -> Self {
        Credentials {
            ucloud: vec![pair(
                "sim-ucloud-public-key",
                "sim-ucloud-private-key",
                None,
            )],
            surfercloud: vec![pair(
                "sim-surfercloud-public-key",
                "sim-surfercloud-private-key",
                None,
            )],
            tencentcloud: vec![
                pair(
                    "AKIDsimTencentSecretId000000000000",
                    "simTencentSecretKey0000000000000",
                    None,
                ),
                pair(
                    "AKIDsimTencentStsId00000000000000",
                    "simTencentStsKey00000000000000000",
                    Some("sim-tencent-sts-token"),
                ),
            ],
            alicloud: vec![
                pair(
                    "LTAIsimAlicloudKey0000000",
                    "simAlicloudSecret000000000000000",
                    None,
                ),
                pair(
                    "STS.simAlicloudStsKey00000",
                    "simAlicloudStsSecret000000000000",
                    Some("sim-alicloud-sts-token"),
                ),
            ],
            apsarastack: vec![pair(
                "simApsaraStackKey0000000",
                "simApsaraStackSecret00000000000",
                None,
            )],
        }
    }
}

impl Credentials {
    /// Defaults, with every family named in the JSON file at `path` replaced.
    pub(crate) fn load(path: &Path) -> Result<Credentials, SimError> {
        let text = std::fs::read_to_string(path).map_err(|source| SimError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Credentials::from_json(&text).map_err(|source| SimError::Json {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Defaults, with every family named in `text` replaced.
    pub(crate) fn from_json(text: &str) -> Result<Credentials, serde_json::Error> {
        let o: Overrides = serde_json::from_str(text)?;
        let mut c = Credentials::default();
        if let Some(v) = o.ucloud {
            c.ucloud = v;
        }
        if let Some(v) = o.surfercloud {
            c.surfercloud = v;
        }
        if let Some(v) = o.tencentcloud {
            c.tencentcloud = v;
        }
        if let Some(v) = o.alicloud {
            c.alicloud = v;
        }
        if let Some(v) = o.apsarastack {
            c.apsarastack = v;
        }
        Ok(c)
    }

    /// The key pair with public id `id` in `family`.
    pub(crate) fn find(&self, family: KeyFamily, id: &str) -> Option<&KeyPair> {
        let list = match family {
            KeyFamily::Ucloud => &self.ucloud,
            KeyFamily::Surfercloud => &self.surfercloud,
            KeyFamily::Tencentcloud => &self.tencentcloud,
            KeyFamily::Alicloud => &self.alicloud,
            KeyFamily::Apsarastack => &self.apsarastack,
        };
        list.iter().find(|k| k.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_cover_every_family() {
        let c = Credentials::default();
        assert!(c.find(KeyFamily::Ucloud, "sim-ucloud-public-key").is_some());
        assert!(c
            .find(KeyFamily::Surfercloud, "sim-surfercloud-public-key")
            .is_some());
        assert!(c
            .find(KeyFamily::Tencentcloud, "AKIDsimTencentStsId00000000000000")
            .and_then(|k| k.token.as_deref())
            .is_some());
        assert!(c
            .find(KeyFamily::Alicloud, "LTAIsimAlicloudKey0000000")
            .is_some());
        assert!(c
            .find(KeyFamily::Apsarastack, "simApsaraStackKey0000000")
            .is_some());
        assert!(c.find(KeyFamily::Ucloud, "nope").is_none());
    }

    #[test]
    fn file_replaces_named_families_only() {
        let c = Credentials::from_json(r#"{"ucloud":[{"id":"pk","secret":"sk"}]}"#).unwrap();
        assert_eq!(c.ucloud, vec![pair("pk", "sk", None)]);
        assert!(c.find(KeyFamily::Ucloud, "sim-ucloud-public-key").is_none());
        assert_eq!(c.tencentcloud, Credentials::default().tencentcloud);
        assert!(Credentials::from_json("[]").is_err());
    }
}
