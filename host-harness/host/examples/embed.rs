//! Embedding a connector in a wasmtime-based runtime with the generic `connector-host`
//! library, and nothing else: open a package (its manifest decides what the connector may
//! reach), load it (with the WIT version check), describe it, connect with host-held
//! credentials, test the connection and run an action.
//!
//!     cargo run -p connector-host --example embed -- PACKAGE_DIR CONNECTION.json [ACTION [INPUT_JSON]]
//!
//! Set `EMBED_ALLOW_LOOPBACK=1` to let it reach a local emulator (`connector-harness
//! emulator`); `host-harness/tests/embed.rs` runs it that way against a fresh package.

use std::path::PathBuf;

use connector_host::package::Package;
use connector_host::{ConnectionConfig, Runtime, RuntimeOptions, TokenStore};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: embed PACKAGE_DIR CONNECTION.json [ACTION [INPUT_JSON]]";
    let package_dir = PathBuf::from(args.next().ok_or_else(|| anyhow::anyhow!(usage))?);
    let form_file = PathBuf::from(args.next().ok_or_else(|| anyhow::anyhow!(usage))?);
    let action = args.next();
    let input: Value = match args.next() {
        Some(text) => serde_json::from_str(&text)?,
        None => json!({}),
    };

    // Your platform supplies these: the package, a token store per tenant.
    let package = Package::open(&package_dir)?;
    let state = std::env::temp_dir().join(format!("embed-example-{}", std::process::id()));
    let tokens = TokenStore::new(state.join("tokens.json"));

    // One Runtime per package version: it compiles once, refuses a WIT line it cannot run,
    // and lets connections reach only what the package declares.
    let runtime = Runtime::load_package(
        &package,
        RuntimeOptions {
            allow_loopback: std::env::var_os("EMBED_ALLOW_LOOPBACK").is_some(),
            ..RuntimeOptions::default()
        },
    )?;
    let manifest = runtime.describe().await?;
    println!(
        "{} {} implements ipaas:connector@{} with {} actions; it may reach {}",
        manifest["name"],
        manifest["version"],
        runtime.wit_version(),
        manifest["actions"].as_array().map_or(0, Vec::len),
        package.declared.egress.entries().join(", ")
    );

    // The connection form as the user filled it in; the secret stays in the host.
    let form = ConnectionConfig::from_file(&form_file)?;
    let session = runtime.connect(&form, tokens).await?;
    println!("acting as {}", session.test().await?["user"]["email"]);
    if let Some(action) = action {
        let output = session.execute(&action, &input).await?;
        println!("{action}: {output}");
    }
    let _ = std::fs::remove_dir_all(&state);
    Ok(())
}
