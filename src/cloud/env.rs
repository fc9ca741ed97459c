//! The environment credentials are resolved against: variables and the home directory (for CLI profile files),
//! behind a trait so that tests and callers can isolate the process environment.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::Secret;

/// Read access to environment variables and the home directory.
pub trait Env: Send + Sync {
    /// An environment variable, `None` when unset or empty.
    fn var(&self, k: &str) -> Option<String>;
    /// The user's home directory (for CLI profile files).
    fn home_dir(&self) -> Option<PathBuf>;

    /// The first of `names` that is set, trimmed (empty counts as unset).
    fn first_var(&self, names: &[&str]) -> Option<String> {
        names.iter().find_map(|n| {
            self.var(n)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        })
    }
}

/// The real process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, k: &str) -> Option<String> {
        std::env::var(k).ok().filter(|v| !v.is_empty())
    }
    fn home_dir(&self) -> Option<PathBuf> {
        self.var("HOME")
            .or_else(|| self.var("USERPROFILE"))
            .map(PathBuf::from)
    }
}

/// A fixed environment (tests, or callers that want to isolate the process environment). Values are held as
/// [`Secret`]s: an environment carries credentials.
#[derive(Debug, Clone, Default)]
pub struct MapEnv {
    /// Variables.
    pub vars: BTreeMap<String, Secret>,
    /// Home directory.
    pub home: Option<PathBuf>,
}

impl MapEnv {
    /// An environment with these variables and no home directory.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self {
            vars: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Secret::new(*v)))
                .collect(),
            home: None,
        }
    }
}

impl Env for MapEnv {
    fn var(&self, k: &str) -> Option<String> {
        self.vars
            .get(k)
            .map(|v| v.expose().to_string())
            .filter(|v| !v.is_empty())
    }
    fn home_dir(&self) -> Option<PathBuf> {
        self.home.clone()
    }
}
