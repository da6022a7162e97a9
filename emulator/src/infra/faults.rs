//! Fault mode: Ironclad on a bad day, reproducibly. With faults on, each Public API request
//! draws from a generator seeded by the caller: most pass untouched, the rest get one fault.
//! The same seed and the same sequence of requests give the same faults.
//!
//! | fault | when | what the client sees |
//! |---|---|---|
//! | `rate_limited` | before the handler | 429, `Retry-After`, Ironclad's body |
//! | `unavailable` | before the handler | 503, Ironclad's body |
//! | `slow` | before the handler | the normal answer, 50–400 ms late |
//! | `expired_token` | before the handler | every access token expires, so 401 (renew and retry) |
//! | `server_error` | after the handler | 500, although the handler ran (a write may have happened) |
//! | `dropped` | after the handler | the status, then the connection drops mid-body |
//! | `truncated_json` | after the handler | the status, half of the JSON body |
//!
//! `GET /_emulator/faults` lists every API request seen while faults were on, with the fault
//! it got (or null) and the handler's own status (null when the handler never ran), so a
//! test can tell a write that happened from one that did not. `POST /_emulator/faults`
//! `{"seed": 7, "rate": 0.3, "kinds": [...], "retry_after_seconds": 1}` switches faults on
//! (`{"enabled": false}` off); `connector-harness emulator --faults SEED` starts with them.

use axum::Json;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::emulator::Emulator;
use crate::infra::errors::ApiError;
use crate::store::faults::{Fault, FaultConfig};

const API: &str = "/public/api/v1/";
/// Bodies the fault layer buffers to cut or drop; far above any emulator answer.
const BODY_LIMIT: usize = 256 << 20;

impl Emulator {
    /// Start drawing faults (see the module docs); replaces any earlier configuration and
    /// clears the fault log.
    pub fn enable_faults(&self, config: FaultConfig) {
        self.data().faults.configure(Some(config));
    }

    pub fn disable_faults(&self) {
        self.data().faults.configure(None);
    }

    /// Every API request seen while faults were on: `{seq, method, path, fault,
    /// handler_status}`.
    pub fn fault_log(&self) -> Vec<Value> {
        self.data().faults.log().to_vec()
    }
}

/// The fault layer, around the whole API (authentication included).
pub async fn inject(State(emu): State<Emulator>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if !path.starts_with(API) {
        return next.run(req).await;
    }
    let drawn = emu.data().faults.draw(req.method().as_str(), &path);
    let Some((index, fault, config)) = drawn else {
        return next.run(req).await;
    };
    let handle = async |req: Request| {
        let response = next.run(req).await;
        emu.data().faults.handled(index, response.status().as_u16());
        response
    };
    match fault {
        None => handle(req).await,
        Some(Fault::RateLimited) => {
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                "too many requests; retry after the Retry-After interval",
                None,
            )
            .into_response();
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(config.retry_after_seconds),
            );
            response
        }
        Some(Fault::Unavailable) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            "the service is temporarily unavailable",
            None,
        )
        .into_response(),
        Some(Fault::Slow) => {
            let ms = emu.data().faults.delay_ms();
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            handle(req).await
        }
        Some(Fault::ExpiredToken) => {
            emu.expire_tokens();
            handle(req).await
        }
        Some(Fault::ServerError) => {
            handle(req).await;
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                "an unexpected error occurred",
                None,
            )
            .into_response()
        }
        Some(Fault::Dropped) => cut(handle(req).await, Cut::Drop).await,
        Some(Fault::TruncatedJson) => cut(handle(req).await, Cut::Truncate).await,
    }
}

enum Cut {
    /// Half the body, then the connection fails.
    Drop,
    /// Half the body, as if it were all of it.
    Truncate,
}

async fn cut(response: Response, how: Cut) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, BODY_LIMIT).await.unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = match how {
        Cut::Truncate => Body::from(half),
        Cut::Drop => {
            let chunks: [Result<Bytes, std::io::Error>; 2] = [
                Ok(half),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "fault injected: connection dropped",
                )),
            ];
            // A declared length the body never reaches makes the drop visible to every
            // client, chunked or not.
            parts.headers.insert(
                header::CONTENT_LENGTH,
                HeaderValue::from(bytes.len().max(1)),
            );
            // The pause lets the head and the first half reach the client before the
            // failure; otherwise the server may drop the connection with nothing written.
            let chunks = futures_util::StreamExt::then(
                futures_util::stream::iter(chunks),
                |chunk| async move {
                    if chunk.is_err() {
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                    chunk
                },
            );
            Body::from_stream(chunks)
        }
    };
    Response::from_parts(parts, body)
}

pub fn routes() -> axum::Router<Emulator> {
    axum::Router::new().route("/_emulator/faults", get(log).post(configure))
}

async fn log(State(emu): State<Emulator>) -> Json<Value> {
    Json(Value::Array(emu.fault_log()))
}

/// `{"seed", "rate"?, "kinds"?, "retry_after_seconds"?}` on, `{"enabled": false}` off.
async fn configure(State(emu): State<Emulator>, Json(body): Json<Value>) -> Response {
    if body["enabled"] == json!(false) {
        emu.disable_faults();
        return Json(json!({ "enabled": false })).into_response();
    }
    let Some(seed) = body["seed"].as_u64() else {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "MISSING_PARAM",
            "seed is required (an unsigned integer)",
            Some("seed"),
        )
        .into_response();
    };
    let mut config = FaultConfig::seeded(seed);
    if let Some(rate) = body["rate"].as_f64() {
        config.rate = rate;
    }
    if let Some(seconds) = body["retry_after_seconds"].as_u64() {
        config.retry_after_seconds = seconds;
    }
    if let Some(kinds) = body["kinds"].as_array() {
        let parsed: Option<Vec<Fault>> = kinds
            .iter()
            .map(|k| k.as_str().and_then(Fault::from_name))
            .collect();
        let Some(parsed) = parsed else {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_PARAM",
                format!(
                    "kinds must name faults among {}",
                    Fault::ALL.map(Fault::name).join(", ")
                ),
                Some("kinds"),
            )
            .into_response();
        };
        config.kinds = parsed;
    }
    let echo = json!({
        "enabled": true, "seed": config.seed, "rate": config.rate,
        "kinds": config.kinds.iter().map(|k| k.name()).collect::<Vec<_>>(),
        "retry_after_seconds": config.retry_after_seconds,
    });
    emu.enable_faults(config);
    Json(echo).into_response()
}
