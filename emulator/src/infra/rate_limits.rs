//! The rate-limit middleware: asks the tenant's buckets (`store::rate_limits`) for a verdict on
//! each request and answers it, 429 with `Retry-After` or the handler's answer with the
//! `X-RateLimit-*` headers of its bucket. One place decides every 429, injected ones included.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::emulator::Emulator;
use crate::store::rate_limits::Verdict;

/// Middleware: 429 with `Retry-After` when a bucket is empty (or a 429 was injected);
/// otherwise the `X-RateLimit-*` headers of the bucket the request fell into.
pub async fn enforce(State(emu): State<Emulator>, req: Request, next: Next) -> Response {
    // The wall clock, not the store's `tick` (which runs ahead during bursts to keep write
    // timestamps distinct): resets must be true to the client's clock.
    let now = crate::store::time::system_now_ms();
    let (verdict, format) = {
        let mut data = emu.data();
        let verdict = data
            .rate_limits
            .judge(req.method().as_str(), req.uri().path(), now);
        (verdict, data.rate_limits.reset_format)
    };
    let described = |response: &mut Response, limit: usize, remaining: usize, reset_ms: i64| {
        if let Some(reset) = format.value(reset_ms, now) {
            let reset = HeaderValue::from_str(&reset).expect("digits and a dot");
            let headers = response.headers_mut();
            headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
            headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
            headers.insert("x-ratelimit-reset", reset);
        }
    };
    match verdict {
        Verdict::Pass => next.run(req).await,
        Verdict::Limited {
            retry_after_s,
            limit,
            bucket,
        } => {
            let body = json!({ "code": "TOO_MANY_REQUESTS", "message": format!("rate limit exceeded for {bucket}; retry after {retry_after_s}s") });
            let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(retry_after_s));
            if let Some((limit, reset_ms)) = limit {
                described(&mut response, limit, 0, reset_ms);
            }
            response
        }
        Verdict::Admitted {
            limit,
            remaining,
            reset_ms,
        } => {
            let mut response = next.run(req).await;
            described(&mut response, limit, remaining, reset_ms);
            response
        }
    }
}
