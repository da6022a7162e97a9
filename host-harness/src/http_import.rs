//! The `http` import: the guest's only way out. Applies the egress policy (every redirect
//! hop included), attaches credentials, and on a 401 renews the token once and retries once.

use std::time::Duration;

use crate::bindings::http::{self as wit, HttpError, Method, Request, Response};
use crate::host_state::HostState;
use crate::oauth::AuthError;
use crate::redirect;
use crate::secret::Secret;

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
/// Request bodies above this are refused before sending (Ironclad takes files up to
/// about this size; a launch with several files stays under it).
pub const MAX_REQUEST_BYTES: usize = 100 * 1024 * 1024;

impl wit::Host for HostState {
    async fn send(&mut self, request: Request) -> wasmtime::Result<Result<Response, HttpError>> {
        Ok(self.send_checked(request).await)
    }
}

impl HostState {
    async fn send_checked(&mut self, request: Request) -> Result<Response, HttpError> {
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
        if let Some(body) = &request.body
            && body.len() > MAX_REQUEST_BYTES
        {
            return Err(HttpError::InvalidRequest(format!(
                "a request body of {} bytes exceeds the host's {MAX_REQUEST_BYTES}-byte limit",
                body.len()
            )));
        }
        // A 429 means the request was not processed, so even writes are safe to repeat.
        let mut waited = Duration::ZERO;
        for retry in 0.. {
            let response = self.send_authenticated(&request).await?;
            if response.status != 429 || retry >= RATE_LIMIT_RETRIES {
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
        self.count_request()?;
        if !request.authenticate {
            return self.follow(request, None).await;
        }
        let token = self.bearer(None).await?;
        let response = self.follow(request, Some(&token)).await?;
        if response.status != 401 {
            return Ok(response);
        }
        let token = self.bearer(Some(&token)).await?;
        self.follow(request, Some(&token)).await
    }

    fn count_request(&mut self) -> Result<(), HttpError> {
        if self.requests_made >= MAX_REQUESTS_PER_CALL {
            return Err(HttpError::Denied(format!(
                "more than {MAX_REQUESTS_PER_CALL} requests in one call"
            )));
        }
        self.requests_made += 1;
        Ok(())
    }

    /// One exchange, following redirects: each hop is checked against the policy (its
    /// addresses by the resolver), counts against the request cap, and gets the token
    /// only when it stays on the origin the request was made to.
    async fn follow(
        &mut self,
        request: &Request,
        token: Option<&Secret>,
    ) -> Result<Response, HttpError> {
        let origin = redirect::origin(&request.url);
        let mut hop = request.clone();
        for hops in 0.. {
            let same_origin = redirect::origin(&hop.url) == origin;
            let response = self.transmit(&hop, token.filter(|_| same_origin)).await?;
            let Some(next) = redirect::target(&hop.url, &response) else {
                return Ok(response);
            };
            if hops >= redirect::MAX_REDIRECTS {
                return Err(HttpError::Denied(format!(
                    "more than {} redirects",
                    redirect::MAX_REDIRECTS
                )));
            }
            self.policy.check(&next).map_err(|why| {
                HttpError::Denied(format!("a redirect to {next} was refused: {why}"))
            })?;
            self.count_request()?;
            hop = redirect::next_request(&hop, response.status, next);
        }
        unreachable!("the loop returns")
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
        result.map_err(|e: AuthError| match e {
            AuthError::Denied(why) => HttpError::Denied(why),
            e => HttpError::Unauthenticated(self.redactor.redact(&e.to_string())),
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
            .unwrap_or(DEFAULT_TIMEOUT)
            .min(self.remaining());
        if timeout.is_zero() {
            return Err(HttpError::Timeout);
        }
        let mut builder = self.http.request(method, &request.url).timeout(timeout);
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
            if let Some(refused) = crate::resolver::refusal(&e) {
                HttpError::Denied(refused.to_string())
            } else if e.is_timeout() {
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

impl HostState {
    /// Time left before the call's deadline.
    fn remaining(&self) -> Duration {
        self.deadline
            .saturating_duration_since(std::time::Instant::now())
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
pub(crate) fn describe_error(e: &reqwest::Error) -> String {
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
