//! A loopback HTTP server whose answers a test scripts, with a log of what it was asked:
//! for redirects, failures and abuse the emulator does not produce.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Hit {
    pub method: Method,
    pub path: String,
    pub authorization: Option<String>,
    pub body: Vec<u8>,
}

/// What to answer: status, headers, body.
pub type Answer = (u16, Vec<(&'static str, String)>, Vec<u8>);
type Script = dyn Fn(&Hit, usize) -> Answer + Send + Sync;

#[derive(Clone)]
struct Shared {
    script: Arc<Script>,
    hits: Arc<Mutex<Vec<Hit>>>,
}

pub struct ScriptedServer {
    base_url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ScriptedServer {
    /// Serve on 127.0.0.1; `script` gets each request and how many came before it.
    pub async fn start(script: impl Fn(&Hit, usize) -> Answer + Send + Sync + 'static) -> Self {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            script: Arc::new(script),
            hits: hits.clone(),
        };
        let app = axum::Router::new().fallback(answer).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        ScriptedServer {
            base_url,
            hits,
            task,
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Hits whose path starts with `prefix`.
    pub fn hits_under(&self, prefix: &str) -> Vec<Hit> {
        self.hits()
            .into_iter()
            .filter(|h| h.path.starts_with(prefix))
            .collect()
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default()
        .to_vec();
    let hit = Hit {
        method: parts.method.clone(),
        path: parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        authorization: header(&parts.headers, "authorization"),
        body,
    };
    let seen = {
        let mut hits = shared.hits.lock().unwrap();
        hits.push(hit.clone());
        hits.len() - 1
    };
    let (status, headers, body) = (shared.script)(&hit, seen);
    let mut response = Response::builder().status(StatusCode::from_u16(status).unwrap());
    for (name, value) in headers {
        response = response.header(name, value);
    }
    response.body(Body::from(body)).unwrap()
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A JSON answer.
pub fn json(status: u16, value: serde_json::Value) -> Answer {
    (
        status,
        vec![("content-type", "application/json".into())],
        value.to_string().into_bytes(),
    )
}

/// A token endpoint's answer for any client (shaped like the emulator's tokens, so the
/// suite's leak check looks for it too).
pub fn token() -> Answer {
    json(
        200,
        serde_json::json!({ "access_token": "emu_5c1d7e0a9b3f4c2d8e6a1b0c9d8e7f6a5b4c3d2e", "token_type": "bearer", "expires_in": 3600 }),
    )
}

/// A redirect.
pub fn redirect(status: u16, location: String) -> Answer {
    (status, vec![("location", location)], Vec::new())
}
