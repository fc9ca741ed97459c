//! Attribute paths: where inside a value something (usually an error) is.

use std::fmt;

/// One step from a value to one of its parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// An object attribute by name.
    Attr(String),
    /// A map element by key.
    Key(String),
    /// A list, set or tuple element by position (for sets, the position in the encoding).
    Index(u64),
}

/// A route from the top-level value to a nested value, used in diagnostics and for [`super::Value::get_path`].
///
/// Displays the way Terraform users write references: `data_disks[0].format`, `tags["a"]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(pub Vec<PathStep>);

impl Path {
    /// The empty path, naming the top-level value itself.
    pub fn root() -> Path {
        Path(Vec::new())
    }

    /// This path extended by an attribute step.
    pub fn attr(mut self, name: impl Into<String>) -> Path {
        self.0.push(PathStep::Attr(name.into()));
        self
    }

    /// This path extended by a map-key step.
    pub fn key(mut self, key: impl Into<String>) -> Path {
        self.0.push(PathStep::Key(key.into()));
        self
    }

    /// This path extended by an index step.
    pub fn index(mut self, index: u64) -> Path {
        self.0.push(PathStep::Index(index));
        self
    }

    /// Appends a step in place.
    pub fn push(&mut self, step: PathStep) {
        self.0.push(step);
    }

    /// The steps, outermost first.
    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }

    /// True for the top-level path.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The path one step up, or `None` at the root.
    pub fn parent(&self) -> Option<Path> {
        let (_, rest) = self.0.split_last()?;
        Some(Path(rest.to_vec()))
    }
}

impl From<Vec<PathStep>> for Path {
    fn from(steps: Vec<PathStep>) -> Path {
        Path(steps)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attr(name) if i == 0 => f.write_str(name)?,
                PathStep::Attr(name) => write!(f, ".{name}")?,
                PathStep::Key(key) => {
                    let quoted = serde_json::to_string(key).map_err(|_| fmt::Error)?;
                    write!(f, "[{quoted}]")?
                }
                PathStep::Index(idx) => write!(f, "[{idx}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_like_terraform_references() {
        let p = Path::root().attr("data_disks").index(0).attr("format");
        assert_eq!(p.to_string(), "data_disks[0].format");
        let p = Path::root().attr("tags").key("a\"b");
        assert_eq!(p.to_string(), "tags[\"a\\\"b\"]");
        assert_eq!(Path::root().to_string(), "");
    }

    #[test]
    fn parent_and_steps() {
        let p = Path::root().attr("a").index(3);
        assert_eq!(p.parent(), Some(Path::root().attr("a")));
        assert_eq!(p.steps().len(), 2);
        assert_eq!(Path::root().parent(), None);
    }
}
