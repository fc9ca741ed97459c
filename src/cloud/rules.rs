//! What a cloud's image import accepts, as plain data: which parameters it takes under which API names, their
//! allowed values, which changes happen in place, and the documented limits. Each backend declares one
//! [`CloudRules`] (see its folder); the parameters themselves are declared in [`crate::cloud::params`]. The
//! resource validates configuration against the rules, builds the import request from them and the docs generator
//! prints them.

use super::params::Param;

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

/// How a cloud takes one parameter: the API parameter it becomes, the values it accepts, and what a user should
/// know about it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Take {
    /// The parameter.
    pub param: Param,
    /// The API parameter (or parameters) it becomes, as the cloud's reference names them.
    pub api: &'static str,
    /// The values the cloud accepts.
    pub values: Allowed,
    /// What differs on this cloud, for the docs (empty when nothing does).
    pub note: &'static str,
}

impl Take {
    /// `param`, sent as `api`, any value.
    pub const fn new(param: Param, api: &'static str) -> Self {
        Take {
            param,
            api,
            values: Allowed::Any,
            note: "",
        }
    }

    /// Only these values (compared case-insensitively; the cloud gets the spelling given here).
    pub const fn one_of(mut self, values: &'static [&'static str]) -> Self {
        self.values = Allowed::OneOf(values);
        self
    }

    /// A parameter the provider checks and uses but the cloud's import has no API parameter of its own for (the
    /// cloud reads it from the file, or another parameter carries it).
    pub const fn checked(param: Param) -> Self {
        Take::new(param, "")
    }

    /// A note for the docs.
    pub const fn note(mut self, note: &'static str) -> Self {
        self.note = note;
        self
    }
}

/// How a cloud copies an image to another region (the `copy` blocks), beyond the copy call itself (named by the
/// cloud's [`Take`] of [`Param::Copy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyRules {
    /// Whether the copy call takes a description of its own (otherwise the copy's description is the cloud's).
    pub description: bool,
    /// Whether a copy can be encrypted, and with a KMS key of the user's.
    pub encryption: bool,
    /// Whether the copy call takes tags (the user's, and the marker that proves a copy is this resource's).
    pub tags: bool,
    /// How many copies one image may have at once, where the cloud documents a limit.
    pub max_copies: Option<usize>,
}

/// A cloud's rules. Declared as a `const` by each backend.
#[derive(Debug)]
pub struct CloudRules {
    /// Name length bounds (characters).
    pub name_len: (usize, usize),
    /// Whether the name must start with a letter.
    pub name_starts_with_letter: bool,
    /// The parameters the import takes, in tables read in order where the first entry for a parameter counts, so
    /// that clouds sharing most of an API share most of a table and list their differences first. A parameter in
    /// no table is not taken: setting it is an error (except those every import takes, see
    /// [`ParamDef::on_every_cloud`](super::params::ParamDef::on_every_cloud)).
    pub takes: &'static [&'static [Take]],
    /// Parameters whose change ([`Change::InPlaceWhereTheCloudCan`](super::params::Change)) the cloud makes in
    /// place.
    pub in_place: &'static [Param],
    /// Parameters the cloud's import call requires.
    pub required: &'static [Param],
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
    /// Architectures whose images boot with UEFI only: `boot_mode` BIOS is refused with them.
    pub uefi_only_architectures: &'static [&'static str],
    /// How many accounts an image may be shared with, where the cloud documents it.
    pub max_shared_accounts: Option<usize>,
    /// The error codes of a delete the cloud refuses because the image is shared: the delete unshares it and
    /// tries again.
    pub delete_refused_while_shared: &'static [&'static str],
    /// How the cloud copies images to other regions; `None` where it has no copy API (where it takes
    /// [`Param::Copy`], this is set).
    pub copies: Option<CopyRules>,
    /// Why a parameter the cloud does not take has no place there, and what does the job instead: said by the
    /// plan's error and the docs.
    pub instead: &'static [(Param, &'static str)],
}

impl CloudRules {
    /// How the cloud takes `param`, if it does.
    pub fn take(&self, param: Param) -> Option<&'static Take> {
        self.takes
            .iter()
            .flat_map(|table| table.iter())
            .find(|t| t.param == param)
    }

    /// The values the cloud accepts for `param` ([`Allowed::Unsupported`] when it does not take it).
    pub fn allowed(&self, param: Param) -> Allowed {
        match self.take(param) {
            Some(t) => t.values,
            None if param.def().on_every_cloud => Allowed::Any,
            None => Allowed::Unsupported,
        }
    }

    /// Whether the cloud takes `param` at all (the docs' `-`).
    pub fn supports(&self, param: Param) -> bool {
        self.allowed(param) != Allowed::Unsupported
    }

    /// The API parameter `param` becomes on this cloud; `None` where the import call has no such parameter.
    pub fn api_parameter(&self, param: Param) -> Option<&'static str> {
        self.take(param)
            .map(|t| t.api)
            .filter(|api| !api.is_empty())
    }

    /// Whether the import call requires `param`.
    pub fn requires(&self, param: Param) -> bool {
        self.required.contains(&param)
    }

    /// The spelling the cloud expects for `value` of `param`, if it is allowed.
    pub fn canonical(&self, param: Param, value: &str) -> Option<&'static str> {
        match self.allowed(param) {
            Allowed::OneOf(values) => values
                .iter()
                .copied()
                .find(|v| v.eq_ignore_ascii_case(value)),
            _ => None,
        }
    }

    /// Whether a change of `param`, which replaces an image on some clouds, is made in place on this one.
    pub fn changes_in_place(&self, param: Param) -> bool {
        self.in_place.contains(&param)
    }

    /// What the cloud offers instead of `param`, where it does not take it and says why.
    pub fn instead_of(&self, param: Param) -> Option<&'static str> {
        self.instead
            .iter()
            .find(|(p, _)| *p == param)
            .map(|(_, why)| *why)
    }

    /// Whether `key` is a tag the cloud put there itself.
    pub fn is_system_tag(&self, key: &str) -> bool {
        self.system_tag_prefixes.iter().any(|p| key.starts_with(p))
    }
}
