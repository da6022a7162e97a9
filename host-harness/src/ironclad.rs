//! What this CLI knows of the Ironclad connector that the generic host does not: where its
//! component is built, and what it may reach when it is run from a bare `.wasm` rather than
//! a package (the egress declaration of `package/listing.json`, which `package` copies into
//! the manifest).

use std::path::{Path, PathBuf};

use anyhow::Context;
use connector_host::RuntimeOptions;
use connector_host::egress::{Egress, EgressDeclaration};
use connector_host::pacing::RateLimits;

/// The publisher's listing: `publisher`, `icon`, `allowed_outbound_hosts`, `rate_limits`.
pub const LISTING: &str = include_str!("../../package/listing.json");

/// The Ironclad connector's `allowed_outbound_hosts`, from the listing.
pub fn egress_declaration() -> anyhow::Result<EgressDeclaration> {
    let listing: serde_json::Value =
        serde_json::from_str(LISTING).context("package/listing.json is not JSON")?;
    let entries: Vec<String> = serde_json::from_value(listing["allowed_outbound_hosts"].clone())
        .context("package/listing.json: `allowed_outbound_hosts` must be a list of text")?;
    EgressDeclaration::parse(&entries).context("package/listing.json")
}

/// Ironclad's published quotas, from the listing.
pub fn rate_limits() -> anyhow::Result<RateLimits> {
    let listing: serde_json::Value =
        serde_json::from_str(LISTING).context("package/listing.json is not JSON")?;
    RateLimits::parse(&listing["rate_limits"]).context("package/listing.json")
}

/// Runtime options with the Ironclad connector's egress and quotas and nothing else set.
pub fn options() -> RuntimeOptions {
    RuntimeOptions {
        egress: Egress {
            declaration: egress_declaration().expect("package/listing.json declares egress"),
            operator_origins: None,
        },
        rate_limits: rate_limits().expect("package/listing.json declares rate limits"),
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
        let d = super::egress_declaration().unwrap();
        let entries = d.entries();
        assert!(entries.contains(&"https://na1.ironcladapp.com".to_string()));
        assert!(entries.contains(&"https://api.pactsafe.com".to_string()));
        assert_eq!(d.fields().collect::<Vec<_>>(), ["instance_url"]);
    }
}
