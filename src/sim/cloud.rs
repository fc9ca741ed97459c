//! The six simulated backends and how each one names itself in URLs, state and the admin API.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One simulated backend. Its name (the provider's `cloud` attribute value) is the first path segment of the admin API's
/// image URLs and the key used in the state file and request counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) enum SimCloud {
    /// UCloud (`/ucloud`).
    #[serde(rename = "ucloud")]
    Ucloud,
    /// SurferCloud, UCloud's API under another brand (`/surfercloud`).
    #[serde(rename = "surfercloud")]
    Surfercloud,
    /// Tencent Cloud CVM (`/tencentcloud`).
    #[serde(rename = "tencentcloud")]
    Tencentcloud,
    /// Alibaba Cloud ECS (`/alicloud/ecs`).
    #[serde(rename = "alicloud")]
    AlicloudEcs,
    /// Alibaba Cloud ENS (`/alicloud/ens`).
    #[serde(rename = "alicloud_ens")]
    AlicloudEns,
    /// Apsara Stack ECS (`/apsarastack`, the ECS API; or the route gateway `/apsarastack/apsara/route/Ecs/<Action>`).
    #[serde(rename = "apsarastack")]
    Apsarastack,
}

/// Which credential table a backend's keys come from: ECS and ENS share one Alibaba account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum KeyFamily {
    /// UCloud key pairs.
    Ucloud,
    /// SurferCloud key pairs.
    Surfercloud,
    /// Tencent Cloud SecretId/SecretKey pairs.
    Tencentcloud,
    /// Alibaba Cloud AccessKey pairs (ECS and ENS).
    Alicloud,
    /// Apsara Stack AccessKey pairs.
    Apsarastack,
}

impl SimCloud {
    /// Every backend, in a stable order (used for listings).
    pub(crate) const ALL: [SimCloud; 6] = [
        SimCloud::Ucloud,
        SimCloud::Surfercloud,
        SimCloud::Tencentcloud,
        SimCloud::AlicloudEcs,
        SimCloud::AlicloudEns,
        SimCloud::Apsarastack,
    ];

    /// The name used in the admin API and logs (same as the provider's `cloud` values).
    pub(crate) fn name(self) -> &'static str {
        match self {
            SimCloud::Ucloud => "ucloud",
            SimCloud::Surfercloud => "surfercloud",
            SimCloud::Tencentcloud => "tencentcloud",
            SimCloud::AlicloudEcs => "alicloud",
            SimCloud::AlicloudEns => "alicloud_ens",
            SimCloud::Apsarastack => "apsarastack",
        }
    }

    /// Parses a name produced by [`SimCloud::name`].
    pub(crate) fn parse(s: &str) -> Option<SimCloud> {
        SimCloud::ALL.into_iter().find(|c| c.name() == s)
    }

    /// The credential table this backend verifies signatures against.
    pub(crate) fn key_family(self) -> KeyFamily {
        match self {
            SimCloud::Ucloud => KeyFamily::Ucloud,
            SimCloud::Surfercloud => KeyFamily::Surfercloud,
            SimCloud::Tencentcloud => KeyFamily::Tencentcloud,
            SimCloud::AlicloudEcs | SimCloud::AlicloudEns => KeyFamily::Alicloud,
            SimCloud::Apsarastack => KeyFamily::Apsarastack,
        }
    }
}

impl fmt::Display for SimCloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in SimCloud::ALL {
            assert_eq!(SimCloud::parse(c.name()), Some(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.name()));
        }
        assert_eq!(SimCloud::parse("aws"), None);
    }

    #[test]
    fn ecs_and_ens_share_keys() {
        assert_eq!(
            SimCloud::AlicloudEcs.key_family(),
            SimCloud::AlicloudEns.key_family()
        );
    }
}
