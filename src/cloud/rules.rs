//! What a cloud's image import accepts, as plain data: which parameters apply, their allowed values, which changes
//! happen in place, and the documented limits. Each backend declares one [`CloudRules`] (see its folder); the
//! resource validates configuration against it and the docs generator prints it.

/// The names of the import parameters, spelled as the `cloudimage_custom_image` attributes that carry them. The
/// rules tables below are keyed by these names, so a parameter is named once for the cloud layer, the resource
/// and the docs.
pub mod param {
    /// Which cloud.
    pub const CLOUD: &str = "cloud";
    /// Region.
    pub const REGION: &str = "region";
    /// Image name.
    pub const NAME: &str = "name";
    /// Image description.
    pub const DESCRIPTION: &str = "description";
    /// System disk file URL.
    pub const SOURCE_URL: &str = "source_url";
    /// File format.
    pub const FORMAT: &str = "format";
    /// `linux` / `windows`.
    pub const OS_TYPE: &str = "os_type";
    /// Distribution.
    pub const PLATFORM: &str = "platform";
    /// OS version.
    pub const OS_VERSION: &str = "os_version";
    /// CPU architecture.
    pub const ARCHITECTURE: &str = "architecture";
    /// Boot mode.
    pub const BOOT_MODE: &str = "boot_mode";
    /// License type.
    pub const LICENSE_TYPE: &str = "license_type";
    /// Tencent `ImageFamily`.
    pub const IMAGE_FAMILY: &str = "image_family";
    /// Tencent `Force`.
    pub const FORCE: &str = "force";
    /// ECS / Apsara `RoleName`.
    pub const ROLE_NAME: &str = "role_name";
    /// ECS `DetectionStrategy`.
    pub const DETECTION_STRATEGY: &str = "detection_strategy";
    /// ECS `Features.NvmeSupport`.
    pub const NVME_SUPPORT: &str = "nvme_support";
    /// System disk size in GiB.
    pub const SYSTEM_DISK_SIZE_GB: &str = "system_disk_size_gb";
    /// ENS `TargetOSSRegionId`.
    pub const TARGET_OSS_REGION_ID: &str = "target_oss_region_id";
    /// Tags.
    pub const TAGS: &str = "tags";
    /// Extra data disks.
    pub const DATA_DISKS: &str = "data_disks";
    /// A data disk's size in GiB (nested in `data_disks`).
    pub const SIZE_GB: &str = "size_gb";
}

/// An optional parameter and the values a cloud accepts for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    /// The cloud has no such parameter; setting it is an error.
    Unsupported,
    /// Any string.
    Any,
    /// One of these (compared case-insensitively; the cloud gets the spelling given here).
    OneOf(&'static [&'static str]),
}

/// A cloud's rules. Declared as a `const` by each backend.
#[derive(Debug)]
pub struct CloudRules {
    /// Name length bounds (characters).
    pub name_len: (usize, usize),
    /// Whether the name must start with a letter.
    pub name_starts_with_letter: bool,
    /// Whether the name changes in place (else replacement).
    pub rename_in_place: bool,
    /// Whether the cloud's import call takes a description at all.
    pub description: bool,
    /// Whether the description changes in place (else replacement).
    pub description_in_place: bool,
    /// Whether tags change in place (else replacement).
    pub tags_in_place: bool,
    /// `format`.
    pub format: Allowed,
    /// `os_type`.
    pub os_type: Allowed,
    /// `platform`.
    pub platform: Allowed,
    /// `os_version`.
    pub os_version: Allowed,
    /// `architecture`.
    pub architecture: Allowed,
    /// `boot_mode`.
    pub boot_mode: Allowed,
    /// `license_type`.
    pub license_type: Allowed,
    /// Whether `tags` are sent with the import.
    pub tags: bool,
    /// Whether `data_disks` are sent with the import.
    pub data_disks: bool,
    /// `image_family` (Tencent `ImageFamily`).
    pub image_family: Allowed,
    /// `role_name` (ECS / Apsara Stack `RoleName`).
    pub role_name: Allowed,
    /// `detection_strategy` (ECS `DetectionStrategy`).
    pub detection_strategy: Allowed,
    /// `nvme_support` (ECS `Features.NvmeSupport`).
    pub nvme_support: Allowed,
    /// `target_oss_region_id` (ENS `TargetOSSRegionId`).
    pub target_oss_region_id: Allowed,
    /// Whether `force` is sent (Tencent `Force`).
    pub force: bool,
    /// Whether `system_disk_size_gb` is sent (`DiskDeviceMapping.1.DiskImageSize`).
    pub system_disk_size: bool,
    /// Parameters the cloud's import call requires.
    pub required: &'static [&'static str],
    /// Whether the cloud refuses a second image of the same name in a region. Where it does not, a create looks
    /// for the name before importing.
    pub unique_names: bool,
    /// How many tags the import takes, the provider's create marker included.
    pub max_tags: usize,
    /// The allowed system disk sizes in GiB.
    pub system_disk_sizes: (u64, u64),
    /// The allowed data disk sizes in GiB, or `None` where the import takes no data disk size.
    pub data_disk_sizes: Option<(u64, u64)>,
    /// Whether a data disk may name its format (Tencent and ENS detect it and take the object only).
    pub data_disk_format: bool,
    /// Tag key prefixes the cloud itself puts on images (not the user's, never shown or removed).
    pub system_tag_prefixes: &'static [&'static str],
    /// The API parameter each parameter becomes, so a user can check it against the cloud's own reference page
    /// (in tables, so that clouds sharing most of an API can share most of the table).
    pub api_parameters: &'static [&'static [(&'static str, &'static str)]],
    /// Architectures whose images boot with UEFI only: `boot_mode` BIOS is refused with them.
    pub uefi_only_architectures: &'static [&'static str],
}

impl CloudRules {
    /// The optional, per-cloud string parameters with their rule.
    pub fn choices(&self) -> [(&'static str, Allowed); 12] {
        use param::*;
        [
            (FORMAT, self.format),
            (OS_TYPE, self.os_type),
            (PLATFORM, self.platform),
            (OS_VERSION, self.os_version),
            (ARCHITECTURE, self.architecture),
            (BOOT_MODE, self.boot_mode),
            (LICENSE_TYPE, self.license_type),
            (IMAGE_FAMILY, self.image_family),
            (ROLE_NAME, self.role_name),
            (DETECTION_STRATEGY, self.detection_strategy),
            (NVME_SUPPORT, self.nvme_support),
            (TARGET_OSS_REGION_ID, self.target_oss_region_id),
        ]
    }

    /// The optional non-string parameters (`force`, `system_disk_size_gb`) and whether the cloud takes them.
    pub fn flags(&self) -> [(&'static str, bool); 2] {
        [
            (param::FORCE, self.force),
            (param::SYSTEM_DISK_SIZE_GB, self.system_disk_size),
        ]
    }

    /// The rule of a string parameter, if it is one of [`CloudRules::choices`].
    pub fn allowed(&self, parameter: &str) -> Option<Allowed> {
        self.choices()
            .into_iter()
            .find(|(p, _)| *p == parameter)
            .map(|(_, a)| a)
    }

    /// Whether the cloud takes `parameter` at all (the docs' `-`). `description` counts as taken everywhere: a
    /// cloud without one refuses it at validation.
    pub fn supports(&self, parameter: &str) -> bool {
        match parameter {
            param::TAGS => self.tags,
            param::DATA_DISKS => self.data_disks,
            _ => match self.flags().iter().find(|(f, _)| *f == parameter) {
                Some((_, on)) => *on,
                None => self.allowed(parameter) != Some(Allowed::Unsupported),
            },
        }
    }

    /// The API parameter `parameter` becomes on this cloud; `None` where the import call has no such parameter.
    pub fn api_parameter(&self, parameter: &str) -> Option<&'static str> {
        self.api_parameters
            .iter()
            .flat_map(|table| table.iter())
            .find(|(p, _)| *p == parameter)
            .map(|(_, api)| *api)
    }

    /// The spelling the cloud expects for `value` of `parameter`, if it is allowed.
    pub fn canonical(&self, parameter: &str, value: &str) -> Option<&'static str> {
        match self.allowed(parameter)? {
            Allowed::OneOf(values) => values
                .iter()
                .copied()
                .find(|v| v.eq_ignore_ascii_case(value)),
            _ => None,
        }
    }

    /// Whether a change of `name`, `description` or `tags`, which replaces an image on some clouds, is made in
    /// place on this one.
    pub fn changes_in_place(&self, parameter: &str) -> bool {
        match parameter {
            param::NAME => self.rename_in_place,
            param::DESCRIPTION => self.description_in_place,
            param::TAGS => self.tags_in_place,
            _ => false,
        }
    }

    /// Whether `key` is a tag the cloud put there itself.
    pub fn is_system_tag(&self, key: &str) -> bool {
        self.system_tag_prefixes.iter().any(|p| key.starts_with(p))
    }
}
