//! The release artifact a marketplace ingests: the component, a manifest describing it, its
//! JSON schemas, an icon and the changelog. Everything in it is derived from the component
//! itself (`describe`, `plan`, its WIT version and bytes) plus the publisher's listing file,
//! and written deterministically, so packaging the same component twice gives the same files.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use connector_host::bindings::connection::AuthPlan;
use connector_host::egress::EgressDeclaration;
use connector_host::metadata::ComponentMetadata;
use connector_host::package::Declarations;
use connector_host::package::hex;
use connector_host::policy::canonical_origin;
use connector_host::report::CallError;
use connector_host::runtime::Runtime;
use connector_host::wit_version;

/// Copy the listing's SBOM (`"sbom": "file relative to the listing"`, CycloneDX JSON) beside
/// the component, refusing one that describes another version (a stale file); returns the
/// manifest's `sbom` entry.
fn ship_sbom(
    listing: &Value,
    listing_path: &Path,
    describe: &Value,
    out: &Path,
) -> anyhow::Result<Value> {
    let rel = listing
        .get("sbom")
        .and_then(Value::as_str)
        .with_context(|| {
            format!(
                "{}: `sbom` must name the component's CycloneDX SBOM",
                listing_path.display()
            )
        })?;
    let path = listing_path.parent().unwrap_or(Path::new(".")).join(rel);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let sbom: Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not JSON", path.display()))?;
    if sbom["bomFormat"] != "CycloneDX" {
        anyhow::bail!("{} is not a CycloneDX document", path.display());
    }
    let described = &sbom["metadata"]["component"]["version"];
    if described != &describe["version"] {
        anyhow::bail!(
            "{} describes version {described}, the component is {}: regenerate it (UPDATE_SBOM=1 cargo test --workspace --test integration sbom::)",
            path.display(),
            describe["version"]
        );
    }
    let name = path.file_name().context("the SBOM has no file name")?;
    std::fs::write(out.join(name), &bytes)?;
    Ok(json!({
        "file": name.to_string_lossy(),
        "format": "CycloneDX",
        "spec_version": sbom["specVersion"],
        "sha256": hex(&Sha256::digest(&bytes)),
    }))
}

/// Inputs that do not come from the component.
pub struct PackageSources {
    pub component: PathBuf,
    /// `{"publisher": {...}, "icon": "file relative to the listing", "allowed_outbound_hosts": [...]}`.
    pub listing: PathBuf,
    pub changelog: PathBuf,
    /// The source revision (commit) the component was built from, embedded in its metadata.
    pub revision: Option<String>,
}

/// Placeholder values that make a connection form plan-able for every API type, to learn the
/// origins each one reaches. Only fields the schema shows for that API type are sent.
const SAMPLE_FORM: &[(&str, &str)] = &[
    ("grant_type", "client_credentials"),
    ("client_id", "00000000-0000-4000-8000-000000000000"),
    ("client_secret", "<secret>"),
    ("impersonate_user", "packaging@example.com"),
    ("site_access_id", "00000000-0000-4000-8000-000000000000"),
    ("access_token", "<secret>"),
];

/// Write the package into `out` (created; must be empty or absent). Returns the manifest.
pub async fn write_package(
    runtime: &Runtime,
    sources: &PackageSources,
    out: &Path,
) -> anyhow::Result<Value> {
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        anyhow::bail!(
            "{} is not empty; package into a new directory so no stale file ships",
            out.display()
        );
    }
    let listing = read_json(&sources.listing)?;
    let publisher = listing
        .get("publisher")
        .filter(|p| p.is_object())
        .with_context(|| {
            format!(
                "{}: `publisher` must be an object",
                sources.listing.display()
            )
        })?;
    let icon_rel = listing
        .get("icon")
        .and_then(Value::as_str)
        .with_context(|| format!("{}: `icon` must be a file name", sources.listing.display()))?;
    let icon = sources
        .listing
        .parent()
        .unwrap_or(Path::new("."))
        .join(icon_rel);
    let icon_name = icon.file_name().context("icon has no file name")?;
    // Checked here, so a package never carries a declaration hosts would refuse.
    let declaration = Declarations::read(&listing)
        .with_context(|| sources.listing.display().to_string())?
        .egress;

    let built = std::fs::read(&sources.component)
        .with_context(|| format!("reading {}", sources.component.display()))?;
    let describe = runtime.describe().await?;
    // The shipped component names itself: `wasm-tools metadata show` and hosts read it.
    let metadata = component_metadata(&listing, &describe, sources)?;
    let wasm = metadata.embed(&built)?;
    let schemas = write_schemas(&describe, &out.join("schemas"))?;

    let wasm_name = sources
        .component
        .file_name()
        .context("component has no file name")?;
    std::fs::write(out.join(wasm_name), &wasm)?;
    copy(&icon, &out.join(icon_name))?;
    copy(&sources.changelog, &out.join("CHANGELOG.md"))?;
    let sbom = ship_sbom(&listing, &sources.listing, &describe, out)?;

    let (hosts, unsupported) =
        hosts_per_api_type(runtime, &describe["connection_schema"], &declaration).await?;
    let mut manifest = json!({
        "id": describe["id"],
        "name": describe["name"],
        "version": describe["version"],
        "description": describe["description"],
        "icon": icon_name.to_string_lossy(),
        "publisher": publisher,
        "wit": {
            "package": wit_version::PACKAGE,
            "version": runtime.wit_version().to_string(),
        },
        "component": {
            "file": wasm_name.to_string_lossy(),
            "sha256": hex(&Sha256::digest(&wasm)),
            "bytes": wasm.len(),
            "metadata": metadata,
        },
        "allowed_outbound_hosts": declaration.entries(),
        "hosts": hosts,
        "unsupported_api_types": unsupported,
        "changelog": "CHANGELOG.md",
        "sbom": sbom,
    });
    if let Some(declared) = listing.get("rate_limits") {
        manifest["rate_limits"] = declared.clone();
    }
    let extra = manifest.as_object_mut().expect("object");
    extra.extend(schemas);
    std::fs::write(
        out.join("manifest.json"),
        serde_json::to_string_pretty(&manifest)? + "\n",
    )?;
    Ok(manifest)
}

/// Name, version and description from the component's own `describe`; licence, source,
/// homepage and authors from the listing's `component_metadata`; the revision from the caller.
fn component_metadata(
    listing: &Value,
    describe: &Value,
    sources: &PackageSources,
) -> anyhow::Result<ComponentMetadata> {
    let from_listing = |field: &str| -> anyhow::Result<Option<String>> {
        match listing.get("component_metadata").and_then(|m| m.get(field)) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => anyhow::bail!(
                "{}: `component_metadata.{field}` must be a string",
                sources.listing.display()
            ),
        }
    };
    let licenses = from_listing("licenses")?.with_context(|| {
        format!(
            "{}: `component_metadata.licenses` (an SPDX expression) is required: a buyer must know the licence",
            sources.listing.display()
        )
    })?;
    let text = |field: &str| describe[field].as_str().map(str::to_owned);
    Ok(ComponentMetadata {
        name: text("id"),
        version: text("version"),
        description: text("description"),
        licenses: Some(licenses),
        source: from_listing("source")?,
        revision: sources.revision.clone(),
        homepage: from_listing("homepage")?,
        authors: from_listing("authors")?,
    })
}

/// `schemas/connection.json`, `schemas/actions/KEY.{input,output}.json` and the same for
/// triggers; returns the manifest's `connection_schema`, `actions` and `triggers` entries,
/// which point at those files and carry each one's scopes and API type.
fn write_schemas(describe: &Value, dir: &Path) -> anyhow::Result<Map<String, Value>> {
    std::fs::create_dir_all(dir)?;
    write_json(&dir.join("connection.json"), &describe["connection_schema"])?;
    let mut entries = Map::new();
    entries.insert("connection_schema".into(), "schemas/connection.json".into());
    for kind in ["actions", "triggers"] {
        std::fs::create_dir_all(dir.join(kind))?;
        let mut list = Vec::new();
        for item in describe[kind].as_array().into_iter().flatten() {
            let key = item["key"].as_str().context("an entry without a key")?;
            let mut entry = json!({ "key": key, "title": item["title"], "scopes": item["scopes"],
                                    "api_type": item["api_type"] });
            for side in ["input", "output"] {
                let rel = format!("schemas/{kind}/{key}.{side}.json");
                write_json(
                    &dir.join(format!("{kind}/{key}.{side}.json")),
                    &item[format!("{side}_schema")],
                )?;
                entry[format!("{side}_schema")] = rel.into();
            }
            if let Some(modes) = item.get("modes") {
                entry["modes"] = modes.clone();
            }
            list.push(entry);
        }
        entries.insert(kind.into(), list.into());
    }
    Ok(entries)
}

/// For each API type and each fixed region, the origins the connector's `plan` asks for (the
/// API and, with OAuth, the token endpoint's origin), each checked against the listing's
/// declaration: a connector that would reach an undeclared origin is not packaged. `custom`
/// regions reach the instance URL the user enters, so they are listed as such rather than as
/// hosts; a region an API type does not exist in is listed with the connector's reason. API
/// types this version of the connector refuses are returned apart, with its reason.
async fn hosts_per_api_type(
    runtime: &Runtime,
    schema: &Value,
    declaration: &EgressDeclaration,
) -> anyhow::Result<(Value, Value)> {
    let enum_of = |field: &str| -> Vec<String> {
        schema["properties"][field]["enum"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    let (mut hosts, mut unsupported) = (Map::new(), Map::new());
    for api_type in enum_of("api_type") {
        let mut regions = Map::new();
        for region in enum_of("region") {
            if region == "custom" {
                regions.insert(region, "the instance_url of the connection".into());
                continue;
            }
            let form = sample_form(schema, &api_type, &region);
            let answer = runtime.plan(&form).await;
            let plan = match answer {
                Ok(plan) => plan,
                Err(CallError::Connector(report)) if report.kind == "unsupported" => {
                    unsupported.insert(api_type.clone(), report.message.into());
                    break;
                }
                // An API type absent from a region (Clickwrap has no eu1): listed with why.
                Err(CallError::Connector(report))
                    if report.kind == "invalid_config"
                        && report.field.as_deref() == Some("region") =>
                {
                    regions.insert(region, format!("not served: {}", report.message).into());
                    continue;
                }
                Err(e) => anyhow::bail!("plan({api_type}, {region}) with a sample form: {e}"),
            };
            let mut urls = plan.allowed_origins.clone();
            if let AuthPlan::Oauth2(oauth) = &plan.auth {
                urls.push(oauth.token_url.clone());
            }
            let mut origins = urls
                .iter()
                .map(|u| canonical_origin(u))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|why| anyhow::anyhow!("plan({api_type}, {region}): {why}"))?;
            origins.sort();
            origins.dedup();
            let allowed = declaration.bind(form.as_object().expect("an object"), false);
            if let Some(undeclared) = origins.iter().find(|o| !allowed.origins.contains(o)) {
                anyhow::bail!(
                    "{api_type} in {region} reaches {undeclared}, which the listing's allowed_outbound_hosts does not declare"
                );
            }
            regions.insert(region, origins.into());
        }
        if !unsupported.contains_key(&api_type) {
            hosts.insert(api_type, regions.into());
        }
    }
    Ok((hosts.into(), unsupported.into()))
}

fn sample_form(schema: &Value, api_type: &str, region: &str) -> Value {
    let mut form = json!({ "api_type": api_type, "region": region });
    for (field, value) in SAMPLE_FORM {
        if visible_in(schema, field, &form) {
            form[*field] = (*value).into();
        }
    }
    form
}

/// Whether `field` shows in `form` by its builder hint `x-visible-if`: an object holds when
/// every property it names has one of the values listed (an unset one counts as its
/// `default`), a list of objects when any holds; without the hint the field always shows.
fn visible_in(schema: &Value, field: &str, form: &Value) -> bool {
    let holds = |condition: &Value| {
        condition.as_object().is_some_and(|all| {
            all.iter().all(|(property, values)| {
                let value = form
                    .get(property)
                    .or_else(|| schema["properties"][property].get("default"));
                let values = values.as_array().map(Vec::as_slice).unwrap_or_default();
                value.is_some_and(|v| values.contains(v))
            })
        })
    };
    match &schema["properties"][field]["x-visible-if"] {
        Value::Null => true,
        Value::Array(any) => any.iter().any(holds),
        one => holds(one),
    }
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

fn write_json(path: &Path, value: &Value) -> anyhow::Result<()> {
    Ok(std::fs::write(
        path,
        serde_json::to_string_pretty(value)? + "\n",
    )?)
}

fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::copy(from, to).with_context(|| format!("copying {}", from.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_forms_send_only_the_fields_an_api_type_shows() {
        let schema = json!({ "properties": {
            "client_id": { "x-visible-if": { "api_type": ["clm_public"] } },
            "grant_type": {},
        }});
        let form = sample_form(&schema, "clickwrap_activity", "na1");
        assert!(form.get("client_id").is_none());
        assert_eq!(form["grant_type"], "client_credentials");
        assert_eq!(
            sample_form(&schema, "clm_public", "na1")["client_id"],
            "00000000-0000-4000-8000-000000000000"
        );
    }

    /// Conditions on several fields must all hold, an unset field counting as its default;
    /// a list of conditions needs one.
    #[test]
    fn visibility_follows_defaults_and_alternatives() {
        let schema = json!({ "properties": {
            "credential": { "default": "token" },
            "access_token": { "x-visible-if": { "api_type": ["rest"], "credential": ["token"] } },
            "client_id": { "x-visible-if": [
                { "api_type": ["clm"] },
                { "api_type": ["rest"], "credential": ["exchange"] }
            ] },
        }});
        let shows = |field: &str, form: Value| visible_in(&schema, field, &form);
        assert!(shows("access_token", json!({ "api_type": "rest" })));
        assert!(!shows("access_token", json!({ "api_type": "clm" })));
        assert!(!shows("client_id", json!({ "api_type": "rest" })));
        assert!(shows(
            "client_id",
            json!({ "api_type": "rest", "credential": "exchange" })
        ));
        assert!(shows("client_id", json!({ "api_type": "clm" })));
        assert!(!shows(
            "access_token",
            json!({ "api_type": "rest", "credential": "exchange" })
        ));
    }
}
