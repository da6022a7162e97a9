//! The WIT contract's versioning: the host refuses components built against another
//! `ipaas:connector` line, and the published WIT cannot change without a version bump.

use crate::common;

use std::path::{Path, PathBuf};

use host_harness::wit_version::{self, WitVersion};
use host_harness::{Runtime, RuntimeOptions};
use sha2::{Digest, Sha256};

/// The real component with every `ipaas:connector/<iface>@<host version>` renamed to another. The
/// names are length-prefixed strings of equal length, so the result is a valid component that
/// claims another version, exactly as one built against that WIT would.
fn component_claiming(from: &str, to: &str) -> PathBuf {
    assert_eq!(from.len(), to.len());
    let mut bytes = std::fs::read(common::component_path()).unwrap();
    let prefix = b"ipaas:connector/";
    let mut renamed = 0;
    let mut at = 0;
    while let Some(i) = find(&bytes[at..], prefix).map(|i| i + at) {
        let name_end = i + prefix.len() + 40.min(bytes.len() - i - prefix.len());
        if let Some(v) = find(&bytes[i..name_end], format!("@{from}").as_bytes()) {
            let start = i + v + 1;
            bytes[start..start + to.len()].copy_from_slice(to.as_bytes());
            renamed += 1;
        }
        at = i + prefix.len();
    }
    assert!(renamed > 0, "no ipaas:connector names in the component");
    let path = common::scratch(&format!("wit-{to}")).join("connector.wasm");
    std::fs::write(&path, bytes).unwrap();
    path
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn load(path: &Path) -> anyhow::Result<Runtime> {
    Runtime::load(path, RuntimeOptions::default())
}

#[test]
fn the_component_implements_the_hosts_wit_version() {
    let runtime = common::runtime();
    assert_eq!(runtime.wit_version(), wit_version::supported());
}

#[test]
fn a_component_of_another_wit_line_is_refused_naming_both_versions() {
    let host = wit_version::supported();
    let other = format!("{}.{}.0", host.major, host.minor + 1);
    let path = component_claiming(&host.to_string(), &other);
    let err = format!("{:#}", load(&path).err().expect("refused"));
    assert!(err.contains(&format!("ipaas:connector@{other}")), "{err}");
    assert!(
        err.contains(&format!("ipaas:connector@{}.x", host.line())),
        "{err}"
    );
}

/// A refusal names the build, as its metadata says, not just a file path: a platform's log
/// must tell which vendor release failed.
#[test]
fn a_refused_component_is_named_by_its_metadata() {
    let host = wit_version::supported();
    let other = format!("{}.{}.0", host.major, host.minor + 1);
    let path = component_claiming(&host.to_string(), &other);
    let metadata = connector_host::metadata::ComponentMetadata {
        name: Some("ironclad".into()),
        version: Some("9.9.9".into()),
        revision: Some("fedcba9876543210fedcba9876543210fedcba98".into()),
        ..Default::default()
    };
    let named = metadata.embed(&std::fs::read(&path).unwrap()).unwrap();
    std::fs::write(&path, named).unwrap();
    let err = format!("{:#}", load(&path).err().expect("refused"));
    assert!(
        err.contains("loading ironclad 9.9.9 (fedcba987654) from "),
        "{err}"
    );
}

#[test]
fn a_compatible_patch_release_loads() {
    let host = wit_version::supported();
    let patch = format!("{}.{}.{}", host.major, host.minor, host.patch + 1);
    let path = component_claiming(&host.to_string(), &patch);
    let runtime = load(&path).expect("a patch release of the same line loads");
    assert_eq!(runtime.wit_version(), WitVersion::parse(&patch).unwrap());
}

/// Components built before the line's latest patch (0.4.0 ones, for a 0.4.1 host) load:
/// a patch only adds gates and items, so every earlier name is still served.
#[test]
fn an_earlier_patch_release_of_the_line_loads() {
    let host = wit_version::supported();
    let first = format!("{}.{}.0", host.major, host.minor);
    let path = component_claiming(&host.to_string(), &first);
    let runtime = load(&path).expect("the line's first release loads");
    assert_eq!(runtime.wit_version(), WitVersion::parse(&first).unwrap());
}

/// WIT hygiene, as `wasi:http` practises it: every item of the current line (interfaces,
/// the world and its imports and exports, types, functions, `use`s) says since when it
/// exists (`@since(version = ...)`, no later than the package's version), or that it is
/// experimental (`@unstable(feature = ...)`).
#[test]
fn every_item_of_the_current_line_is_gated() {
    let dir = wit_root().join(format!("v{}", wit_version::supported().line()));
    let item = |line: &str, depth: usize| {
        // WIT's item keywords (one string, so that tools reading tests for quoted action keys
        // do not take a keyword for one).
        let keywords: Vec<&str> =
            "interface world enum record variant flags type resource use import export include"
                .split_whitespace()
                .collect();
        let first = line.split_whitespace().next().unwrap_or_default();
        (depth == 0 && matches!(first, "interface" | "world"))
            || (depth == 1
                && (keywords.contains(&first)
                    || line
                        .split(':')
                        .nth(1)
                        .is_some_and(|t| t.trim_start().starts_with("func"))))
    };
    let mut ungated = Vec::new();
    let mut gates = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let (mut depth, mut previous) = (0usize, "");
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if !line.starts_with("//") && item(line, depth) {
                if previous.starts_with("@since(version = ") {
                    let since = previous
                        .trim_start_matches("@since(version = ")
                        .trim_end_matches(')');
                    let since = WitVersion::parse(since).expect("a version");
                    let host = wit_version::supported();
                    assert!(
                        (since.major, since.minor, since.patch)
                            <= (host.major, host.minor, host.patch),
                        "{}:{}: @since({since}) is after the package",
                        path.display(),
                        n + 1
                    );
                    gates += 1;
                } else if !previous.starts_with("@unstable(feature = ") {
                    ungated.push(format!("{}:{}: {line}", path.display(), n + 1));
                }
            }
            let code = line.split("//").next().unwrap_or_default();
            depth = (depth + code.matches('{').count()).saturating_sub(code.matches('}').count());
            if !line.is_empty() && !line.starts_with("//") {
                previous = line;
            }
        }
    }
    assert!(
        ungated.is_empty(),
        "items without @since or @unstable:\n{}",
        ungated.join("\n")
    );
    assert!(
        gates > 40,
        "only {gates} gated items found: is the scan reading the WIT?"
    );
}

// ---- the published WIT is frozen per version ----

fn wit_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../wit")
}

/// sha256 over `name\0content\0` of every `.wit` file in the directory, by name; CRLF
/// normalised so a checkout's line endings do not matter.
fn wit_digest(dir: &Path) -> String {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wit"))
        .collect();
    files.sort();
    let mut h = Sha256::new();
    for f in files {
        h.update(f.file_name().unwrap().to_string_lossy().as_bytes());
        h.update([0]);
        h.update(std::fs::read_to_string(&f).unwrap().replace("\r\n", "\n"));
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// `wit/published.lock`: `VERSION SHA256` per published WIT version.
fn published() -> Vec<(String, String)> {
    std::fs::read_to_string(wit_root().join("published.lock"))
        .expect("wit/published.lock")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (v, h) = l.split_once(char::is_whitespace).expect("VERSION SHA256");
            (v.to_string(), h.trim().to_string())
        })
        .collect()
}

#[test]
fn published_wit_changes_only_with_a_version_bump() {
    let lock = published();
    let mut dirs: Vec<_> = std::fs::read_dir(wit_root())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no versioned WIT directories under wit/");
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let world = std::fs::read_to_string(dir.join("world.wit")).unwrap();
        let version = wit_version::package_version(&world).unwrap_or_else(|| {
            panic!("wit/{name}/world.wit has no `package ipaas:connector@X.Y.Z;`")
        });
        assert_eq!(
            name,
            format!("v{}", version.line()),
            "wit/{name} holds ipaas:connector@{version}: a directory holds one compatibility line (v0.2 for 0.2.x, v1 for 1.x)"
        );
        let digest = wit_digest(&dir);
        let recorded = lock.iter().find(|(v, _)| *v == version.to_string());
        match recorded {
            Some((_, hash)) => assert_eq!(
                *hash,
                digest,
                "wit/{name} changed but ipaas:connector@{version} is already published (wit/published.lock). \
                 Bump the package version in wit/{name}/world.wit (patch for additions, a new wit/v.. directory \
                 for breaking changes), then record it: `{version_next} {digest}`",
                version_next = "NEW_VERSION"
            ),
            None => panic!(
                "ipaas:connector@{version} (wit/{name}) is not in wit/published.lock; once it is final, add the line `{version} {digest}`"
            ),
        }
    }
}
