//! Provider-block settings: each backend describes its block as plain data ([`BlockSpec`]: attribute names,
//! descriptions, which are secret, which environment variables and CLI profile fields fill them in), the provider
//! block's values arrive as [`Settings`], and [`resolve_block`] looks each one up in order: attribute, then
//! environment variable, then CLI profile. Nothing here knows Terraform: `crate::resource` turns the specs into schema.
//!
//! Nothing here knows the backends either: [`crate::cloud::backend::resolve`] resolves one backend's block, and
//! `Settings::set`, which takes a setting's kind from the registered blocks, is defined beside the list of backends
//! in [`crate::cloud::registry`]. This module stands below both, so neither needs to import the other back.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::{Cloud, ConfigError, Env, Secret};

/// What a setting holds, which decides how it is read, checked, shown and documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Plain text.
    Text,
    /// A credential: held as a [`Secret`], sensitive in the schema.
    Secret,
    /// A boolean switch.
    Flag,
    /// An API endpoint URL (checked: https, or http to a loopback host).
    Endpoint,
    /// A region ID (checked: lower-case words joined by hyphens).
    Region,
    /// One of these words.
    Choice(&'static [&'static str]),
}

/// One attribute of a provider block.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// The attribute name.
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
    /// What it is, the first sentence(s) of its description.
    pub about: String,
    /// Environment variables that fill it in when the attribute is unset, read in this order.
    pub env: Vec<String>,
    /// How many of `env` the description and the "not found" error name (the rest are fallbacks).
    pub env_documented: usize,
    /// The default, as the description states it.
    pub default: Option<String>,
}

impl Setting {
    /// A setting with no environment variable and no stated default.
    pub fn new(name: &'static str, kind: Kind, about: impl Into<String>) -> Self {
        Self {
            name,
            kind,
            about: about.into(),
            env: Vec::new(),
            env_documented: 0,
            default: None,
        }
    }

    /// Filled in from these environment variables, the first `documented` of them named in the docs.
    pub fn env<S: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = S>,
        documented: usize,
    ) -> Self {
        self.env = names.into_iter().map(Into::into).collect();
        self.env_documented = documented.min(self.env.len());
        self
    }

    /// States the default in the description.
    pub fn default_value(mut self, text: impl Into<String>) -> Self {
        self.default = Some(text.into());
        self
    }

    /// The environment variables the docs and errors name.
    pub fn documented_env(&self) -> &[String] {
        &self.env[..self.env_documented]
    }

    /// The description: what it is, then where it comes from when unset.
    pub fn description(&self) -> String {
        let mut d = self.about.clone();
        let named: Vec<String> = self
            .documented_env()
            .iter()
            .map(|e| format!("`{e}`"))
            .collect();
        if !named.is_empty() {
            d.push_str(&format!(" Defaults to {}.", named.join(" or ")));
        }
        if let Some(default) = &self.default {
            d.push_str(&format!(" Defaults to `{default}`."));
        }
        d
    }
}

/// A provider block: one cloud account's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockSpec {
    /// The block name in the provider configuration.
    pub name: &'static str,
    /// What the block configures.
    pub description: &'static str,
    /// Its attributes, in display order.
    pub settings: Vec<Setting>,
    /// The environment variables in a word, for the docs, where listing them one by one says less.
    pub env_summary: Option<String>,
    /// Which CLI profile fills in what the attributes and variables leave unset, for the docs.
    pub profile: Option<String>,
}

impl BlockSpec {
    /// The setting called `name`.
    pub fn setting(&self, name: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.name == name)
    }
}

/// One configured value.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingValue {
    /// Text.
    Text(String),
    /// A credential.
    Secret(Secret),
    /// A switch.
    Flag(bool),
}

impl SettingValue {
    /// `text` as a value of a setting of `kind`: secret for secret settings.
    pub fn of_kind(kind: Kind, text: impl Into<String>) -> Self {
        let text = text.into();
        match kind {
            Kind::Secret => Self::Secret(Secret::new(text)),
            _ => Self::Text(text),
        }
    }

    /// The value trimmed, `None` when empty (empty counts as unset).
    fn cleaned(&self) -> Option<Self> {
        let trimmed = |s: &str| Some(s.trim().to_string()).filter(|t| !t.is_empty());
        match self {
            Self::Text(t) => trimmed(t).map(Self::Text),
            Self::Secret(s) => trimmed(s.expose()).map(|t| Self::Secret(Secret::new(t))),
            Self::Flag(b) => Some(Self::Flag(*b)),
        }
    }
}

/// The provider block's values, by block and attribute. Unset attributes are absent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    blocks: BTreeMap<String, BTreeMap<String, SettingValue>>,
}

impl Settings {
    /// Marks a block as present (a present block with no values still counts as configured).
    pub fn add_block(&mut self, block: &str) -> &mut Self {
        self.blocks.entry(block.to_string()).or_default();
        self
    }

    /// Sets `block.name`.
    pub fn insert(&mut self, block: &str, name: &str, value: SettingValue) -> &mut Self {
        self.blocks
            .entry(block.to_string())
            .or_default()
            .insert(name.to_string(), value);
        self
    }

    /// The values of a block, `None` when the block is absent.
    pub fn block(&self, block: &str) -> Option<&BTreeMap<String, SettingValue>> {
        self.blocks.get(block)
    }

    /// Removes a block's value (tests use this to take one away).
    pub fn remove(&mut self, block: &str, name: &str) -> &mut Self {
        if let Some(b) = self.blocks.get_mut(block) {
            b.remove(name);
        }
        self
    }
}

/// What a CLI profile gives, by setting name. Transient: it holds credentials as text until [`resolve`] wraps
/// them, and is never printed.
pub type Profile = BTreeMap<&'static str, String>;

/// Reads a CLI profile file, `None` when missing or unreadable. The content is never logged: it holds secrets.
pub fn read_profile_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    let text = std::fs::read_to_string(path).ok()?;
    match serde_json::from_str(&text) {
        Ok(v) => Some(v),
        Err(e) => {
            let error = e.to_string();
            let error = error.split(" at ").next().unwrap_or_default();
            tracing::debug!(path = %path.display(), error, "ignoring unparsable CLI profile file");
            None
        }
    }
}

/// One backend's settings after resolution.
#[derive(Debug, Clone)]
pub struct Resolved {
    cloud: Cloud,
    spec: BlockSpec,
    values: BTreeMap<&'static str, SettingValue>,
}

impl Resolved {
    /// The text of a setting, if resolved.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.values.get(name) {
            Some(SettingValue::Text(t)) => Some(t),
            _ => None,
        }
    }

    /// A secret setting, if resolved.
    pub fn secret(&self, name: &str) -> Option<&Secret> {
        match self.values.get(name) {
            Some(SettingValue::Secret(s)) => Some(s),
            _ => None,
        }
    }

    /// A switch, `false` when unset.
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.values.get(name), Some(SettingValue::Flag(true)))
    }

    /// A switch as set (attribute, variable or profile), `None` when unset: for switches whose default depends on
    /// other settings.
    pub fn flag_if_set(&self, name: &str) -> Option<bool> {
        match self.values.get(name) {
            Some(SettingValue::Flag(v)) => Some(*v),
            _ => None,
        }
    }

    /// Whether an endpoint setting other than those in `except` is set: the block talks to an API somewhere other
    /// than the cloud's public default (a private region, a simulator).
    pub fn overrides_endpoint(&self, except: &[&str]) -> bool {
        self.spec.settings.iter().any(|s| {
            s.kind == Kind::Endpoint
                && !except.contains(&s.name)
                && self.values.contains_key(s.name)
        })
    }

    /// The text of a setting the client cannot do without; the error names the attribute and variables to set.
    pub fn require_text(&self, name: &str, what: &str) -> Result<String, ConfigError> {
        self.text(name)
            .map(str::to_string)
            .ok_or_else(|| self.missing(name, what))
    }

    /// A secret the client cannot do without; the error names the attribute and variables to set.
    pub fn require_secret(&self, name: &str, what: &str) -> Result<Secret, ConfigError> {
        self.secret(name)
            .cloned()
            .ok_or_else(|| self.missing(name, what))
    }

    fn missing(&self, name: &str, what: &str) -> ConfigError {
        let env = self
            .spec
            .setting(name)
            .map(|s| s.documented_env().join(" / "))
            .unwrap_or_default();
        ConfigError::new(
            self.cloud,
            format!(
                "no {what} found: set the provider attribute `{}.{name}` or the environment variable {env}",
                self.cloud
            ),
        )
    }
}

/// Resolves the settings of `cloud`'s block `spec`: each attribute from `settings`, else from its environment
/// variables, else from the CLI profile `profile` reads (called at most once, and only when needed). A backend's
/// settings are resolved through [`crate::cloud::backend::resolve`], which gives its block and profile.
pub fn resolve_block(
    cloud: Cloud,
    spec: BlockSpec,
    settings: &Settings,
    env: &dyn Env,
    profile: impl FnOnce() -> Profile,
) -> Resolved {
    let mut read_profile = Some(profile);
    let given = settings.block(spec.name);
    let mut profile: Option<Profile> = None;
    let mut values = BTreeMap::new();
    for s in &spec.settings {
        let from_attribute = given
            .and_then(|b| b.get(s.name))
            .and_then(SettingValue::cleaned);
        let value = from_attribute
            .or_else(|| {
                let names: Vec<&str> = s.env.iter().map(String::as_str).collect();
                env.first_var(&names)
                    .map(|v| SettingValue::of_kind(s.kind, v))
            })
            .or_else(|| {
                let profile = profile.get_or_insert_with(|| {
                    read_profile.take().map(|read| read()).unwrap_or_default()
                });
                profile
                    .get(s.name)
                    .map(|v| v.trim())
                    .filter(|v| !v.is_empty())
                    .map(|v| SettingValue::of_kind(s.kind, v))
            });
        if let Some(v) = value {
            values.insert(s.name, v);
        }
    }
    Resolved {
        cloud,
        spec,
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::backend::resolve;
    use crate::cloud::registry;
    use crate::cloud::{Cloud, MapEnv};

    #[test]
    fn descriptions_name_documented_variables_and_defaults() {
        let s = Setting::new("access_key", Kind::Text, "AccessKey ID.")
            .env(["A_KEY", "B_KEY", "C_KEY"], 2);
        assert_eq!(
            s.description(),
            "AccessKey ID. Defaults to `A_KEY` or `B_KEY`."
        );
        let e = Setting::new("endpoint", Kind::Endpoint, "API endpoint URL.")
            .default_value("https://x.example");
        assert_eq!(
            e.description(),
            "API endpoint URL. Defaults to `https://x.example`."
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let mut s = Settings::default();
        s.set("ucloud", "private_key", "SECRETX")
            .set("ucloud", "security_token", "TOKENX")
            .set("tencentcloud", "secret_key", "SECRETX")
            .set("alicloud", "secret_key", "SECRETX")
            .set("apsarastack", "secret_key", "SECRETX");
        let resolved = resolve(registry::backend(Cloud::UCloud), &s, &MapEnv::default());
        let all = format!("{s:?}{resolved:?}");
        assert!(!all.contains("SECRETX") && !all.contains("TOKENX"), "{all}");
    }
}
