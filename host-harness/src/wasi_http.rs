//! `connector-harness compose-wasi-http`: a connector component made into a `wasi:http`
//! proxy that stock runtimes (`wasmtime serve`) run, by composing it with `wac` between the
//! adapters in `adapters/` (`adapters/connector-http.wac`). The connector is not changed.
//!
//! The composition gives the connector's `ipaas:connector/http` to the credentials
//! component and everything else it imports to the runtime. So before composing, the
//! connector's imports are checked: a connector that asks the runtime for configuration (where
//! the client secret is), outgoing HTTP, sockets or files would get round the credentials
//! component, and is refused.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use connector_host::package::hex;

/// How the pieces fit: `wac compose` reads it.
pub const COMPOSITION: &str = include_str!("../../adapters/connector-http.wac");

/// The adapters' components, as `cargo build --release --target wasm32-wasip2` names them,
/// with the package name the composition gives each.
pub const ADAPTERS: [(&str, &str); 3] = [
    ("ipaas:http-ingress", "ipaas_http_ingress.wasm"),
    ("ipaas:credentials", "ipaas_credentials.wasm"),
    ("ipaas:http-egress", "ipaas_http_egress.wasm"),
];

/// Interface packages a connector may take from the runtime: its own contract's types, and
/// WASI's streams, clocks, randomness and the CLI world std links (stdio, environment,
/// exit). Anything else reaches past the adapters.
const RUNTIME_PACKAGES: [&str; 5] = [
    "ipaas:connector",
    "wasi:io",
    "wasi:clocks",
    "wasi:random",
    "wasi:cli",
];

/// Refuse a connector whose imports would reach the runtime past the adapters: each import
/// named, with why.
pub fn check_imports(component: &[u8]) -> anyhow::Result<()> {
    let decoded = wit_component::decode(component).context("decoding the connector component")?;
    let wit_component::DecodedWasm::Component(resolve, world) = decoded else {
        bail!("the connector is a WIT package, not a component");
    };
    let world = &resolve.worlds[world];
    let mut refused = Vec::new();
    for key in world.imports.keys() {
        let name = resolve.name_world_key(key);
        let package = name.split('/').next().unwrap_or_default();
        let package = package.split('@').next().unwrap_or_default();
        if !RUNTIME_PACKAGES.contains(&package) {
            refused.push(name);
        }
    }
    if !refused.is_empty() {
        bail!(
            "the connector imports {}: in a wasi:http runtime that would bypass the credentials \
             component (which alone reads the client secret from wasi:config) and the egress \
             allow-list. A connector may import only {}.",
            refused.join(", "),
            RUNTIME_PACKAGES.join(", ")
        );
    }
    Ok(())
}

/// Compose `connector` with the adapters in `adapters` into `out` with the `wac` CLI.
pub fn compose(connector: &Path, adapters: &Path, out: &Path) -> anyhow::Result<Value> {
    let bytes = std::fs::read(connector)
        .with_context(|| format!("reading the connector {}", connector.display()))?;
    check_imports(&bytes)?;
    let mut deps = vec![format!("ipaas:guest={}", connector.display())];
    for (package, file) in ADAPTERS {
        let path = adapters.join(file);
        if !path.exists() {
            bail!(
                "{} is missing: build the adapters with `cargo build --release --target wasm32-wasip2 -p ipaas-http-ingress -p ipaas-credentials -p ipaas-http-egress`, or pass --adapters DIR",
                path.display()
            );
        }
        deps.push(format!("{package}={}", path.display()));
    }
    // The composition is written beside the output: what was composed stays readable.
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let wac_file = dir.join("connector-http.wac");
    std::fs::write(&wac_file, COMPOSITION)?;
    let mut command = Command::new(wac_binary());
    command.arg("compose").arg(&wac_file).arg("-o").arg(out);
    for dep in &deps {
        command.arg("--dep").arg(dep);
    }
    let ran = command.output().map_err(|e| {
        anyhow::anyhow!(
            "running `wac` failed ({e}): install it with `cargo install --locked --no-default-features wac-cli@0.12.0`, or name it in $WAC"
        )
    })?;
    if !ran.status.success() {
        bail!(
            "wac compose failed: {}",
            String::from_utf8_lossy(&ran.stderr).trim()
        );
    }
    let composed = std::fs::read(out)?;
    Ok(json!({
        "composed": out.display().to_string(),
        "bytes": composed.len(),
        "sha256": hex(&Sha256::digest(&composed)),
        "connector": connector.display().to_string(),
        "composition": wac_file.display().to_string(),
        "serve": format!(
            "wasmtime serve -S cli -S config -S config-var=connection.FIELD=VALUE (one per connection form field; secrets as <secret>) -S config-var=allowed_origins=ORIGINS -S config-var=token_url=URL -S config-var=client_id=ID -S config-var=client_secret=SECRET {}",
            out.display()
        ),
    }))
}

/// `$WAC`, else `wac` on the PATH.
fn wac_binary() -> PathBuf {
    std::env::var_os("WAC").map_or_else(|| PathBuf::from("wac"), PathBuf::from)
}
