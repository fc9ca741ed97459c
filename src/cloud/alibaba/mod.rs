//! The Alibaba Cloud RPC family: ECS, ENS and Apsara Stack share the signed RPC transport, the OSS object
//! vocabulary, the naming rules and most of the image vocabulary. ECS and ENS are one account (the `alicloud`
//! block); Apsara Stack is its own (`apsarastack`) and reaches ECS through a gateway.

pub mod account;
pub mod apsara;
pub mod ecs;
pub mod ens;
pub mod oss;
pub mod rpc;
pub mod rules;
pub mod sign;

use std::sync::Arc;

pub use ecs::gateway::ApsaraApiStyle;
pub use ecs::EcsClient;
pub use ens::{EnsClient, ENS_OSS_REGION};
pub use rpc::{AcsRpc, SignatureVersion};

use crate::cloud::backend::{check_label, Backend, ObjectUrlError};
use crate::cloud::http::ClientOptions;
use crate::cloud::object_url::encode_key;
use crate::cloud::objects::{self, StoredObject};
use crate::cloud::rules::CloudRules;
use crate::cloud::settings::{BlockSpec, Profile, Resolved};
use crate::cloud::storage::{Addressing, ObjectInfo, StorageCredentials, StorageProfile};
use crate::cloud::{Cloud, CloudError, ConfigError, Env, ImageApi};

/// Which product of the family a backend is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Product {
    Ecs,
    Ens,
    Apsara,
}

/// One backend of the family.
#[derive(Debug)]
pub struct AlibabaBackend {
    cloud: Cloud,
    product: Product,
}

/// Alibaba Cloud ECS.
pub static ECS: AlibabaBackend = AlibabaBackend {
    cloud: Cloud::AliCloud,
    product: Product::Ecs,
};
/// Alibaba Cloud ENS.
pub static ENS: AlibabaBackend = AlibabaBackend {
    cloud: Cloud::AliCloudEns,
    product: Product::Ens,
};
/// Apsara Stack ECS.
pub static APSARA: AlibabaBackend = AlibabaBackend {
    cloud: Cloud::ApsaraStack,
    product: Product::Apsara,
};

impl Backend for AlibabaBackend {
    fn cloud(&self) -> Cloud {
        self.cloud
    }

    fn block(&self) -> BlockSpec {
        match self.product {
            Product::Apsara => apsara::block(),
            Product::Ecs | Product::Ens => account::block(),
        }
    }

    /// The aliyun CLI profile belongs to the public cloud's account; Apsara Stack has none.
    fn profile(&self, env: &dyn Env) -> Profile {
        match self.product {
            Product::Apsara => Profile::default(),
            Product::Ecs | Product::Ens => account::cli_profile(env),
        }
    }

    fn connect(
        &self,
        settings: &Resolved,
        options: &ClientOptions,
    ) -> Result<Arc<dyn ImageApi>, ConfigError> {
        match self.product {
            Product::Ecs => ecs::connect(settings, options),
            Product::Ens => ens::connect(settings, options),
            Product::Apsara => apsara::connect(settings, options),
        }
    }

    fn rules(&self) -> &'static CloudRules {
        match self.product {
            Product::Ecs => &rules::ECS,
            Product::Ens => &rules::ENS,
            Product::Apsara => &rules::APSARA,
        }
    }

    /// Public Alibaba Cloud imports from `oss://bucket/key` or an OSS https URL on `aliyuncs.com`; Apsara Stack's
    /// OSS lives on private domains, so any OSS location will do there.
    fn check_source_url(&self, url: &str) -> Result<(), String> {
        let loc = oss::parse_oss(url)?;
        // ENS ImportImage `OSSRegion`: "Currently, only cn-beijing is supported" (alibabacloud-go/ens-20171110
        // `client/import_image_request_model.go`).
        if self.product == Product::Ens {
            if let Some(region) = loc.region.filter(|r| r != ENS_OSS_REGION) {
                return Err(format!(
                    "{url:?} is an OSS object in {region}; ENS imports objects from OSS in {ENS_OSS_REGION} only"
                ));
            }
        }
        if self.product == Product::Apsara {
            return Ok(());
        }
        let u = crate::cloud::object_url::ObjectUrl::parse(url)?;
        if u.scheme == "oss" || u.host.ends_with(".aliyuncs.com") {
            Ok(())
        } else {
            Err(format!(
                "{url:?}: expected oss://<bucket>/<key> or https://<bucket>.oss-<region>.aliyuncs.com/<key>"
            ))
        }
    }

    /// `oss://bucket/key` for any spelling of an OSS object.
    fn source_object(&self, url: &str) -> Option<String> {
        oss::parse_oss(url)
            .ok()
            .map(|loc| format!("oss://{}/{}", loc.bucket, loc.object))
    }

    fn name_problem(&self, name: &str) -> Option<String> {
        rules::name_problem(self.cloud, name)
    }

    fn description_problem(&self, description: &str) -> Option<String> {
        rules::description_problem(self.cloud, description)
    }

    /// Only ECS takes tags (Tag.N at import, TagResources after).
    fn tag_problems(&self, key: &str, value: &str) -> Vec<String> {
        match self.product {
            Product::Ecs => rules::tag_problems(self.cloud, key, value),
            Product::Ens | Product::Apsara => Vec::new(),
        }
    }

    fn hint(&self, error: &CloudError) -> Option<&'static str> {
        rpc::hint(error)
    }

    /// `oss://bucket/key` or an OSS https URL (`https://bucket.oss-<region>[-internal].<domain>/key`); the family's
    /// imports take the bucket and key (`DiskDeviceMapping.N.OSSBucket` / `OSSObject`, ENS `OSSBucket` /
    /// `OSSObject`).
    fn stored_object(&self, url: &str) -> Result<StoredObject, String> {
        self.check_source_url(url)?;
        let loc = oss::parse_oss(url)?;
        objects::checked(StoredObject {
            bucket: loc.bucket,
            key: loc.object,
            region: loc.region,
            local_endpoint: None,
        })
    }

    /// OSS's S3-compatible endpoint, `s3.oss-<region>.aliyuncs.com` (Alibaba Cloud help center, OSS "Access OSS
    /// using an AWS SDK"). Apsara Stack's OSS is the deployment's own: no default.
    /// `oss://<bucket>/<key>`, which names the object whatever the endpoint (the region is checked as a name
    /// only: OSS URLs of this form carry none).
    fn object_url(&self, region: &str, bucket: &str, key: &str) -> Result<String, ObjectUrlError> {
        check_label("a region", region).map_err(ObjectUrlError::Region)?;
        check_label("an OSS bucket name", bucket).map_err(ObjectUrlError::Bucket)?;
        let path = encode_key(key).map_err(ObjectUrlError::Key)?;
        Ok(format!("oss://{bucket}/{path}"))
    }

    fn storage_endpoint(&self, region: &str) -> Option<String> {
        match self.product {
            Product::Apsara => None,
            Product::Ecs | Product::Ens => Some(format!("https://s3.oss-{region}.aliyuncs.com")),
        }
    }

    /// OSS on public Alibaba Cloud: a `storage_endpoint` outside `aliyuncs.com` is a custom domain bound to the
    /// bucket (CNAME), reached without the bucket in host or path. Accounts that activated OSS on or after
    /// 2025-03-20 must use one for data operations on mainland-China buckets (Alibaba Cloud help center, OSS error
    /// 0048-00000401 `PublicEndpointForbidden`, and "Use Amazon S3 SDKs to access OSS"; the official OSS Go SDK v2
    /// `oss/client.go` `UrlStyleCName` sends `https://<domain>/<key>`). Apsara Stack's OSS lives on the
    /// deployment's own domains, virtual-hosted.
    fn storage_profile(&self, _region: &str, endpoint: Option<&str>) -> StorageProfile {
        let custom_domain = self.product != Product::Apsara
            && endpoint
                .and_then(|e| url::Url::parse(e).ok())
                .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
                .is_some_and(|h| h != "aliyuncs.com" && !h.ends_with(".aliyuncs.com"));
        StorageProfile {
            addressing: if custom_domain {
                Addressing::CustomDomain
            } else {
                Addressing::VirtualHosted
            },
            ..StorageProfile::default()
        }
    }

    /// ECS ImportImage's documented refusals of an OSS object (Alibaba Cloud ECS API reference, ImportImage error
    /// codes): 400 `InvalidOSSObject.NeedRestore` "is a archive object, need restore first" (see
    /// [`oss::is_archive_class`]) and 403 `InvalidOSSBucket.EncryptUnsupported` "Accessing objects from encrypted
    /// OSS bucket is not supported".
    fn object_problem(&self, info: &ObjectInfo) -> Option<String> {
        if self.product != Product::Ecs {
            return None;
        }
        if let Some(class) = info
            .storage_class
            .as_deref()
            .filter(|c| oss::is_archive_class(c))
        {
            return Some(format!(
                "the object is in the {class} storage class, which ECS cannot import from \
                 (InvalidOSSObject.NeedRestore): restore it, or copy it to the Standard class, first"
            ));
        }
        info.server_side_encryption.as_deref().map(|sse| {
            format!(
                "the object is encrypted at rest ({sse}), and ECS imports no object from an encrypted OSS bucket \
                 (InvalidOSSBucket.EncryptUnsupported): use an unencrypted bucket"
            )
        })
    }

    /// OSS refuses data operations on its default public endpoint for accounts that activated it on or after
    /// 2025-03-20 (HTTP 400 `PublicEndpointForbidden`, EC 0048-00000401; Alibaba Cloud help center).
    fn storage_hint(&self, code: &str) -> Option<String> {
        matches!(code, "PublicEndpointForbidden" | "0048-00000401").then(|| {
            format!(
                "OSS does not serve this account's buckets on the public endpoint (accounts that activated OSS on \
                 or after 2025-03-20, mainland China regions). Bind a custom domain to the bucket in the OSS \
                 console and set `{}.storage_endpoint = \"https://<that domain>\"` in the provider block.",
                self.block().name
            )
        })
    }

    /// The AccessKey pair (and STS token) sign OSS's S3-compatible API too (same OSS page).
    fn storage_credentials(&self, settings: &Resolved) -> Result<StorageCredentials, ConfigError> {
        let keys = account::keys(settings)?;
        Ok(objects::credentials(
            keys.access_key,
            &keys.secret,
            keys.token.as_ref(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oss_objects_and_endpoints() {
        let o = ECS
            .stored_object("https://imgs.oss-cn-hangzhou-internal.aliyuncs.com/a/b.qcow2")
            .unwrap();
        assert_eq!(
            (o.bucket.as_str(), o.key.as_str(), o.region.as_deref()),
            ("imgs", "a/b.qcow2", Some("cn-hangzhou"))
        );
        let o = ENS.stored_object("oss://imgs/k.qcow2").unwrap();
        assert_eq!(o.region, None);
        assert!(ECS.stored_object("https://imgs.example.com/k").is_err());
        assert!(ENS
            .check_source_url("https://imgs.oss-cn-hangzhou.aliyuncs.com/k.qcow2")
            .is_err());
        assert!(ENS
            .check_source_url("https://imgs.oss-cn-beijing.aliyuncs.com/k.qcow2")
            .is_ok());
        assert_eq!(
            ECS.storage_endpoint("cn-beijing").as_deref(),
            Some("https://s3.oss-cn-beijing.aliyuncs.com")
        );
        assert_eq!(APSARA.storage_endpoint("cn-qingdao-env17-d01"), None);
    }
}
