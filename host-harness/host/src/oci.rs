//! Components in OCI registries, laid out as the CNCF TAG Runtime's *Wasm OCI Artifact*
//! specifies: a manifest (`application/vnd.oci.image.manifest.v1+json`) whose config is
//! `application/vnd.wasm.config.v0+json` and whose one layer is the component
//! (`application/wasm`), with `org.opencontainers.image.*` annotations.
//!
//! [`push`] uploads one (the registry API of the OCI distribution spec: blob uploads, then
//! the manifest); [`pull`] fetches one and checks every digest on the way — the manifest's
//! when the reference pins one, the layer's always — so the bytes a host runs are the bytes
//! published. Registries are reached over HTTPS, or plain HTTP for loopback hosts (a local
//! registry). Anonymous access, or basic credentials (also used to obtain a registry's bearer
//! token when it asks for one).

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::package::hex;

pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";

/// The most a pulled component may weigh; a registry answering more is refused.
pub const MAX_COMPONENT_BYTES: u64 = 64 << 20;
/// The most a manifest or config may weigh.
const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// `registry/repository[:tag][@sha256:hex]`, as `docker pull` and `oras` write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:` and 64 hex digits.
    pub digest: Option<String>,
}

impl Reference {
    pub fn parse(text: &str) -> anyhow::Result<Reference> {
        let text = text.strip_prefix("oci://").unwrap_or(text);
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => {
                let ok = digest.strip_prefix("sha256:").is_some_and(|h| {
                    h.len() == 64
                        && h.bytes()
                            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                });
                if !ok {
                    bail!("`{text}`: a pinned digest is `sha256:` and 64 lowercase hex digits");
                }
                (rest, Some(digest.to_string()))
            }
            None => (text, None),
        };
        let (registry, path) = rest.split_once('/').with_context(|| {
            format!("`{text}` is not REGISTRY/REPOSITORY[:TAG][@DIGEST] (e.g. ghcr.io/acme/ironclad:0.1.0)")
        })?;
        // A colon after the last slash starts the tag; one before it is the registry's port.
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag.to_string())),
            _ => (path, None),
        };
        let valid_repo = !repository.is_empty()
            && repository.split('/').all(|part| {
                !part.is_empty()
                    && part.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)
                    })
            });
        if registry.is_empty() || !valid_repo {
            bail!("`{text}`: the repository is lowercase letters, digits and `._-/`");
        }
        if tag.is_none() && digest.is_none() {
            bail!("`{text}` names no tag or digest: add `:TAG` or `@sha256:...`");
        }
        Ok(Reference {
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag,
            digest,
        })
    }

    /// What the registry API addresses the manifest by: the digest when pinned.
    fn manifest_key(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .expect("a reference has a tag or a digest")
    }

    fn base(&self) -> String {
        let host = self.registry.split(':').next().unwrap_or_default();
        let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
        let scheme = if loopback { "http" } else { "https" };
        format!("{scheme}://{}/v2/{}", self.registry, self.repository)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Basic credentials for a registry (or its token service).
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub password: crate::secret::Secret,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({}, <redacted>)", self.username)
    }
}

pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// A registry session: one HTTP client, and the bearer token a registry handed out.
struct Registry<'a> {
    http: reqwest::Client,
    reference: &'a Reference,
    credentials: Option<&'a Credentials>,
    token: Option<String>,
}

impl<'a> Registry<'a> {
    fn new(reference: &'a Reference, credentials: Option<&'a Credentials>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(5))
            .timeout(std::time::Duration::from_secs(120))
            .build()?;
        Ok(Registry {
            http,
            reference,
            credentials,
            token: None,
        })
    }

    /// Send `build()`'s request; on a 401 with a bearer challenge, obtain a token (with the
    /// credentials, or anonymously) and send it once more.
    async fn send(
        &mut self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> anyhow::Result<reqwest::Response> {
        let authorise =
            |rb: reqwest::RequestBuilder, token: &Option<String>| match (token, self.credentials) {
                (Some(token), _) => rb.bearer_auth(token),
                (None, Some(c)) => rb.basic_auth(&c.username, Some(c.password.expose())),
                (None, None) => rb,
            };
        let response = authorise(build(&self.http), &self.token).send().await?;
        if response.status() != reqwest::StatusCode::UNAUTHORIZED || self.token.is_some() {
            return Ok(response);
        }
        let challenge = response
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let Some(params) = challenge.strip_prefix("Bearer ") else {
            return Ok(response);
        };
        let params = challenge_params(params);
        let realm = params
            .get("realm")
            .context("a bearer challenge without a realm")?;
        let mut token_request = self.http.get(realm.as_str()).query(
            &params
                .iter()
                .filter(|(k, _)| *k != "realm")
                .collect::<Vec<_>>(),
        );
        if let Some(c) = self.credentials {
            token_request = token_request.basic_auth(&c.username, Some(c.password.expose()));
        }
        let answer: Value = token_request
            .send()
            .await?
            .error_for_status()
            .context("the registry's token service refused")?
            .json()
            .await?;
        let token = answer["token"]
            .as_str()
            .or(answer["access_token"].as_str())
            .context("the token service's answer has no token")?
            .to_string();
        self.token = Some(token);
        Ok(authorise(build(&self.http), &self.token).send().await?)
    }

    async fn upload_blob(&mut self, bytes: &[u8]) -> anyhow::Result<String> {
        let digest = sha256_digest(bytes);
        let base = self.reference.base();
        let exists = self
            .send(|c| c.head(format!("{base}/blobs/{digest}")))
            .await?;
        if exists.status().is_success() {
            return Ok(digest);
        }
        let started = self
            .send(|c| c.post(format!("{base}/blobs/uploads/")))
            .await?;
        if started.status() != reqwest::StatusCode::ACCEPTED {
            bail!("starting a blob upload: {}", started.status());
        }
        let location = started
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .context("the registry gave no upload location")?;
        let mut url = reqwest::Url::parse(&base)?.join(location)?;
        url.query_pairs_mut().append_pair("digest", &digest);
        let body = bytes.to_vec();
        let done = self
            .send(|c| {
                c.put(url.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                    .body(body.clone())
            })
            .await?;
        if done.status() != reqwest::StatusCode::CREATED {
            bail!("uploading blob {digest}: {}", done.status());
        }
        Ok(digest)
    }

    async fn fetch(&mut self, path: &str, accept: &str, limit: u64) -> anyhow::Result<Vec<u8>> {
        let url = format!("{}/{path}", self.reference.base());
        let response = self
            .send(|c| c.get(url.as_str()).header(reqwest::header::ACCEPT, accept))
            .await?;
        if !response.status().is_success() {
            bail!("GET {url}: {}", response.status());
        }
        if response.content_length().is_some_and(|n| n > limit) {
            bail!("GET {url}: larger than {limit} bytes");
        }
        let bytes = response.bytes().await?;
        if bytes.len() as u64 > limit {
            bail!("GET {url}: larger than {limit} bytes");
        }
        Ok(bytes.to_vec())
    }
}

/// `realm="...",service="...",scope="..."` as a map.
fn challenge_params(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = text;
    while let Some((key, after)) = rest.split_once("=\"") {
        let Some((value, tail)) = after.split_once('"') else {
            break;
        };
        out.insert(
            key.trim().trim_start_matches(',').trim().to_string(),
            value.to_string(),
        );
        rest = tail;
    }
    out
}

/// What [`push`] uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The manifest's digest: pin pulls to it (`REF@DIGEST`).
    pub manifest_digest: String,
    pub layer_digest: String,
    pub config_digest: String,
}

/// Upload `layer` (a component, or a WIT package encoded as one) as a Wasm OCI artifact with
/// `config` (the `application/vnd.wasm.config.v0+json` document) and `annotations`, tagged as
/// the reference says.
pub async fn push(
    reference: &Reference,
    credentials: Option<&Credentials>,
    layer: &[u8],
    config: &Value,
    annotations: &BTreeMap<String, String>,
) -> anyhow::Result<Pushed> {
    let tag = reference
        .tag
        .as_deref()
        .with_context(|| format!("{reference}: publishing needs a tag"))?;
    let artifact = Artifact {
        config_media_type: CONFIG_MEDIA_TYPE,
        config: serde_json::to_vec(config)?,
        layer_media_type: LAYER_MEDIA_TYPE,
        layer: layer.to_vec(),
        annotations: annotations.clone(),
    };
    push_artifact(reference, credentials, tag, &artifact).await
}

/// One manifest, its config and its one layer, as pushed.
struct Artifact {
    config_media_type: &'static str,
    config: Vec<u8>,
    layer_media_type: &'static str,
    layer: Vec<u8>,
    annotations: BTreeMap<String, String>,
}

async fn push_artifact(
    reference: &Reference,
    credentials: Option<&Credentials>,
    tag: &str,
    artifact: &Artifact,
) -> anyhow::Result<Pushed> {
    let mut registry = Registry::new(reference, credentials)?;
    let layer_digest = registry.upload_blob(&artifact.layer).await?;
    let config_digest = registry.upload_blob(&artifact.config).await?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": {
            "mediaType": artifact.config_media_type,
            "digest": config_digest,
            "size": artifact.config.len(),
        },
        "layers": [{
            "mediaType": artifact.layer_media_type,
            "digest": layer_digest,
            "size": artifact.layer.len(),
        }],
        "annotations": artifact.annotations,
    });
    let manifest_bytes = serde_json::to_vec(&manifest)?;
    let url = format!("{}/manifests/{tag}", reference.base());
    let put = registry
        .send(|c| {
            c.put(url.as_str())
                .header(reqwest::header::CONTENT_TYPE, MANIFEST_MEDIA_TYPE)
                .body(manifest_bytes.clone())
        })
        .await?;
    if put.status() != reqwest::StatusCode::CREATED {
        let status = put.status();
        let body = put.text().await.unwrap_or_default();
        bail!(
            "PUT {url}: {status} {}",
            body.chars().take(300).collect::<String>()
        );
    }
    Ok(Pushed {
        manifest_digest: sha256_digest(&manifest_bytes),
        layer_digest,
        config_digest,
    })
}

/// The media type of a signature artifact's layer: an armored OpenSSH signature.
pub const SIGNATURE_MEDIA_TYPE: &str = "application/vnd.ipaas.connector.sshsig.v1";
const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";

/// Where the signature of the artifact with `manifest_digest` is kept in its repository: the
/// tag `sha256-<hex>.sig` (the tag scheme cosign uses, and OCI 1.1's fallback for registries
/// without the referrers API).
pub fn signature_tag(manifest_digest: &str) -> String {
    format!("{}.sig", manifest_digest.replace(':', "-"))
}

/// Push `armored` (an OpenSSH signature of `manifest_digest`) beside the artifact.
pub async fn push_signature(
    reference: &Reference,
    credentials: Option<&Credentials>,
    manifest_digest: &str,
    armored: &str,
) -> anyhow::Result<Pushed> {
    let artifact = Artifact {
        config_media_type: EMPTY_MEDIA_TYPE,
        config: b"{}".to_vec(),
        layer_media_type: SIGNATURE_MEDIA_TYPE,
        layer: armored.as_bytes().to_vec(),
        annotations: BTreeMap::from([
            (
                "dev.ipaas.connector.signed".to_string(),
                manifest_digest.to_string(),
            ),
            (
                "dev.ipaas.connector.signature-namespace".to_string(),
                crate::signature::NAMESPACE.to_string(),
            ),
        ]),
    };
    let tag = signature_tag(manifest_digest);
    push_artifact(reference, credentials, &tag, &artifact).await
}

/// The armored signature kept for `manifest_digest`, if the artifact was signed.
pub async fn fetch_signature(
    reference: &Reference,
    credentials: Option<&Credentials>,
    manifest_digest: &str,
) -> anyhow::Result<Option<String>> {
    let mut registry = Registry::new(reference, credentials)?;
    let url = format!(
        "{}/manifests/{}",
        reference.base(),
        signature_tag(manifest_digest)
    );
    let response = registry
        .send(|c| {
            c.get(url.as_str())
                .header(reqwest::header::ACCEPT, MANIFEST_MEDIA_TYPE)
        })
        .await?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !response.status().is_success() {
        bail!("GET {url}: {}", response.status());
    }
    let manifest: Value = serde_json::from_slice(&response.bytes().await?)
        .context("the signature's manifest is not JSON")?;
    let layer = &manifest["layers"][0];
    if layer["mediaType"] != SIGNATURE_MEDIA_TYPE {
        bail!("{url}: not a signature ({})", layer["mediaType"]);
    }
    let digest = layer["digest"]
        .as_str()
        .context("the signature has no digest")?;
    let bytes = registry
        .fetch(&format!("blobs/{digest}"), "*/*", MAX_DOCUMENT_BYTES as u64)
        .await?;
    if sha256_digest(&bytes) != digest {
        bail!("{url}: the signature's bytes do not match their digest");
    }
    Ok(Some(
        String::from_utf8(bytes).context("the signature is not text")?,
    ))
}

/// A pulled artifact: its layer's bytes, checked against the manifest's digest.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub manifest_digest: String,
    pub manifest: Value,
    pub config: Value,
    pub layer: Vec<u8>,
}

/// Fetch the artifact `reference` names and check it: the manifest against a pinned digest,
/// its signature when a key is required (before anything else is fetched), its media types
/// against the Wasm OCI layout (one `application/wasm` layer), and the layer and config
/// against the digests and sizes the manifest gives.
pub async fn pull(
    reference: &Reference,
    credentials: Option<&Credentials>,
    required_signer: Option<&crate::signature::TrustedKey>,
) -> anyhow::Result<Pulled> {
    let mut registry = Registry::new(reference, credentials)?;
    let manifest_bytes = registry
        .fetch(
            &format!("manifests/{}", reference.manifest_key()),
            MANIFEST_MEDIA_TYPE,
            MAX_DOCUMENT_BYTES as u64,
        )
        .await?;
    let manifest_digest = sha256_digest(&manifest_bytes);
    if let Some(pinned) = &reference.digest
        && *pinned != manifest_digest
    {
        bail!(
            "{reference}: the registry's manifest has digest {manifest_digest}, not the pinned one"
        );
    }
    if let Some(key) = required_signer {
        let armored = fetch_signature(reference, credentials, &manifest_digest)
            .await?
            .with_context(|| {
                format!(
                    "{reference} ({manifest_digest}) is not signed (no {} in its repository), and a signature by {} is required: refused",
                    signature_tag(&manifest_digest),
                    key.fingerprint()
                )
            })?;
        key.verify(manifest_digest.as_bytes(), &armored)
            .with_context(|| format!("{reference} ({manifest_digest})"))?;
    }
    let manifest: Value =
        serde_json::from_slice(&manifest_bytes).context("the manifest is not JSON")?;
    if manifest["config"]["mediaType"] != CONFIG_MEDIA_TYPE {
        bail!(
            "{reference} is not a Wasm artifact: its config is {}, not {CONFIG_MEDIA_TYPE}",
            manifest["config"]["mediaType"]
        );
    }
    let layers = manifest["layers"].as_array().cloned().unwrap_or_default();
    let [layer] = layers.as_slice() else {
        bail!(
            "{reference}: a Wasm artifact has one layer, this has {}",
            layers.len()
        );
    };
    if layer["mediaType"] != LAYER_MEDIA_TYPE {
        bail!(
            "{reference}: the layer is {}, not {LAYER_MEDIA_TYPE}",
            layer["mediaType"]
        );
    }
    let blob = |key: &str, item: &Value| -> anyhow::Result<(String, u64)> {
        let digest = item["digest"]
            .as_str()
            .filter(|d| d.starts_with("sha256:"))
            .with_context(|| format!("{reference}: the {key} has no sha256 digest"))?;
        let size = item["size"]
            .as_u64()
            .with_context(|| format!("{reference}: the {key} has no size"))?;
        Ok((digest.to_string(), size))
    };
    let (layer_digest, layer_size) = blob("layer", layer)?;
    if layer_size > MAX_COMPONENT_BYTES {
        bail!("{reference}: the component is {layer_size} bytes, over {MAX_COMPONENT_BYTES}");
    }
    let (config_digest, _) = blob("config", &manifest["config"])?;
    let verified = |what: &str, bytes: &[u8], digest: &str| -> anyhow::Result<()> {
        let got = sha256_digest(bytes);
        if got != digest {
            bail!(
                "{reference}: the {what} has digest {got}, but the manifest says {digest}: refused"
            );
        }
        Ok(())
    };
    let layer_bytes = registry
        .fetch(&format!("blobs/{layer_digest}"), "*/*", MAX_COMPONENT_BYTES)
        .await?;
    verified("component", &layer_bytes, &layer_digest)?;
    if layer_bytes.len() as u64 != layer_size {
        bail!(
            "{reference}: the component is {} bytes, the manifest says {layer_size}",
            layer_bytes.len()
        );
    }
    let config_bytes = registry
        .fetch(
            &format!("blobs/{config_digest}"),
            "*/*",
            MAX_DOCUMENT_BYTES as u64,
        )
        .await?;
    verified("config", &config_bytes, &config_digest)?;
    Ok(Pulled {
        manifest_digest,
        manifest,
        config: serde_json::from_slice(&config_bytes).context("the config is not JSON")?,
        layer: layer_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_as_registries_write_them() {
        let r = Reference::parse("oci://127.0.0.1:5000/acme/ironclad:0.1.0").unwrap();
        assert_eq!(
            (
                r.registry.as_str(),
                r.repository.as_str(),
                r.tag.as_deref(),
                r.digest.as_deref()
            ),
            ("127.0.0.1:5000", "acme/ironclad", Some("0.1.0"), None)
        );
        assert_eq!(r.base(), "http://127.0.0.1:5000/v2/acme/ironclad");
        let pinned = format!("ghcr.io/acme/ironclad@sha256:{}", "a".repeat(64));
        let r = Reference::parse(&pinned).unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.base(), "https://ghcr.io/v2/acme/ironclad");
        assert_eq!(r.to_string(), pinned);
        for bad in [
            "ironclad:0.1.0",
            "ghcr.io/acme/ironclad",
            "ghcr.io/Acme/ironclad:1",
            "ghcr.io/acme/ironclad@sha256:abc",
            "ghcr.io//x:1",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bearer_challenges_are_read_whole() {
        let p = challenge_params(
            r#"realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/x:pull""#,
        );
        assert_eq!(p["realm"], "https://ghcr.io/token");
        assert_eq!(p["service"], "ghcr.io");
        assert_eq!(p["scope"], "repository:acme/x:pull");
    }
}
