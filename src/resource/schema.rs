//! The `cloudimage_custom_image` schema. Descriptions here are the documentation: the docs generator reads them.
//! Each attribute also declares how a change of it is planned (replace, replace when configured, keep the prior
//! value on update, not reported by the clouds); the provider core enforces that (see `crate::provider::plan`).
//! The import parameters' attributes come from the parameter table ([`crate::cloud::params`]); the rest are
//! written here.

use super::model::attr::*;
use super::prose;
use crate::cloud::params::{Change, Kind, Presence};
use crate::cloud::Param;
use crate::cty::Type;
use crate::provider::schema::{
    Attribute, Block, IdentityAttribute, IdentitySchema, NestedBlock, Schema,
};

/// The resource type name.
pub const TYPE_NAME: &str = "cloudimage_custom_image";

/// Bumped when stored state needs an upgrade.
pub const SCHEMA_VERSION: i64 = 0;

/// The attribute of an import parameter, from its declaration: type, presence, plan behaviour and the docs the
/// table and the clouds' rules give it ([`prose`]).
fn parameter(param: Param) -> Attribute {
    let def = param.def();
    let ty = match def.kind {
        Kind::Text => Type::String,
        Kind::Flag => Type::Bool,
        Kind::Gib => Type::Number,
        Kind::Tags | Kind::DataDisks | Kind::Copies => Type::map(Type::String),
        Kind::Accounts => Type::set(Type::String),
    };
    let name = param.attribute();
    let description = prose::description(param);
    let mut a = match def.presence {
        Presence::Required => Attribute::required(name, ty, &description),
        Presence::Optional => Attribute::optional(name, ty, &description),
        Presence::OptionalComputed => Attribute::optional_computed(name, ty, &description),
    };
    if matches!(
        def.change,
        Change::Replace | Change::InPlaceWhereTheCloudCan
    ) {
        a = a.requires_replace();
    }
    if def.keeps_prior {
        a = a.keeps_prior_on_update();
    }
    if !def.reported {
        a = a.not_reported();
    }
    a
}

/// The `data_disks` blocks: the parameter's declaration for the block, the fields of one disk here.
fn data_disks() -> NestedBlock {
    let def = Param::DataDisks.def();
    let mut block = NestedBlock::list(
        DATA_DISKS,
        Block {
            description: prose::description(Param::DataDisks),
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
                    "Its format, as `format` (checked against a `source_file`; the clouds detect it when unset).",
                ),
                Attribute::optional(SIZE_GB, Type::Number, "The data disk size in GiB."),
            ],
            ..Block::default()
        },
        16,
    );
    if matches!(
        def.change,
        Change::Replace | Change::InPlaceWhereTheCloudCan
    ) {
        block = block.requires_replace();
    }
    if !def.reported {
        block = block.not_reported();
    }
    block
}

/// The `copy` blocks: the parameter's declaration for the block, the options of one copy here.
fn copies() -> NestedBlock {
    let s = Type::String;
    NestedBlock::set(
        COPY,
        Block {
            description: prose::description(Param::Copy),
            attributes: vec![
                Attribute::required(
                    REGION,
                    s.clone(),
                    "The region to copy the image to (another region than the image's own; one block per region).",
                ),
                Attribute::optional(
                    NAME,
                    s.clone(),
                    "The copy's name. Default: the image's name when the copy is made. Changing it replaces the copy.",
                ),
                Attribute::optional(
                    DESCRIPTION,
                    s.clone(),
                    "The copy's description, where the cloud's copy takes one. Default: the image's.",
                ),
                Attribute::optional(
                    ENCRYPTED,
                    Type::Bool,
                    "Encrypt the copy, where the cloud can (Alibaba Cloud ECS and Apsara Stack: `Encrypted`); with \
                     `kms_key_id`, else with the cloud's default key. Changing it replaces the copy.",
                ),
                Attribute::optional(
                    KMS_KEY_ID,
                    s.clone(),
                    "The KMS key that encrypts the copy (with `encrypted = true`).",
                ),
                Attribute::optional(
                    IMAGE_ID,
                    s,
                    "An image already in `region` to manage as this copy instead of copying: a copy made before \
                     this resource managed the image (by the console, Packer, or before `terraform import`, which \
                     cannot tell copies from other images). It is taken as it is (the other options are not \
                     applied to it) and deleted with the resource like any copy. Setting it to the ID `copies` \
                     already records changes nothing.",
                ),
            ],
            ..Block::default()
        },
        0,
    )
}

/// The attributes about a local disk file, which stand beside `source_url`.
fn local_file_attributes() -> Vec<Attribute> {
    let s = Type::String;
    vec![
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
        Attribute::optional_computed(
            SOURCE_SHA256,
            s,
            "The SHA-256 (lower-case hex) of the disk image. With `source_file` the provider computes it at \
             plan time and remembers it per file (path, size, times, inode) in the user's cache directory, \
             so an unchanged file is not read again; set it yourself (e.g. `filesha256(...)`) to have it \
             checked against the file. With `source_url` only a configured value is kept, for you to mark a \
             new object. Changing it replaces the image.",
        )
        .requires_replace()
        .not_reported(),
    ]
}

/// The resource schema: the image's ID and cloud, the import parameters in the table's order (the local-file
/// attributes after `source_url`), what the cloud reports, and the `data_disks` and `timeouts` blocks.
pub fn resource_schema() -> Schema {
    let s = Type::String;
    let mut attributes = vec![
        Attribute::computed(ID, s.clone(), "The cloud's image ID, e.g. `img-0a1b2c3d` or `m-bp1...`.")
            .keeps_prior_on_update(),
        Attribute::required(
            CLOUD,
            s.clone(),
            "Which cloud to import into: `ucloud`, `surfercloud`, `tencentcloud`, `alicloud` (ECS), \
             `alicloud_ens` or `apsarastack`. Changing it replaces the image.",
        )
        .requires_replace(),
    ];
    for param in Param::ALL {
        if matches!(param.def().kind, Kind::DataDisks | Kind::Copies) {
            continue;
        }
        attributes.push(parameter(param));
        if param == Param::SourceUrl {
            attributes.extend(local_file_attributes());
        }
    }
    attributes.extend([
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
        Attribute::computed(
            COPIES,
            Type::map(Type::object([(ID, Type::String), (STATUS, Type::String)])),
            "The copies of `copy`, by region: each copy's image `id` and `status` (`available`, `copying`, or \
             `failed`, which the next plan makes again). E.g. `copies[\"cn-shanghai\"].id`.",
        ),
    ]);
    Schema {
        version: SCHEMA_VERSION,
        block: Block {
            description: "A custom image imported into one of the supported clouds, from an object already in the \
                          cloud's object storage (`source_url`) or from a disk image file on this machine, which it \
                          checks at plan time and uploads first (`source_file`). Creating it starts the cloud's \
                          image import and waits until the image can boot instances."
                .to_string(),
            attributes,
            blocks: vec![
                data_disks(),
                copies(),
                NestedBlock::single(
                    TIMEOUTS,
                    Block {
                        description: "How long to wait, as durations like `45m` or `1h30m`.".into(),
                        attributes: vec![
                            Attribute::optional(
                                CREATE,
                                Type::String,
                                "Import and wait, then copy and wait for the copies. Default `60m`.",
                            ),
                            Attribute::optional(
                                UPDATE,
                                Type::String,
                                "Rename, share, copy to new regions and wait for the copies. Default `60m`.",
                            ),
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
