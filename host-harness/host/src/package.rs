//! A connector package as a runtime loads it: a directory with `manifest.json` and the
//! component it names. The manifest says what the connector is (id, version, WIT line) and
//! what it may reach (`allowed_outbound_hosts`); the component's bytes must match the
//! manifest's digest, so a swapped file is refused before it is compiled.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::egress::EgressDeclaration;
use crate::pacing::RateLimits;

/// The manifest file of a package directory.
pub const MANIFEST: &str = "manifest.json";

#[derive(Debug, Clone)]
pub struct Package {
    pub dir: PathBuf,
    pub id: String,
    pub version: String,
    /// The component file, its digest checked.
    pub component: PathBuf,
    /// What the connector may reach, and the API's published quotas.
    pub declared: Declarations,
    /// The whole manifest, as written.
    pub manifest: Value,
}

impl Package {
    /// Read and check `dir/manifest.json` and the component it names.
    pub fn open(dir: &Path) -> anyhow::Result<Package> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading the package manifest {}", path.display()))?;
        let manifest: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        let field = |name: &str| -> anyhow::Result<String> {
            manifest
                .pointer(name)
                .and_then(Value::as_str)
                .map(str::to_string)
                .with_context(|| format!("{}: `{name}` must be text", path.display()))
        };
        let (id, version) = (field("/id")?, field("/version")?);
        let file = field("/component/file")?;
        if file.contains('/') || file.contains('\\') || file.starts_with('.') {
            anyhow::bail!(
                "{}: `component.file` must name a file in the package directory",
                path.display()
            );
        }
        let component = dir.join(&file);
        let bytes = std::fs::read(&component)
            .with_context(|| format!("reading the package's component {}", component.display()))?;
        let digest = hex(&Sha256::digest(&bytes));
        let expected = field("/component/sha256")?;
        if !digest.eq_ignore_ascii_case(&expected) {
            anyhow::bail!(
                "{}: its sha256 is {digest}, but the manifest says {expected}; the package was altered",
                component.display()
            );
        }
        let declared =
            Declarations::read(&manifest).with_context(|| format!("{}", path.display()))?;
        Ok(Package {
            dir: dir.to_path_buf(),
            id,
            version,
            component,
            declared,
            manifest,
        })
    }
}

/// What a publisher's listing, and the manifest made from it, declare about a connector's
/// reach and pace, read one way for both.
#[derive(Debug, Clone, PartialEq)]
pub struct Declarations {
    /// `allowed_outbound_hosts` (required).
    pub egress: EgressDeclaration,
    /// `rate_limits` (optional: none when absent).
    pub rate_limits: RateLimits,
}

impl Declarations {
    pub fn read(doc: &Value) -> anyhow::Result<Declarations> {
        let entries: Vec<String> = doc
            .get("allowed_outbound_hosts")
            .and_then(Value::as_array)
            .context("`allowed_outbound_hosts` must list what the connector may reach")?
            .iter()
            .map(|e| e.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .context("`allowed_outbound_hosts` entries must be text")?;
        Ok(Declarations {
            egress: EgressDeclaration::parse(&entries)?,
            rate_limits: match doc.get("rate_limits") {
                None => RateLimits::default(),
                Some(declared) => RateLimits::parse(declared)?,
            },
        })
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn package_dir(name: &str, manifest: Value, wasm: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pkg-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("c.wasm"), wasm).unwrap();
        std::fs::write(dir.join(MANIFEST), manifest.to_string()).unwrap();
        dir
    }

    fn manifest(sha: &str, hosts: Value) -> Value {
        json!({ "id": "demo", "version": "1.2.3",
                "component": { "file": "c.wasm", "sha256": sha },
                "allowed_outbound_hosts": hosts })
    }

    #[test]
    fn reads_and_checks_a_package() {
        let sha = hex(&Sha256::digest(b"wasm"));
        let dir = package_dir(
            "ok",
            manifest(
                &sha,
                json!(["https://api.example.com", "https://{instance_url}"]),
            ),
            b"wasm",
        );
        let p = Package::open(&dir).unwrap();
        assert_eq!((p.id.as_str(), p.version.as_str()), ("demo", "1.2.3"));
        assert_eq!(
            p.declared.egress.fields().collect::<Vec<_>>(),
            ["instance_url"]
        );

        let altered = package_dir("altered", manifest(&sha, json!([])), b"other");
        let e = Package::open(&altered).unwrap_err().to_string();
        assert!(e.contains("the package was altered"), "{e}");

        let undeclared = package_dir(
            "undeclared",
            json!({ "id": "d", "version": "1", "component": { "file": "c.wasm", "sha256": sha } }),
            b"wasm",
        );
        let e = format!("{:#}", Package::open(&undeclared).unwrap_err());
        assert!(e.contains("allowed_outbound_hosts"), "{e}");

        let outside = package_dir(
            "outside",
            json!({ "id": "d", "version": "1",
                    "component": { "file": "../c.wasm", "sha256": sha },
                    "allowed_outbound_hosts": [] }),
            b"wasm",
        );
        assert!(Package::open(&outside).is_err());
        for dir in [dir, altered, undeclared, outside] {
            std::fs::remove_dir_all(dir).unwrap();
        }
    }
}
