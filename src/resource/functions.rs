//! The provider functions (`provider::cloudimage::<name>(...)`, Terraform 1.8+). Terraform calls them on a
//! provider it has not configured, so they need no credentials: they are the provider's own rules about IDs and
//! object URLs, offered to configurations so that users do not rewrite them by hand.

use std::sync::Arc;

use crate::cloud::backend::ObjectUrlError;
use crate::cloud::Cloud;
use crate::cty::{Type, Value};
use crate::provider::framework::Function;
use crate::provider::protocol::{FunctionError, FunctionParameter, FunctionSchema};

use super::model::attr;
use super::read::parse_import_id;

/// Every function of the provider.
pub(super) fn all() -> Vec<Arc<dyn Function>> {
    vec![Arc::new(ParseImageId), Arc::new(ObjectUrl)]
}

fn parameter(name: &str, description: &str) -> FunctionParameter {
    FunctionParameter {
        name: name.to_string(),
        ty: Type::String,
        description: description.to_string(),
    }
}

/// The text of argument `i` (the core decoded it as a string; null is refused by Terraform before the call).
fn text(arguments: &[Value], i: usize) -> Result<&str, FunctionError> {
    arguments
        .get(i)
        .and_then(Value::as_str)
        .ok_or_else(|| FunctionError {
            text: "expected a string".to_string(),
            argument: Some(i),
        })
}

/// The cloud named by argument `i`.
fn cloud(arguments: &[Value], i: usize) -> Result<Cloud, FunctionError> {
    text(arguments, i)?.parse().map_err(|text| FunctionError {
        text,
        argument: Some(i),
    })
}

/// `parse_image_id("<cloud>/<region>/<id>")`: the parts of an import ID, as an import block's `identity` takes
/// them.
struct ParseImageId;

impl Function for ParseImageId {
    fn name(&self) -> &'static str {
        "parse_image_id"
    }

    fn schema(&self) -> FunctionSchema {
        FunctionSchema {
            parameters: vec![parameter(
                "image_id",
                "An import ID, `<cloud>/<region>/<image-id>`, e.g. `tencentcloud/ap-guangzhou/img-0a1b2c3d`.",
            )],
            returns: identity_type(),
            summary: "The cloud, region and image ID of an import ID".to_string(),
            description: "Splits an import ID (`<cloud>/<region>/<image-id>`, as `terraform import` takes it) into \
                          an object with `cloud`, `region` and `id`: the identity of a `cloudimage_custom_image`, \
                          as an `import` block's `identity` takes it. The cloud must be one this provider supports."
                .to_string(),
        }
    }

    fn call(&self, arguments: &[Value]) -> Result<Value, FunctionError> {
        let id = text(arguments, 0)?;
        let (cloud, region, image) = parse_import_id(id).map_err(|text| FunctionError {
            text,
            argument: Some(0),
        })?;
        Ok(Value::object([
            (attr::CLOUD, Value::string(cloud.as_str())),
            (attr::REGION, Value::string(region)),
            (attr::ID, Value::string(image)),
        ]))
    }
}

/// The type of an image's identity.
fn identity_type() -> Type {
    Type::object([
        (attr::CLOUD.to_string(), Type::String),
        (attr::REGION.to_string(), Type::String),
        (attr::ID.to_string(), Type::String),
    ])
}

/// `object_url(cloud, region, bucket, key)`: the URL `source_url` and `upload_to` take for an object.
struct ObjectUrl;

impl Function for ObjectUrl {
    fn name(&self) -> &'static str {
        "object_url"
    }

    fn schema(&self) -> FunctionSchema {
        FunctionSchema {
            parameters: vec![
                parameter("cloud", "The cloud, as the resource's `cloud` attribute."),
                parameter("region", "The region of the bucket (the storage service's region name)."),
                parameter(
                    "bucket",
                    "The bucket name (on Tencent Cloud with its APPID, e.g. `images-1250000000`).",
                ),
                parameter(
                    "key",
                    "The object key, as stored: any characters, written as they are (no percent-encoding).",
                ),
            ],
            returns: Type::String,
            summary: "The source_url / upload_to of an object".to_string(),
            description: "The URL of an object in the cloud's own object storage, in the form `source_url` and \
                          `upload_to` take on that cloud: `https://<bucket>.<region>.ufileos.com/<key>` (UCloud, \
                          SurferCloud), `https://<bucket>-<appid>.cos.<region>.myqcloud.com/<key>` (Tencent \
                          Cloud), `oss://<bucket>/<key>` (Alibaba ECS, ENS, Apsara Stack). The key is \
                          percent-encoded so that the provider reads back exactly the key given; keys the storage \
                          services would not keep as written (`.`/`..` segments, a leading `/`, control \
                          characters) are refused."
                .to_string(),
        }
    }

    fn call(&self, arguments: &[Value]) -> Result<Value, FunctionError> {
        let cloud = cloud(arguments, 0)?;
        let (region, bucket, key) = (
            text(arguments, 1)?,
            text(arguments, 2)?,
            text(arguments, 3)?,
        );
        let url = cloud
            .backend()
            .object_url(region, bucket, key)
            .map_err(|e| {
                let argument = match &e {
                    ObjectUrlError::Region(_) => 1,
                    ObjectUrlError::Bucket(_) => 2,
                    ObjectUrlError::Key(_) => 3,
                };
                FunctionError {
                    text: e.to_string(),
                    argument: Some(argument),
                }
            })?;
        // What the resource will make of it: the same bucket and key, or the function has a bug.
        let object =
            crate::cloud::objects::stored_object(cloud, &url).map_err(|text| FunctionError {
                text: format!("{text} (a bug in this provider's object_url)"),
                argument: None,
            })?;
        if object.bucket != bucket || object.key != key {
            return Err(FunctionError {
                text: format!(
                    "{url} reads back as bucket {:?} and key {:?} (a bug in this provider's object_url)",
                    object.bucket, object.key
                ),
                argument: None,
            });
        }
        Ok(Value::string(url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(f: &dyn Function, args: &[&str]) -> Result<Value, FunctionError> {
        let args: Vec<Value> = args.iter().map(|a| Value::string(*a)).collect();
        f.call(&args)
    }

    #[test]
    fn image_ids() {
        let v = call(&ParseImageId, &["alicloud/cn-beijing/m-1"]).unwrap();
        assert_eq!(v.get_attr("cloud"), Some(&Value::string("alicloud")));
        assert_eq!(v.get_attr("region"), Some(&Value::string("cn-beijing")));
        assert_eq!(v.get_attr("id"), Some(&Value::string("m-1")));
        let e = call(&ParseImageId, &["aws/us-east-1/ami-1"]).unwrap_err();
        assert_eq!(e.argument, Some(0));
        assert!(e.text.contains("unknown cloud"), "{}", e.text);
        assert!(call(&ParseImageId, &["m-1"]).is_err());
    }

    #[test]
    fn object_urls_per_cloud_read_back_exactly() {
        let url = |args: &[&str]| call(&ObjectUrl, args).map(|v| v.as_str().unwrap().to_string());
        assert_eq!(
            url(&["ucloud", "cn-bj", "images", "dir/a b.qcow2"]).unwrap(),
            "https://images.cn-bj.ufileos.com/dir/a%20b.qcow2"
        );
        assert_eq!(
            url(&[
                "tencentcloud",
                "ap-guangzhou",
                "images-1250000000",
                "disk#1.raw"
            ])
            .unwrap(),
            "https://images-1250000000.cos.ap-guangzhou.myqcloud.com/disk%231.raw"
        );
        assert_eq!(
            url(&["alicloud", "cn-beijing", "images", "v2/disk+1.raw"]).unwrap(),
            "oss://images/v2/disk%2B1.raw"
        );
        let e = call(&ObjectUrl, &["tencentcloud", "ap-guangzhou", "images", "k"]).unwrap_err();
        assert_eq!(e.argument, Some(2));
        assert!(e.text.contains("APPID"), "{}", e.text);
        let e = call(&ObjectUrl, &["alicloud", "cn-beijing", "images", "../k"]).unwrap_err();
        assert_eq!(e.argument, Some(3));
        let e = call(&ObjectUrl, &["alicloud", "CN Beijing", "images", "k"]).unwrap_err();
        assert_eq!(e.argument, Some(1));
        let e = call(&ObjectUrl, &["gcp", "x", "y", "z"]).unwrap_err();
        assert_eq!(e.argument, Some(0));
    }
}
