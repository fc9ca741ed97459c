//! The `cloudimage_custom_image` schema. Descriptions here are the documentation: the docs generator reads them.
//! Each attribute also declares how a change of it is planned (replace, replace when configured, keep the prior
//! value on update, not reported by the clouds); the provider core enforces that (see `crate::provider::plan`).

use super::model::attr::*;
use crate::cty::Type;
use crate::provider::schema::{
    Attribute, Block, IdentityAttribute, IdentitySchema, NestedBlock, Schema,
};

/// The resource type name.
pub const TYPE_NAME: &str = "cloudimage_custom_image";

/// Bumped when stored state needs an upgrade.
pub const SCHEMA_VERSION: i64 = 0;

/// An attribute whose change always means a new image (when configured, for a computed one), and says so.
fn replace(a: Attribute) -> Attribute {
    let mut a = a.requires_replace();
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
                Attribute::computed(ID, s.clone(), "The cloud's image ID, e.g. `img-0a1b2c3d` or `m-bp1...`.")
                    .keeps_prior_on_update(),
                replace(Attribute::required(
                    CLOUD,
                    s.clone(),
                    "Which cloud to import into: `ucloud`, `surfercloud`, `tencentcloud`, `alicloud` (ECS), \
                     `alicloud_ens` or `apsarastack`.",
                )),
                replace(Attribute::optional_computed(
                    REGION,
                    s.clone(),
                    "The region of the image. Defaults to the region of the cloud's provider block (or its \
                     environment variable).",
                ))
                .keeps_prior_on_update(),
                Attribute::required(
                    NAME,
                    s.clone(),
                    "The image name. Renamed in place on Tencent Cloud and the Alibaba family; UCloud and \
                     SurferCloud cannot rename images, so a change there replaces the image. Alibaba family: 2-128 \
                     characters starting with a letter; Tencent Cloud: at most 60 characters.",
                )
                .requires_replace(),
                Attribute::optional(
                    DESCRIPTION,
                    s.clone(),
                    "The image description. Changed in place on Tencent Cloud, Alibaba ECS and Apsara Stack; a \
                     change replaces the image on UCloud and SurferCloud. ENS images have no description.",
                )
                .requires_replace(),
                replace(Attribute::required(
                    SOURCE_URL,
                    s.clone(),
                    "The disk image to import. UCloud/SurferCloud: a UFile URL; Tencent Cloud: a COS URL; Alibaba \
                     family: `oss://bucket/key` or `https://bucket.oss-<region>.aliyuncs.com/key`. The cloud cannot \
                     report it back, so an imported image takes it from configuration.",
                ))
                .not_reported(),
                replace(Attribute::optional(
                    FORMAT,
                    s.clone(),
                    "The file format: `raw`, `vhd`, `vmdk` or `qcow2`, as the cloud accepts (ENS: `qcow2` only; \
                     Alibaba ECS and Apsara Stack: `raw`, `vhd`, `qcow2`). Required on UCloud and SurferCloud.",
                ))
                .not_reported(),
                replace(Attribute::optional_computed(
                    OS_TYPE,
                    s.clone(),
                    "`linux` or `windows` (ENS: `linux` only). Defaults to `linux` where the cloud needs it.",
                ))
                .keeps_prior_on_update()
                .not_reported(),
                replace(Attribute::optional(
                    PLATFORM,
                    s.clone(),
                    "The distribution, e.g. `CentOS`, `Ubuntu`, `Debian`, `Windows`, `Others`: UCloud's and Tencent \
                     Cloud's `OsType`, Alibaba's `Platform`. Required on UCloud, SurferCloud and Tencent Cloud; \
                     not used by ENS.",
                ))
                .not_reported(),
                replace(Attribute::optional(
                    OS_VERSION,
                    s.clone(),
                    "The OS version: UCloud's `OsName`, Tencent Cloud's `OsVersion`, ENS's `OSVersion`. Required on \
                     UCloud, SurferCloud and Tencent Cloud.",
                ))
                .not_reported(),
                replace(Attribute::optional_computed(
                    ARCHITECTURE,
                    s.clone(),
                    "`x86_64`, `i386` or `arm64`, as the cloud supports (ENS: `x86_64`; Apsara Stack: `x86_64`, \
                     `i386`). Not used by UCloud and SurferCloud. Tencent Cloud spells ARM `arm_64` on import and \
                     `arm` when describing; the provider translates both to `arm64`.",
                ))
                .keeps_prior_on_update()
                .not_reported(),
                replace(Attribute::optional(
                    BOOT_MODE,
                    s.clone(),
                    "Boot mode. Alibaba ECS: `BIOS` or `UEFI`; Tencent Cloud: `Legacy BIOS` or `UEFI`.",
                ))
                .not_reported(),
                replace(Attribute::optional(
                    LICENSE_TYPE,
                    s.clone(),
                    "OS license. Alibaba ECS and Apsara Stack: `Auto`, `Aliyun` or `BYOL`; Tencent Cloud: \
                     `TencentCloud` or `BYOL`.",
                ))
                .not_reported(),
                replace(Attribute::optional(
                    IMAGE_FAMILY,
                    s.clone(),
                    "Tencent Cloud only: the image family (`ImageFamily`).",
                ))
                .not_reported(),
                Attribute::optional(
                    FORCE,
                    Type::Bool,
                    "Tencent Cloud only: import even a file the cloud would refuse without it (`Force`); ISO files \
                     need it (`InvalidParameterValue.ISOMustImportByForce`). A setting of the import call: changing \
                     it later records the new value and calls nothing.",
                ),
                Attribute::optional(
                    ROLE_NAME,
                    s.clone(),
                    "Alibaba ECS and Apsara Stack: the RAM role the import reads OSS with (`RoleName`); the cloud's \
                     default is `AliyunECSImageImportDefaultRole`. A setting of the import call: changing it later \
                     records the new value and calls nothing.",
                ),
                Attribute::optional(
                    DETECTION_STRATEGY,
                    s.clone(),
                    "Alibaba ECS only: `Standard` runs the image check after the import (`DetectionStrategy`). A \
                     setting of the import call: changing it later records the new value and calls nothing.",
                ),
                replace(Attribute::optional(
                    NVME_SUPPORT,
                    s.clone(),
                    "Alibaba ECS only: `supported` if the image has an NVMe driver, else `unsupported` (the cloud's \
                     default) (`Features.NvmeSupport`).",
                ))
                .not_reported(),
                replace(Attribute::optional(
                    SYSTEM_DISK_SIZE_GB,
                    Type::Number,
                    "Alibaba ECS and Apsara Stack: the system disk size in GiB \
                     (`DiskDeviceMapping.1.DiskImageSize`); the cloud detects it when unset.",
                ))
                .not_reported(),
                replace(Attribute::optional(
                    TARGET_OSS_REGION_ID,
                    s.clone(),
                    "Alibaba ENS only: the region the imported image is stored in (`TargetOSSRegionId`).",
                ))
                .not_reported(),
                Attribute::optional(
                    TAGS,
                    Type::map(Type::String),
                    "Tags on the image, on Tencent Cloud and Alibaba ECS. Changed in place on Alibaba ECS; on \
                     Tencent Cloud tags are set at import and a change replaces the image.",
                )
                .requires_replace(),
                Attribute::computed(
                    STATUS,
                    s.clone(),
                    "`available` once the image can boot instances; `failed` if the cloud gave up on it (the next \
                     plan replaces it).",
                )
                .keeps_prior_on_update(),
                Attribute::computed(SIZE_GB, Type::Number, "The image size in GiB, as the cloud reports it.")
                    .keeps_prior_on_update(),
                Attribute::computed(CREATED_AT, s, "When the cloud created the image.").keeps_prior_on_update(),
            ],
            blocks: vec![
                NestedBlock::list(
                    DATA_DISKS,
                    Block {
                        description: "Data disk images imported with the system disk (Tencent Cloud, Alibaba ECS, \
                                      Alibaba ENS, Apsara Stack). ENS takes the source URL only, as entries of its \
                                      `DiskDeviceMapping` JSON list (OSSRegion, OSSBucket, OSSObject). Changing them \
                                      replaces the image."
                            .into(),
                        attributes: vec![
                            Attribute::required(SOURCE_URL, Type::String, "The data disk image, as `source_url`."),
                            Attribute::optional(FORMAT, Type::String, "Its format, as `format`."),
                            Attribute::optional(SIZE_GB, Type::Number, "The data disk size in GiB."),
                        ],
                        ..Block::default()
                    },
                    16,
                )
                .requires_replace()
                .not_reported(),
                NestedBlock::single(
                    TIMEOUTS,
                    Block {
                        description: "How long to wait, as durations like `45m` or `1h30m`.".into(),
                        attributes: vec![
                            Attribute::optional(CREATE, Type::String, "Import and wait. Default `60m`."),
                            Attribute::optional(UPDATE, Type::String, "Rename and read back. Default `10m`."),
                            Attribute::optional(DELETE, Type::String, "Delete and wait until gone. Default `20m`."),
                        ],
                        ..Block::default()
                    },
                ),
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
            attr(CLOUD, "The cloud, as the `cloud` attribute."),
            attr(REGION, "The image's region."),
            attr(ID, "The image ID."),
        ],
    }
}
