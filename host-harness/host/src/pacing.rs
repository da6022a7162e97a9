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

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::bindings::http::Method;

/// A reset further away than this is not waited for: the request goes out and a 429, if it
/// comes, is reported as `rate_limited` with its hint (the caller's scheduler decides).
pub const MAX_PACING_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct Pacer {
    /// The connection's API base (`https://host/public/api/v1`): buckets are keyed below it.
    base_url: String,
    /// Buckets that said they are empty, and when they free a request.
    empty_until: Mutex<HashMap<String, Instant>>,
}

impl Pacer {
    pub fn new(base_url: &str) -> Self {
        Pacer {
            base_url: base_url.trim_end_matches('/').to_string(),
            empty_until: Mutex::new(HashMap::new()),
        }
    }

    /// The bucket a request is paced in: `read /records`, `write /workflows`, ...
    pub fn bucket(&self, method: &Method, url: &str) -> String {
        let class = match method {
            Method::Get | Method::Head => "read",
            _ => "write",
        };
        let path = url.split(['?', '#']).next().unwrap_or(url);
        let resource = match path.strip_prefix(&self.base_url) {
            Some(rest) => rest.split('/').find(|s| !s.is_empty()).unwrap_or(""),
            // Outside the API base (not expected): the path itself is the key.
            None => path,
        };
        format!("{class} /{}", resource.trim_start_matches('/'))
    }

    /// How long a request to `bucket` should wait now (zero when it may go at once).
    pub fn delay(&self, bucket: &str) -> Duration {
        let empty = self.empty_until.lock().unwrap_or_else(|p| p.into_inner());
        empty
            .get(bucket)
            .map(|until| until.saturating_duration_since(Instant::now()))
            .filter(|wait| *wait <= MAX_PACING_WAIT)
            .unwrap_or(Duration::ZERO)
    }

    /// Learn from a response's headers: an empty bucket is not asked again before its reset.
    pub fn observe(&self, bucket: &str, headers: &[(String, String)]) {
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim())
        };
        let Some(remaining) = header("x-ratelimit-remaining").and_then(|v| v.parse::<u64>().ok())
        else {
            return;
        };
        let mut empty = self.empty_until.lock().unwrap_or_else(|p| p.into_inner());
        if remaining > 0 {
            empty.remove(bucket);
            return;
        }
        if let Some(wait) = header("x-ratelimit-reset").and_then(reset_delay) {
            empty.insert(bucket.to_string(), Instant::now() + wait);
        }
    }
}

/// `X-RateLimit-Reset` as a delay. Ironclad's format is not documented: seconds until the
/// reset (with or without decimals) or, for values that can only be epoch times, the Unix
/// time of the reset.
fn reset_delay(value: &str) -> Option<Duration> {
    let seconds: f64 = value
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s >= 0.0)?;
    // Anything past 2001-09-09 as a delay would be 30 years: it is an epoch time.
    if seconds >= 1e9 {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
        return Some(Duration::from_secs_f64(seconds).saturating_sub(now));
    }
    Some(Duration::from_secs_f64(seconds))
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
        let p = Pacer::new("https://acme.ironcladapp.com/public/api/v1/");
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
        let p = Pacer::new("https://h/public/api/v1");
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
        let p = Pacer::new("https://h/public/api/v1");
        p.observe("write /workflows", &headers("0", "3600"));
        assert_eq!(p.delay("write /workflows"), Duration::ZERO);
    }

    #[test]
    fn resets_in_seconds_decimals_or_epoch_time() {
        assert_eq!(reset_delay("2"), Some(Duration::from_secs(2)));
        assert_eq!(reset_delay("0.25"), Some(Duration::from_millis(250)));
        let soon = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(5);
        let wait = reset_delay(&soon.as_secs().to_string()).unwrap();
        assert!(
            wait <= Duration::from_secs(5) && wait >= Duration::from_secs(3),
            "{wait:?}"
        );
        assert_eq!(
            reset_delay("1000000000"),
            Some(Duration::ZERO),
            "in the past"
        );
        assert_eq!(reset_delay("soon"), None);
        assert_eq!(reset_delay("-1"), None);
    }
}
