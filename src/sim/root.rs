//! The API root (`/`): every cloud served the way its real host is addressed, so an official SDK pointed at
//! `http://127.0.0.1:PORT` works unmodified. Which API a request is for is read from what the SDKs send:
//!
//! - Tencent Cloud: the `X-TC-Action` header (tencentcloud-sdk-python common/abstract_client.py; TC3 requests to
//!   `cvm.tencentcloudapi.com/`).
//! - Alibaba Cloud: the API version, `x-acs-version` (ACS3, alibabacloud-tea-openapi) or the `Version` parameter
//!   (RPC v1): `2017-11-10` is ENS, `2014-05-26` ECS. ECS requests are Apsara Stack's when they carry the
//!   official Apsara providers' headers (`x-acs-asapi-product`, `x-ascm-product-name`, `x-acs-organizationid`;
//!   aliyun/terraform-provider-alibabacloudstack alibabacloudstack/connectivity/client.go `defaultHeaders`), use
//!   the Apsara route version `2016-01-01`, or are signed with an Apsara Stack key.
//! - UCloud and SurferCloud: a `PublicKey` parameter with `Action` (ucloud-sdk-python3 and ucloud-sdk-go post a
//!   form to `api.ucloud.cn/`); the key says which brand.

use std::sync::Arc;

use axum::response::Response;

use crate::alibaba::{self, Product};
use crate::app::Sim;
use crate::cloud::{KeyFamily, SimCloud};
use crate::http::{RawRequest, Reply};
use crate::pipeline::ConnKill;
use crate::{tencent, ucloud};

/// Which backend a request at the root addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// UCloud or SurferCloud.
    UCloud(SimCloud),
    /// Tencent Cloud CVM.
    Tencent,
    /// An Alibaba RPC product.
    Alibaba(Product),
}

fn param(req: &RawRequest, name: &str) -> Option<String> {
    req.query_pairs()
        .into_iter()
        .chain(req.form_pairs())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// The AccessKeyId of an Alibaba request (RPC v1 parameter or ACS3 `Credential=`).
fn alibaba_key(req: &RawRequest) -> Option<String> {
    if let Some(auth) = req.header("authorization") {
        if let Some(rest) = auth.strip_prefix("ACS3-HMAC-SHA256 ") {
            return rest
                .split(',')
                .filter_map(|p| p.trim().split_once('='))
                .find(|(k, _)| *k == "Credential")
                .map(|(_, v)| v.to_string());
        }
    }
    param(req, "AccessKeyId")
}

fn ucloud_key(req: &RawRequest) -> Option<String> {
    if let Some(k) = param(req, "PublicKey") {
        return Some(k);
    }
    if req.media_type() == "application/json" {
        let v: serde_json::Value = serde_json::from_slice(&req.body).ok()?;
        return v.get("PublicKey")?.as_str().map(str::to_string);
    }
    None
}

/// Decides which API a root request is for; `None` when nothing identifies one.
pub(crate) fn classify(sim: &Sim, req: &RawRequest) -> Option<Target> {
    if req.header("x-tc-action").is_some() {
        return Some(Target::Tencent);
    }
    let version = req
        .header("x-acs-version")
        .map(str::to_string)
        .or_else(|| param(req, "Version"));
    if let Some(version) = version {
        let apsara_key = || {
            alibaba_key(req).is_some_and(|k| {
                sim.creds.find(KeyFamily::Apsarastack, &k).is_some()
                    && sim.creds.find(KeyFamily::Alicloud, &k).is_none()
            })
        };
        let apsara_headers = req.header("x-acs-asapi-product").is_some()
            || req.header("x-ascm-product-name").is_some()
            || req.header("x-acs-organizationid").is_some();
        return Some(Target::Alibaba(match version.as_str() {
            "2017-11-10" => Product::Ens,
            "2016-01-01" => Product::Apsara,
            _ if apsara_headers || apsara_key() => Product::Apsara,
            _ => Product::Ecs,
        }));
    }
    let key = ucloud_key(req)?;
    let brand = if sim.creds.find(KeyFamily::Surfercloud, &key).is_some() {
        SimCloud::Surfercloud
    } else {
        SimCloud::Ucloud
    };
    Some(Target::UCloud(brand))
}

/// Handles one request to `/`.
pub(crate) async fn handle(sim: Arc<Sim>, kill: Option<ConnKill>, req: RawRequest) -> Response {
    match classify(&sim, &req) {
        Some(Target::Tencent) => tencent::handle(sim, kill, req).await,
        Some(Target::UCloud(c)) => ucloud::handle(sim, c, kill, req).await,
        Some(Target::Alibaba(p)) => alibaba::handle(sim, p, None, kill, req).await,
        None => Reply::text(
            404,
            "cloudimage-sim: this request names no API (no X-TC-Action header, no Alibaba Version, no UCloud \
             PublicKey); see docs/simulator.md",
            "",
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;
    use axum::http::{HeaderMap, HeaderName, HeaderValue};

    fn req(headers: &[(&str, &str)], query: &str, form: &str) -> RawRequest {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        if !form.is_empty() {
            h.insert(
                "content-type",
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            );
        }
        RawRequest {
            method: "POST".into(),
            path: "/".into(),
            raw_query: query.into(),
            headers: h,
            body: Bytes::from(form.to_string()),
        }
    }

    #[test]
    fn routes_like_the_real_hosts() {
        let s = crate::app::tests_support::sim();
        let c = |r: &RawRequest| classify(&s, r);
        assert_eq!(
            c(&req(&[("x-tc-action", "DescribeImages")], "", "")),
            Some(Target::Tencent)
        );
        assert_eq!(
            c(&req(&[("x-acs-version", "2017-11-10")], "", "")),
            Some(Target::Alibaba(Product::Ens))
        );
        assert_eq!(
            c(&req(
                &[],
                "Version=2014-05-26&AccessKeyId=LTAIsimAlicloudKey0000000",
                ""
            )),
            Some(Target::Alibaba(Product::Ecs))
        );
        assert_eq!(
            c(&req(
                &[],
                "",
                "Version=2014-05-26&AccessKeyId=simApsaraStackKey0000000"
            )),
            Some(Target::Alibaba(Product::Apsara))
        );
        assert_eq!(
            c(&req(
                &[
                    ("x-acs-version", "2014-05-26"),
                    ("x-acs-asapi-product", "Ecs")
                ],
                "",
                ""
            )),
            Some(Target::Alibaba(Product::Apsara))
        );
        assert_eq!(
            c(&req(
                &[
                    ("x-acs-version", "2014-05-26"),
                    ("x-ascm-product-name", "Ecs")
                ],
                "",
                ""
            )),
            Some(Target::Alibaba(Product::Apsara))
        );
        assert_eq!(
            c(&req(
                &[],
                "",
                "Action=DescribeImage&PublicKey=sim-surfercloud-public-key"
            )),
            Some(Target::UCloud(SimCloud::Surfercloud))
        );
        assert_eq!(
            c(&req(&[], "", "Action=DescribeImage&PublicKey=other")),
            Some(Target::UCloud(SimCloud::Ucloud))
        );
        assert_eq!(c(&req(&[], "", "")), None);
    }
}
