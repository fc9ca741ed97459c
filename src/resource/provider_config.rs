//! The `provider "cloudimage"` block: one optional nested block per cloud family, every attribute optional so that
//! environment variables and the clouds' CLI profiles can fill in.

use crate::cloud::Cloud;
use crate::cty::Type;
use crate::provider::schema::{Attribute, Block, NestedBlock, Nesting, Schema};

fn single(name: &str, description: &str, attributes: Vec<Attribute>) -> NestedBlock {
    NestedBlock {
        type_name: name.to_string(),
        block: Block {
            attributes,
            description: description.to_string(),
            ..Block::default()
        },
        nesting: Nesting::Single,
        min_items: 0,
        max_items: 0,
    }
}

fn opt(name: &str, description: &str) -> Attribute {
    Attribute::optional(name, Type::String, description)
}

fn secret(name: &str, description: &str) -> Attribute {
    Attribute::optional(name, Type::String, description).sensitive()
}

fn ucloud_like(brand: &str, env: &str, endpoint: &str) -> Vec<Attribute> {
    vec![
        opt(
            "public_key",
            &format!("{brand} API public key. Defaults to `{env}_PUBLIC_KEY`."),
        ),
        secret(
            "private_key",
            &format!("{brand} API private key. Defaults to `{env}_PRIVATE_KEY`."),
        ),
        secret(
            "security_token",
            "Temporary security token (STS), if the keys are temporary.",
        ),
        opt(
            "region",
            &format!("Default region for images, e.g. `cn-bj2`. Defaults to `{env}_REGION`."),
        ),
        opt(
            "project_id",
            &format!("Project ID. Defaults to `{env}_PROJECT_ID`."),
        ),
        opt(
            "endpoint",
            &format!("API endpoint URL. Defaults to `{endpoint}`."),
        ),
    ]
}

/// The provider block's schema.
pub fn schema() -> Schema {
    Schema {
        version: 0,
        block: Block {
            description: "Imports disk images from object storage into UCloud, SurferCloud, Tencent Cloud, \
                          Alibaba Cloud ECS and ENS, and Apsara Stack. Configure a block for each cloud you use; \
                          every attribute may instead come from that cloud's environment variables or CLI profile."
                .to_string(),
            blocks: vec![
                single("ucloud", "UCloud credentials and defaults.", ucloud_like("UCloud", "UCLOUD", "https://api.ucloud.cn")),
                single(
                    "surfercloud",
                    "SurferCloud (UCloud's international brand) credentials and defaults.",
                    ucloud_like("SurferCloud", "SURFERCLOUD", "https://api.surfercloud.com"),
                ),
                single(
                    "tencentcloud",
                    "Tencent Cloud credentials and defaults.",
                    vec![
                        opt("secret_id", "SecretId. Defaults to `TENCENTCLOUD_SECRET_ID`."),
                        secret("secret_key", "SecretKey. Defaults to `TENCENTCLOUD_SECRET_KEY`."),
                        secret("security_token", "STS token. Defaults to `TENCENTCLOUD_SECURITY_TOKEN`."),
                        opt("region", "Default region, e.g. `ap-guangzhou`. Defaults to `TENCENTCLOUD_REGION`."),
                        opt("endpoint", "CVM API endpoint URL. Defaults to `https://cvm.tencentcloudapi.com`."),
                        Attribute::optional(
                            "plan_dry_run",
                            Type::Bool,
                            "When `true`, `terraform plan` of a new image asks Tencent Cloud to check the import: \
                             ImportImage with `DryRun` (the parameters are validated, nothing is imported). Default \
                             `false`: plans make no API call.",
                        ),
                    ],
                ),
                single(
                    "alicloud",
                    "Alibaba Cloud credentials and defaults, for ECS (`alicloud`) and ENS (`alicloud_ens`).",
                    vec![
                        opt("access_key", "AccessKey ID. Defaults to `ALICLOUD_ACCESS_KEY` or `ALIBABA_CLOUD_ACCESS_KEY_ID`."),
                        secret("secret_key", "AccessKey secret. Defaults to `ALICLOUD_SECRET_KEY` or `ALIBABA_CLOUD_ACCESS_KEY_SECRET`."),
                        secret("security_token", "STS token. Defaults to `ALICLOUD_SECURITY_TOKEN`."),
                        opt("region", "Default region, e.g. `cn-beijing`. Defaults to `ALICLOUD_REGION`."),
                        opt("ecs_endpoint", "ECS API endpoint URL. Defaults to `https://ecs.<region>.aliyuncs.com`."),
                        opt("ens_endpoint", "ENS API endpoint URL. Defaults to `https://ens.aliyuncs.com`."),
                        opt("signature_version", "`1.0` (HMAC-SHA1 RPC signatures, the default) or `v3` (ACS3-HMAC-SHA256)."),
                    ],
                ),
                single(
                    "apsarastack",
                    "Apsara Stack credentials and gateway.",
                    vec![
                        opt("access_key", "AccessKey ID. Defaults to `APSARASTACK_ACCESS_KEY`."),
                        secret("secret_key", "AccessKey secret. Defaults to `APSARASTACK_SECRET_KEY`."),
                        secret("security_token", "STS token, if the keys are temporary."),
                        opt("region", "Default region. Defaults to `APSARASTACK_REGION`."),
                        opt("endpoint", "Gateway URL, e.g. `https://gateway.example.com`. Defaults to `APSARASTACK_ENDPOINT`."),
                        opt("organization_id", "Sent as `x-acs-organizationid` when set."),
                        opt("resource_group_id", "Sent as `x-acs-resourcegroupid` when set."),
                        opt(
                            "api_style",
                            "How ECS is reached. `route` (default): the Apsara Stack gateway, \
                             `POST <endpoint>/apsara/route/Ecs/<Action>` with `version` and `regionId` in the body, as \
                             Apsara Stack's ImportImage reference page documents. `ecs`: the standard ECS API \
                             (version 2014-05-26) at `<endpoint>` itself with the `x-acs-regionid`, \
                             `x-acs-organizationid`, `x-acs-resourcegroupid` and `x-acs-asapi-product` headers, the \
                             way the official Apsara Stack Terraform providers call it; `endpoint` is then the ECS \
                             (or ASAPI) endpoint.",
                        ),
                    ],
                ),
            ],
            ..Block::default()
        },
    }
}

use crate::cloud::{
    AlibabaSettings, ApsaraApiStyle, ApsaraSettings, CloudSettings, SignatureVersion,
    TencentSettings, UCloudSettings,
};
use crate::cty::{Path, Value};
use crate::provider::{Diagnostic, Diagnostics};

fn text(block: &Value, name: &str) -> Option<String> {
    block
        .get_attr(name)
        .filter(|v| v.is_known())
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn block<'a>(config: &'a Value, name: &str) -> Option<&'a Value> {
    config
        .get_attr(name)
        .filter(|v| !v.is_null() && v.is_known())
}

fn ucloud_settings(b: &Value) -> UCloudSettings {
    UCloudSettings {
        public_key: text(b, "public_key"),
        private_key: text(b, "private_key"),
        security_token: text(b, "security_token"),
        region: text(b, "region"),
        project_id: text(b, "project_id"),
        endpoint: text(b, "endpoint"),
    }
}

/// Checks what can be checked before configuration: the signature version and Apsara API style words.
pub fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    // Literal endpoints and regions are checked here, where the error can point at the provider block's own
    // attribute (a resource's plan can only point at its `cloud` line).
    for (block_name, attributes, cloud) in [
        ("ucloud", &["endpoint"][..], Cloud::UCloud),
        ("surfercloud", &["endpoint"][..], Cloud::SurferCloud),
        ("tencentcloud", &["endpoint"][..], Cloud::TencentCloud),
        (
            "alicloud",
            &["ecs_endpoint", "ens_endpoint"][..],
            Cloud::AliCloud,
        ),
        ("apsarastack", &["endpoint"][..], Cloud::ApsaraStack),
    ] {
        let Some(b) = block(config, block_name) else {
            continue;
        };
        for attribute in attributes {
            if let Some(url) = text(b, attribute) {
                if let Err(e) = crate::cloud::http::check_endpoint(cloud, &url) {
                    diags.push(
                        Diagnostic::error("Invalid endpoint", e.message)
                            .at(Path::root().attr(block_name).attr(*attribute)),
                    );
                }
            }
        }
        if let Some(region) = text(b, "region") {
            if let Some(problem) = super::limits::region_problem(&region) {
                diags.push(
                    Diagnostic::error("Invalid region", problem)
                        .at(Path::root().attr(block_name).attr("region")),
                );
            }
        }
    }
    if let Some(v) = block(config, "apsarastack").and_then(|b| text(b, "api_style")) {
        if !matches!(v.as_str(), "route" | "ecs") {
            diags.push(
                Diagnostic::error(
                    "Invalid api_style",
                    format!("Use \"route\" or \"ecs\"; got {v:?}."),
                )
                .at(Path::root().attr("apsarastack").attr("api_style")),
            );
        }
    }
    if let Some(v) = block(config, "alicloud").and_then(|b| text(b, "signature_version")) {
        if !matches!(v.as_str(), "1.0" | "v3") {
            diags.push(
                Diagnostic::error(
                    "Invalid signature_version",
                    format!("Use \"1.0\" or \"v3\"; got {v:?}."),
                )
                .at(Path::root().attr("alicloud").attr("signature_version")),
            );
        }
    }
    diags
}

/// The cloud layer's settings from the provider block. Unknown values count as unset: environment variables and
/// profiles fill in.
pub fn settings(config: &Value) -> CloudSettings {
    CloudSettings {
        ucloud: block(config, "ucloud").map(ucloud_settings),
        surfercloud: block(config, "surfercloud").map(ucloud_settings),
        tencentcloud: block(config, "tencentcloud").map(|b| TencentSettings {
            secret_id: text(b, "secret_id"),
            secret_key: text(b, "secret_key"),
            security_token: text(b, "security_token"),
            region: text(b, "region"),
            endpoint: text(b, "endpoint"),
            plan_dry_run: b
                .get_attr("plan_dry_run")
                .filter(|v| v.is_known())
                .and_then(Value::as_bool),
        }),
        alicloud: block(config, "alicloud").map(|b| AlibabaSettings {
            access_key: text(b, "access_key"),
            secret_key: text(b, "secret_key"),
            security_token: text(b, "security_token"),
            region: text(b, "region"),
            ecs_endpoint: text(b, "ecs_endpoint"),
            ens_endpoint: text(b, "ens_endpoint"),
            signature: text(b, "signature_version").map(|v| {
                if v == "v3" {
                    SignatureVersion::Acs3
                } else {
                    SignatureVersion::RpcV1
                }
            }),
        }),
        apsarastack: block(config, "apsarastack").map(|b| ApsaraSettings {
            access_key: text(b, "access_key"),
            secret_key: text(b, "secret_key"),
            security_token: text(b, "security_token"),
            region: text(b, "region"),
            endpoint: text(b, "endpoint"),
            organization_id: text(b, "organization_id"),
            resource_group_id: text(b, "resource_group_id"),
            api_style: text(b, "api_style").map(|v| {
                if v == "ecs" {
                    ApsaraApiStyle::Ecs
                } else {
                    ApsaraApiStyle::Route
                }
            }),
        }),
    }
}

/// The provider blocks with a value Terraform does not know yet (it depends on something not yet applied). A cloud
/// whose block has one cannot be called: guessing "unset" would send requests to the default public endpoint.
pub fn blocks_with_unknowns(config: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for name in [
        "ucloud",
        "surfercloud",
        "tencentcloud",
        "alicloud",
        "apsarastack",
    ] {
        match config.get_attr(name) {
            Some(v) if !v.is_known() => {
                out.push((name.to_string(), "(the whole block)".to_string()))
            }
            Some(Value::Object(attrs)) => {
                for (attr, v) in attrs {
                    if !v.is_known() {
                        out.push((name.to_string(), attr.clone()));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_settings_are_reported_per_block() {
        let config = Value::object([
            (
                "tencentcloud",
                Value::object([
                    ("endpoint", Value::unknown()),
                    ("secret_id", Value::string("AKID")),
                ]),
            ),
            ("alicloud", Value::unknown()),
            ("ucloud", Value::Null),
        ]);
        assert_eq!(
            blocks_with_unknowns(&config),
            vec![
                ("tencentcloud".to_string(), "endpoint".to_string()),
                ("alicloud".to_string(), "(the whole block)".to_string()),
            ]
        );
        let s = settings(&config);
        assert_eq!(s.tencentcloud.and_then(|t| t.endpoint), None);
    }
}
