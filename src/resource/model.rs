//! The typed model of `cloudimage_custom_image`: a configuration, plan or state is read into an [`ImageModel`]
//! once (as terraform-plugin-framework's `Plan.Get` does) and the resource works with its fields; [`to_value`]
//! writes it back. Attribute names are written once, here ([`attr`]), for the schema and the model alike.
//!
//! Every field is a [`Field`]: null, unknown (with what Terraform already knows about it) or known, so reading
//! and writing back loses nothing.
//!
//! [`to_value`]: ImageModel::to_value

use std::collections::{BTreeMap, BTreeSet};

use crate::cloud::params::Param;
use crate::cty::{Number, Refinements, Value};

/// The attribute names of `cloudimage_custom_image`. Those that are import parameters are named by the cloud
/// layer's parameter table ([`Param::attribute`]), so the rules tables and the schema cannot drift apart.
pub mod attr {
    use super::Param;

    /// The cloud's image ID.
    pub const ID: &str = "id";
    /// Which cloud.
    pub const CLOUD: &str = "cloud";
    /// Region.
    pub const REGION: &str = Param::Region.attribute();
    /// Image name.
    pub const NAME: &str = Param::Name.attribute();
    /// Description.
    pub const DESCRIPTION: &str = Param::Description.attribute();
    /// System disk file.
    pub const SOURCE_URL: &str = Param::SourceUrl.attribute();
    /// A local disk image file, uploaded before the import.
    pub const SOURCE_FILE: &str = "source_file";
    /// Where a `source_file` is uploaded, in the cloud's own object storage.
    pub const UPLOAD_TO: &str = "upload_to";
    /// Keep the uploaded object once the image is available.
    pub const KEEP_UPLOADED_OBJECT: &str = "keep_uploaded_object";
    /// The SHA-256 of the disk image's content.
    pub const SOURCE_SHA256: &str = "source_sha256";
    /// File format.
    pub const FORMAT: &str = Param::Format.attribute();
    /// `linux` / `windows`.
    pub const OS_TYPE: &str = Param::OsType.attribute();
    /// Distribution.
    pub const PLATFORM: &str = Param::Platform.attribute();
    /// OS version.
    pub const OS_VERSION: &str = Param::OsVersion.attribute();
    /// CPU architecture.
    pub const ARCHITECTURE: &str = Param::Architecture.attribute();
    /// Boot mode.
    pub const BOOT_MODE: &str = Param::BootMode.attribute();
    /// License type.
    pub const LICENSE_TYPE: &str = Param::LicenseType.attribute();
    /// Tencent image family.
    pub const IMAGE_FAMILY: &str = Param::ImageFamily.attribute();
    /// Tencent `Force`.
    pub const FORCE: &str = Param::Force.attribute();
    /// ECS / Apsara import role.
    pub const ROLE_NAME: &str = Param::RoleName.attribute();
    /// ECS image check.
    pub const DETECTION_STRATEGY: &str = Param::DetectionStrategy.attribute();
    /// ECS NVMe support.
    pub const NVME_SUPPORT: &str = Param::NvmeSupport.attribute();
    /// System disk size.
    pub const SYSTEM_DISK_SIZE_GB: &str = Param::SystemDiskSizeGb.attribute();
    /// ENS storage region.
    pub const TARGET_OSS_REGION_ID: &str = Param::TargetOssRegionId.attribute();
    /// ECS instance metadata modes.
    pub const IMDS_SUPPORT: &str = Param::ImdsSupport.attribute();
    /// Accounts the image is shared with.
    pub const SHARE_WITH_ACCOUNTS: &str = Param::ShareWithAccounts.attribute();
    /// Tags.
    pub const TAGS: &str = Param::Tags.attribute();
    /// The `copy` blocks: other regions the image is copied to.
    pub const COPY: &str = Param::Copy.attribute();
    /// `copy.encrypted`.
    pub const ENCRYPTED: &str = "encrypted";
    /// `copy.kms_key_id`.
    pub const KMS_KEY_ID: &str = "kms_key_id";
    /// `copy.image_id`: an existing image adopted as the copy.
    pub const IMAGE_ID: &str = "image_id";
    /// Each copy's image ID and status, by region.
    pub const COPIES: &str = "copies";
    /// Neutral status word.
    pub const STATUS: &str = "status";
    /// Image size as reported.
    pub const SIZE_GB: &str = "size_gb";
    /// Creation time as reported.
    pub const CREATED_AT: &str = "created_at";
    /// Data disk blocks.
    pub const DATA_DISKS: &str = Param::DataDisks.attribute();
    /// Operation timeouts block.
    pub const TIMEOUTS: &str = "timeouts";
    /// `timeouts.create`.
    pub const CREATE: &str = "create";
    /// `timeouts.update`.
    pub const UPDATE: &str = "update";
    /// `timeouts.delete`.
    pub const DELETE: &str = "delete";
}

/// One attribute's value as Terraform holds it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Field<T> {
    /// Null: not set.
    #[default]
    Null,
    /// Not known until apply, with what is known about it already.
    Unknown(Refinements),
    /// Known.
    Known(T),
}

impl<T> Field<T> {
    /// The value when known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Field::Known(v) => Some(v),
            _ => None,
        }
    }

    /// Null.
    pub fn is_null(&self) -> bool {
        matches!(self, Field::Null)
    }

    /// Not null (known or unknown): the configuration sets it.
    pub fn is_set(&self) -> bool {
        !self.is_null()
    }

    /// Not unknown.
    pub fn is_known(&self) -> bool {
        !matches!(self, Field::Unknown(_))
    }

    /// A plain unknown.
    pub fn unknown() -> Self {
        Field::Unknown(Refinements::default())
    }

    /// `Known(v)`, or null for `None`.
    pub fn from_option(v: Option<T>) -> Self {
        v.map_or(Field::Null, Field::Known)
    }
}

impl Field<String> {
    /// The known text.
    pub fn text(&self) -> Option<&str> {
        self.known().map(String::as_str)
    }

    /// The known text, owned.
    pub fn string(&self) -> Option<String> {
        self.known().cloned()
    }
}

/// How a field's known value is written in cty.
pub trait FieldValue: Sized {
    /// The known value in `v`, `None` if `v` is not of this shape.
    fn from_cty(v: &Value) -> Option<Self>;
    /// The cty value.
    fn to_cty(&self) -> Value;
}

impl FieldValue for String {
    fn from_cty(v: &Value) -> Option<Self> {
        v.as_str().map(str::to_string)
    }
    fn to_cty(&self) -> Value {
        Value::string(self.clone())
    }
}

impl FieldValue for bool {
    fn from_cty(v: &Value) -> Option<Self> {
        v.as_bool()
    }
    fn to_cty(&self) -> Value {
        Value::Bool(*self)
    }
}

impl FieldValue for Number {
    fn from_cty(v: &Value) -> Option<Self> {
        v.as_number().cloned()
    }
    fn to_cty(&self) -> Value {
        Value::Number(self.clone())
    }
}

impl<T: FieldValue> FieldValue for BTreeMap<String, Field<T>> {
    fn from_cty(v: &Value) -> Option<Self> {
        Some(
            v.as_map()?
                .iter()
                .map(|(k, e)| (k.clone(), Field::read(e)))
                .collect(),
        )
    }
    fn to_cty(&self) -> Value {
        Value::Map(self.iter().map(|(k, e)| (k.clone(), e.write())).collect())
    }
}

/// A set of strings as Terraform holds it: while planning, some elements may not be known yet.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StringSet(pub Vec<Field<String>>);

impl StringSet {
    /// The known elements.
    pub fn known(&self) -> BTreeSet<String> {
        self.0.iter().filter_map(Field::string).collect()
    }

    /// Whether every element is known.
    pub fn is_known(&self) -> bool {
        self.0.iter().all(Field::is_known)
    }
}

impl From<BTreeSet<String>> for StringSet {
    fn from(set: BTreeSet<String>) -> Self {
        StringSet(set.into_iter().map(Field::Known).collect())
    }
}

impl FieldValue for StringSet {
    fn from_cty(v: &Value) -> Option<Self> {
        match v {
            Value::Set(items) => Some(StringSet(items.iter().map(Field::read).collect())),
            _ => None,
        }
    }
    fn to_cty(&self) -> Value {
        Value::Set(self.0.iter().map(Field::write).collect())
    }
}

impl<T: FieldValue> FieldValue for Vec<T> {
    fn from_cty(v: &Value) -> Option<Self> {
        match v {
            Value::List(items) => items.iter().map(T::from_cty).collect(),
            _ => None,
        }
    }
    fn to_cty(&self) -> Value {
        Value::List(self.iter().map(T::to_cty).collect())
    }
}

impl<T: FieldValue> Field<T> {
    /// Reads a field from its cty value.
    pub fn read(v: &Value) -> Self {
        match v {
            Value::Null => Field::Null,
            Value::Unknown(r) => Field::Unknown(r.clone()),
            known => T::from_cty(known).map_or(Field::Null, Field::Known),
        }
    }

    /// The field's cty value.
    pub fn write(&self) -> Value {
        match self {
            Field::Null => Value::Null,
            Field::Unknown(r) => Value::Unknown(r.clone()),
            Field::Known(v) => v.to_cty(),
        }
    }
}

/// The field `name` of an object value (null when missing).
fn attribute<T: FieldValue>(v: &Value, name: &str) -> Field<T> {
    v.get_attr(name).map(Field::read).unwrap_or_default()
}

/// Declares a block model: its struct, and reading from / writing to a cty object, from one list of fields.
macro_rules! block_model {
    ($(#[$doc:meta])* $name:ident { $( $(#[$fdoc:meta])* $field:ident : $ty:ty = $attr:expr, )* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct $name {
            $( $(#[$fdoc])* pub $field: Field<$ty>, )*
        }

        impl $name {
            /// Reads the block from an object value (missing attributes are null).
            pub fn from_value(v: &Value) -> Self {
                Self { $( $field: attribute(v, $attr), )* }
            }

            /// The object value, every attribute present.
            pub fn to_value(&self) -> Value {
                Value::object([ $( ($attr, self.$field.write()), )* ])
            }

            /// The value of attribute `name`, if the block has one of that name: how code driven by the parameter
            /// table ([`Param`]) reads a field it knows by attribute name.
            pub fn value_of(&self, name: &str) -> Option<Value> {
                $( if name == $attr { return Some(self.$field.write()); } )*
                None
            }

            /// Sets attribute `name` from a value (of the wrong shape: null); false if the block has no such
            /// attribute.
            pub fn set_value(&mut self, name: &str, v: &Value) -> bool {
                $( if name == $attr { self.$field = Field::read(v); return true; } )*
                false
            }

            /// Top-level unknown values become null (what an object keeps when nothing more will be learned).
            pub fn unknowns_to_null(&mut self) {
                $( if !self.$field.is_known() { self.$field = Field::Null; } )*
            }
        }

        impl FieldValue for $name {
            fn from_cty(v: &Value) -> Option<Self> {
                v.as_object().map(|_| Self::from_value(v))
            }
            fn to_cty(&self) -> Value {
                self.to_value()
            }
        }
    };
}

block_model! {
    /// One `data_disks` block.
    DataDiskModel {
        /// `source_url`.
        source_url: String = attr::SOURCE_URL,
        /// `source_file`.
        source_file: String = attr::SOURCE_FILE,
        /// `upload_to`.
        upload_to: String = attr::UPLOAD_TO,
        /// `source_sha256`.
        source_sha256: String = attr::SOURCE_SHA256,
        /// `format`.
        format: String = attr::FORMAT,
        /// `size_gb`.
        size_gb: Number = attr::SIZE_GB,
    }
}

block_model! {
    /// One `copy` block: a region the image is copied to, and how.
    CopyModel {
        /// `region`.
        region: String = attr::REGION,
        /// `name`.
        name: String = attr::NAME,
        /// `description`.
        description: String = attr::DESCRIPTION,
        /// `encrypted`.
        encrypted: bool = attr::ENCRYPTED,
        /// `kms_key_id`.
        kms_key_id: String = attr::KMS_KEY_ID,
        /// `image_id`.
        image_id: String = attr::IMAGE_ID,
    }
}

block_model! {
    /// One entry of `copies`: a copy's image ID and status.
    CopyResultModel {
        /// `id`.
        id: String = attr::ID,
        /// `status`.
        status: String = attr::STATUS,
    }
}

/// The `copy` blocks, a set.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CopySet(pub Vec<CopyModel>);

impl FieldValue for CopySet {
    fn from_cty(v: &Value) -> Option<Self> {
        match v {
            Value::Set(items) => Some(CopySet(items.iter().map(CopyModel::from_value).collect())),
            _ => None,
        }
    }
    fn to_cty(&self) -> Value {
        Value::Set(self.0.iter().map(CopyModel::to_value).collect())
    }
}

block_model! {
    /// The `timeouts` block.
    TimeoutsModel {
        /// `create`.
        create: String = attr::CREATE,
        /// `update`.
        update: String = attr::UPDATE,
        /// `delete`.
        delete: String = attr::DELETE,
    }
}

block_model! {
    /// A `cloudimage_custom_image` configuration, plan or state.
    ImageModel {
        /// `id`.
        id: String = attr::ID,
        /// `cloud`.
        cloud: String = attr::CLOUD,
        /// `region`.
        region: String = attr::REGION,
        /// `name`.
        name: String = attr::NAME,
        /// `description`.
        description: String = attr::DESCRIPTION,
        /// `source_url`.
        source_url: String = attr::SOURCE_URL,
        /// `source_file`.
        source_file: String = attr::SOURCE_FILE,
        /// `upload_to`.
        upload_to: String = attr::UPLOAD_TO,
        /// `keep_uploaded_object`.
        keep_uploaded_object: bool = attr::KEEP_UPLOADED_OBJECT,
        /// `source_sha256`.
        source_sha256: String = attr::SOURCE_SHA256,
        /// `format`.
        format: String = attr::FORMAT,
        /// `os_type`.
        os_type: String = attr::OS_TYPE,
        /// `platform`.
        platform: String = attr::PLATFORM,
        /// `os_version`.
        os_version: String = attr::OS_VERSION,
        /// `architecture`.
        architecture: String = attr::ARCHITECTURE,
        /// `boot_mode`.
        boot_mode: String = attr::BOOT_MODE,
        /// `license_type`.
        license_type: String = attr::LICENSE_TYPE,
        /// `image_family`.
        image_family: String = attr::IMAGE_FAMILY,
        /// `force`.
        force: bool = attr::FORCE,
        /// `role_name`.
        role_name: String = attr::ROLE_NAME,
        /// `detection_strategy`.
        detection_strategy: String = attr::DETECTION_STRATEGY,
        /// `nvme_support`.
        nvme_support: String = attr::NVME_SUPPORT,
        /// `system_disk_size_gb`.
        system_disk_size_gb: Number = attr::SYSTEM_DISK_SIZE_GB,
        /// `target_oss_region_id`.
        target_oss_region_id: String = attr::TARGET_OSS_REGION_ID,
        /// `imds_support`.
        imds_support: String = attr::IMDS_SUPPORT,
        /// `share_with_accounts`.
        share_with_accounts: StringSet = attr::SHARE_WITH_ACCOUNTS,
        /// `tags`.
        tags: BTreeMap<String, Field<String>> = attr::TAGS,
        /// `status`.
        status: String = attr::STATUS,
        /// `size_gb`.
        size_gb: Number = attr::SIZE_GB,
        /// `created_at`.
        created_at: String = attr::CREATED_AT,
        /// `data_disks`.
        data_disks: Vec<DataDiskModel> = attr::DATA_DISKS,
        /// `copy`.
        copy: CopySet = attr::COPY,
        /// `copies`.
        copies: BTreeMap<String, Field<CopyResultModel>> = attr::COPIES,
        /// `timeouts`.
        timeouts: TimeoutsModel = attr::TIMEOUTS,
    }
}

impl ImageModel {
    /// The cloud, when known and valid.
    pub fn cloud(&self) -> Option<crate::cloud::Cloud> {
        self.cloud.text()?.parse().ok()
    }

    /// The known tags (unknown elements left out), empty when null.
    pub fn known_tags(&self) -> BTreeMap<String, String> {
        self.tags
            .known()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.string().map(|v| (k.clone(), v)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The `copy` blocks, empty when null or unknown.
    pub fn copy_blocks(&self) -> &[CopyModel] {
        self.copy.known().map(|c| c.0.as_slice()).unwrap_or(&[])
    }

    /// The known entries of `copies` (region to copy), empty when null or unknown.
    pub fn known_copies(&self) -> BTreeMap<String, CopyResultModel> {
        self.copies
            .known()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.known().map(|c| (k.clone(), c.clone())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The data disks, empty when null or unknown.
    pub fn disks(&self) -> &[DataDiskModel] {
        self.data_disks.known().map(Vec::as_slice).unwrap_or(&[])
    }
}

/// A number of GiB as a whole number, if it is one.
pub fn gib(n: &Field<Number>) -> Option<u64> {
    n.known().and_then(Number::to_u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_and_writing_back_loses_nothing() {
        let refined = Value::Unknown(Refinements::not_null());
        let v = ImageModel {
            cloud: Field::Known("alicloud".into()),
            region: Field::Unknown(Refinements::not_null()),
            tags: Field::Known(
                [
                    ("a".to_string(), Field::Known("b".to_string())),
                    ("c".to_string(), Field::unknown()),
                ]
                .into(),
            ),
            force: Field::Known(true),
            size_gb: Field::Known(Number::from_u64(40)),
            data_disks: Field::Known(vec![DataDiskModel {
                source_url: Field::Known("oss://b/k".into()),
                size_gb: Field::unknown(),
                ..Default::default()
            }]),
            timeouts: Field::Null,
            ..Default::default()
        }
        .to_value();
        assert_eq!(v.get_attr("region"), Some(&refined));
        let again = ImageModel::from_value(&v).to_value();
        assert_eq!(again, v);
        let unknown_list = Value::object([(attr::DATA_DISKS, Value::unknown())]);
        assert_eq!(
            ImageModel::from_value(&unknown_list).data_disks,
            Field::unknown()
        );
    }

    #[test]
    fn every_schema_attribute_is_a_field() {
        let block = super::super::schema::resource_schema().block;
        let mut names: Vec<String> = block
            .attributes
            .iter()
            .map(|a| a.name.clone())
            .chain(block.blocks.iter().map(|b| b.type_name.clone()))
            .collect();
        names.sort();
        let model: Vec<String> = ImageModel::default()
            .to_value()
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        assert_eq!(model, names);
    }
}
