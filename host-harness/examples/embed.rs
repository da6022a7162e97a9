//! Embedding the connector in a wasmtime-based runtime with the host-harness library:
//! load (with the WIT version check), describe, connect with host-held credentials, test,
//! and run an action. Runs against an in-process emulator, so it needs no account:
//!
//!     cargo build --release --target wasm32-wasip2 -p ironclad-connector
//!     cargo run -p host-harness --example embed

use host_harness::{ConnectionConfig, Runtime, RuntimeOptions, TokenStore, emulator};
use serde_json::json;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Your platform supplies these: the component from the package, a token store per tenant.
    let component = host_harness::runtime::default_component_path();
    let state = std::env::temp_dir().join(format!("embed-example-{}", std::process::id()));
    let tokens = TokenStore::new(state.join("tokens.json"));

    let emu = emulator::start("127.0.0.1:0".parse()?).await?;
    let client = emu
        .seed()
        .clients
        .iter()
        .find(|c| c.grant_types.iter().any(|g| g == "client_credentials"))
        .expect("the seed has a client credentials app")
        .clone();

    // One Runtime per component version: it compiles once and refuses a WIT line it cannot run.
    let runtime = Runtime::load(
        &component,
        RuntimeOptions {
            allow_loopback: true, // the emulator is on 127.0.0.1
            ..RuntimeOptions::default()
        },
    )?;
    let manifest = runtime.describe().await?;
    println!(
        "{} {} implements ipaas:connector@{} with {} actions",
        manifest["name"],
        manifest["version"],
        runtime.wit_version(),
        manifest["actions"].as_array().map_or(0, Vec::len)
    );

    // The connection form as the user filled it in; the secret stays in the host.
    let form = ConnectionConfig::from_value(json!({
        "api_type": "clm_public",
        "region": "custom",
        "instance_url": emu.base_url(),
        "grant_type": "client_credentials",
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "impersonate_user": emu.seed().users[0].email,
    }))?;
    let session = runtime.connect(&form, tokens).await?;
    println!("acting as {}", session.test().await?["user"]["email"]);
    let workflows = session
        .execute("list_workflows", &json!({ "status": ["active"] }))
        .await?;
    println!("active workflows: {}", workflows["count"]);
    let _ = std::fs::remove_dir_all(&state);
    Ok(())
}
