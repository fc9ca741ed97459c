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
            description: "A custom image imported into one of the supported clouds, from an object already in the \
                          cloud's object storage (`source_url`) or from a disk image file on this machine, which it \
                          checks at plan time and uploads first (`source_file`). Creating it starts the cloud's \
                          image import and waits until the image can boot instances."
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
                replace(Attribute::optional(
                    SOURCE_URL,
                    s.clone(),
                    "The disk image to import, already in the cloud's object storage. UCloud/SurferCloud: a UFile \
                     URL; Tencent Cloud: a COS URL; Alibaba family: `oss://bucket/key` or \
                     `https://bucket.oss-<region>.aliyuncs.com/key`. Exactly one of `source_url` and `source_file`. \
                     The cloud cannot report it back, so an imported image takes it from configuration.",
                ))
                .not_reported(),
                Attribute::optional(
                    SOURCE_FILE,
                    s.clone(),
                    "A disk image file on the machine running Terraform, instead of `source_url`: `terraform plan` \
                     checks it (format, boot mode), `terraform apply` uploads it to `upload_to` (multipart, \
                     resumed after an interrupted apply, verified part by part) and imports the uploaded object. \
                     A change of the file's content replaces the image (see `source_sha256`); moving an unchanged \
                     file records the new path and calls nothing.",
                )
                .not_reported(),
                Attribute::optional(
                    UPLOAD_TO,
                    s.clone(),
                    "With `source_file`: the object to upload it to, in the cloud's own object storage and in the \
                     forms `source_url` takes (UCloud/SurferCloud: `https://<bucket>.<region>.ufileos.com/<key>`; \
                     Tencent Cloud: `https://<bucket>-<appid>.cos.<region>.myqcloud.com/<key>`; Alibaba family: \
                     `oss://bucket/key`). The import reads this object. Uploaded with the provider block's keys to \
                     the cloud's S3-compatible endpoint (its `storage_endpoint` overrides it).",
                )
                .not_reported(),
                Attribute::optional(
                    KEEP_UPLOADED_OBJECT,
                    Type::Bool,
                    "With `source_file`: keep the uploaded object once the image is available. Default `false`: \
                     it is deleted then (never earlier: the import reads it until the image is available). \
                     Changing it later records the new value and calls nothing.",
                )
                .not_reported(),
                replace(Attribute::optional_computed(
                    SOURCE_SHA256,
                    s.clone(),
                    "The SHA-256 (lower-case hex) of the disk image. With `source_file` the provider computes it at \
                     plan time and remembers it per file (path, size, times, inode) in the user's cache directory, \
                     so an unchanged file is not read again; set it yourself (e.g. `filesha256(...)`) to have it \
                     checked against the file. With `source_url` only a configured value is kept, for you to mark a \
                     new object.",
                ))
                .not_reported(),
                replace(Attribute::optional_computed(
                    FORMAT,
                    s.clone(),
                    "The file format: `raw`, `vhd`, `vmdk` or `qcow2`, as the cloud accepts (ENS: `qcow2` only; \
                     Alibaba ECS and Apsara Stack: `raw`, `vhd`, `qcow2`). Required on UCloud and SurferCloud with \
                     `source_url`. With `source_file`, or a `source_url` the plan can read (see \
                     `inspect_source_url`), the plan reads the format from the disk image's own bytes, fills it in \
                     when unset and refuses a configured one that differs.",
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
                replace(Attribute::optional_computed(
                    BOOT_MODE,
                    s.clone(),
                    "Boot mode. Alibaba ECS: `BIOS` or `UEFI`; Tencent Cloud: `Legacy BIOS` or `UEFI`. With \
                     `source_file` (or a readable `source_url`) the plan reads the disk's partition table: a disk that \
                     boots only with UEFI (an EFI system partition, no BIOS boot path) and `BIOS`, or the reverse, \
                     is an error, and an unset boot mode is filled in on these two clouds.",
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
                            Attribute::optional(SOURCE_URL, Type::String, "The data disk image, as `source_url`."),
                            Attribute::optional(
                                SOURCE_FILE,
                                Type::String,
                                "A local data disk image, as `source_file` (exactly one of the two).",
                            ),
                            Attribute::optional(UPLOAD_TO, Type::String, "Where its `source_file` goes, as `upload_to`."),
                            Attribute::optional_computed(
                                SOURCE_SHA256,
                                Type::String,
                                "Its content's SHA-256, as `source_sha256`.",
                            ),
                            Attribute::optional(
                                FORMAT,
                                Type::String,
                                "Its format, as `format` (checked against a `source_file`; the clouds detect it when \
                                 unset).",
                            ),
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
