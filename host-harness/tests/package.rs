//! `connector-harness package`: the release artifact is complete, self-consistent and
//! byte-for-byte the same when packaged twice.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

use connector_host::metadata::ComponentMetadata;

/// The commit `scripts/package` would pass.
const REVISION: &str = "0123456789abcdef0123456789abcdef01234567";

async fn package(dir: &Path, out: &Path) -> Run {
    let out = out.to_string_lossy().into_owned();
    let listing = repo("package/listing.json");
    let changelog = repo("CHANGELOG.md");
    let args = [
        "package",
        "--out",
        &out,
        "--listing",
        &listing,
        "--changelog",
        &changelog,
        "--revision",
        REVISION,
    ];
    cli(dir, &args).await
}

/// Relative path → sha256 of every file under `root`.
fn tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, files);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.insert(rel, sha256(&std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(root, root, &mut files);
    files
}

fn sha256(bytes: &[u8]) -> String {
    host_harness::package::hex(&Sha256::digest(bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_package_is_complete_consistent_and_reproducible() {
    let dir = scratch("package");
    let run = package(&dir, &dir.join("one")).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let printed = run.json();
    let root = dir.join("one");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(root.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(printed, manifest);

    // Identity and listing.
    let describe = cli(&dir, &["describe"]).await.json();
    for field in ["id", "name", "version", "description"] {
        assert_eq!(manifest[field], describe[field], "{field}");
    }
    assert!(manifest["publisher"]["name"].is_string());
    assert!(root.join(manifest["icon"].as_str().unwrap()).is_file());
    assert!(root.join("CHANGELOG.md").is_file());
    // The SBOM ships beside the component, as committed (tests/sbom.rs keeps it current).
    let sbom = std::fs::read(root.join(manifest["sbom"]["file"].as_str().unwrap())).unwrap();
    assert_eq!(sbom, std::fs::read(repo("package/sbom.cdx.json")).unwrap());
    assert_eq!(manifest["sbom"]["sha256"], sha256(&sbom));
    assert_eq!(
        (
            &manifest["sbom"]["format"],
            &manifest["sbom"]["spec_version"]
        ),
        (&serde_json::json!("CycloneDX"), &serde_json::json!("1.5"))
    );
    assert_eq!(manifest["wit"]["package"], "ipaas:connector");
    assert_eq!(
        manifest["wit"]["version"],
        host_harness::wit_version::supported().to_string()
    );

    // The component, named and hashed: the build, plus the metadata it carries of itself.
    let wasm = std::fs::read(root.join(manifest["component"]["file"].as_str().unwrap())).unwrap();
    assert_eq!(manifest["component"]["sha256"], sha256(&wasm));
    let built = std::fs::read(component_path()).unwrap();
    let embedded = ComponentMetadata::read(&wasm).unwrap();
    assert_eq!(
        embedded,
        ComponentMetadata {
            name: describe["id"].as_str().map(str::to_owned),
            version: describe["version"].as_str().map(str::to_owned),
            description: describe["description"].as_str().map(str::to_owned),
            licenses: Some("Apache-2.0".into()),
            revision: Some(REVISION.into()),
            authors: Some("Ironclad connector maintainers".into()),
            ..ComponentMetadata::default()
        }
    );
    assert_eq!(
        manifest["component"]["metadata"],
        serde_json::json!(embedded)
    );
    assert_eq!(ComponentMetadata::read(&built).unwrap().licenses, None);
    // Embedding into the build again gives the shipped bytes: only the metadata was added.
    assert_eq!(embedded.embed(&built).unwrap(), wasm);
    // The host names the build it runs, revision included.
    let shown = cli_package(&dir, root.to_str().unwrap(), &["describe"])
        .await
        .json();
    assert_eq!(
        shown["component_metadata"],
        manifest["component"]["metadata"]
    );

    // Ironclad's published quotas travel with the package, as hosts read them.
    let limits = host_harness::pacing::RateLimits::parse(&manifest["rate_limits"]).unwrap();
    assert_eq!(
        limits,
        host_harness::ironclad::declarations().unwrap().rate_limits
    );
    assert!(
        limits
            .buckets
            .iter()
            .any(|b| b.name == "pub:workflows:write")
    );

    // Hosts per API type come from the connector's own plan.
    assert_eq!(
        manifest["hosts"]["clm_public"]["na1"],
        serde_json::json!(["https://na1.ironcladapp.com"])
    );
    assert!(manifest["hosts"]["clm_public"]["custom"].is_string());
    // Clickwrap: REST and its token on api.pactsafe.com, Activity on pactsafe.io, no eu1.
    assert_eq!(
        manifest["hosts"]["clickwrap_rest"]["na1"],
        serde_json::json!(["https://api.pactsafe.com"])
    );
    assert_eq!(
        manifest["hosts"]["clickwrap_activity"]["demo"],
        serde_json::json!(["https://demo.pactsafe.io"])
    );
    assert!(
        manifest["hosts"]["clickwrap_rest"]["eu1"]
            .as_str()
            .unwrap()
            .starts_with("not served")
    );

    // Every action and trigger with its scopes and schema files, equal to `describe`.
    for kind in ["actions", "triggers"] {
        let listed = manifest[kind].as_array().unwrap();
        let described = describe[kind].as_array().unwrap();
        assert_eq!(listed.len(), described.len(), "{kind}");
        for (entry, d) in listed.iter().zip(described) {
            assert_eq!(entry["key"], d["key"]);
            assert_eq!(entry["scopes"], d["scopes"]);
            assert_eq!(entry["api_type"], d["api_type"]);
            for side in ["input_schema", "output_schema"] {
                let file = root.join(entry[side].as_str().unwrap());
                let schema: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
                assert_eq!(schema, d[side], "{}", file.display());
            }
        }
    }
    let connection: Value =
        serde_json::from_slice(&std::fs::read(root.join("schemas/connection.json")).unwrap())
            .unwrap();
    assert_eq!(connection, describe["connection_schema"]);

    // Packaging again gives the same bytes, file for file.
    let again = package(&dir, &dir.join("two")).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(tree(&root), tree(&dir.join("two")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_to_package_into_a_non_empty_directory() {
    let dir = scratch("package-dirty");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("stale.wasm"), b"old").unwrap();
    let run = package(&dir, &out).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("is not empty"), "{}", run.stderr);
}

/// An SBOM of another version (not regenerated after a bump) is not shipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_stale_sbom() {
    let dir = scratch("package-sbom");
    let listing_dir = dir.join("listing");
    std::fs::create_dir_all(&listing_dir).unwrap();
    for file in ["listing.json", "icon.svg"] {
        std::fs::copy(repo(&format!("package/{file}")), listing_dir.join(file)).unwrap();
    }
    let mut sbom: Value =
        serde_json::from_slice(&std::fs::read(repo("package/sbom.cdx.json")).unwrap()).unwrap();
    sbom["metadata"]["component"]["version"] = "0.0.9".into();
    std::fs::write(listing_dir.join("sbom.cdx.json"), sbom.to_string()).unwrap();
    let (out, listing) = (dir.join("out"), listing_dir.join("listing.json"));
    let changelog = repo("CHANGELOG.md");
    let run = cli(
        &dir,
        &[
            "package",
            "--out",
            out.to_str().unwrap(),
            "--listing",
            listing.to_str().unwrap(),
            "--changelog",
            &changelog,
        ],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("describes version \"0.0.9\"") && run.stderr.contains("UPDATE_SBOM=1"),
        "{}",
        run.stderr
    );
}

/// The generic host runs a connector from its package, and the package decides what the
/// connector may reach: `host-harness/host/examples/embed.rs` (built against
/// `connector-host` alone) against the emulator; the CLI's `--package` likewise; a package
/// that does not declare the instance URL cannot reach it; a swapped component is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_decides_what_its_connector_may_reach() {
    let dir = scratch("package-egress");
    let out = dir.join("pkg");
    let run = package(&dir, &out).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert!(
        manifest["allowed_outbound_hosts"]
            .as_array()
            .unwrap()
            .contains(&"https://{instance_url}".into()),
        "{manifest}"
    );

    let emu = start_emulator().await;
    let cfg = write_json(
        &dir,
        "conn.json",
        &form(&emu, "demo-client-credentials", serde_json::json!({})),
    );
    // The embedding example, built with the workspace's targets (`cargo test --all-targets`).
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/examples/embed");
    assert!(
        example.exists(),
        "{} is missing: `cargo build --workspace --all-targets` puts it there (scripts/test does)",
        example.display()
    );
    let pkg = out.to_string_lossy().into_owned();
    let output = std::process::Command::new(&example)
        .args([
            pkg.as_str(),
            cfg.as_str(),
            "list_workflows",
            r#"{"max_items":1}"#,
        ])
        .env("EMBED_ALLOW_LOOPBACK", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("[embed example]\n{stdout}\n{stderr}");
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("acting as"), "{stdout}");
    assert!(stdout.contains("list_workflows:"), "{stdout}");

    // The CLI from the package: the same connection works...
    let run = cli_package(&dir, &pkg, &["test-connection", "--config", &cfg]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    // ...until the package stops declaring the instance URL: refused before any request.
    let mut narrowed = manifest.clone();
    narrowed["allowed_outbound_hosts"] = serde_json::json!(["https://na1.ironcladapp.com"]);
    std::fs::write(out.join("manifest.json"), narrowed.to_string()).unwrap();
    admin(&emu, "reset-request-log").await;
    let run = cli_package(&dir, &pkg, &["test-connection", "--config", &cfg]).await;
    assert_eq!(run.error_kind(), "invalid_config", "{}", run.stdout);
    assert!(run.stdout.contains("does not allow"), "{}", run.stdout);
    assert!(requests(&emu).await.is_empty(), "nothing was sent");
    // A component that is not the one the manifest names is refused before it is compiled.
    let wasm = out.join(manifest["component"]["file"].as_str().unwrap());
    let mut bytes = std::fs::read(&wasm).unwrap();
    bytes.push(0);
    std::fs::write(&wasm, bytes).unwrap();
    let run = cli_package(&dir, &pkg, &["describe"]).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("the package was altered"),
        "{}",
        run.stderr
    );
    emu.shutdown().await;
}
