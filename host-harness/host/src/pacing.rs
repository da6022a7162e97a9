//! Proactive rate-limit pacing. Ironclad answers every request with the `X-RateLimit-Limit`,
//! `X-RateLimit-Remaining` and `X-RateLimit-Reset` of the bucket it fell into; when a response
//! says its bucket is empty, the next request to that bucket waits for the reset instead of
//! meeting a 429. One pacer serves every call of a session, so a long read that the host
//! drives page by page (one invocation per page) is paced across invocations.
//!
//! The host does not know Ironclad's bucket table, so a bucket is approximated as reads or
//! writes of one top-level resource under the connection's API base (`GET /records…`,
//! `POST /workflows…`), which is how Ironclad draws most of its buckets. Finer buckets
//! (sign-status writes) share their resource's key: pacing them errs on the side of waiting.
//! A 429 that pacing did not prevent is still retried by `http_import` after `Retry-After`.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde_json::Value;

use crate::bindings::http::Method;

/// A reset further away than this is not waited for: the request goes out and a 429, if it
/// comes, is reported as `rate_limited` with its hint (the caller's scheduler decides).
pub const MAX_PACING_WAIT: Duration = Duration::from_secs(30);

/// The API's published quotas, as a package declares them (`rate_limits` in its manifest):
/// what the pacer keeps to by itself when answers carry no `X-RateLimit-*` headers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RateLimits {
    /// The window every quota counts in (Ironclad's: a minute).
    pub window: Duration,
    /// The first bucket that matches a request is its bucket.
    pub buckets: Vec<DeclaredBucket>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeclaredBucket {
    pub name: String,
    /// Upper-case methods; empty is any method.
    pub methods: Vec<String>,
    /// A URL path pattern; `*` stands for any run of characters (`/public/api/v1/workflows*`).
    pub path: String,
    /// Requests per window.
    pub limit: u32,
}

impl RateLimits {
    /// `{"window_seconds": 60, "buckets": [{"name", "methods", "path", "limit"}, ...]}`.
    pub fn parse(value: &Value) -> anyhow::Result<RateLimits> {
        let window = value["window_seconds"]
            .as_u64()
            .filter(|s| *s > 0)
            .context("`rate_limits.window_seconds` must be a positive whole number")?;
        let buckets = value["buckets"]
            .as_array()
            .context("`rate_limits.buckets` must be a list")?
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let text = |name: &str| {
                    b[name]
                        .as_str()
                        .map(str::to_string)
                        .with_context(|| format!("`rate_limits.buckets[{i}].{name}` must be text"))
                };
                let methods = match &b["methods"] {
                    Value::Null => Vec::new(),
                    Value::Array(list) => list
                        .iter()
                        .map(|m| m.as_str().map(str::to_ascii_uppercase))
                        .collect::<Option<_>>()
                        .with_context(|| {
                            format!("`rate_limits.buckets[{i}].methods` must be a list of text")
                        })?,
                    _ => anyhow::bail!("`rate_limits.buckets[{i}].methods` must be a list"),
                };
                let path = text("path")?;
                anyhow::ensure!(
                    path.starts_with('/'),
                    "`rate_limits.buckets[{i}].path` must start with `/`"
                );
                Ok(DeclaredBucket {
                    name: text("name")?,
                    methods,
                    path,
                    limit: b["limit"]
                        .as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .filter(|n| *n > 0)
                        .with_context(|| {
                            format!(
                                "`rate_limits.buckets[{i}].limit` must be a positive whole number"
                            )
                        })?,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(RateLimits {
            window: Duration::from_secs(window),
            buckets,
        })
    }

    fn bucket_for(&self, method: &str, path: &str) -> Option<&DeclaredBucket> {
        self.buckets.iter().find(|b| {
            (b.methods.is_empty() || b.methods.iter().any(|m| m == method)) && glob(&b.path, path)
        })
    }
}

/// `pattern` with `*` for any run of characters, matched against the whole of `text`.
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[derive(Debug)]
pub struct Pacer {
    /// The connection's API base (`https://host/public/api/v1`): undeclared buckets are keyed
    /// below it.
    base_url: String,
    limits: RateLimits,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Buckets that said they are empty, and when they free a request.
    empty_until: HashMap<String, Instant>,
    /// Buckets whose answers carry rate-limit headers: the headers rule them.
    told: HashMap<String, bool>,
    /// The API has sent a reset delay that can only be milliseconds (above 60): from then on
    /// its small delays are milliseconds too.
    delays_in_ms: bool,
    /// Requests sent per declared bucket within its window, oldest first (counted while the
    /// API says nothing).
    sent: HashMap<String, VecDeque<Instant>>,
}

impl Pacer {
    pub fn new(base_url: &str, limits: RateLimits) -> Self {
        Pacer {
            base_url: base_url.trim_end_matches('/').to_string(),
            limits,
            state: Mutex::new(State::default()),
        }
    }

    /// The bucket a request is paced in: a declared one (`pub:workflows:write`) when the
    /// package names it, else reads or writes of a top-level resource (`read /records`).
    pub fn bucket(&self, method: &Method, url: &str) -> String {
        let path = url.split(['?', '#']).next().unwrap_or(url);
        let url_path = url::Url::parse(path).map(|u| u.path().to_string());
        if let Some(declared) = url_path.as_deref().ok().and_then(|p| {
            self.limits
                .bucket_for(crate::http_import::http_method(*method).as_str(), p)
        }) {
            return declared.name.clone();
        }
        let class = match method {
            Method::Get | Method::Head => "read",
            _ => "write",
        };
        let resource = match path.strip_prefix(&self.base_url) {
            Some(rest) => rest.split('/').find(|s| !s.is_empty()).unwrap_or(""),
            // Outside the API base (not expected): the path itself is the key.
            None => path,
        };
        format!("{class} /{}", resource.trim_start_matches('/'))
    }

    /// How long a request to `bucket` should wait now (zero when it may go at once).
    pub fn delay(&self, bucket: &str) -> Duration {
        self.delay_at(bucket, Instant::now())
    }

    fn delay_at(&self, bucket: &str, now: Instant) -> Duration {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let told = state
            .empty_until
            .get(bucket)
            .map(|until| until.saturating_duration_since(now));
        let counted = self.counted_wait(&mut state, bucket, now);
        told.into_iter()
            .chain(counted)
            .max()
            .filter(|wait| *wait <= MAX_PACING_WAIT)
            .unwrap_or(Duration::ZERO)
    }

    /// While the API says nothing about a declared bucket, the wait its quota imposes.
    fn counted_wait(&self, state: &mut State, bucket: &str, now: Instant) -> Option<Duration> {
        if state.told.get(bucket).copied().unwrap_or(false) {
            return None;
        }
        let declared = self.limits.buckets.iter().find(|b| b.name == bucket)?;
        let sent = state.sent.get_mut(bucket)?;
        let window = self.limits.window;
        while sent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= window)
        {
            sent.pop_front();
        }
        (sent.len() >= declared.limit as usize)
            .then(|| (sent[0] + window).saturating_duration_since(now))
    }

    /// A request to `bucket` goes out now.
    pub fn sent(&self, bucket: &str) {
        self.sent_at(bucket, Instant::now());
    }

    fn sent_at(&self, bucket: &str, now: Instant) {
        if !self.limits.buckets.iter().any(|b| b.name == bucket) {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        // Counted only while the API says nothing; what left the window is forgotten, so a
        // long session keeps at most one window of instants per bucket.
        if state.told.get(bucket).copied().unwrap_or(false) {
            return;
        }
        let window = self.limits.window;
        let sent = state.sent.entry(bucket.to_string()).or_default();
        while sent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= window)
        {
            sent.pop_front();
        }
        sent.push_back(now);
    }

    /// Learn from a response's headers: an empty bucket is not asked again before its reset.
    pub fn observe(&self, bucket: &str, headers: &[(String, String)]) {
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim())
        };
        let remaining = header("x-ratelimit-remaining").and_then(|v| v.parse::<u64>().ok());
        let reset = header("x-ratelimit-reset").and_then(Reset::parse);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.told.insert(bucket.to_string(), remaining.is_some());
        if let Some(Reset::Delay(n)) = reset
            && n > 60.0
        {
            state.delays_in_ms = true;
        }
        let Some(remaining) = remaining else {
            return;
        };
        if remaining > 0 {
            state.empty_until.remove(bucket);
            return;
        }
        let in_ms = state.delays_in_ms;
        if let Some(wait) = reset.and_then(|r| r.wait(in_ms)) {
            state
                .empty_until
                .insert(bucket.to_string(), Instant::now() + wait);
        }
    }
}

/// `X-RateLimit-Reset`. Ironclad does not document its format, so every reading that can be
/// told apart is accepted: epoch milliseconds (from 10^12: 2001 onwards), epoch seconds (from
/// 10^9), and otherwise a delay — in milliseconds above 60, since no quota window is longer
/// than a minute, else in seconds (with or without decimals) unless the API has already shown
/// that it counts in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reset {
    /// Unix time, in seconds.
    At(f64),
    /// A delay, unit to be decided.
    Delay(f64),
}

impl Reset {
    fn parse(value: &str) -> Option<Reset> {
        let number: f64 = value
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && *s >= 0.0)?;
        Some(match number {
            n if n >= 1e12 => Reset::At(n / 1000.0),
            n if n >= 1e9 => Reset::At(n),
            n => Reset::Delay(n),
        })
    }

    /// How long until the reset; `in_ms`: the API's delays are milliseconds.
    fn wait(self, in_ms: bool) -> Option<Duration> {
        match self {
            Reset::At(seconds) => {
                let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
                Some(Duration::from_secs_f64(seconds).saturating_sub(now))
            }
            Reset::Delay(n) if in_ms || n > 60.0 => Some(Duration::from_secs_f64(n / 1000.0)),
            Reset::Delay(n) => Some(Duration::from_secs_f64(n)),
        }
    }
}

/// A reset header read on its own, knowing nothing of the API's habits.
#[cfg(test)]
fn reset_delay(value: &str) -> Option<Duration> {
    Reset::parse(value)?.wait(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(remaining: &str, reset: &str) -> Vec<(String, String)> {
        vec![
            ("X-RateLimit-Limit".into(), "600".into()),
            ("X-RateLimit-Remaining".into(), remaining.into()),
            ("X-RateLimit-Reset".into(), reset.into()),
        ]
    }

    #[test]
    fn buckets_are_reads_or_writes_of_a_top_level_resource() {
        let p = Pacer::new(
            "https://acme.ironcladapp.com/public/api/v1/",
            RateLimits::default(),
        );
        let base = "https://acme.ironcladapp.com/public/api/v1";
        assert_eq!(
            p.bucket(&Method::Get, &format!("{base}/records?page=3&pageSize=100")),
            "read /records"
        );
        assert_eq!(
            p.bucket(&Method::Get, &format!("{base}/records/IC-1")),
            "read /records"
        );
        assert_eq!(
            p.bucket(&Method::Post, &format!("{base}/workflows/IC-1/comments")),
            "write /workflows"
        );
        assert_eq!(
            p.bucket(&Method::Patch, &format!("{base}/workflows")),
            "write /workflows"
        );
        assert_eq!(
            p.bucket(&Method::Get, "https://elsewhere.example/x?y"),
            "read /https://elsewhere.example/x"
        );
    }

    #[test]
    fn an_empty_bucket_waits_for_its_reset_and_others_do_not() {
        let p = Pacer::new("https://h/public/api/v1", RateLimits::default());
        assert_eq!(p.delay("read /records"), Duration::ZERO);
        p.observe("read /records", &headers("0", "0.25"));
        let wait = p.delay("read /records");
        assert!(
            wait > Duration::from_millis(200) && wait <= Duration::from_millis(250),
            "{wait:?}"
        );
        assert_eq!(p.delay("read /workflows"), Duration::ZERO);
        // Room again: no more waiting.
        p.observe("read /records", &headers("12", "3"));
        assert_eq!(p.delay("read /records"), Duration::ZERO);
        // No rate-limit headers: nothing learnt.
        p.observe("read /records", &[("content-type".into(), "x".into())]);
        assert_eq!(p.delay("read /records"), Duration::ZERO);
    }

    #[test]
    fn long_resets_are_left_to_the_429_path() {
        let p = Pacer::new("https://h/public/api/v1", RateLimits::default());
        // 45 s away (and an hour, as milliseconds): beyond what pacing waits for.
        for reset in ["45", "3600000"] {
            p.observe("write /workflows", &headers("0", reset));
            assert_eq!(p.delay("write /workflows"), Duration::ZERO, "{reset}");
        }
    }

    #[test]
    fn resets_in_seconds_milliseconds_or_epoch_times() {
        assert_eq!(reset_delay("2"), Some(Duration::from_secs(2)));
        assert_eq!(reset_delay("0.25"), Some(Duration::from_millis(250)));
        assert_eq!(reset_delay("60"), Some(Duration::from_secs(60)));
        assert_eq!(reset_delay("1500"), Some(Duration::from_millis(1500)), "ms");
        assert_eq!(reset_delay("45000"), Some(Duration::from_secs(45)), "ms");
        let soon = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(5);
        for epoch in [
            soon.as_secs().to_string(),
            format!("{:.3}", soon.as_secs_f64()),
            soon.as_millis().to_string(),
        ] {
            // Written with three decimals, the time may round up by half a millisecond.
            let wait = reset_delay(&epoch).unwrap();
            assert!(
                wait <= Duration::from_millis(5_001) && wait >= Duration::from_secs(3),
                "{epoch}: {wait:?}"
            );
        }
        assert_eq!(
            reset_delay("1000000000"),
            Some(Duration::ZERO),
            "in the past"
        );
        assert_eq!(reset_delay("soon"), None);
        assert_eq!(reset_delay("-1"), None);
    }

    /// "45" alone reads as 45 s; from an API that has sent "1500" it is 45 ms.
    #[test]
    fn an_api_that_counts_in_milliseconds_is_read_so_from_then_on() {
        let p = Pacer::new("https://h/public/api/v1", RateLimits::default());
        p.observe("read /records", &headers("0", "45"));
        assert_eq!(
            p.delay("read /records"),
            Duration::ZERO,
            "45 s: beyond pacing"
        );
        p.observe("read /records", &headers("3", "1500"));
        p.observe("read /records", &headers("0", "45"));
        let wait = p.delay("read /records");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(45),
            "{wait:?}"
        );
    }

    fn declared() -> RateLimits {
        RateLimits::parse(&serde_json::json!({
            "window_seconds": 60,
            "buckets": [
                { "name": "pub:workflows:sign-status", "methods": ["post", "PATCH"],
                  "path": "/public/api/v1/workflows/*/sign-status*", "limit": 50 },
                { "name": "pub:workflows:write", "methods": ["POST", "PUT", "PATCH", "DELETE"],
                  "path": "/public/api/v1/workflows*", "limit": 3 },
                { "name": "pub:other", "path": "/public/api/v1/*", "limit": 800 }
            ]
        }))
        .unwrap()
    }

    #[test]
    fn declared_buckets_name_requests_first_match_wins() {
        let p = Pacer::new("https://h/public/api/v1", declared());
        let at = |m: Method, path: &str| p.bucket(&m, &format!("https://h{path}"));
        assert_eq!(
            at(Method::Post, "/public/api/v1/workflows/IC-1/sign-status/x"),
            "pub:workflows:sign-status"
        );
        assert_eq!(
            at(Method::Post, "/public/api/v1/workflows/IC-1/comments?x=1"),
            "pub:workflows:write"
        );
        assert_eq!(at(Method::Get, "/public/api/v1/workflows"), "pub:other");
        assert_eq!(
            at(Method::Get, "/scim/v2/Users"),
            "read /https://h/scim/v2/Users"
        );
        assert!(glob("/a*b*c", "/a-b-c") && !glob("/a*b*c", "/a-b-d") && glob("/x", "/x"));
    }

    /// An API that sends no rate-limit headers is held to the declared quota; one that does
    /// is held to what it says.
    #[test]
    fn without_headers_the_declared_quota_paces() {
        let p = Pacer::new("https://h/public/api/v1", declared());
        let bucket = "pub:workflows:write";
        let start = Instant::now();
        for i in 0..3 {
            assert_eq!(p.delay_at(bucket, start), Duration::ZERO, "request {i}");
            p.sent_at(bucket, start + Duration::from_millis(i * 10));
            p.observe(bucket, &[]);
        }
        let wait = p.delay_at(bucket, start + Duration::from_secs(50));
        assert_eq!(
            wait,
            Duration::from_secs(10),
            "until the first leaves the window"
        );
        assert_eq!(
            p.delay_at(bucket, start + Duration::from_secs(60)),
            Duration::ZERO
        );
        // Once the API speaks, its headers decide, not the count.
        p.sent_at(bucket, start + Duration::from_secs(60));
        p.sent_at(bucket, start + Duration::from_secs(60));
        p.sent_at(bucket, start + Duration::from_secs(60));
        p.observe(bucket, &headers("5", "1"));
        assert_eq!(
            p.delay_at(bucket, start + Duration::from_secs(60)),
            Duration::ZERO
        );
        // Nor is anything counted while the headers speak.
        let counted = || p.state.lock().unwrap().sent[bucket].len();
        let before = counted();
        p.sent_at(bucket, start + Duration::from_secs(61));
        assert_eq!(counted(), before);
        // Undeclared buckets are never counted.
        p.sent_at("read /records", start);
        assert_eq!(p.delay_at("read /records", start), Duration::ZERO);
    }

    #[test]
    fn a_bad_declaration_says_what_is_wrong() {
        let e = RateLimits::parse(&serde_json::json!({ "window_seconds": 60, "buckets": [
            { "name": "x", "path": "/a", "limit": 0 } ] }))
        .unwrap_err();
        assert!(e.to_string().contains("buckets[0].limit"), "{e}");
        let e = RateLimits::parse(&serde_json::json!({ "buckets": [] })).unwrap_err();
        assert!(e.to_string().contains("window_seconds"), "{e}");
    }
}
