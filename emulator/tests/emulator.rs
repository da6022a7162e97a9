//! The emulator over real HTTP on 127.0.0.1:0, with a tiny HTTP/1.1 client on a TcpStream.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ironclad_emulator::RunningEmulator;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common;
use common::{Resp, client, parse, start};

// --- a tiny client ---------------------------------------------------------------------------

struct Req<'a> {
    method: &'a str,
    target: String,
    headers: Vec<(String, String)>,
    body: Option<(String, Vec<u8>)>,
}

impl<'a> Req<'a> {
    fn new(method: &'a str, target: impl Into<String>) -> Self {
        Self {
            method,
            target: target.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn bearer(self, token: &str) -> Self {
        self.header("Authorization", &format!("Bearer {token}"))
    }

    fn acting_as(self, email: &str) -> Self {
        self.header("X-As-User-Email", email)
    }

    fn json(mut self, v: Value) -> Self {
        self.body = Some(("application/json".into(), serde_json::to_vec(&v).unwrap()));
        self
    }

    fn form(mut self, pairs: &[(&str, &str)]) -> Self {
        let enc = |s: &str| {
            s.bytes()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || b"-_.~".contains(&c) {
                        (c as char).to_string()
                    } else {
                        format!("%{c:02X}")
                    }
                })
                .collect::<String>()
        };
        let text = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.body = Some((
            "application/x-www-form-urlencoded".into(),
            text.into_bytes(),
        ));
        self
    }

    async fn send(self, emu: &RunningEmulator) -> Resp {
        let mut stream = tokio::net::TcpStream::connect(emu.local_addr())
            .await
            .unwrap();
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.method,
            self.target,
            emu.local_addr()
        );
        for (k, v) in &self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        let body = match &self.body {
            Some((ct, bytes)) => {
                head.push_str(&format!("Content-Type: {ct}\r\n"));
                bytes.clone()
            }
            None => Vec::new(),
        };
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&body).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        parse(&raw)
    }
}

// --- helpers ---------------------------------------------------------------------------------

fn jane(emu: &RunningEmulator) -> String {
    emu.seed().users[0].email.clone()
}

async fn cc_token(emu: &RunningEmulator, name: &str) -> String {
    let c = client(emu, name);
    let r = Req::new("POST", "/oauth/token")
        .json(json!({ "grant_type": "client_credentials", "client_id": c.client_id, "client_secret": c.client_secret }))
        .send(emu)
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()["access_token"].as_str().unwrap().to_owned()
}

/// GET as jane with a client-credentials token of the full demo client.
async fn api_get(emu: &RunningEmulator, token: &str, target: &str) -> Resp {
    Req::new("GET", target)
        .bearer(token)
        .acting_as(&jane(emu))
        .send(emu)
        .await
}

fn location_param(location: &str, name: &str) -> Option<String> {
    let query = location.split_once('?')?.1;
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| {
            v.replace("%20", " ")
                .replace("%3A", ":")
                .replace("%2F", "/")
        })
}

// --- OAuth -----------------------------------------------------------------------------------

#[tokio::test]
async fn client_credentials_in_json_form_and_basic() {
    let emu = start().await;
    let c = client(&emu, "demo-client-credentials");
    let json_grant = Req::new("POST", "/oauth/token")
        .json(json!({ "grant_type": "client_credentials", "client_id": c.client_id, "client_secret": c.client_secret, "scope": "public.workflows.readWorkflows" }))
        .send(&emu)
        .await;
    assert_eq!(json_grant.status, 200);
    let body = json_grant.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 21600);
    assert_eq!(body["scope"], "public.workflows.readWorkflows");
    assert!(body.get("refresh_token").is_none());
    assert_eq!(json_grant.header("cache-control"), Some("no-store"));

    let form_grant = Req::new("POST", "/oauth/token")
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
        ])
        .send(&emu)
        .await;
    assert_eq!(form_grant.status, 200);
    let scopes = form_grant.json()["scope"]
        .as_str()
        .unwrap()
        .split(' ')
        .count();
    assert_eq!(
        scopes, 69,
        "omitted scope = every registered scope (60 public.*, 9 scim.*)"
    );

    let basic = STANDARD.encode(format!("{}:{}", c.client_id, c.client_secret));
    let basic_grant = Req::new("POST", "/oauth/token")
        .header("Authorization", &format!("Basic {basic}"))
        .form(&[("grant_type", "client_credentials")])
        .send(&emu)
        .await;
    assert_eq!(basic_grant.status, 200);
    emu.shutdown().await;
}

#[tokio::test]
async fn token_endpoint_errors() {
    let emu = start().await;
    let c = client(&emu, "demo-client-credentials");
    let token = |body: Value| Req::new("POST", "/oauth/token").json(body);

    let wrong = token(json!({ "grant_type": "client_credentials", "client_id": c.client_id, "client_secret": "nope" })).send(&emu).await;
    assert_eq!(
        (wrong.status, wrong.json()),
        (
            401,
            json!({ "error": "invalid_client", "error_description": "invalid client" })
        )
    );
    let unknown = token(json!({ "grant_type": "client_credentials", "client_id": "00000000-0000-4000-8000-000000000000", "client_secret": "x" })).send(&emu).await;
    assert_eq!(unknown.status, 401);
    let malformed = token(
        json!({ "grant_type": "client_credentials", "client_id": "abc", "client_secret": "x" }),
    )
    .send(&emu)
    .await;
    assert_eq!(
        (malformed.status, malformed.json()),
        (
            400,
            json!({ "error": "invalid_request", "error_description": "Invalid or missing parameters: Invalid value for client_id, expected type UUID" })
        )
    );
    let limited = client(&emu, "limited-scopes");
    let greedy = token(json!({ "grant_type": "client_credentials", "client_id": limited.client_id, "client_secret": limited.client_secret, "scope": "public.workflows.readSchemas" }))
        .send(&emu)
        .await;
    assert_eq!(
        (greedy.status, greedy.json()["error"].clone()),
        (400, json!("invalid_scope"))
    );
    let wrong_grant = token(json!({ "grant_type": "authorization_code", "client_id": c.client_id, "client_secret": c.client_secret, "code": "x", "redirect_uri": "http://x" }))
        .send(&emu)
        .await;
    assert_eq!(
        (wrong_grant.status, wrong_grant.json()["error"].clone()),
        (403, json!("unauthorized_client"))
    );
    let no_grant = token(json!({ "client_id": c.client_id, "client_secret": c.client_secret }))
        .send(&emu)
        .await;
    assert_eq!(
        (no_grant.status, no_grant.json()["error"].clone()),
        (400, json!("invalid_request"))
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn authorization_code_with_pkce_and_rotating_refresh_tokens() {
    let emu = start().await;
    let c = client(&emu, "demo-authorization-code");
    let redirect = &c.redirect_uris[0];
    let verifier = "a-long-random-verifier-string-with-enough-entropy-0123456789";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let authorize = |state: &str| {
        format!(
            "/oauth/authorize?response_type=code&client_id={}&redirect_uri={}&scope=public.workflows.readWorkflows%20public.workflows.readSchemas&state={state}&code_challenge={challenge}&code_challenge_method=S256",
            c.client_id,
            redirect.replace(':', "%3A").replace('/', "%2F"),
        )
    };
    let consent = Req::new("GET", authorize("xyz")).send(&emu).await;
    assert_eq!(consent.status, 302);
    let location = consent.header("location").unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{redirect}?code=")),
        "{location}"
    );
    assert_eq!(location_param(&location, "state").as_deref(), Some("xyz"));
    let code = location_param(&location, "code").unwrap();

    let exchange = |code: &str, verifier: &str| {
        Req::new("POST", "/oauth/token").form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
        ])
    };
    let bad = exchange(&code, "not-the-verifier").send(&emu).await;
    assert_eq!(
        (bad.status, bad.json()["error"].clone()),
        (403, json!("invalid_grant"))
    );
    let spent = exchange(&code, verifier).send(&emu).await;
    assert_eq!(
        (spent.status, spent.json()["error"].clone()),
        (403, json!("invalid_grant")),
        "a code is single-use"
    );

    let consent = Req::new("GET", authorize("second")).send(&emu).await;
    let code = location_param(consent.header("location").unwrap(), "code").unwrap();
    let granted = exchange(&code, verifier).send(&emu).await;
    assert_eq!(
        granted.status,
        200,
        "{}",
        String::from_utf8_lossy(&granted.body)
    );
    let grant = granted.json();
    assert_eq!(
        grant["scope"],
        "public.workflows.readWorkflows public.workflows.readSchemas"
    );
    let access = grant["access_token"].as_str().unwrap().to_owned();
    let refresh1 = grant["refresh_token"].as_str().unwrap().to_owned();

    // The token acts as the consenting user, no impersonation header needed.
    let me = Req::new("GET", "/oauth/userinfo")
        .bearer(&access)
        .send(&emu)
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["email"], jane(&emu));
    assert_eq!(
        Req::new("GET", "/public/api/v1/workflows?pageSize=1")
            .bearer(&access)
            .send(&emu)
            .await
            .status,
        200
    );
    let missing = Req::new("POST", "/public/api/v1/workflows")
        .bearer(&access)
        .json(json!({}))
        .send(&emu)
        .await;
    assert_eq!(
        missing.json()["message"],
        "token is missing required scope public.workflows.createWorkflows"
    );

    let refresh = |token: &str| {
        Req::new("POST", "/oauth/token").json(json!({
            "grant_type": "refresh_token", "refresh_token": token, "client_id": c.client_id, "client_secret": c.client_secret,
        }))
    };
    let rotated = refresh(&refresh1).send(&emu).await;
    assert_eq!(rotated.status, 200);
    let refresh2 = rotated.json()["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh1, refresh2);
    let reused = refresh(&refresh1).send(&emu).await;
    assert_eq!(
        (reused.status, reused.json()["error"].clone()),
        (403, json!("invalid_grant"))
    );
    let narrowed = Req::new("POST", "/oauth/token")
        .json(json!({ "grant_type": "refresh_token", "refresh_token": refresh2, "client_id": c.client_id, "client_secret": c.client_secret, "scope": "public.workflows.readWorkflows" }))
        .send(&emu)
        .await;
    assert_eq!(narrowed.json()["scope"], "public.workflows.readWorkflows");
    let widened = refresh(narrowed.json()["refresh_token"].as_str().unwrap())
        .send(&emu)
        .await;
    assert_eq!(
        widened.json()["scope"],
        "public.workflows.readWorkflows public.workflows.readSchemas"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn authorize_errors() {
    let emu = start().await;
    let ac = client(&emu, "demo-authorization-code");
    let cc = client(&emu, "demo-client-credentials");
    let redirect = "http%3A%2F%2F127.0.0.1%3A8976%2Fcallback";
    let get = |q: String| Req::new("GET", format!("/oauth/authorize?response_type=code&{q}"));

    let malformed = get(format!("client_id=abc&redirect_uri={redirect}"))
        .send(&emu)
        .await;
    assert_eq!(
        (malformed.status, malformed.json()),
        (
            400,
            json!({ "error": "invalid_request", "error_description": "Invalid or missing parameters: Invalid value for client_id, expected type UUID" })
        )
    );
    let unknown = get(format!(
        "client_id=00000000-0000-4000-8000-000000000000&redirect_uri={redirect}"
    ))
    .send(&emu)
    .await;
    assert_eq!(
        (unknown.status, unknown.json()["error"].clone()),
        (403, json!("unauthorized_client"))
    );
    let no_grant = get(format!(
        "client_id={}&redirect_uri={redirect}",
        cc.client_id
    ))
    .send(&emu)
    .await;
    assert_eq!(
        (no_grant.status, no_grant.json()["error"].clone()),
        (403, json!("unauthorized_client"))
    );
    let unregistered = get(format!(
        "client_id={}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
        ac.client_id
    ))
    .send(&emu)
    .await;
    assert_eq!(
        (unregistered.status, unregistered.json()["error"].clone()),
        (400, json!("invalid_request"))
    );
    let bad_scope = get(format!(
        "client_id={}&redirect_uri={redirect}&scope=public.contracts.readEverything&state=s1",
        ac.client_id
    ))
    .send(&emu)
    .await;
    assert_eq!(bad_scope.status, 302);
    let location = bad_scope.header("location").unwrap();
    assert_eq!(
        location_param(location, "error").as_deref(),
        Some("invalid_scope")
    );
    assert_eq!(location_param(location, "state").as_deref(), Some("s1"));
    emu.shutdown().await;
}

// --- resource authentication ---------------------------------------------------------------

#[tokio::test]
async fn bearer_impersonation_and_scopes() {
    let emu = start().await;
    let token = cc_token(&emu, "demo-client-credentials").await;

    let none = Req::new("GET", "/public/api/v1/workflows").send(&emu).await;
    assert_eq!(
        (none.status, none.json()),
        (
            401,
            json!({ "code": "UNAUTHORIZED", "message": "invalid authentication token" })
        )
    );
    assert!(
        none.header("x-ironclad-requestid")
            .is_some_and(|id| id.len() == 36)
    );
    let unknown = Req::new("GET", "/public/api/v1/workflows")
        .bearer("not-a-token")
        .acting_as(&jane(&emu))
        .send(&emu)
        .await;
    assert_eq!(unknown.status, 401);

    let no_actor = Req::new("GET", "/public/api/v1/workflows")
        .bearer(&token)
        .send(&emu)
        .await;
    assert_eq!(
        (no_actor.status, no_actor.json()),
        (
            400,
            json!({ "code": "MISSING_PARAM", "message": "x-as-user-email or x-as-user-id header is required for client credentials tokens", "param": "x-as-user-email" })
        )
    );
    let stranger = Req::new("GET", "/public/api/v1/workflows")
        .bearer(&token)
        .acting_as("nobody@acme.example")
        .send(&emu)
        .await;
    assert_eq!(
        (
            stranger.status,
            stranger.json()["code"].clone(),
            stranger.json()["param"].clone()
        ),
        (400, json!("INVALID_PARAM"), json!("x-as-user-email"))
    );
    let raj = &emu.seed().users[1];
    let by_id = Req::new("GET", "/oauth/userinfo")
        .bearer(&token)
        .header("x-as-user-id", &raj.id)
        .send(&emu)
        .await;
    assert_eq!(by_id.status, 200);
    let info = by_id.json();
    assert_eq!(
        (info["email"].as_str(), info["sub"].as_str()),
        (Some(raj.email.as_str()), Some(raj.id.as_str()))
    );
    for field in [
        "id",
        "username",
        "firstName",
        "lastName",
        "displayName",
        "title",
        "companyId",
        "companyName",
    ] {
        assert!(info[field].is_string(), "{field}");
    }
    assert_eq!(info["scopes"].as_array().unwrap().len(), 69);
    let legacy_path = Req::new("GET", "/public/api/v1/oauth/userinfo")
        .bearer(&token)
        .acting_as(&jane(&emu))
        .send(&emu)
        .await;
    assert_eq!(legacy_path.json()["email"], jane(&emu));
    let company = api_get(&emu, &token, "/oauth/company-info").await.json();
    assert_eq!(company["companyName"], "Acme Legal Ops (emulated)");
    assert!(
        company["companyDisplayName"].is_string()
            && company["entitlements"].is_object()
            && company["companyId"].is_string()
    );

    let limited = cc_token(&emu, "limited-scopes").await;
    assert_eq!(
        api_get(&emu, &limited, "/public/api/v1/workflows")
            .await
            .status,
        200
    );
    let forbidden = api_get(
        &emu,
        &limited,
        "/public/api/v1/workflow-schemas?form=launch",
    )
    .await;
    assert_eq!(
        (forbidden.status, forbidden.json()),
        (
            403,
            json!({ "code": "FORBIDDEN", "message": "token is missing required scope public.workflows.readSchemas", "param": "scope" })
        )
    );

    // Unknown routes: 401 before authentication, 404 after.
    assert_eq!(
        Req::new("GET", "/public/api/v1/no-such-thing")
            .send(&emu)
            .await
            .status,
        401
    );
    let missing = api_get(&emu, &token, "/public/api/v1/no-such-thing/really").await;
    assert_eq!(
        (missing.status, missing.json()),
        (404, json!({ "code": "NOT_FOUND", "message": "not found" }))
    );
    let wrong_method = Req::new("DELETE", "/public/api/v1/workflows")
        .bearer(&token)
        .acting_as(&jane(&emu))
        .send(&emu)
        .await;
    assert_eq!(
        (wrong_method.status, wrong_method.json()["code"].clone()),
        (404, json!("NOT_FOUND"))
    );
    for (method, target) in [
        ("DELETE", "/public/api/v1/workflows"),
        ("GET", "/public/api/v1"),
        ("POST", "/oauth/userinfo"),
    ] {
        assert_eq!(
            Req::new(method, target).send(&emu).await.status,
            401,
            "{method} {target} authenticates first"
        );
    }

    // Expired tokens.
    assert_eq!(
        Req::new("POST", "/_emulator/expire-tokens")
            .send(&emu)
            .await
            .status,
        200
    );
    let expired = api_get(&emu, &token, "/public/api/v1/workflows").await;
    assert_eq!(
        (expired.status, expired.json()),
        (
            401,
            json!({ "code": "UNAUTHORIZED", "message": "token has expired" })
        )
    );
    emu.shutdown().await;
}

// --- workflows -------------------------------------------------------------------------------

const ALL: &str = "status=active,paused,completed,cancelled";

#[tokio::test]
async fn pages_through_all_45_workflows() {
    let emu = start().await;
    let token = cc_token(&emu, "demo-client-credentials").await;
    let mut seen = Vec::new();
    for page in 0..3 {
        let r = api_get(
            &emu,
            &token,
            &format!("/public/api/v1/workflows?{ALL}&page={page}&pageSize=20"),
        )
        .await;
        assert_eq!(r.status, 200);
        let body = r.json();
        assert_eq!(
            (
                body["page"].as_u64(),
                body["pageSize"].as_u64(),
                body["count"].as_u64()
            ),
            (Some(page), Some(20), Some(45))
        );
        let list = body["list"].as_array().unwrap();
        assert_eq!(list.len(), if page < 2 { 20 } else { 5 });
        seen.extend(list.iter().cloned());
    }
    let stamps: Vec<&str> = seen
        .iter()
        .map(|w| w["lastUpdated"].as_str().unwrap())
        .collect();
    assert!(
        stamps.windows(2).all(|w| w[0] > w[1]),
        "lastUpdated descending"
    );
    let mut ids: Vec<&str> = seen.iter().map(|w| w["id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 45);
    let w = &seen[0];
    for field in [
        "id",
        "ironcladId",
        "title",
        "template",
        "step",
        "schema",
        "attributes",
        "isCancelled",
        "isComplete",
        "status",
        "creator",
        "created",
        "lastUpdated",
        "roles",
        "approvals",
        "signatures",
        "isRevertibleToReview",
        "recordIds",
    ] {
        assert!(w.get(field).is_some(), "missing {field}");
    }
    let beyond = api_get(
        &emu,
        &token,
        &format!("/public/api/v1/workflows?{ALL}&page=3&pageSize=20"),
    )
    .await
    .json();
    assert_eq!(
        (
            beyond["count"].as_u64(),
            beyond["list"].as_array().unwrap().len()
        ),
        (Some(45), 0)
    );
    let defaults = api_get(&emu, &token, "/public/api/v1/workflows")
        .await
        .json();
    assert_eq!(
        (defaults["page"].as_u64(), defaults["pageSize"].as_u64()),
        (Some(0), Some(20))
    );
    for bad in ["pageSize=101", "pageSize=0", "page=-1", "pageSize=ten"] {
        let r = api_get(&emu, &token, &format!("/public/api/v1/workflows?{bad}")).await;
        assert_eq!(
            (r.status, r.json()["code"].clone()),
            (400, json!("INVALID_PARAM")),
            "{bad}"
        );
        assert_eq!(
            r.json()["param"].as_str().unwrap(),
            bad.split('=').next().unwrap()
        );
    }
    // In-progress links point at the emulator itself.
    let reviewing = seen
        .iter()
        .find(|w| w["approvals"]["state"] == "in_progress")
        .unwrap();
    assert!(
        reviewing["approvals"]["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/public/api/v1/workflows/", emu.base_url()))
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn list_filters() {
    let emu = start().await;
    let token = cc_token(&emu, "demo-client-credentials").await;
    let list = |q: String| {
        let token = token.clone();
        let emu = &emu;
        async move {
            api_get(
                emu,
                &token,
                &format!("/public/api/v1/workflows?pageSize=100&{q}"),
            )
            .await
        }
    };
    let count = |v: &Value| v["count"].as_u64().unwrap();
    let statuses = |v: &Value| {
        v["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["status"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };

    let active = list(String::new()).await.json();
    assert_eq!(count(&active), 29);
    assert!(statuses(&active).iter().all(|s| s == "active"));
    let paused_or_cancelled = list("status=paused%2Ccancelled".into()).await.json();
    assert_eq!(count(&paused_or_cancelled), 11);
    assert!(
        statuses(&paused_or_cancelled)
            .iter()
            .all(|s| s == "paused" || s == "cancelled")
    );
    let repeated = list("status=paused&status=cancelled".into()).await.json();
    assert_eq!(count(&repeated), 11);
    let bad = list("status=done".into()).await;
    assert_eq!(
        (bad.status, bad.json()["param"].clone()),
        (400, json!("status"))
    );

    let template = emu.seed().templates[1].id.clone();
    let by_template = list(format!("{ALL}&template={template}")).await.json();
    assert!(count(&by_template) > 0 && count(&by_template) < 45);
    assert!(
        by_template["list"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["template"] == template.as_str())
    );

    let all = list(ALL.into()).await.json();
    let cutoff = all["list"][9]["lastUpdated"].as_str().unwrap().to_owned();
    let since = list(format!("{ALL}&lastUpdated={cutoff}")).await.json();
    assert_eq!(count(&since), 10);
    assert_eq!(
        list("lastUpdated=yesterday".into()).await.json()["param"],
        "lastUpdated"
    );

    let title = all["list"][0]["title"].as_str().unwrap().to_owned();
    let equals = list(format!(
        "{ALL}&filter={}",
        enc(&format!(
            "Equals([title], '{}')",
            title.replace('\'', "\\'")
        ))
    ))
    .await
    .json();
    assert_eq!(count(&equals), 1);
    assert_eq!(equals["list"][0]["title"], title.as_str());
    let margie = list(format!(
        "{ALL}&filter={}",
        enc("Equals([counterpartyName], 'Margie\\'s Travel')")
    ))
    .await
    .json();
    assert_eq!(count(&margie), 2, "one NDA, one consulting agreement");
    let contains = list(format!(
        "{ALL}&filter={}",
        enc("Or(Contains([counterpartyName], 'toys'), Contains([counterpartyName], 'INDUSTRIES'))")
    ))
    .await
    .json();
    assert!(count(&contains) >= 3);
    let consulting = list(format!(
        "{ALL}&filter={}",
        enc("And(Equals([template], '") + &template + &enc("'), GreaterThan([fee], '20000'))")
    ))
    .await
    .json();
    assert!(
        consulting["list"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["attributes"]["fee"]["amount"].as_f64().unwrap() > 20000.0)
    );
    let unsupported = list(format!("filter={}", enc("Matches([title], 'x')"))).await;
    assert_eq!(
        (
            unsupported.status,
            unsupported.json()["code"].clone(),
            unsupported.json()["param"].clone()
        ),
        (400, json!("INVALID_PARAM"), json!("filter"))
    );
    assert_eq!(list("hydrateEntities=true".into()).await.status, 200);
    emu.shutdown().await;
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|c| {
            if c.is_ascii_alphanumeric() || b"-_.~".contains(&c) {
                (c as char).to_string()
            } else {
                format!("%{c:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn launch_then_retrieve_and_list() {
    let emu = start().await;
    let token = cc_token(&emu, "demo-client-credentials").await;
    let raj = emu.seed().users[1].email.clone();
    let nda = emu.seed().template_named("Mutual NDA").unwrap().id.clone();
    let launch = |body: Value| {
        Req::new("POST", "/public/api/v1/workflows")
            .bearer(&token)
            .acting_as(&raj)
            .json(body)
    };

    let r = launch(json!({ "template": nda, "attributes": {
        "counterpartyName": "Umbrella Corp", "paperSource": "Counterparty paper", "agreementDate": "2026-03-01",
        "draft": [{ "url": "https://files.example/umbrella%20nda.pdf" }],
    }}))
    .send(&emu)
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let launched = r.json();
    assert_eq!(launched["ironcladId"], "IC-46");
    assert_eq!(
        (launched["status"].as_str(), launched["step"].as_str()),
        (Some("active"), Some("Review"))
    );
    assert_eq!(
        launched["creator"],
        json!({ "id": emu.seed().users[1].id, "email": raj, "displayName": "Raj Patel" })
    );
    assert_eq!(launched["title"], "Mutual NDA with Umbrella Corp");
    assert_eq!(
        launched["attributes"]["agreementDate"],
        "2026-03-01T00:00:00.000Z"
    );
    let doc = &launched["attributes"]["draft"][0];
    assert_eq!(doc["filename"], "umbrella nda.pdf");
    let id = launched["id"].as_str().unwrap().to_owned();
    assert!(
        doc["download"]
            .as_str()
            .unwrap()
            .starts_with(&format!("/public/api/v1/workflows/{id}/document/"))
    );

    for key in [id.as_str(), "IC-46", "ic-46"] {
        let got = api_get(&emu, &token, &format!("/public/api/v1/workflows/{key}")).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.json()["id"], id.as_str());
        assert_eq!(
            got.json()["creator"]["username"],
            raj.as_str(),
            "the full creator on retrieve"
        );
    }
    let listed = api_get(&emu, &token, "/public/api/v1/workflows?pageSize=1")
        .await
        .json();
    assert_eq!(
        (listed["count"].as_u64(), listed["list"][0]["id"].as_str()),
        (Some(30), Some(id.as_str()))
    );
    let second = launch(json!({ "template": nda, "attributes": { "counterpartyName": "Stark", "paperSource": "Our paper" } })).send(&emu).await;
    assert_eq!(second.json()["ironcladId"], "IC-47");

    let nope = api_get(&emu, &token, "/public/api/v1/workflows/IC-4242").await;
    assert_eq!(
        (nope.status, nope.json()),
        (
            404,
            json!({ "code": "NOT_FOUND", "message": "workflow does not exist", "param": "workflowId" })
        )
    );

    let consulting = emu
        .seed()
        .template_named("Consulting Agreement")
        .unwrap()
        .id
        .clone();
    let cases = [
        (
            json!({ "template": nda, "attributes": { "paperSource": "Our paper" } }),
            "MISSING_PARAM",
            "counterpartyName",
        ),
        (
            json!({ "template": "ffffffffffffffffffffffff", "attributes": { "counterpartyName": "x" } }),
            "INVALID_PARAM",
            "template",
        ),
        (json!({ "attributes": {} }), "MISSING_PARAM", "template"),
        (
            json!({ "template": nda, "attributes": { "counterpartyName": "x", "paperSource": "Our paper", "color": "red" } }),
            "INVALID_PARAM",
            "color",
        ),
        (
            json!({ "template": nda, "attributes": { "counterpartyName": "x", "paperSource": "Our paper" }, "extra": 1 }),
            "INVALID_PARAM",
            "extra",
        ),
        (
            json!({ "template": nda, "attributes": { "counterpartyName": "x", "paperSource": "Napkin" } }),
            "INVALID_PARAM",
            "paperSource",
        ),
        (
            json!({ "template": consulting, "attributes": { "counterpartyName": "x", "fee": 100 } }),
            "INVALID_PARAM",
            "fee",
        ),
        (
            json!({ "template": consulting, "attributes": { "counterpartyName": "x" } }),
            "MISSING_PARAM",
            "fee",
        ),
        (
            json!({ "template": consulting, "attributes": { "counterpartyName": "x", "fee": { "currency": "EUR", "amount": 9 }, "isRenewal": "no" } }),
            "INVALID_PARAM",
            "isRenewal",
        ),
    ];
    for (body, code, param) in cases {
        let r = launch(body.clone()).send(&emu).await;
        assert_eq!(
            (
                r.status,
                r.json()["code"].as_str(),
                r.json()["param"].as_str()
            ),
            (400, Some(code), Some(param)),
            "{body}"
        );
    }
    assert_eq!(
        launch(json!({ "template": nda, "attributes": {} }))
            .send(&emu)
            .await
            .json()["message"],
        "missing required attribute"
    );
    let defaults = Req::new("POST", "/public/api/v1/workflows?useDefaultValues=true")
        .bearer(&token)
        .acting_as(&raj)
        .json(json!({ "template": consulting, "attributes": { "counterpartyName": "Acme", "fee": { "currency": "USD", "amount": 1 } } }))
        .send(&emu)
        .await
        .json();
    assert_eq!(defaults["attributes"]["termMonths"], 12);

    // Back to the seed.
    assert_eq!(
        Req::new("POST", "/_emulator/reset").send(&emu).await.status,
        200
    );
    let token = cc_token(&emu, "demo-client-credentials").await;
    assert_eq!(
        api_get(&emu, &token, &format!("/public/api/v1/workflows?{ALL}"))
            .await
            .json()["count"],
        45
    );
    assert_eq!(
        api_get(&emu, &token, "/public/api/v1/workflows/IC-46")
            .await
            .status,
        404
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn workflow_schemas() {
    let emu = start().await;
    let token = cc_token(&emu, "demo-client-credentials").await;
    let missing = api_get(&emu, &token, "/public/api/v1/workflow-schemas").await;
    assert_eq!(
        (missing.status, missing.json()),
        (
            400,
            json!({ "code": "INVALID_PARAM", "message": "invalid query value ''; value must be one of [launch]", "param": "/?form" })
        )
    );
    let other = api_get(
        &emu,
        &token,
        "/public/api/v1/workflow-schemas?form=randomRequest",
    )
    .await;
    assert_eq!(
        other.json()["message"],
        "invalid query value 'randomRequest'; value must be one of [launch]"
    );

    let list = api_get(&emu, &token, "/public/api/v1/workflow-schemas?form=launch")
        .await
        .json();
    let items = list["list"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let nda = &items[0];
    assert_eq!(nda["name"], "Mutual NDA");
    assert_eq!(nda["permissions"], json!(["launch", "view"]));
    assert_eq!(
        nda["schema"]["counterpartyName"],
        json!({ "type": "string", "displayName": "Counterparty Name", "required": "always" })
    );
    assert_eq!(
        nda["schema"]["paperSource"]["options"],
        json!({ "values": ["Our paper", "Counterparty paper"], "freeTextAllowed": false })
    );
    assert_eq!(nda["schema"]["draft"]["elementType"]["type"], "document");
    assert_eq!(items[1]["schema"]["fee"]["type"], "monetaryAmount");
    assert!(
        nda.get("launchRoles").is_none(),
        "emulator-only fields stay private"
    );

    let one = api_get(
        &emu,
        &token,
        &format!(
            "/public/api/v1/workflow-schemas/{}",
            nda["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(one.json(), *nda);
    let unknown = api_get(
        &emu,
        &token,
        "/public/api/v1/workflow-schemas/ffffffffffffffffffffffff?form=launch",
    )
    .await;
    assert_eq!(
        (unknown.status, unknown.json()),
        (
            400,
            json!({ "code": "NOT_FOUND", "message": "workflow  template schema not found", "param": "templateId" })
        )
    );
    emu.shutdown().await;
}

// --- test controls ---------------------------------------------------------------------------

#[tokio::test]
async fn request_log_redacts_secrets() {
    let emu = start().await;
    let token = cc_token(&emu, "demo-client-credentials").await;
    api_get(
        &emu,
        &token,
        "/public/api/v1/workflows?status=active%2Cpaused&pageSize=3",
    )
    .await;
    let log = Req::new("GET", "/_emulator/requests")
        .send(&emu)
        .await
        .json();
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 2, "admin calls are not logged: {log:?}");
    let secret = client(&emu, "demo-client-credentials").client_secret;
    assert!(!serde_json::to_string(log).unwrap().contains(&secret));
    assert!(!serde_json::to_string(log).unwrap().contains(&token));
    assert_eq!(log[0]["path"], "/oauth/token");
    assert_eq!(log[0]["body"]["client_secret"], "<redacted>");
    assert_eq!(log[0]["body"]["grant_type"], "client_credentials");
    let call = &log[1];
    assert_eq!(
        (call["method"].as_str(), call["path"].as_str()),
        (Some("GET"), Some("/public/api/v1/workflows"))
    );
    assert_eq!(call["query"], "status=active%2Cpaused&pageSize=3");
    assert_eq!(call["headers"]["authorization"], "Bearer <redacted>");
    assert_eq!(call["headers"]["x-as-user-email"], jane(&emu));
    assert_eq!(call["status"], 200);
    assert_eq!(
        Req::new("POST", "/_emulator/reset-request-log")
            .send(&emu)
            .await
            .status,
        200
    );
    assert_eq!(
        Req::new("GET", "/_emulator/requests")
            .send(&emu)
            .await
            .json(),
        json!([])
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn serves_on_an_ephemeral_port_and_shuts_down() {
    let emu = start().await;
    let base = emu.base_url().to_owned();
    assert!(
        base.starts_with("http://127.0.0.1:") && !base.ends_with('/'),
        "{base}"
    );
    assert_eq!(Req::new("GET", "/nowhere").send(&emu).await.status, 404);
    let addr = emu.local_addr();
    emu.shutdown().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the port is closed after shutdown"
    );
}

#[tokio::test]
async fn bulk_records_for_volume_tests() {
    let emu = start().await;
    let token = cc_token(&emu, "demo-client-credentials").await;
    let before = api_get(&emu, &token, "/public/api/v1/records?pageSize=1")
        .await
        .json()["count"]
        .as_u64()
        .unwrap();
    let added = Req::new("POST", "/_emulator/bulk-records")
        .json(json!({ "count": 10_000 }))
        .send(&emu)
        .await;
    assert_eq!(added.status, 200);
    assert_eq!(added.json()["records"].as_u64(), Some(before + 10_000));
    for bad in [
        json!({}),
        json!({ "count": 0 }),
        json!({ "count": 100_001 }),
    ] {
        let r = Req::new("POST", "/_emulator/bulk-records")
            .json(bad)
            .send(&emu)
            .await;
        assert_eq!(r.status, 400);
        assert_eq!(r.json()["param"], "count");
    }

    // Every page is served from the same order: newest agreement first, no record twice.
    let total = before + 10_000;
    let last_page = (total - 1) / 100;
    let mut seen = std::collections::HashSet::new();
    let mut previous: Option<String> = None;
    for page in [0, 1, last_page] {
        let body = api_get(
            &emu,
            &token,
            &format!("/public/api/v1/records?page={page}&pageSize=100"),
        )
        .await
        .json();
        assert_eq!(body["count"].as_u64(), Some(total));
        let list = body["list"].as_array().unwrap();
        let expected = if page == last_page {
            total - last_page * 100
        } else {
            100
        };
        assert_eq!(list.len() as u64, expected, "page {page}");
        for r in list {
            assert!(seen.insert(r["id"].as_str().unwrap().to_owned()));
            let date = r["properties"]["agreementDate"]["value"]
                .as_str()
                .map(str::to_owned);
            if let (Some(p), Some(d)) = (&previous, &date)
                && page != last_page
            {
                assert!(p >= d, "{p} before {d}");
            }
            previous = date.or(previous);
        }
    }
    // Names sort as text: `Bulk Agreement 10` comes right after the seed's `A…` names.
    let by_name = api_get(
        &emu,
        &token,
        "/public/api/v1/records?sortField=name&sortDirection=ASC&pageSize=100",
    )
    .await
    .json();
    let first_bulk = by_name["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"].as_str().unwrap().starts_with("Bulk "))
        .unwrap();
    assert_eq!(first_bulk["name"], "Bulk Agreement 10");
    assert_eq!(first_bulk["type"], "contract");
    assert_eq!(first_bulk["properties"]["termMonths"]["value"], 24);
    let past_the_end = api_get(&emu, &token, "/public/api/v1/records?page=500&pageSize=100")
        .await
        .json();
    assert_eq!(past_the_end["list"], json!([]));
}

/// Quotas are per company: a request is authenticated before it is counted, so a bad token
/// answers 401 (not 429) and costs nothing.
#[tokio::test]
async fn rate_limits_count_only_authenticated_requests() {
    let emu = start().await;
    let token = cc_token(&emu, "demo-client-credentials").await;
    let throttled = Req::new("POST", "/_emulator/throttle")
        .json(json!({ "count": 1, "retry_after_seconds": 7 }))
        .send(&emu)
        .await;
    assert_eq!(throttled.status, 200);
    let anonymous = Req::new("GET", "/public/api/v1/workflows").send(&emu).await;
    assert_eq!(anonymous.status, 401);
    let forged = api_get(&emu, "emu_not_a_token", "/public/api/v1/workflows").await;
    assert_eq!(forged.status, 401);
    // The one injected 429 is still waiting for the first authenticated request.
    let limited = api_get(&emu, &token, "/public/api/v1/workflows").await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("7"));
    assert_eq!(
        api_get(&emu, &token, "/public/api/v1/workflows")
            .await
            .status,
        200
    );
}
