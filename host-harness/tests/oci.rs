//! The component and the WIT package in an OCI registry, end to end on this machine: Debian's
//! `docker-registry` (the CNCF Distribution registry) started by the test on loopback.
//! `package` → `publish` → the manifest and config as the CNCF Wasm OCI layout has them →
//! `--component oci://REF` pulls, checks the digests and runs it; a pinned digest that does not
//! match, or a layer changed in the registry's storage, is refused. `publish-wit` pushes the WIT
//! package, which decodes back to `ipaas:connector`. Signed artifacts: `publish --sign-key`
//! signs the manifest digest (OpenSSH SSHSIG, checked by `ssh-keygen -Y verify` too) and
//! `--require-signature KEY.pub` admits that signer's artifact and refuses another signer's,
//! an unsigned one, and a tampered layer.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

const REVISION: &str = "89abcdef0123456789abcdef0123456789abcdef";

/// `docker-registry` (`apt-get install docker-registry`; `scripts/test` does), or
/// `$DOCKER_REGISTRY`. Missing is a failure; outside CI, `CONNECTOR_SKIP_OCI=1` skips loudly.
fn registry_binary() -> Option<PathBuf> {
    let found = std::env::var_os("DOCKER_REGISTRY")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::split_paths(&std::env::var_os("PATH")?)
                .map(|dir| dir.join("docker-registry"))
                .find(|p| p.is_file())
        });
    if found.is_some() {
        return found;
    }
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    if !in_ci && std::env::var_os("CONNECTOR_SKIP_OCI").is_some_and(|v| v == "1") {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "NOT RUN: docker-registry is missing and CONNECTOR_SKIP_OCI=1 is set; this test proves nothing in this run"
        );
        return None;
    }
    panic!(
        "docker-registry is missing: `apt-get install docker-registry` (scripts/test does), or set \
         DOCKER_REGISTRY; outside CI, CONNECTOR_SKIP_OCI=1 skips this test"
    );
}

/// A registry on a loopback port of its own, storing under `dir/registry`; stopped on drop.
struct LocalRegistry {
    child: Child,
    address: String,
    storage: PathBuf,
}

impl LocalRegistry {
    async fn start(binary: &Path, dir: &Path) -> LocalRegistry {
        let port = free_port();
        let storage = dir.join("registry");
        let config = dir.join("registry.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                storage.display()
            ),
        )
        .unwrap();
        // Its log (a line per 404, which the tests cause on purpose) stays in the directory.
        let log = std::fs::File::create(dir.join("registry.log")).unwrap();
        let child = Command::new(binary)
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("docker-registry starts");
        let registry = LocalRegistry {
            child,
            address: format!("127.0.0.1:{port}"),
            storage,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::get(format!("http://{}/v2/", registry.address))
            .await
            .map_or(true, |r| !r.status().is_success())
        {
            assert!(Instant::now() < deadline, "the registry did not answer");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        registry
    }

    async fn get(&self, path: &str, accept: &str) -> Vec<u8> {
        let response = reqwest::Client::new()
            .get(format!("http://{}/v2/{path}", self.address))
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.bytes().await.unwrap().to_vec()
    }

    /// Where the registry keeps a blob's bytes (the Distribution filesystem driver's layout).
    fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.storage
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `connector-harness package` of the commit `revision` into `dir/package-REVISION`; its
/// manifest.
async fn packaged(dir: &Path, revision: &str) -> (PathBuf, Value) {
    let package = dir.join(format!("package-{revision}"));
    let packaged = cli(
        dir,
        &[
            "package",
            "--out",
            package.to_str().unwrap(),
            "--listing",
            &repo("package/listing.json"),
            "--changelog",
            &repo("CHANGELOG.md"),
            "--revision",
            revision,
        ],
    )
    .await;
    assert_eq!(packaged.code, 0, "{}", packaged.stderr);
    let manifest = packaged.json();
    (package, manifest)
}

/// An Ed25519 key pair made by `ssh-keygen` (the tool a buyer checks signatures with):
/// `dir/NAME` and `dir/NAME.pub`, and the key's fingerprint.
fn ssh_key_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf, String) {
    let key = dir.join(name);
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen runs (openssh-client)");
    assert!(made.success());
    let listed = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(key.with_extension("pub"))
        .output()
        .unwrap();
    let fingerprint = String::from_utf8(listed.stdout)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    (key.clone(), key.with_extension("pub"), fingerprint)
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_component_is_pulled_verified_and_run() {
    let Some(binary) = registry_binary() else {
        return;
    };
    let dir = scratch("oci");
    let registry = LocalRegistry::start(&binary, &dir).await;
    let (package, shipped) = packaged(&dir, REVISION).await;

    // Publish: the package's component, as a Wasm artifact.
    let reference = format!("{}/acme/ironclad:0.1.0", registry.address);
    let published = cli_package(&dir, package.to_str().unwrap(), &["publish", &reference]).await;
    assert_eq!(published.code, 0, "{}", published.stderr);
    let published = published.json();
    let manifest_bytes = registry
        .get(
            "acme/ironclad/manifests/0.1.0",
            "application/vnd.oci.image.manifest.v1+json",
        )
        .await;
    let digest = format!(
        "sha256:{}",
        connector_host::package::hex(&Sha256::digest(&manifest_bytes))
    );
    assert_eq!(published["manifest_digest"], digest.as_str());
    assert_eq!(
        published["pinned"],
        format!("oci://{}/acme/ironclad@{digest}", registry.address).as_str()
    );

    // The CNCF Wasm OCI layout: a wasm config, one application/wasm layer, annotations.
    let manifest = json(&manifest_bytes);
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["mediaType"], "application/wasm");
    assert_eq!(
        layers[0]["digest"],
        format!(
            "sha256:{}",
            shipped["component"]["sha256"].as_str().unwrap()
        )
        .as_str()
    );
    let annotations = &manifest["annotations"];
    for (key, want) in [
        ("title", "ironclad"),
        ("version", shipped["version"].as_str().unwrap()),
        ("licenses", "Apache-2.0"),
        ("revision", REVISION),
        ("vendor", "Ironclad connector maintainers"),
    ] {
        assert_eq!(
            annotations[format!("org.opencontainers.image.{key}")],
            want,
            "{key}"
        );
    }
    let wit = format!(
        "ipaas:connector@{}",
        shipped["wit"]["version"].as_str().unwrap()
    );
    assert_eq!(annotations["dev.ipaas.connector.wit"], wit.as_str());
    let config = json(
        &registry
            .get(
                &format!(
                    "acme/ironclad/blobs/{}",
                    manifest["config"]["digest"].as_str().unwrap()
                ),
                "*/*",
            )
            .await,
    );
    assert_eq!(
        (&config["architecture"], &config["os"]),
        (&"wasm".into(), &"wasip2".into())
    );
    assert_eq!(config["layerDigests"][0], layers[0]["digest"]);
    let exports: Vec<&str> = config["component"]["exports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        exports.contains(
            &format!(
                "ipaas:connector/actions@{}",
                &wit["ipaas:connector@".len()..]
            )
            .as_str()
        ),
        "{exports:?}"
    );

    // Run from the registry: by tag, then pinned to the manifest's digest.
    for source in [
        format!("oci://{reference}"),
        published["pinned"].as_str().unwrap().to_string(),
    ] {
        let run = cli_with_component(&dir, Path::new(&source), &["describe"]).await;
        assert_eq!(run.code, 0, "{source}: {}", run.stderr);
        let described = run.json();
        assert_eq!(described["id"], "ironclad");
        assert_eq!(described["component_metadata"]["revision"], REVISION);
        assert!(run.stderr.contains(&digest), "{}", run.stderr);
    }

    // A pin the registry does not hold is refused.
    let wrong = format!(
        "oci://{}/acme/ironclad@sha256:{}",
        registry.address,
        "0".repeat(64)
    );
    let run = cli_with_component(&dir, Path::new(&wrong), &["describe"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("404"), "{}", run.stderr);

    // A layer changed in the registry's storage is refused by its digest.
    let blob = registry.blob_file(layers[0]["digest"].as_str().unwrap());
    let mut bytes = std::fs::read(&blob).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    let run = cli_with_component(
        &dir,
        Path::new(&format!("oci://{reference}")),
        &["describe"],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("the component has digest") && run.stderr.contains("refused"),
        "{}",
        run.stderr
    );

    // A manifest changed in storage no longer matches the digest it is pinned by.
    let stored = registry.blob_file(&digest);
    let text = std::fs::read_to_string(&stored).unwrap();
    std::fs::write(&stored, text.replace("\"ironclad\"", "\"ironcl4d\"")).unwrap();
    let run = cli_with_component(
        &dir,
        Path::new(published["pinned"].as_str().unwrap()),
        &["describe"],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("not the pinned one"), "{}", run.stderr);

    // The WIT package, published beside it, decodes back to the contract.
    let wit_reference = format!(
        "{}/acme/ipaas-connector-wit:{}",
        registry.address,
        &wit["ipaas:connector@".len()..]
    );
    let pushed = cli(
        &dir,
        &["publish-wit", &wit_reference, "--wit", &repo("wit/v0.4")],
    )
    .await;
    assert_eq!(pushed.code, 0, "{}", pushed.stderr);
    assert_eq!(pushed.json()["package"], wit.as_str());
    let wit_manifest = json(
        &registry
            .get(
                &format!(
                    "acme/ipaas-connector-wit/manifests/{}",
                    &wit["ipaas:connector@".len()..]
                ),
                "application/vnd.oci.image.manifest.v1+json",
            )
            .await,
    );
    assert_eq!(wit_manifest["layers"][0]["mediaType"], "application/wasm");
    let layer = registry
        .get(
            &format!(
                "acme/ipaas-connector-wit/blobs/{}",
                wit_manifest["layers"][0]["digest"].as_str().unwrap()
            ),
            "*/*",
        )
        .await;
    let decoded = wit_component::decode(&layer).unwrap();
    let name = &decoded.resolve().packages[decoded.package()].name;
    assert_eq!(name.to_string(), wit);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_signature_admits_the_vendors_artifact_and_nothing_else() {
    let Some(binary) = registry_binary() else {
        return;
    };
    let dir = scratch("oci-signed");
    let registry = LocalRegistry::start(&binary, &dir).await;
    let (package, _) = packaged(&dir, REVISION).await;
    let (vendor_key, vendor_pub, vendor_fingerprint) = ssh_key_pair(&dir, "vendor");
    let (_, stranger_pub, _) = ssh_key_pair(&dir, "stranger");

    let reference = format!("{}/acme/ironclad:0.1.0", registry.address);
    let published = cli_package(
        &dir,
        package.to_str().unwrap(),
        &[
            "publish",
            &reference,
            "--sign-key",
            vendor_key.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(published.code, 0, "{}", published.stderr);
    let published = published.json();
    let digest = published["manifest_digest"].as_str().unwrap().to_string();
    assert_eq!(published["signature"]["key"], vendor_fingerprint.as_str());
    let tag = format!("{}.sig", digest.replace(':', "-"));
    assert_eq!(published["signature"]["tag"], tag.as_str());

    // The signature is a plain OpenSSH signature: `ssh-keygen -Y verify` accepts it for the
    // vendor, over the manifest digest, in the `ipaas-connector` namespace.
    let signature_manifest = json(
        &registry
            .get(
                &format!("acme/ironclad/manifests/{tag}"),
                "application/vnd.oci.image.manifest.v1+json",
            )
            .await,
    );
    let armored = registry
        .get(
            &format!(
                "acme/ironclad/blobs/{}",
                signature_manifest["layers"][0]["digest"].as_str().unwrap()
            ),
            "*/*",
        )
        .await;
    std::fs::write(dir.join("artifact.sig"), &armored).unwrap();
    let public = std::fs::read_to_string(&vendor_pub).unwrap();
    std::fs::write(dir.join("allowed_signers"), format!("vendor {public}")).unwrap();
    let mut verify = Command::new("ssh-keygen")
        .args([
            "-Y",
            "verify",
            "-I",
            "vendor",
            "-n",
            "ipaas-connector",
            "-f",
        ])
        .arg(dir.join("allowed_signers"))
        .arg("-s")
        .arg(dir.join("artifact.sig"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    verify
        .stdin
        .take()
        .unwrap()
        .write_all(digest.as_bytes())
        .unwrap();
    let verified = verify.wait_with_output().unwrap();
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );

    let run_requiring = |key: PathBuf, source: String| {
        let dir = dir.clone();
        async move {
            let mut cmd = harness_with(&dir, Path::new(&source));
            cmd.arg("--require-signature").arg(&key).arg("describe");
            run_command(cmd).await
        }
    };
    let tagged = format!("oci://{reference}");
    // The vendor's key admits it.
    let run = run_requiring(vendor_pub.clone(), tagged.clone()).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["id"], "ironclad");
    // Another key does not, and says who signed.
    let run = run_requiring(stranger_pub.clone(), tagged.clone()).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("signed by key {vendor_fingerprint}"))
            && run.stderr.contains("refused"),
        "{}",
        run.stderr
    );
    // An unsigned artifact (another build: the next commit) is refused when a signature is
    // required.
    let (next, _) = packaged(&dir, "fedcba9876543210fedcba9876543210fedcba98").await;
    let unsigned = format!("{}/acme/ironclad:unsigned", registry.address);
    let pushed = cli_package(&dir, next.to_str().unwrap(), &["publish", &unsigned]).await;
    assert_eq!(pushed.code, 0, "{}", pushed.stderr);
    let run = run_requiring(vendor_pub.clone(), format!("oci://{unsigned}")).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("is not signed"), "{}", run.stderr);
    // A tampered layer is refused though the signature over the manifest verifies.
    let manifest = json(
        &registry
            .get(
                "acme/ironclad/manifests/0.1.0",
                "application/vnd.oci.image.manifest.v1+json",
            )
            .await,
    );
    let blob = registry.blob_file(manifest["layers"][0]["digest"].as_str().unwrap());
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[100] ^= 0x01;
    std::fs::write(&blob, bytes).unwrap();
    let run = run_requiring(vendor_pub.clone(), tagged).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("the component has digest"),
        "{}",
        run.stderr
    );
    // A signature is checked on what a registry serves, not on a local file.
    let run = run_requiring(vendor_pub, component_path().to_string_lossy().into_owned()).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--component oci://"), "{}", run.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}
