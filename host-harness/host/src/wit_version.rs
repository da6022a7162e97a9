//! Which version of the `ipaas:connector` WIT package a component implements, and whether this
//! host supports it. The version travels in the component's own type: every import and export
//! of the package is named `ipaas:connector/<interface>@<version>`, so no extra metadata is
//! needed and a component cannot claim one version while being built against another.
//!
//! Compatibility follows the component model's semver rules: `0.x` packages are compatible
//! within one minor line (`0.2.0` ↔ `0.2.3`), `1.x` and later within one major line.

use std::fmt;

/// The WIT package the host's bindings are generated from (`wit/v0.4/world.wit`).
const WORLD_WIT: &str = include_str!("../../../wit/v0.4/world.wit");

pub const PACKAGE: &str = "ipaas:connector";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WitVersion {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl WitVersion {
    /// `1.2.3` (no pre-release or build metadata: the package never uses them).
    pub fn parse(text: &str) -> Option<WitVersion> {
        let mut parts = text.split('.').map(|p| p.parse::<u64>().ok());
        let v = WitVersion {
            major: parts.next()??,
            minor: parts.next()??,
            patch: parts.next()??,
        };
        parts.next().is_none().then_some(v)
    }

    /// The compatibility line: `0.2` for `0.2.x`, `1` for `1.x.y`.
    pub fn line(&self) -> String {
        if self.major == 0 {
            format!("0.{}", self.minor)
        } else {
            self.major.to_string()
        }
    }

    pub fn compatible_with(&self, other: &WitVersion) -> bool {
        self.major == other.major && (self.major != 0 || self.minor == other.minor)
    }
}

impl fmt::Display for WitVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The version this host was built against, read from the WIT it was generated from.
pub fn supported() -> WitVersion {
    package_version(WORLD_WIT)
        .expect("wit/v0.4/world.wit declares `package ipaas:connector@X.Y.Z;`")
}

/// The version in a WIT file's `package ipaas:connector@X.Y.Z;` line.
pub fn package_version(wit: &str) -> Option<WitVersion> {
    let prefix = format!("package {PACKAGE}@");
    wit.lines()
        .find_map(|l| l.trim().strip_prefix(prefix.as_str()))
        .and_then(|rest| WitVersion::parse(rest.trim_end_matches(';').trim()))
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WitVersionError {
    #[error(
        "the component does not implement {PACKAGE} (none of its imports or exports is named `{PACKAGE}/...`); is it a connector component?"
    )]
    NotAConnector,
    #[error(
        "the component's `{name}` has no usable version; connector components name every interface `{PACKAGE}/<interface>@X.Y.Z`"
    )]
    Unversioned { name: String },
    #[error(
        "the component mixes versions of {PACKAGE}: {first} and {second}; rebuild it against one WIT version"
    )]
    Mixed {
        first: WitVersion,
        second: WitVersion,
    },
    #[error(
        "the component implements {PACKAGE}@{component}, but this host supports {PACKAGE}@{line}.x ({host}); use a host built for {component_line}.x or rebuild the connector against WIT {line}",
        line = host.line(),
        component_line = component.line()
    )]
    Unsupported {
        component: WitVersion,
        host: WitVersion,
    },
}

/// The single `ipaas:connector` version among these import/export names.
pub fn implemented<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Result<WitVersion, WitVersionError> {
    let prefix = format!("{PACKAGE}/");
    let mut found: Option<WitVersion> = None;
    for name in names.into_iter().filter(|n| n.starts_with(prefix.as_str())) {
        let version = name
            .split_once('@')
            .and_then(|(_, v)| WitVersion::parse(v))
            .ok_or_else(|| WitVersionError::Unversioned {
                name: name.to_string(),
            })?;
        match found {
            Some(first) if first != version => {
                return Err(WitVersionError::Mixed {
                    first,
                    second: version,
                });
            }
            _ => found = Some(version),
        }
    }
    found.ok_or(WitVersionError::NotAConnector)
}

/// Refuse a component whose WIT version this host cannot run.
pub fn check<'a>(
    names: impl IntoIterator<Item = &'a str>,
    host: WitVersion,
) -> Result<WitVersion, WitVersionError> {
    let component = implemented(names)?;
    if component.compatible_with(&host) {
        Ok(component)
    } else {
        Err(WitVersionError::Unsupported { component, host })
    }
}

/// The import and export names of a compiled component (`wasi:io/streams@0.2.0`,
/// `ipaas:connector/actions@0.4.1`, ...), in its own order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorldNames {
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

impl WorldNames {
    pub fn of(engine: &wasmtime::Engine, component: &wasmtime::component::Component) -> Self {
        let ty = component.component_type();
        WorldNames {
            imports: ty.imports(engine).map(|(n, _)| n.to_string()).collect(),
            exports: ty.exports(engine).map(|(n, _)| n.to_string()).collect(),
        }
    }

    pub fn all(&self) -> impl Iterator<Item = &str> {
        self.imports.iter().chain(&self.exports).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> WitVersion {
        WitVersion::parse(text).unwrap()
    }

    #[test]
    fn the_host_supports_the_version_in_its_wit() {
        assert_eq!(supported().line(), "0.4");
    }

    #[test]
    fn parses_only_plain_semver() {
        assert_eq!(
            v("0.2.0"),
            WitVersion {
                major: 0,
                minor: 2,
                patch: 0
            }
        );
        for bad in ["0.2", "0.2.0.1", "0.2.x", "", "0.2.0-rc1"] {
            assert_eq!(WitVersion::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn zero_major_lines_are_minor_lines() {
        assert!(v("0.2.3").compatible_with(&v("0.2.0")));
        assert!(!v("0.3.0").compatible_with(&v("0.2.0")));
        assert!(v("1.4.0").compatible_with(&v("1.0.2")));
        assert!(!v("2.0.0").compatible_with(&v("1.9.0")));
    }

    #[test]
    fn accepts_a_compatible_component() {
        let names = [
            "wasi:io/streams@0.2.0",
            "ipaas:connector/http@0.2.1",
            "ipaas:connector/metadata@0.2.1",
        ];
        assert_eq!(check(names, v("0.2.0")), Ok(v("0.2.1")));
    }

    #[test]
    fn refuses_another_line_naming_both_versions() {
        let err = check(["ipaas:connector/metadata@0.3.0"], v("0.2.0")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("ipaas:connector@0.3.0"), "{text}");
        assert!(text.contains("ipaas:connector@0.2.x (0.2.0)"), "{text}");
    }

    #[test]
    fn refuses_unversioned_mixed_and_foreign_components() {
        assert_eq!(
            check(["wasi:cli/run@0.2.0"], v("0.2.0")),
            Err(WitVersionError::NotAConnector)
        );
        assert!(matches!(
            check(["ipaas:connector/metadata"], v("0.2.0")),
            Err(WitVersionError::Unversioned { .. })
        ));
        assert!(matches!(
            check(
                [
                    "ipaas:connector/http@0.2.0",
                    "ipaas:connector/metadata@0.2.1"
                ],
                v("0.2.0")
            ),
            Err(WitVersionError::Mixed { .. })
        ));
    }
}
