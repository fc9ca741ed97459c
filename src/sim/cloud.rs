//! The simulated backends, one for each cloud of the provider's registry (`cloudimage::cloud::Cloud::ALL`), and how
//! each one names itself in URLs, state and the admin API: by the provider's own name for it ([`Cloud::as_str`]).
//!
//! The names are not listed here a second time: [`SimCloud::of`] maps each registered cloud to its simulated
//! backend (an exhaustive match, so a cloud added to the registry does not compile here until it is simulated),
//! and the order, the names and their serde form all come from the registry through it.

use std::fmt;

use cloudimage::cloud::Cloud;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One simulated backend. Its name (the provider's `cloud` attribute value, [`Cloud::as_str`]) is the first path
/// segment of the admin API's image URLs and the key used in the state file and request counts; it is also its serde
/// form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum SimCloud {
    /// UCloud (`/ucloud`).
    Ucloud,
    /// SurferCloud, UCloud's API under another brand (`/surfercloud`).
    Surfercloud,
    /// Tencent Cloud CVM (`/tencentcloud`).
    Tencentcloud,
    /// Alibaba Cloud ECS (`/alicloud/ecs`).
    AlicloudEcs,
    /// Alibaba Cloud ENS (`/alicloud/ens`).
    AlicloudEns,
    /// Apsara Stack ECS (`/apsarastack`, the ECS API; or the route gateway `/apsarastack/apsara/route/Ecs/<Action>`).
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

/// Every backend's name, in the registry's order: what a name that is none of them is told to be instead.
static NAMES: [&str; Cloud::ALL.len()] = {
    let mut names = [""; Cloud::ALL.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = Cloud::ALL[i].as_str();
        i += 1;
    }
    names
};

impl SimCloud {
    /// Every backend, in the registry's order (used for listings).
    pub(crate) const ALL: [SimCloud; Cloud::ALL.len()] = {
        let mut all = [SimCloud::Ucloud; Cloud::ALL.len()];
        let mut i = 0;
        while i < all.len() {
            all[i] = SimCloud::of(Cloud::ALL[i]);
            i += 1;
        }
        all
    };

    /// The simulated backend of a registered cloud.
    pub(crate) const fn of(cloud: Cloud) -> SimCloud {
        match cloud {
            Cloud::UCloud => SimCloud::Ucloud,
            Cloud::SurferCloud => SimCloud::Surfercloud,
            Cloud::TencentCloud => SimCloud::Tencentcloud,
            Cloud::AliCloud => SimCloud::AlicloudEcs,
            Cloud::AliCloudEns => SimCloud::AlicloudEns,
            Cloud::ApsaraStack => SimCloud::Apsarastack,
        }
    }

    /// The registered cloud this backend simulates: the inverse of [`SimCloud::of`] (a test checks both ways).
    pub(crate) const fn cloud(self) -> Cloud {
        match self {
            SimCloud::Ucloud => Cloud::UCloud,
            SimCloud::Surfercloud => Cloud::SurferCloud,
            SimCloud::Tencentcloud => Cloud::TencentCloud,
            SimCloud::AlicloudEcs => Cloud::AliCloud,
            SimCloud::AlicloudEns => Cloud::AliCloudEns,
            SimCloud::Apsarastack => Cloud::ApsaraStack,
        }
    }

    /// The name used in the admin API and logs: the provider's `cloud` value, [`Cloud::as_str`].
    pub(crate) fn name(self) -> &'static str {
        self.cloud().as_str()
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

/// A backend is written as its name, as a unit variant renamed to it would be.
impl Serialize for SimCloud {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// A backend is read from its name; any other text is refused as an unknown variant naming the known ones, as a
/// derived enum would.
impl<'de> Deserialize<'de> for SimCloud {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        SimCloud::parse(&name).ok_or_else(|| serde::de::Error::unknown_variant(&name, &NAMES))
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
    fn one_backend_for_each_registered_cloud() {
        assert_eq!(SimCloud::ALL.len(), Cloud::ALL.len());
        for (sim, cloud) in SimCloud::ALL.into_iter().zip(Cloud::ALL) {
            assert_eq!(sim.cloud(), cloud);
            assert_eq!(SimCloud::of(cloud), sim);
            assert_eq!(sim.name(), cloud.as_str());
        }
    }

    #[test]
    fn ecs_and_ens_share_keys() {
        assert_eq!(
            SimCloud::AlicloudEcs.key_family(),
            SimCloud::AlicloudEns.key_family()
        );
    }
}
