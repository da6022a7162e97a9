//! What this CLI knows of the Ironclad connector that the generic host does not: where its
//! component is built, and what it may reach when it is run from a bare `.wasm` rather than
//! a package (the egress declaration of `package/listing.json`, which `package` copies into
//! the manifest).

use std::path::{Path, PathBuf};

use anyhow::Context;
use connector_host::RuntimeOptions;
use connector_host::egress::Egress;
use connector_host::package::Declarations;

/// The publisher's listing: `publisher`, `icon`, `allowed_outbound_hosts`, `rate_limits`.
pub const LISTING: &str = include_str!("../../package/listing.json");

/// What the listing declares: the Ironclad connector's `allowed_outbound_hosts` and its
/// published quotas (`rate_limits`).
pub fn declarations() -> anyhow::Result<Declarations> {
    let listing: serde_json::Value =
        serde_json::from_str(LISTING).context("package/listing.json is not JSON")?;
    Declarations::read(&listing).context("package/listing.json")
}

/// Runtime options with the Ironclad connector's egress and quotas and nothing else set.
pub fn options() -> RuntimeOptions {
    let declared = declarations().expect("package/listing.json declares egress and quotas");
    RuntimeOptions {
        egress: Egress {
            declaration: declared.egress,
            operator_origins: None,
        },
        rate_limits: declared.rate_limits,
        ..RuntimeOptions::default()
    }
}

/// The release build next to the workspace (the CLI default).
pub fn default_component_path() -> PathBuf {
    let rel = Path::new("target/wasm32-wasip2/release/ironclad_connector.wasm");
    // Running from the workspace (the README's commands) or from anywhere via the binary's
    // location inside target/.
    if rel.exists() {
        return rel.to_path_buf();
    }
    let from_exe = std::env::current_exe().ok().and_then(|exe| {
        exe.ancestors()
            .find(|a| a.file_name().is_some_and(|n| n == "target"))
            .map(|t| t.join("wasm32-wasip2/release/ironclad_connector.wasm"))
    });
    from_exe.unwrap_or_else(|| rel.to_path_buf())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_listing_declares_every_fixed_region_and_the_instance_url() {
        let d = super::declarations().unwrap().egress;
        let entries = d.entries();
        assert!(entries.contains(&"https://na1.ironcladapp.com".to_string()));
        assert!(entries.contains(&"https://api.pactsafe.com".to_string()));
        assert_eq!(d.fields().collect::<Vec<_>>(), ["instance_url"]);
    }
}
