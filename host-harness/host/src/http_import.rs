//! The host's HTTP path: the guest's only way out. Applies the egress policy (every redirect
//! hop included), attaches credentials, on a 401 renews the token once and retries once (a
//! form's bearer token cannot be renewed: its 401 goes back as it came), paces requests by
//! the rate-limit headers, and retries what [`retry`](crate::retry) allows.
//! [`HttpPath`] is shared by the wasm `http` import and the native adapter (`native`), so the
//! benchmark measures both over the same path.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bindings::http::{self as wit, HttpError, Method, Request, Response};
use crate::credential::Credential;
use crate::host_state::HostState;
use crate::oauth::AuthError;
use crate::pacing::Pacer;
use crate::policy::EgressPolicy;
use crate::redirect;
use crate::retry::{Attempt, RetryPolicy};
use crate::secret::{Redactor, Secret};
use crate::trace::TraceSink;

/// A guest may ask for less, never more.
const MAX_TIMEOUT: Duration = Duration::from_secs(120);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// One invocation may not make more requests than this by default (the largest listing,
/// 100,000 items at 100 a page, needs 1,000); `Limits::requests_per_call` sets it.
pub const MAX_REQUESTS_PER_CALL: u32 = 2_000;
/// A retry wait must end at least this long before the call's deadline, leaving the
/// retried request time to answer.
const DEADLINE_MARGIN: Duration = Duration::from_secs(1);
/// Responses above this are refused rather than buffered.
pub const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;
/// Request bodies above this are refused before sending (Ironclad takes files up to
/// about this size; a launch with several files stays under it).
pub const MAX_REQUEST_BYTES: usize = 100 * 1024 * 1024;

impl wit::Host for HostState {
    async fn send(&mut self, request: Request) -> wasmtime::Result<Result<Response, HttpError>> {
        let answer = self.http.send(request).await;
        // A failure of the host itself (its token store) stops the call as a host error:
        // it is no answer of the API's, and the connector must not report it as one.
        match self.http.take_host_failure() {
            Some(failure) => Err(wasmtime::Error::msg(format!("{failure:#}"))),
            None => Ok(answer),
        }
    }
}

/// What one call's requests cost: how many went out (redirect hops and retries included),
/// how many met a 429, how long pacing held them back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestStats {
    pub requests: u32,
    pub rate_limited: u32,
    pub paced: Duration,
    /// Writes (POST, PUT, PATCH, DELETE) that may have reached the server without their
    /// answer reaching the connector: failed after sending, or still in flight when the
    /// call was stopped. A failed call with any says so (`details.maybe_processed`).
    pub writes_in_doubt: u32,
}

/// One call's way out: the connection's policy, credentials and pacer, the call's deadline
/// and retry policy, and its request count. Fresh for every call.
pub struct HttpPath {
    client: reqwest::Client,
    policy: EgressPolicy,
    auth: Option<Arc<Credential>>,
    redactor: Redactor,
    pacer: Option<Arc<Pacer>>,
    retry: RetryPolicy,
    /// When the call must be over; HTTP timeouts and retry waits stay within it.
    deadline: Instant,
    stats: RequestStats,
    /// Requests the call may make.
    request_cap: u32,
    /// A local failure (the token store) behind the last request's error.
    host_failure: Option<anyhow::Error>,
    /// Where each exchange is recorded, when the session traces.
    trace: Option<TraceSink>,
}

/// The connection's side of an [`HttpPath`]: where requests may go, and with what credentials.
pub struct Route {
    pub policy: EgressPolicy,
    pub auth: Option<Arc<Credential>>,
    pub redactor: Redactor,
    pub pacer: Option<Arc<Pacer>>,
    /// Record every exchange here (`Session::traced`).
    pub trace: Option<TraceSink>,
}

impl Route {
    /// A route to nowhere: for calls that must not reach the network (describe, plan) and
    /// for instances made before their call's route is known.
    pub fn offline() -> Route {
        Route {
            policy: EgressPolicy::new(Vec::new(), false),
            auth: None,
            redactor: Redactor::default(),
            pacer: None,
            trace: None,
        }
    }
}

impl HttpPath {
    pub fn new(
        client: reqwest::Client,
        route: Route,
        retry: RetryPolicy,
        deadline: Instant,
    ) -> Self {
        HttpPath {
            client,
            policy: route.policy,
            auth: route.auth,
            redactor: route.redactor,
            pacer: route.pacer,
            retry,
            deadline,
            stats: RequestStats::default(),
            request_cap: MAX_REQUESTS_PER_CALL,
            host_failure: None,
            trace: route.trace,
        }
    }

    /// Allow the call `cap` requests instead of [`MAX_REQUESTS_PER_CALL`].
    pub fn with_request_cap(mut self, cap: u32) -> Self {
        self.request_cap = cap;
        self
    }

    pub fn stats(&self) -> RequestStats {
        self.stats
    }

    /// The host's own failure behind the last `send`'s error, if it was one: local I/O is
    /// not an authentication problem.
    pub fn take_host_failure(&mut self) -> Option<anyhow::Error> {
        self.host_failure.take()
    }

    /// Send one request for the connector, or say why it produced no HTTP answer.
    pub async fn send(&mut self, mut request: Request) -> Result<Response, HttpError> {
        self.host_failure = None;
        // From here on the request goes to the URL as the policy parsed it: what was judged
        // is what is sent.
        request.url = self
            .policy
            .check(&request.url)
            .map_err(HttpError::Denied)?
            .into();
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
        self.send_authenticated(&request).await
    }

    /// One request with credentials: on a 401, exactly one renewal and one retry; a second
    /// 401, or the first one of a credential that cannot be renewed, is the connector's to
    /// report.
    async fn send_authenticated(&mut self, request: &Request) -> Result<Response, HttpError> {
        self.count_request()?;
        if !request.authenticate {
            return self.follow(request, None).await;
        }
        let token = self.bearer().await?;
        let response = self.follow(request, Some(&token)).await?;
        if response.status != 401 {
            return Ok(response);
        }
        match self.renewed(&token).await? {
            Some(token) => self.follow(request, Some(&token)).await,
            None => Ok(response),
        }
    }

    fn count_request(&mut self) -> Result<(), HttpError> {
        if self.stats.requests >= self.request_cap {
            return Err(HttpError::Denied(format!(
                "more than {} requests in one call",
                self.request_cap
            )));
        }
        self.stats.requests += 1;
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
            let response = self.exchange(&hop, token.filter(|_| same_origin)).await?;
            let Some(next) = redirect::target(&hop.url, &response) else {
                return Ok(response);
            };
            if hops >= redirect::MAX_REDIRECTS {
                return Err(HttpError::Denied(format!(
                    "more than {} redirects",
                    redirect::MAX_REDIRECTS
                )));
            }
            let next: String = self
                .policy
                .check(&next)
                .map_err(|why| {
                    HttpError::Denied(format!(
                        "a redirect to {} was refused: {why}",
                        crate::policy::shown(&next)
                    ))
                })?
                .into();
            self.count_request()?;
            hop = redirect::next_request(&hop, response.status, next);
        }
        unreachable!("the loop returns")
    }

    fn credential(&self) -> Result<Arc<Credential>, HttpError> {
        self.auth.clone().ok_or_else(|| {
            HttpError::Unauthenticated("this connection has no credentials to attach".into())
        })
    }

    async fn bearer(&mut self) -> Result<Secret, HttpError> {
        let token = self.credential()?.token().await;
        token.map_err(|e| self.auth_failure(e))
    }

    /// A token to retry with after `rejected` met a 401; `None` when the credential cannot
    /// be renewed.
    async fn renewed(&mut self, rejected: &Secret) -> Result<Option<Secret>, HttpError> {
        match self.credential()?.renewed(rejected).await {
            None => Ok(None),
            Some(token) => token.map(Some).map_err(|e| self.auth_failure(e)),
        }
    }

    fn auth_failure(&mut self, error: AuthError) -> HttpError {
        match error {
            AuthError::Denied(why) => HttpError::Denied(why),
            AuthError::Store(failure) => {
                let message = self.redactor.redact(&format!("token store: {failure:#}"));
                self.host_failure = Some(anyhow::anyhow!(message.clone()));
                HttpError::Unauthenticated(message)
            }
            e => HttpError::Unauthenticated(self.redactor.redact(&e.to_string())),
        }
    }

    /// One hop, retried as [`retry`](crate::retry) decides: waits stay within the retry
    /// budget and end before the call's deadline; every retry counts against the cap.
    async fn exchange(
        &mut self,
        request: &Request,
        token: Option<&Secret>,
    ) -> Result<Response, HttpError> {
        let mut waited = Duration::ZERO;
        let write = !matches!(request.method, Method::Get | Method::Head);
        for retry in 0.. {
            // Counted before sending and taken back once answered or certainly unsent: a
            // call stopped mid-request leaves it counted.
            self.stats.writes_in_doubt += u32::from(write);
            let sent = Instant::now();
            let outcome = self.transmit(request, token).await;
            if let Some(sink) = &self.trace {
                let exchange = crate::trace::exchange(
                    request,
                    token.is_some(),
                    outcome.as_ref().map_err(|f| &f.error),
                    sent.elapsed(),
                    retry,
                    &self.redactor,
                );
                sink.lock().expect("the trace lock").push(exchange);
            }
            if write && matches!(&outcome, Ok(_) | Err(Failed { unsent: true, .. })) {
                self.stats.writes_in_doubt -= 1;
            }
            let attempt = match &outcome {
                Ok(response) => Attempt::Answered(response),
                Err(failed) => Attempt::Failed {
                    error: &failed.error,
                    unsent: failed.unsent,
                },
            };
            if matches!(&outcome, Ok(r) if r.status == 429) {
                self.stats.rate_limited += 1;
            }
            let Some(wait) = self.retry.delay(request.method, &attempt, retry) else {
                return outcome.map_err(|f| f.error);
            };
            if waited + wait > self.retry.budget || wait + DEADLINE_MARGIN > self.remaining() {
                // Too long to wait inside this call: the connector reports the answer
                // (`rate_limited` with the hint, or the upstream error) and the caller's
                // scheduler decides.
                return outcome.map_err(|f| f.error);
            }
            tokio::time::sleep(wait).await;
            waited += wait;
            self.count_request()?;
        }
        unreachable!("the loop returns")
    }

    async fn transmit(
        &mut self,
        request: &Request,
        token: Option<&Secret>,
    ) -> Result<Response, Failed> {
        let method = http_method(request.method);
        let timeout = request
            .timeout_ms
            .map(|ms| Duration::from_millis(ms.into()).min(MAX_TIMEOUT))
            .unwrap_or(DEFAULT_TIMEOUT)
            .min(self.remaining());
        if timeout.is_zero() {
            return Err(Failed {
                error: HttpError::Timeout,
                unsent: true,
            });
        }
        let bucket = self.pace(request).await;
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
        let response = builder.send().await.map_err(|e| Failed {
            // A failed connect means no byte of the request reached the server.
            unsent: e.is_connect(),
            error: if let Some(refused) = crate::resolver::refusal(&e) {
                HttpError::Denied(refused.to_string())
            } else if e.is_timeout() {
                HttpError::Timeout
            } else if e.is_builder() {
                HttpError::InvalidRequest(e.without_url().to_string())
            } else {
                HttpError::Connect(describe_error(&e))
            },
        })?;
        if response
            .content_length()
            .is_some_and(|n| n > MAX_RESPONSE_BYTES)
        {
            return Err(HttpError::TooLarge(MAX_RESPONSE_BYTES).into());
        }
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        if let (Some(pacer), Some(bucket)) = (&self.pacer, &bucket) {
            pacer.observe(bucket, &headers);
        }
        // A body cut short (a reset, a truncated answer) is a failure after sending.
        let body = read_capped(response).await?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

impl HttpPath {
    /// Time left before the call's deadline.
    fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Wait until the request's rate-limit bucket has room (when the session paces); the
    /// bucket, for observing the answer's rate-limit headers.
    async fn pace(&mut self, request: &Request) -> Option<String> {
        let pacer = self.pacer.as_ref()?;
        let bucket = pacer.bucket(&request.method, &request.url);
        let delay = pacer.delay(&bucket).min(self.remaining());
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
            self.stats.paced += delay;
        }
        pacer.sent(&bucket);
        Some(bucket)
    }
}

/// The WIT method as HTTP knows it.
pub(crate) fn http_method(method: Method) -> reqwest::Method {
    match method {
        Method::Get => reqwest::Method::GET,
        Method::Head => reqwest::Method::HEAD,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
    }
}

/// A request that got no answer, and whether it certainly never reached the server.
struct Failed {
    error: HttpError,
    unsent: bool,
}

impl From<HttpError> for Failed {
    fn from(error: HttpError) -> Self {
        Failed {
            error,
            unsent: false,
        }
    }
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
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::credential::FormToken;

    /// A server that answers every request with `status` and keeps each request's head.
    async fn answering(status: &'static str) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = heads.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.ends_with(b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).to_lowercase());
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        (origin, heads)
    }

    fn path_with_form_token(origin: &str, token: &str) -> HttpPath {
        let credential = Credential::Bearer(FormToken::new(Secret::new(token), "access_token"));
        HttpPath::new(
            reqwest::Client::new(),
            Route {
                policy: EgressPolicy::new(vec![origin.to_string()], true),
                auth: Some(Arc::new(credential)),
                redactor: Redactor::default(),
                pacer: None,
                trace: None,
            },
            RetryPolicy::default(),
            Instant::now() + Duration::from_secs(30),
        )
    }

    fn get(url: String, authenticate: bool) -> Request {
        Request {
            method: Method::Get,
            url,
            headers: Vec::new(),
            body: None,
            authenticate,
            timeout_ms: None,
        }
    }

    #[tokio::test]
    async fn a_form_token_is_sent_as_a_bearer_and_its_401_is_not_retried() {
        let (origin, heads) = answering("401 Unauthorized").await;
        let mut path = path_with_form_token(&origin, "pasted-profile-token-9f3a");
        let response = path
            .send(get(format!("{origin}/v1.1/sites"), true))
            .await
            .expect("a 401 is an answer for the guest to report, not a host error");
        assert_eq!(response.status, 401);
        let heads = heads.lock().unwrap().clone();
        assert_eq!(
            heads.len(),
            1,
            "nothing to renew, so no second try: {heads:?}"
        );
        assert!(
            heads[0].contains("authorization: bearer pasted-profile-token-9f3a"),
            "{}",
            heads[0]
        );
        assert_eq!(path.stats().requests, 1);
    }

    #[tokio::test]
    async fn a_form_token_goes_only_where_asked_and_allowed() {
        let (origin, heads) = answering("200 OK").await;
        let mut path = path_with_form_token(&origin, "pasted-profile-token-9f3a");
        path.send(get(format!("{origin}/send"), false))
            .await
            .unwrap();
        let refused = path
            .send(get("http://127.0.0.2:9/v1.1/sites".into(), true))
            .await
            .unwrap_err();
        assert!(matches!(refused, HttpError::Denied(_)), "{refused:?}");
        let heads = heads.lock().unwrap().clone();
        assert_eq!(heads.len(), 1);
        assert!(!heads[0].contains("authorization"), "{}", heads[0]);
    }
}
