//! The `cloudimage_custom_image` schema. Descriptions here are the documentation: the docs generator reads them.

use crate::cty::Type;
use crate::provider::schema::{
    Attribute, Block, IdentityAttribute, IdentitySchema, NestedBlock, Nesting, Schema,
};

/// The resource type name.
pub const TYPE_NAME: &str = "cloudimage_custom_image";

/// Bumped when stored state needs an upgrade.
pub const SCHEMA_VERSION: i64 = 0;

fn replace(a: Attribute) -> Attribute {
    let mut a = a;
    a.description.push_str(" Changing it replaces the image.");
    a
}

/// The resource schema.
pub fn resource_schema() -> Schema {
    let s = Type::String;
    Schema {
        version: SCHEMA_VERSION,
        block: Block {
            description: "A custom image imported from object storage into one of the supported clouds. Creating \
                          it starts the cloud's image import and waits until the image can boot instances."
                .to_string(),
            attributes: vec![
                Attribute::computed("id", s.clone(), "The cloud's image ID, e.g. `img-0a1b2c3d` or `m-bp1...`."),
                replace(Attribute::required(
                    "cloud",
                    s.clone(),
                    "Which cloud to import into: `ucloud`, `surfercloud`, `tencentcloud`, `alicloud` (ECS), \
                     `alicloud_ens` or `apsarastack`.",
                )),
                replace(Attribute::optional_computed(
                    "region",
                    s.clone(),
                    "The region of the image. Defaults to the region of the cloud's provider block (or its \
                     environment variable).",
                )),
                Attribute::required(
                    "name",
                    s.clone(),
                    "The image name. Renamed in place on Tencent Cloud and the Alibaba family; UCloud and \
                     SurferCloud cannot rename images, so a change there replaces the image. Alibaba family: 2-128 \
                     characters starting with a letter; Tencent Cloud: at most 60 characters.",
                ),
                Attribute::optional(
                    "description",
                    s.clone(),
                    "The image description. Changed in place on Tencent Cloud, Alibaba ECS and Apsara Stack; a \
                     change replaces the image on UCloud and SurferCloud. ENS images have no description.",
                ),
                replace(Attribute::required(
                    "source_url",
                    s.clone(),
                    "The disk image to import. UCloud/SurferCloud: a UFile URL; Tencent Cloud: a COS URL; Alibaba \
                     family: `oss://bucket/key` or `https://bucket.oss-<region>.aliyuncs.com/key`. The cloud cannot \
                     report it back, so an imported image takes it from configuration.",
                )),
                replace(Attribute::optional(
                    "format",
                    s.clone(),
                    "The file format: `raw`, `vhd`, `vmdk` or `qcow2`, as the cloud accepts (ENS: `qcow2` only; \
                     Alibaba ECS and Apsara Stack: `raw`, `vhd`, `qcow2`). Required on UCloud and SurferCloud.",
                )),
                replace(Attribute::optional_computed(
                    "os_type",
                    s.clone(),
                    "`linux` or `windows` (ENS: `linux` only). Defaults to `linux` where the cloud needs it.",
                )),
                replace(Attribute::optional(
                    "platform",
                    s.clone(),
                    "The distribution, e.g. `CentOS`, `Ubuntu`, `Debian`, `Windows`, `Others`: UCloud's and Tencent \
                     Cloud's `OsType`, Alibaba's `Platform`. Required on UCloud, SurferCloud and Tencent Cloud; \
                     not used by ENS.",
                )),
                replace(Attribute::optional(
                    "os_version",
                    s.clone(),
                    "The OS version: UCloud's `OsName`, Tencent Cloud's `OsVersion`, ENS's `OSVersion`. Required on \
                     UCloud, SurferCloud and Tencent Cloud.",
                )),
                replace(Attribute::optional_computed(
                    "architecture",
                    s.clone(),
                    "`x86_64`, `i386` or `arm64`, as the cloud supports (ENS: `x86_64`; Apsara Stack: `x86_64`, \
                     `i386`). Not used by UCloud and SurferCloud. Tencent Cloud spells ARM `arm_64` on import and \
                     `arm` when describing; the provider translates both to `arm64`.",
                )),
                replace(Attribute::optional(
                    "boot_mode",
                    s.clone(),
                    "Boot mode. Alibaba ECS: `BIOS` or `UEFI`; Tencent Cloud: `Legacy BIOS` or `UEFI`.",
                )),
                replace(Attribute::optional(
                    "license_type",
                    s.clone(),
                    "OS license. Alibaba ECS and Apsara Stack: `Auto`, `Aliyun` or `BYOL`; Tencent Cloud: \
                     `TencentCloud` or `BYOL`.",
                )),
                replace(Attribute::optional(
                    "image_family",
                    s.clone(),
                    "Tencent Cloud only: the image family (`ImageFamily`).",
                )),
                Attribute::optional(
                    "force",
                    Type::Bool,
                    "Tencent Cloud only: import even a file the cloud would refuse without it (`Force`); ISO files \
                     need it (`InvalidParameterValue.ISOMustImportByForce`). A setting of the import call: changing \
                     it later records the new value and calls nothing.",
                ),
                Attribute::optional(
                    "role_name",
                    s.clone(),
                    "Alibaba ECS and Apsara Stack: the RAM role the import reads OSS with (`RoleName`); the cloud's \
                     default is `AliyunECSImageImportDefaultRole`. A setting of the import call: changing it later \
                     records the new value and calls nothing.",
                ),
                Attribute::optional(
                    "detection_strategy",
                    s.clone(),
                    "Alibaba ECS only: `Standard` runs the image check after the import (`DetectionStrategy`). A \
                     setting of the import call: changing it later records the new value and calls nothing.",
                ),
                replace(Attribute::optional(
                    "nvme_support",
                    s.clone(),
                    "Alibaba ECS only: `supported` if the image has an NVMe driver, else `unsupported` (the cloud's \
                     default) (`Features.NvmeSupport`).",
                )),
                replace(Attribute::optional(
                    "system_disk_size_gb",
                    Type::Number,
                    "Alibaba ECS and Apsara Stack: the system disk size in GiB \
                     (`DiskDeviceMapping.1.DiskImageSize`); the cloud detects it when unset.",
                )),
                replace(Attribute::optional(
                    "target_oss_region_id",
                    s.clone(),
                    "Alibaba ENS only: the region the imported image is stored in (`TargetOSSRegionId`).",
                )),
                Attribute::optional(
                    "tags",
                    Type::map(Type::String),
                    "Tags on the image, on Tencent Cloud and Alibaba ECS. Changed in place on Alibaba ECS; on \
                     Tencent Cloud tags are set at import and a change replaces the image.",
                ),
                Attribute::computed(
                    "status",
                    s.clone(),
                    "`available` once the image can boot instances; `failed` if the cloud gave up on it (the next \
                     plan replaces it).",
                ),
                Attribute::computed("size_gb", Type::Number, "The image size in GiB, as the cloud reports it."),
                Attribute::computed("created_at", s, "When the cloud created the image."),
            ],
            blocks: vec![
                NestedBlock {
                    type_name: "data_disks".into(),
                    block: Block {
                        description: "Data disk images imported with the system disk (Tencent Cloud, Alibaba ECS, \
                                      Alibaba ENS, Apsara Stack). ENS takes the source URL only, as entries of its \
                                      `DiskDeviceMapping` JSON list (OSSRegion, OSSBucket, OSSObject). Changing them \
                                      replaces the image."
                            .into(),
                        attributes: vec![
                            Attribute::required("source_url", Type::String, "The data disk image, as `source_url`."),
                            Attribute::optional("format", Type::String, "Its format, as `format`."),
                            Attribute::optional("size_gb", Type::Number, "The data disk size in GiB."),
                        ],
                        ..Block::default()
                    },
                    nesting: Nesting::List,
                    min_items: 0,
                    max_items: 16,
                },
                NestedBlock {
                    type_name: "timeouts".into(),
                    block: Block {
                        description: "How long to wait, as durations like `45m` or `1h30m`.".into(),
                        attributes: vec![
                            Attribute::optional("create", Type::String, "Import and wait. Default `60m`."),
                            Attribute::optional("update", Type::String, "Rename and read back. Default `10m`."),
                            Attribute::optional("delete", Type::String, "Delete and wait until gone. Default `20m`."),
                        ],
                        ..Block::default()
                    },
                    nesting: Nesting::Single,
                    min_items: 0,
                    max_items: 0,
                },
            ],
            ..Block::default()
        },
    }
}

/// The identity: which image in which cloud and region. Lets Terraform 1.12+ `import { identity = {...} }`.
pub fn identity_schema() -> IdentitySchema {
    let attr = |name: &str, description: &str| IdentityAttribute {
        name: name.into(),
        ty: Type::String,
        required_for_import: true,
        optional_for_import: false,
        description: description.into(),
    };
    IdentitySchema {
        version: 0,
        attributes: vec![
            attr("cloud", "The cloud, as the `cloud` attribute."),
            attr("region", "The image's region."),
            attr("id", "The image ID."),
        ],
    }
}
