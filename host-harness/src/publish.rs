//! `connector-harness publish` and `publish-wit`: a package's component, or the WIT package,
//! pushed to an OCI registry as a Wasm artifact (`connector_host::oci`), with the
//! `org.opencontainers.image.*` annotations a registry UI and a buyer's tooling read.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde_json::{Value, json};

use connector_host::oci::{self, Credentials, Reference};
use connector_host::package::Package;
use connector_host::runtime::Runtime;
use connector_host::secret::Secret;
use connector_host::signature;

/// Registry credentials from `OCI_USERNAME` / `OCI_PASSWORD`, when both are set.
pub fn credentials_from_env() -> Option<Credentials> {
    let username = std::env::var("OCI_USERNAME").ok()?;
    let password = std::env::var("OCI_PASSWORD").ok()?;
    Some(Credentials {
        username,
        password: Secret::new(password),
    })
}

/// The annotations of a packaged component, from its `manifest.json`.
fn annotations(manifest: &Value) -> BTreeMap<String, String> {
    let metadata = &manifest["component"]["metadata"];
    [
        ("title", &manifest["id"]),
        ("version", &manifest["version"]),
        ("description", &manifest["description"]),
        ("vendor", &manifest["publisher"]["name"]),
        ("licenses", &metadata["licenses"]),
        ("source", &metadata["source"]),
        ("url", &metadata["homepage"]),
        ("revision", &metadata["revision"]),
    ]
    .into_iter()
    .filter_map(|(key, value)| {
        Some((
            format!("org.opencontainers.image.{key}"),
            value.as_str()?.to_string(),
        ))
    })
    .collect()
}

/// Push the package's component to `reference`; print what a buyer pins.
pub async fn publish(
    runtime: &Runtime,
    package: &Package,
    package_dir: &Path,
    reference: &Reference,
    sign_key: Option<&Path>,
) -> anyhow::Result<Value> {
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(package_dir.join("manifest.json"))
            .with_context(|| format!("reading {}/manifest.json", package_dir.display()))?,
    )?;
    let layer = std::fs::read(&package.component)?;
    let world = runtime.world();
    let config = json!({
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": [oci::sha256_digest(&layer)],
        "component": {
            "exports": world.exports,
            "imports": world.imports,
            "target": format!("ipaas:connector/connector@{}", runtime.wit_version()),
        },
    });
    let mut annotations = annotations(&manifest);
    // Which contract the component implements, for hosts choosing what they can load.
    annotations.insert(
        "dev.ipaas.connector.wit".into(),
        format!("ipaas:connector@{}", runtime.wit_version()),
    );
    let (pushed, mut out) = push(reference, &layer, &config, &annotations).await?;
    if let Some(key) = sign_key {
        let (armored, fingerprint) = signature::sign(key, pushed.manifest_digest.as_bytes())?;
        oci::push_signature(
            reference,
            credentials_from_env().as_ref(),
            &pushed.manifest_digest,
            &armored,
        )
        .await?;
        out["signature"] = json!({
            "tag": oci::signature_tag(&pushed.manifest_digest),
            "key": fingerprint,
            "namespace": signature::NAMESPACE,
        });
    }
    Ok(out)
}

/// Push a WIT package directory (`wit/v0.4`), encoded as a component the way `wasm-tools
/// component wit --wasm` and `wkg` do, so other connectors and hosts can fetch the contract.
pub async fn publish_wit(dir: &Path, reference: &Reference) -> anyhow::Result<Value> {
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve
        .push_dir(dir)
        .with_context(|| format!("reading the WIT package in {}", dir.display()))?;
    let name = resolve.packages[package].name.clone();
    let layer = wit_component::encode(&resolve, package, false)?;
    let config = json!({
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": [oci::sha256_digest(&layer)],
    });
    let annotations = BTreeMap::from([
        (
            "org.opencontainers.image.title".to_string(),
            format!("{}:{}", name.namespace, name.name),
        ),
        (
            "org.opencontainers.image.version".to_string(),
            name.version.as_ref().map(ToString::to_string).unwrap_or_default(),
        ),
        (
            "org.opencontainers.image.description".to_string(),
            "The ipaas:connector WIT package: the contract between an iPaaS host and a connector component".to_string(),
        ),
    ]);
    let (_, mut out) = push(reference, &layer, &config, &annotations).await?;
    out["package"] = json!(name.to_string());
    Ok(out)
}

/// Push one artifact with the environment's credentials; what was pushed, and what to print.
async fn push(
    reference: &Reference,
    layer: &[u8],
    config: &Value,
    annotations: &BTreeMap<String, String>,
) -> anyhow::Result<(oci::Pushed, Value)> {
    let credentials = credentials_from_env();
    let pushed = oci::push(reference, credentials.as_ref(), layer, config, annotations).await?;
    let printed = pushed_json(reference, &pushed);
    Ok((pushed, printed))
}

fn pushed_json(reference: &Reference, pushed: &oci::Pushed) -> Value {
    let pinned = Reference {
        tag: None,
        digest: Some(pushed.manifest_digest.clone()),
        ..reference.clone()
    };
    json!({
        "reference": reference.to_string(),
        "pinned": format!("oci://{pinned}"),
        "manifest_digest": pushed.manifest_digest,
        "layer_digest": pushed.layer_digest,
        "config_digest": pushed.config_digest,
    })
}
