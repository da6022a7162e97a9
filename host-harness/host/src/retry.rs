//! When the host sends a request again, and after how long. One place decides, for every
//! request a connector makes:
//!
//! | what happened | GET, HEAD, PUT, DELETE | POST, PATCH |
//! |---|---|---|
//! | 429 | retried after `Retry-After` (else backoff) | same: a 429 was not processed |
//! | 500, 502, 503, 504 | retried after `Retry-After` (else backoff) | not retried: it may have been processed |
//! | connection refused, DNS failure (nothing sent) | retried with backoff | same: nothing reached the server |
//! | reset, truncated answer, timeout | retried with backoff | not retried: it may have been processed |
//!
//! Backoff is exponential with jitter (base, 2×base, 4×base, each scaled by a random factor
//! in [½, 1]); waits of one request add up to at most the budget and always end before the
//! call's deadline. Whatever is not retried goes back to the connector, which reports it.

use std::time::Duration;

use rand::Rng;

use crate::bindings::http::{HttpError, Method, Response};

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries per request (so at most `max_retries + 1` attempts).
    pub max_retries: u32,
    /// The first backoff; doubled for each further retry.
    pub base_delay: Duration,
    /// The waits of one request add up to no more than this; a longer `Retry-After` is
    /// handed to the connector (`rate_limited` with `retry_after_ms`) for the caller's
    /// scheduler instead of being slept through.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_secs(1),
            budget: Duration::from_secs(30),
        }
    }
}

/// One attempt's result as the retry decision needs it.
pub enum Attempt<'a> {
    Answered(&'a Response),
    /// No answer; `unsent` when the request certainly never reached the server (the
    /// connection was never established).
    Failed {
        error: &'a HttpError,
        unsent: bool,
    },
}

/// Safe to repeat whatever the server did with the first attempt (RFC 9110 §9.2.2).
pub fn idempotent(method: Method) -> bool {
    matches!(
        method,
        Method::Get | Method::Head | Method::Put | Method::Delete
    )
}

impl RetryPolicy {
    /// How long to wait before retry number `retry` (0-based) of `method` after `attempt`,
    /// or None when this outcome is final.
    pub fn delay(&self, method: Method, attempt: &Attempt<'_>, retry: u32) -> Option<Duration> {
        if retry >= self.max_retries {
            return None;
        }
        let backoff = || self.backoff(retry);
        match attempt {
            Attempt::Answered(r) if r.status == 429 => {
                Some(retry_after(&r.headers).unwrap_or_else(backoff))
            }
            Attempt::Answered(r)
                if matches!(r.status, 500 | 502 | 503 | 504) && idempotent(method) =>
            {
                Some(retry_after(&r.headers).unwrap_or_else(backoff))
            }
            Attempt::Answered(_) => None,
            Attempt::Failed {
                unsent: true,
                error: HttpError::Connect(_),
            } => Some(backoff()),
            Attempt::Failed {
                error: HttpError::Connect(_) | HttpError::Timeout,
                ..
            } if idempotent(method) => Some(backoff()),
            Attempt::Failed { .. } => None,
        }
    }

    /// `base × 2^retry`, scaled by a random factor in [½, 1] so clients that failed
    /// together do not come back together.
    fn backoff(&self, retry: u32) -> Duration {
        let full = self.base_delay.saturating_mul(1 << retry.min(16));
        full.mul_f64(rand::rng().random_range(0.5..=1.0))
    }
}

/// `Retry-After` as delay-seconds or an HTTP date.
pub fn retry_after(headers: &[(String, String)]) -> Option<Duration> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, retry_after: Option<&str>) -> Response {
        Response {
            status,
            headers: retry_after
                .map(|v| vec![("Retry-After".to_string(), v.to_string())])
                .unwrap_or_default(),
            body: Vec::new(),
        }
    }

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

    #[test]
    fn the_table_in_the_module_docs() {
        let p = RetryPolicy::default();
        let retried = |method, attempt: &Attempt<'_>| p.delay(method, attempt, 0).is_some();
        let (r429, r503, r500, r404) = (
            answer(429, Some("2")),
            answer(503, None),
            answer(500, None),
            answer(404, None),
        );
        let reset = HttpError::Connect("connection reset".into());
        for method in [Method::Get, Method::Head, Method::Put, Method::Delete] {
            assert!(retried(method, &Attempt::Answered(&r429)));
            assert!(retried(method, &Attempt::Answered(&r503)));
            assert!(retried(method, &Attempt::Answered(&r500)));
            assert!(!retried(method, &Attempt::Answered(&r404)));
            assert!(retried(
                method,
                &Attempt::Failed {
                    error: &reset,
                    unsent: false
                }
            ));
            assert!(retried(
                method,
                &Attempt::Failed {
                    error: &HttpError::Timeout,
                    unsent: false
                }
            ));
        }
        for method in [Method::Post, Method::Patch] {
            assert!(retried(method, &Attempt::Answered(&r429)));
            assert!(!retried(method, &Attempt::Answered(&r503)));
            assert!(!retried(
                method,
                &Attempt::Failed {
                    error: &reset,
                    unsent: false
                }
            ));
            assert!(!retried(
                method,
                &Attempt::Failed {
                    error: &HttpError::Timeout,
                    unsent: false
                }
            ));
            assert!(retried(
                method,
                &Attempt::Failed {
                    error: &reset,
                    unsent: true
                }
            ));
        }
        let denied = HttpError::Denied("policy".into());
        assert!(!retried(
            Method::Get,
            &Attempt::Failed {
                error: &denied,
                unsent: true
            }
        ));
    }

    #[test]
    fn waits_honour_retry_after_else_back_off_with_jitter_and_stop() {
        let p = RetryPolicy::default();
        let r429 = answer(429, Some("7"));
        assert_eq!(
            p.delay(Method::Post, &Attempt::Answered(&r429), 0),
            Some(Duration::from_secs(7))
        );
        let r503 = answer(503, None);
        for retry in 0..3 {
            let wait = p
                .delay(Method::Get, &Attempt::Answered(&r503), retry)
                .unwrap();
            let full = Duration::from_secs(1 << retry);
            assert!(wait >= full / 2 && wait <= full, "retry {retry}: {wait:?}");
        }
        assert_eq!(p.delay(Method::Get, &Attempt::Answered(&r503), 3), None);
    }
}
