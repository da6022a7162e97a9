//! The host's HTTP path: the guest's only way out. Applies the egress policy, attaches
//! credentials, on a 401 renews the token once and retries once, paces requests by the
//! rate-limit headers and waits out 429s. [`HttpPath`] is shared by the wasm `http` import
//! and the native adapter (`native`), so both measure the same path.

use std::sync::Arc;
use std::time::Duration;

use crate::bindings::http::{self as wit, HttpError, Method, Request, Response};
use crate::host_state::HostState;
use crate::oauth::{AuthError, Authenticator};
use crate::pacing::Pacer;
use crate::policy::EgressPolicy;
use crate::secret::{Redactor, Secret};

/// A guest may ask for less, never more.
const MAX_TIMEOUT: Duration = Duration::from_secs(120);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// One invocation may not make more requests than this (the largest listing, 100,000 items
/// at 100 a page, needs 1,000).
pub const MAX_REQUESTS_PER_CALL: u32 = 2_000;
/// 429s are retried at most this often per request, waiting `Retry-After` (or 1 s, 2 s, ...)
/// as long as the waits of one request add up to no more than the budget.
const RATE_LIMIT_RETRIES: u32 = 3;
const RATE_LIMIT_BUDGET: Duration = Duration::from_secs(30);
/// Responses above this are refused rather than buffered.
pub const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

impl wit::Host for HostState {
    async fn send(&mut self, request: Request) -> wasmtime::Result<Result<Response, HttpError>> {
        Ok(self.http.send(request).await)
    }
}

/// What one call's requests cost: how many went out, how many met a 429, how long pacing
/// held them back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestStats {
    pub requests: u32,
    pub rate_limited: u32,
    pub paced: Duration,
}

/// One call's way out: the connection's policy, credentials and pacer, and the call's
/// request count. Fresh for every call.
pub struct HttpPath {
    client: reqwest::Client,
    policy: EgressPolicy,
    auth: Option<Arc<Authenticator>>,
    redactor: Redactor,
    pacer: Option<Arc<Pacer>>,
    stats: RequestStats,
}

impl HttpPath {
    pub(crate) fn new(
        client: reqwest::Client,
        policy: EgressPolicy,
        auth: Option<Arc<Authenticator>>,
        redactor: Redactor,
        pacer: Option<Arc<Pacer>>,
    ) -> Self {
        HttpPath {
            client,
            policy,
            auth,
            redactor,
            pacer,
            stats: RequestStats::default(),
        }
    }

    pub fn stats(&self) -> RequestStats {
        self.stats
    }

    /// Send one request for the connector, or say why it produced no HTTP answer.
    pub async fn send(&mut self, request: Request) -> Result<Response, HttpError> {
        self.policy.check(&request.url).map_err(HttpError::Denied)?;
        if request
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            return Err(HttpError::InvalidRequest(
                "the `authorization` header is set by the host".into(),
            ));
        }
        let bucket = self
            .pacer
            .as_ref()
            .map(|p| p.bucket(&request.method, &request.url));
        // A 429 means the request was not processed, so even writes are safe to repeat.
        let mut waited = Duration::ZERO;
        for retry in 0.. {
            if let (Some(pacer), Some(bucket)) = (&self.pacer, &bucket) {
                let delay = pacer.delay(bucket);
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                    self.stats.paced += delay;
                }
            }
            let response = self.send_authenticated(&request).await?;
            if let (Some(pacer), Some(bucket)) = (&self.pacer, &bucket) {
                pacer.observe(bucket, &response.headers);
            }
            if response.status != 429 {
                return Ok(response);
            }
            self.stats.rate_limited += 1;
            if retry >= RATE_LIMIT_RETRIES {
                return Ok(response);
            }
            let wait = retry_after(&response.headers).unwrap_or(Duration::from_secs(1 << retry));
            if waited + wait > RATE_LIMIT_BUDGET {
                // Too long to wait inside one call: the connector reports `rate_limited`
                // with the hint, and the caller's scheduler decides.
                return Ok(response);
            }
            tokio::time::sleep(wait).await;
            waited += wait;
        }
        unreachable!("the loop returns")
    }

    /// One request with credentials: on a 401, exactly one renewal and one retry; a second
    /// 401 is the connector's to report.
    async fn send_authenticated(&mut self, request: &Request) -> Result<Response, HttpError> {
        if self.stats.requests >= MAX_REQUESTS_PER_CALL {
            return Err(HttpError::Denied(format!(
                "more than {MAX_REQUESTS_PER_CALL} requests in one call"
            )));
        }
        self.stats.requests += 1;
        if !request.authenticate {
            return self.transmit(request, None).await;
        }
        let token = self.bearer(None).await?;
        let response = self.transmit(request, Some(&token)).await?;
        if response.status != 401 {
            return Ok(response);
        }
        let token = self.bearer(Some(&token)).await?;
        self.transmit(request, Some(&token)).await
    }

    async fn bearer(&mut self, rejected: Option<&Secret>) -> Result<Secret, HttpError> {
        let Some(auth) = &self.auth else {
            return Err(HttpError::Unauthenticated(
                "this connection has no credentials to attach".into(),
            ));
        };
        let result = match rejected {
            None => auth.bearer().await,
            Some(old) => auth.after_rejection(old).await,
        };
        result.map_err(|e: AuthError| {
            HttpError::Unauthenticated(self.redactor.redact(&e.to_string()))
        })
    }

    async fn transmit(
        &mut self,
        request: &Request,
        token: Option<&Secret>,
    ) -> Result<Response, HttpError> {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Head => reqwest::Method::HEAD,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let timeout = request
            .timeout_ms
            .map(|ms| Duration::from_millis(ms.into()).min(MAX_TIMEOUT))
            .unwrap_or(DEFAULT_TIMEOUT);
        let mut builder = self.client.request(method, &request.url).timeout(timeout);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(token) = token {
            builder = builder.bearer_auth(token.expose());
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let response = builder.send().await.map_err(|e| {
            if e.is_timeout() {
                HttpError::Timeout
            } else if e.is_builder() {
                HttpError::InvalidRequest(e.without_url().to_string())
            } else {
                HttpError::Connect(describe_error(&e))
            }
        })?;
        if response
            .content_length()
            .is_some_and(|n| n > MAX_RESPONSE_BYTES)
        {
            return Err(HttpError::TooLarge(MAX_RESPONSE_BYTES));
        }
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let body = read_capped(response).await?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// `Retry-After` as delay-seconds or an HTTP date.
fn retry_after(headers: &[(String, String)]) -> Option<Duration> {
    let value = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))?
        .1
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        if e.is_timeout() {
            HttpError::Timeout
        } else {
            HttpError::Connect(describe_error(&e))
        }
    })? {
        if body.len() as u64 + chunk.len() as u64 > MAX_RESPONSE_BYTES {
            return Err(HttpError::TooLarge(MAX_RESPONSE_BYTES));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// reqwest's top-level message is generic ("error sending request"); the cause says why.
fn describe_error(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_or_date() {
        let h = |v: &str| vec![("Retry-After".to_string(), v.to_string())];
        assert_eq!(retry_after(&h("7")), Some(Duration::from_secs(7)));
        let soon = std::time::SystemTime::now() + Duration::from_secs(120);
        let wait = retry_after(&h(&httpdate::fmt_http_date(soon))).unwrap();
        assert!(
            wait > Duration::from_secs(100) && wait <= Duration::from_secs(120),
            "{wait:?}"
        );
        assert_eq!(
            retry_after(&h("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&h("soon")), None);
        assert_eq!(retry_after(&[]), None);
    }
}
