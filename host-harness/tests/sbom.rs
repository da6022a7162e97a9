//! The component's software bill of materials, `package/sbom.cdx.json`: every crate linked
//! into the guest (its normal dependencies for `wasm32-wasip2`, as `Cargo.lock` resolves them;
//! procedural macros, which run in the compiler, and their own dependencies left out),
//! with version, licence, the registry's SHA-256 and the dependency graph, in CycloneDX 1.5
//! JSON. `connector-harness package` ships it beside the component.
//!
//! Generated from `cargo tree -p ironclad-connector --target wasm32-wasip2 -e normal` (the
//! graph as a build of the guest alone resolves it), `cargo metadata` (licences) and
//! `Cargo.lock` (checksums), deterministically (no timestamp, no random serial number), so the file changes exactly when
//! the guest's dependencies do. This test fails when the committed file is stale;
//! `UPDATE_SBOM=1` rewrites it. `scripts/test` validates it against the CycloneDX schema with
//! the CycloneDX project's own validator (`cyclonedx-python-lib`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

const GUEST: &str = "ironclad-connector";

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `name version` → the registry checksum, from `Cargo.lock` (crates from crates.io have one;
/// workspace crates do not).
fn checksums(lock: &str) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for block in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            block.lines().find_map(|l| {
                l.strip_prefix(&format!("{key} = \""))
                    .and_then(|rest| rest.strip_suffix('"'))
                    .map(str::to_string)
            })
        };
        if let (Some(name), Some(version), Some(sum)) =
            (field("name"), field("version"), field("checksum"))
        {
            out.insert((name, version), sum);
        }
    }
    out
}

fn purl(package: &Value) -> String {
    format!(
        "pkg:cargo/{}@{}",
        package["name"].as_str().unwrap(),
        package["version"].as_str().unwrap()
    )
}

/// One line of `cargo tree --prefix depth -f '{p}'`: depth, name, version, and whether it is
/// a procedural macro.
fn tree_line(line: &str) -> (usize, String, String, bool) {
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    let depth = line[..digits].parse().expect("a depth prefix");
    let mut words = line[digits..].split_whitespace();
    let name = words.next().expect("a name").to_string();
    let version = words
        .next()
        .expect("a version")
        .trim_start_matches('v')
        .to_string();
    (depth, name, version, line.contains("(proc-macro)"))
}

/// The CycloneDX document for the guest: its dependency graph as `cargo tree` resolves it for
/// building the guest alone (so the host crates' features do not leak in), licences from
/// `cargo metadata`, checksums from `Cargo.lock`.
fn generate() -> Value {
    let cargo = |args: &[&str]| {
        let output = Command::new(env!("CARGO"))
            .current_dir(workspace())
            .args(args)
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "cargo {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let tree = cargo(&[
        "tree",
        "--locked",
        "-p",
        GUEST,
        "--target",
        "wasm32-wasip2",
        "-e",
        "normal",
        "--prefix",
        "depth",
        "-f",
        "{p}",
    ]);
    let registry: Value = serde_json::from_str(&cargo(&[
        "metadata",
        "--format-version",
        "1",
        "--locked",
        "--filter-platform",
        "wasm32-wasip2",
    ]))
    .unwrap();
    let packages: BTreeMap<(String, String), &Value> = registry["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                (
                    p["name"].as_str().unwrap().to_string(),
                    p["version"].as_str().unwrap().to_string(),
                ),
                p,
            )
        })
        .collect();

    // Edges from the indented tree. A procedural macro runs in the compiler: neither it nor
    // what it depends on is linked into the component, so its subtree is skipped.
    let mut edges: BTreeMap<(String, String), BTreeSet<(String, String)>> = BTreeMap::new();
    let mut parents: Vec<(String, String)> = Vec::new();
    let mut skip_below: Option<usize> = None;
    let mut root = None;
    for line in tree.lines().filter(|l| !l.trim().is_empty()) {
        let (depth, name, version, proc_macro) = tree_line(line);
        if skip_below.is_some_and(|d| depth > d) {
            continue;
        }
        skip_below = None;
        if proc_macro {
            skip_below = Some(depth);
            continue;
        }
        let id = (name, version);
        parents.truncate(depth);
        if let Some(parent) = parents.last() {
            edges.entry(parent.clone()).or_default().insert(id.clone());
        } else {
            root = Some(id.clone());
        }
        edges.entry(id.clone()).or_default();
        parents.push(id);
    }
    let root = root.expect("the tree starts at the guest");
    let lock = std::fs::read_to_string(workspace().join("Cargo.lock")).unwrap();
    let sums = checksums(&lock);
    let describe = |id: &(String, String)| {
        let package = packages[id];
        let mut c = json!({
            "type": "library",
            "bom-ref": purl(package),
            "name": package["name"],
            "version": package["version"],
            "purl": purl(package),
        });
        if let Some(license) = package["license"].as_str() {
            c["licenses"] = json!([{ "expression": license }]);
        }
        let key = (
            package["name"].as_str().unwrap().to_string(),
            package["version"].as_str().unwrap().to_string(),
        );
        if let Some(sum) = sums.get(&key) {
            c["hashes"] = json!([{ "alg": "SHA-256", "content": sum }]);
        }
        c
    };
    let mut components: Vec<Value> = edges
        .keys()
        .filter(|id| **id != root)
        .map(describe)
        .collect();
    components.sort_by_key(|c| c["bom-ref"].as_str().unwrap().to_string());
    let dependencies: Vec<Value> = edges
        .iter()
        .map(|(id, deps)| {
            let mut on: Vec<String> = deps.iter().map(|d| purl(packages[d])).collect();
            on.sort();
            let reference = purl(packages[id]);
            (
                reference.clone(),
                json!({ "ref": reference, "dependsOn": on }),
            )
        })
        .collect::<BTreeMap<String, Value>>()
        .into_values()
        .collect();
    let mut guest = describe(&root);
    guest["type"] = json!("application");
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "component": guest,
            "properties": [
                { "name": "cargo:target", "value": "wasm32-wasip2" },
                { "name": "cargo:dependency-kinds", "value": "normal" },
                { "name": "cargo:proc-macros", "value": "excluded" },
            ],
        },
        "components": components,
        "dependencies": dependencies,
    })
}

#[test]
fn the_committed_sbom_lists_every_crate_in_the_component() {
    let generated = generate();
    let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
    let path = workspace().join("package/sbom.cdx.json");
    if std::env::var_os("UPDATE_SBOM").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{} is stale (the guest's dependencies changed): run `UPDATE_SBOM=1 cargo test --workspace --test integration sbom::`",
        path.display()
    );

    // What the document must hold, whatever the graph: the crates the guest names directly,
    // each with a licence; no crate the component cannot contain.
    let refs: BTreeSet<&str> = generated["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for direct in [
        "serde",
        "serde_json",
        "wit-bindgen",
        "rsa",
        "sha2",
        "base64",
        "jiff-core",
    ] {
        assert!(refs.contains(direct), "{direct} is missing: {refs:?}");
    }
    for absent in [
        "wasmtime",
        "tokio",
        "proptest",
        "ironclad-emulator",
        "serde_derive",
        "syn",
    ] {
        assert!(!refs.contains(absent), "{absent} is not in the component");
    }
    for c in generated["components"].as_array().unwrap() {
        assert!(c["licenses"].is_array(), "{} has no licence", c["name"]);
        assert!(
            c["hashes"].is_array(),
            "{} has no registry checksum",
            c["name"]
        );
    }
    assert_eq!(generated["metadata"]["component"]["name"], GUEST);
}
