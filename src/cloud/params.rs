//! The import parameters: every `cloudimage_custom_image` attribute that goes into a cloud's import call, each
//! declared once here with what holds for it on every cloud (its attribute name, type, presence, how a change of it
//! is planned, how two spellings of it compare, its documentation). What a cloud makes of a parameter (whether it
//! takes it, under which API parameter name, which values) is declared once in that cloud's own rules
//! ([`crate::cloud::rules::CloudRules::takes`]), so one cloud still lives in one folder.
//!
//! The schema, validation, the import request, the create's fingerprint, the plan's comparisons and the docs all
//! iterate [`Param::ALL`]; a new optional parameter is one line in the list below, one [`Take`] in each cloud that
//! takes it, one field in the resource model, and where its request shape needs it one line in the cloud's client.
//!
//! The order of the list is the order of the create's fingerprint: append new parameters at the end.
//!
//! [`Take`]: crate::cloud::rules::Take

use std::collections::BTreeMap;

/// The value type of a parameter's attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    Text,
    /// A bool, sent only when true.
    Flag,
    /// A whole number of GiB.
    Gib,
    /// A map of strings (`tags`).
    Tags,
    /// The `data_disks` blocks.
    DataDisks,
    /// A set of account IDs.
    Accounts,
    /// The `copy` blocks: the other regions the image is copied to.
    Copies,
}

/// Whether configuration must, may, or may leave to the provider to set a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Configuration sets it.
    Required,
    /// Configuration may set it; unset is null.
    Optional,
    /// Configuration may set it; the provider fills it in otherwise (from the provider block, the disk image or
    /// the cloud's report).
    OptionalComputed,
}

/// What a changed value means for the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A new image: the import made it so.
    Replace,
    /// Changed in place on the clouds whose rules list it in `in_place`, a new image elsewhere.
    InPlaceWhereTheCloudCan,
    /// A setting of the import call, not a property of the image: a change is recorded and calls nothing.
    Setting,
    /// Changed in place on every cloud that takes it, by a call of its own after the import.
    InPlace,
}

/// When two spellings of a value mean the same (so that a read or a plan does not invent a change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling {
    /// The user's own text: only the same text is the same.
    Exact,
    /// A word: case, spaces, `-` and `_` do not matter (`Linux` is `linux`).
    Word,
    /// An architecture (`arm`, `arm_64`, `aarch64` are `arm64`).
    Architecture,
    /// A boot mode (Tencent's `Legacy BIOS` is ECS's `BIOS`).
    BootMode,
    /// An object URL: the spellings the cloud reads as one object are one.
    Object,
}

/// Everything about a parameter that holds on every cloud.
#[derive(Debug, Clone, Copy)]
pub struct ParamDef {
    /// The value type.
    pub kind: Kind,
    /// Required, optional, or optional and filled in.
    pub presence: Presence,
    /// What a change means.
    pub change: Change,
    /// Kept from the prior state on update: only the cloud's report changes it.
    pub keeps_prior: bool,
    /// Whether the clouds report it back for an image (an imported image has it only where they do).
    pub reported: bool,
    /// How two spellings compare.
    pub spelling: Spelling,
    /// Taken by every cloud's import, whether or not the cloud names it in its table (the region, the name, the
    /// object).
    pub on_every_cloud: bool,
    /// Carried in [`ImportRequest::options`](crate::cloud::ImportRequest::options) (the core parameters have
    /// fields of their own).
    pub option: bool,
    /// Where a cloud lists allowed values and the configuration leaves the parameter unset, the first of them is
    /// sent (`linux`, `x86_64`).
    pub defaults_to_first_allowed: bool,
    /// Hashed into the create's fingerprint even when unset. True for the parameters the first fingerprints had;
    /// a parameter added later is hashed only when set, so adding one changes no fingerprint of an earlier create.
    pub always_fingerprinted: bool,
    /// What the parameter is, for the docs; the generated text adds which clouds take it with which values and what
    /// a change does.
    pub doc: &'static str,
}

impl ParamDef {
    /// An optional string import option: replaces the image, not reported, compared as a word.
    const fn option(doc: &'static str) -> Self {
        ParamDef {
            kind: Kind::Text,
            presence: Presence::Optional,
            change: Change::Replace,
            keeps_prior: false,
            reported: false,
            spelling: Spelling::Word,
            on_every_cloud: false,
            option: true,
            defaults_to_first_allowed: false,
            always_fingerprinted: true,
            doc,
        }
    }

    /// A core parameter (a field of its own in the import request).
    const fn core(kind: Kind, presence: Presence, change: Change, doc: &'static str) -> Self {
        ParamDef {
            kind,
            presence,
            change,
            keeps_prior: false,
            reported: true,
            spelling: Spelling::Exact,
            on_every_cloud: false,
            option: false,
            defaults_to_first_allowed: false,
            always_fingerprinted: true,
            doc,
        }
    }

    const fn kind(mut self, kind: Kind) -> Self {
        self.kind = kind;
        self
    }

    const fn computed(mut self) -> Self {
        self.presence = Presence::OptionalComputed;
        self
    }

    const fn setting(mut self) -> Self {
        self.change = Change::Setting;
        self.reported = true;
        self
    }

    const fn keeps_prior(mut self) -> Self {
        self.keeps_prior = true;
        self
    }

    const fn spelled(mut self, spelling: Spelling) -> Self {
        self.spelling = spelling;
        self
    }

    const fn not_reported(mut self) -> Self {
        self.reported = false;
        self
    }

    const fn everywhere(mut self) -> Self {
        self.on_every_cloud = true;
        self
    }

    /// Declared after the first fingerprints: hashed only when set.
    const fn later(mut self) -> Self {
        self.always_fingerprinted = false;
        self
    }

    const fn first_allowed_by_default(mut self) -> Self {
        self.defaults_to_first_allowed = true;
        self
    }
}

/// Declares the parameters: the [`Param`] enum, its attribute names and its [`ParamDef`]s, from one line each.
macro_rules! parameters {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal => $def:expr, )*) => {
        /// An import parameter, named in code by this enum and in configuration by [`Param::attribute`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Param {
            $( $(#[$doc])* $variant, )*
        }

        /// The definitions, in the order of [`Param`].
        static DEFINITIONS: [ParamDef; [$($name),*].len()] = [$($def),*];

        impl Param {
            /// Every parameter, in declaration order (the fingerprint's order).
            pub const ALL: [Param; [$($name),*].len()] = [$(Param::$variant),*];

            /// The attribute of `cloudimage_custom_image` that carries it.
            pub const fn attribute(self) -> &'static str {
                match self {
                    $( Param::$variant => $name, )*
                }
            }
        }
    };
}

parameters! {
    /// The region.
    Region = "region" => ParamDef::core(
        Kind::Text,
        Presence::OptionalComputed,
        Change::Replace,
        "The region of the image. Defaults to the region of the cloud's provider block (or its environment variable).",
    )
    .keeps_prior()
    .spelled(Spelling::Word)
    .everywhere(),
    /// The image name.
    Name = "name" => ParamDef::core(
        Kind::Text,
        Presence::Required,
        Change::InPlaceWhereTheCloudCan,
        "The image name.",
    )
    .everywhere(),
    /// The image description.
    Description = "description" => ParamDef::core(
        Kind::Text,
        Presence::Optional,
        Change::InPlaceWhereTheCloudCan,
        "The image description.",
    ),
    /// The system disk's object.
    SourceUrl = "source_url" => ParamDef::core(
        Kind::Text,
        Presence::Optional,
        Change::Replace,
        "The disk image to import, already in the cloud's object storage. UCloud/SurferCloud: a UFile URL; Tencent \
         Cloud: a COS URL; Alibaba family: `oss://bucket/key` or `https://bucket.oss-<region>.aliyuncs.com/key`. \
         Exactly one of `source_url` and `source_file`. The cloud cannot report it back, so an imported image takes \
         it from configuration.",
    )
    .spelled(Spelling::Object)
    .not_reported()
    .everywhere(),
    /// The file format.
    Format = "format" => ParamDef::option(
        "The file format. With `source_file`, or a `source_url` the plan can read (see `inspect_source_url`), the plan \
         reads the format from the disk image's own bytes, fills it in when unset and refuses a configured one that \
         differs. A `source_file`'s format is always read from the file, also where the cloud requires the parameter.",
    )
    .computed(),
    /// `linux` / `windows`.
    OsType = "os_type" => ParamDef::option(
        "The operating system family. Defaults to `linux` where the cloud needs it.",
    )
    .computed()
    .keeps_prior()
    .first_allowed_by_default(),
    /// The distribution.
    Platform = "platform" => ParamDef::option(
        "The distribution, e.g. `CentOS`, `Ubuntu`, `Debian`, `Windows`, `Others`.",
    ),
    /// The OS version.
    OsVersion = "os_version" => ParamDef::option("The OS version."),
    /// The CPU architecture.
    Architecture = "architecture" => ParamDef::option(
        "The CPU architecture. Where the cloud takes one and none is set, the first of its values is sent.",
    )
    .computed()
    .keeps_prior()
    .spelled(Spelling::Architecture)
    .first_allowed_by_default(),
    /// The boot mode.
    BootMode = "boot_mode" => ParamDef::option(
        "The boot mode. With `source_file` (or a readable `source_url`) the plan reads the disk's partition table: a \
         disk that boots only with UEFI (an EFI system partition, no BIOS boot path) and `BIOS`, or the reverse, is \
         an error, and an unset boot mode is filled in where the cloud takes one.",
    )
    .computed()
    .spelled(Spelling::BootMode),
    /// The OS license.
    LicenseType = "license_type" => ParamDef::option("The OS license."),
    /// Tencent's image family.
    ImageFamily = "image_family" => ParamDef::option("The image family."),
    /// The role the import reads the object with.
    RoleName = "role_name" => ParamDef::option(
        "The RAM role the import reads OSS with; the cloud's default is `AliyunECSImageImportDefaultRole`.",
    )
    .setting(),
    /// ECS's image check.
    DetectionStrategy = "detection_strategy" => ParamDef::option(
        "`Standard` runs the cloud's image check after the import.",
    )
    .setting(),
    /// ECS's NVMe flag.
    NvmeSupport = "nvme_support" => ParamDef::option(
        "`supported` if the image has an NVMe driver, else `unsupported` (the cloud's default).",
    ),
    /// ENS's storage region.
    TargetOssRegionId = "target_oss_region_id" => ParamDef::option(
        "The region the imported image is stored in.",
    ),
    /// Tencent's `Force`.
    Force = "force" => ParamDef::option(
        "Import even a file the cloud would refuse without it; ISO files need it \
         (`InvalidParameterValue.ISOMustImportByForce`).",
    )
    .kind(Kind::Flag)
    .setting(),
    /// The system disk size.
    SystemDiskSizeGb = "system_disk_size_gb" => ParamDef::option(
        "The system disk size in GiB; the cloud detects it when unset.",
    )
    .kind(Kind::Gib),
    /// Tags.
    Tags = "tags" => ParamDef::core(Kind::Tags, Presence::Optional, Change::InPlaceWhereTheCloudCan, "Tags on the image."),
    /// Data disks.
    DataDisks = "data_disks" => ParamDef::core(
        Kind::DataDisks,
        Presence::Optional,
        Change::Replace,
        "Data disk images imported with the system disk.",
    )
    .not_reported(),
    /// ECS's instance metadata modes.
    ImdsSupport = "imds_support" => ParamDef::option(
        "The instance metadata access modes the image supports: `v2` lets instances made from it require the \
         hardened mode (tokens only); `v1`, the cloud's default, does not.",
    )
    .later(),
    /// The accounts the image is shared with.
    ShareWithAccounts = "share_with_accounts" => ParamDef::core(
        Kind::Accounts,
        Presence::Optional,
        Change::InPlace,
        "The accounts the image is shared with, by account ID: they can boot instances from it. Shared once the \
         image is available; an account added or removed later is shared or unshared in place, a share removed \
         outside Terraform is drift that the next apply restores, and destroying the image unshares it first.",
    )
    .later(),
    /// The other regions the image is copied to.
    Copy = "copy" => ParamDef::core(
        Kind::Copies,
        Presence::Optional,
        Change::InPlace,
        "A copy of the image in another region of the same account, one block per region; `copies` reports each \
         copy's image ID and status. A copy is made once the image is available and waited for like the import. A \
         region added later is copied in place (the image itself is never replaced for it), a region removed deletes \
         only that copy, a changed copy option replaces only that copy, and a copy deleted or failed outside \
         Terraform is made again. A replaced image is copied again and its old copies are deleted with it. \
         Destroying the image deletes its copies first. Every copy is shared with the accounts of \
         `share_with_accounts` too (the clouds share per region and image).",
    )
    .later(),
}

impl Param {
    /// What holds for the parameter on every cloud.
    pub fn def(self) -> &'static ParamDef {
        // `Param::ALL[i]` is the variant with discriminant `i`, and `DEFINITIONS` has one entry per variant in the
        // same order (both come from one list in `parameters!`).
        &DEFINITIONS[self as usize]
    }

    /// The parameter an attribute name carries.
    pub fn from_attribute(attribute: &str) -> Option<Param> {
        Param::ALL.into_iter().find(|p| p.attribute() == attribute)
    }

    /// The parameters carried in [`Options`], in fingerprint order.
    pub fn options() -> impl Iterator<Item = Param> {
        Param::ALL.into_iter().filter(|p| p.def().option)
    }
}

impl std::fmt::Display for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.attribute())
    }
}

/// The value of one import option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue {
    /// A string, in the cloud's spelling.
    Text(String),
    /// A flag.
    Flag(bool),
    /// A number of GiB.
    Gib(u64),
}

impl OptionValue {
    /// The text the fingerprint hashes: the string, `true` or empty for a flag, the number in decimal.
    pub fn fingerprint_text(&self) -> String {
        match self {
            OptionValue::Text(s) => s.clone(),
            OptionValue::Flag(on) => if *on { "true" } else { "" }.to_string(),
            OptionValue::Gib(n) => n.to_string(),
        }
    }
}

impl From<&str> for OptionValue {
    fn from(s: &str) -> Self {
        OptionValue::Text(s.to_string())
    }
}

impl From<String> for OptionValue {
    fn from(s: String) -> Self {
        OptionValue::Text(s)
    }
}

impl From<bool> for OptionValue {
    fn from(on: bool) -> Self {
        OptionValue::Flag(on)
    }
}

impl From<u64> for OptionValue {
    fn from(n: u64) -> Self {
        OptionValue::Gib(n)
    }
}

/// The optional parameters of one import ([`ParamDef::option`]): what the configuration set, in the cloud's
/// spelling.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Options(BTreeMap<Param, OptionValue>);

impl Options {
    /// Sets `param` (`None` leaves it unset).
    pub fn set(&mut self, param: Param, value: Option<OptionValue>) -> &mut Self {
        match value {
            Some(v) => {
                self.0.insert(param, v);
            }
            None => {
                self.0.remove(&param);
            }
        }
        self
    }

    /// Options from `(parameter, value)` pairs.
    pub fn of<const N: usize>(pairs: [(Param, OptionValue); N]) -> Self {
        Options(pairs.into_iter().collect())
    }

    /// Sets `param` to `value`.
    pub fn with(&mut self, param: Param, value: impl Into<OptionValue>) -> &mut Self {
        self.0.insert(param, value.into());
        self
    }

    /// A string option.
    pub fn text(&self, param: Param) -> Option<&str> {
        match self.0.get(&param)? {
            OptionValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// A flag (unset is false).
    pub fn flag(&self, param: Param) -> bool {
        matches!(self.0.get(&param), Some(OptionValue::Flag(true)))
    }

    /// A number of GiB.
    pub fn gib(&self, param: Param) -> Option<u64> {
        match self.0.get(&param)? {
            OptionValue::Gib(n) => Some(*n),
            _ => None,
        }
    }

    /// The value of `param`, if set.
    pub fn get(&self, param: Param) -> Option<&OptionValue> {
        self.0.get(&param)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_definitions_line_up() {
        for (i, p) in Param::ALL.into_iter().enumerate() {
            assert_eq!(p as usize, i);
            assert_eq!(Param::from_attribute(p.attribute()), Some(p));
        }
        assert_eq!(Param::BootMode.def().spelling, Spelling::BootMode);
        assert_eq!(Param::Force.def().kind, Kind::Flag);
        assert_eq!(Param::from_attribute("size_gb"), None);
    }

    #[test]
    fn the_fingerprint_order_is_the_first_fingerprints() {
        let names: Vec<&str> = Param::options().map(Param::attribute).collect();
        assert_eq!(
            names,
            [
                "format",
                "os_type",
                "platform",
                "os_version",
                "architecture",
                "boot_mode",
                "license_type",
                "image_family",
                "role_name",
                "detection_strategy",
                "nvme_support",
                "target_oss_region_id",
                "force",
                "system_disk_size_gb",
                "imds_support",
            ]
        );
    }
}
