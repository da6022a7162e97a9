//! Rate limiting as Ironclad does it (the state and the verdicts; the middleware answering them
//! is `infra::rate_limits`): per-company buckets of methods and paths, each with
//! its own requests-per-minute quota, under a company-wide cap. Off by default so tests
//! and demos are not paced; `POST /_emulator/rate-limits` switches it on, optionally with a
//! shorter window so a test can empty a bucket quickly. Injected 429s
//! (`POST /_emulator/throttle`) are answered here too: one place decides every 429.
//!
//! `X-RateLimit-Reset` is when the bucket's oldest admission leaves the window (one more
//! request fits). Ironclad does not document its format, so the emulator speaks each that a
//! client must understand ([`ResetFormat`]): by default the delay in seconds with millisecond
//! precision (`0.25`; whole seconds would make a shortened test window meaningless), else the
//! delay in milliseconds, the epoch time in seconds or milliseconds, or no `X-RateLimit-*`
//! headers at all. `Retry-After` stays whole seconds, as HTTP defines it.

use std::collections::{HashMap, VecDeque};

const API: &str = "/public/api/v1";
const MINUTE_MS: i64 = 60_000;
/// All buckets together, per company and window.
const COMPANY_CAP: usize = 4_500;
/// The quota and room reported while limits are not enforced.
const UNENFORCED: usize = 1_000_000;

const READS: &[&str] = &["GET", "HEAD"];
const WRITES: &[&str] = &["POST", "PUT", "PATCH", "DELETE"];
const SIGN_WRITES: &[&str] = &["POST", "PATCH"];
const ANY: &[&str] = &[];

/// A bucket: requests with one of `methods` (empty = any) whose path starts with
/// `API + prefix` and, when set, contains `segment`. The first match wins, so the narrow
/// sub-resource buckets come first.
struct Bucket {
    name: &'static str,
    per_window: usize,
    methods: &'static [&'static str],
    prefix: &'static str,
    segment: Option<&'static str>,
}

/// Ironclad's published buckets; the catch-all takes what the table does not name.
const BUCKETS: &[Bucket] = &[
    Bucket {
        name: "pub:workflows:sign-status",
        per_window: 50,
        methods: SIGN_WRITES,
        prefix: "/workflows/",
        segment: Some("/sign-status"),
    },
    Bucket {
        name: "pub:workflows:signatures",
        per_window: 50,
        methods: SIGN_WRITES,
        prefix: "/workflows/",
        segment: Some("/signatures"),
    },
    Bucket {
        name: "pub:workflows:read",
        per_window: 400,
        methods: READS,
        prefix: "/workflows",
        segment: None,
    },
    Bucket {
        name: "pub:workflows:write",
        per_window: 40,
        methods: WRITES,
        prefix: "/workflows",
        segment: None,
    },
    Bucket {
        name: "pub:records:read",
        per_window: 600,
        methods: READS,
        prefix: "/records",
        segment: None,
    },
    Bucket {
        name: "pub:records:write",
        per_window: 200,
        methods: WRITES,
        prefix: "/records",
        segment: None,
    },
    Bucket {
        name: "pub:webhooks",
        per_window: 600,
        methods: ANY,
        prefix: "/webhooks",
        segment: None,
    },
    Bucket {
        name: "pub:other",
        per_window: 800,
        methods: ANY,
        prefix: "",
        segment: None,
    },
];

fn bucket_for(method: &str, path: &str) -> Option<&'static Bucket> {
    let rest = path.strip_prefix(API)?;
    BUCKETS.iter().find(|b| {
        (b.methods.is_empty() || b.methods.contains(&method))
            && rest.starts_with(b.prefix)
            && b.segment.is_none_or(|s| rest.contains(s))
    })
}

/// How `X-RateLimit-Reset` is written (`reset_format` of `POST /_emulator/rate-limits`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum ResetFormat {
    /// The delay in seconds, with up to three decimals.
    #[default]
    Seconds,
    Milliseconds,
    EpochSeconds,
    EpochMilliseconds,
    /// No `X-RateLimit-*` headers: the client must keep to the published quotas itself.
    None,
}

impl ResetFormat {
    pub fn parse(name: &str) -> Option<ResetFormat> {
        Some(match name {
            "seconds" => ResetFormat::Seconds,
            "milliseconds" => ResetFormat::Milliseconds,
            "epoch_seconds" => ResetFormat::EpochSeconds,
            "epoch_milliseconds" => ResetFormat::EpochMilliseconds,
            "none" => ResetFormat::None,
            _ => return None,
        })
    }

    /// The reset header's value, `ms` from `now` (epoch milliseconds); None: no headers.
    pub fn value(self, ms: i64, now: i64) -> Option<String> {
        let text = match self {
            ResetFormat::Seconds => seconds(ms),
            ResetFormat::Milliseconds => ms.to_string(),
            ResetFormat::EpochSeconds => seconds(now + ms),
            ResetFormat::EpochMilliseconds => (now + ms).to_string(),
            ResetFormat::None => return None,
        };
        Some(text)
    }
}

/// The rate-limit state of one tenant, one field of `Data` (reset with it).
#[derive(Debug, Default)]
pub struct RateLimits {
    enabled: bool,
    window_ms: i64,
    pub reset_format: ResetFormat,
    /// Admission times per bucket within the window, oldest first.
    hits: HashMap<&'static str, VecDeque<i64>>,
    all: VecDeque<i64>,
    /// Injected: how many requests still answer 429, and their `Retry-After` seconds.
    /// Injected 429s: (API requests to let through first, 429s to answer, Retry-After).
    injected: Option<(u32, u32, u64)>,
}

/// What becomes of one request (the middleware in `infra::rate_limits` answers it).
pub enum Verdict {
    Pass,
    Admitted {
        limit: usize,
        remaining: usize,
        reset_ms: i64,
    },
    Limited {
        retry_after_s: u64,
        /// The bucket's quota and when it frees a request, unless the 429 was injected.
        limit: Option<(usize, i64)>,
        bucket: &'static str,
    },
}

impl RateLimits {
    pub fn configure(&mut self, enabled: bool, window_ms: Option<i64>, reset_format: ResetFormat) {
        self.enabled = enabled;
        self.window_ms = window_ms.unwrap_or(MINUTE_MS).max(1);
        self.reset_format = reset_format;
        self.hits.clear();
        self.all.clear();
    }

    pub fn inject(&mut self, after: u32, count: u32, retry_after_s: u64) {
        self.injected = (count > 0).then_some((after, count, retry_after_s));
    }

    pub fn judge(&mut self, method: &str, path: &str, now: i64) -> Verdict {
        if !path.starts_with(API) {
            return Verdict::Pass;
        }
        if let Some((after, left, seconds)) = self.injected {
            if after > 0 {
                self.injected = Some((after - 1, left, seconds));
                return Verdict::Pass;
            }
            self.injected = (left > 1).then_some((0, left - 1, seconds));
            return Verdict::Limited {
                retry_after_s: seconds,
                limit: None,
                bucket: "injected",
            };
        }
        let Some(bucket) = bucket_for(method, path) else {
            return Verdict::Pass;
        };
        if !self.enabled {
            // Ironclad always describes the bucket; an emulator that does not enforce has
            // room for anything.
            return Verdict::Admitted {
                limit: UNENFORCED,
                remaining: UNENFORCED,
                reset_ms: if self.window_ms > 0 {
                    self.window_ms
                } else {
                    MINUTE_MS
                },
            };
        }
        let window = self.window_ms;
        let expire = |q: &mut VecDeque<i64>| {
            while q.front().is_some_and(|t| *t <= now - window) {
                q.pop_front();
            }
        };
        expire(&mut self.all);
        let hits = self.hits.entry(bucket.name).or_default();
        expire(hits);
        let frees_at = |q: &VecDeque<i64>| q.front().map_or(now, |t| t + window);
        let ms_until = |at: i64| (at - now).max(1);
        if hits.len() >= bucket.per_window || self.all.len() >= COMPANY_CAP {
            let at = if hits.len() >= bucket.per_window {
                frees_at(hits)
            } else {
                frees_at(&self.all)
            };
            return Verdict::Limited {
                retry_after_s: (ms_until(at) as u64).div_ceil(1000),
                limit: Some((bucket.per_window, ms_until(at))),
                bucket: bucket.name,
            };
        }
        hits.push_back(now);
        self.all.push_back(now);
        Verdict::Admitted {
            limit: bucket.per_window,
            remaining: bucket.per_window - hits.len(),
            reset_ms: ms_until(frees_at(hits)),
        }
    }
}

/// Milliseconds as seconds with up to three decimals: `2000` → `2`, `250` → `0.25`.
fn seconds(ms: i64) -> String {
    let text = format!("{}.{:03}", ms / 1000, ms % 1000);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_buckets_win_and_the_rest_fall_through() {
        let name = |m: &str, p: &str| bucket_for(m, p).map(|b| b.name);
        assert_eq!(
            name(
                "POST",
                "/public/api/v1/workflows/IC-1/sign-status/send-signature-request"
            ),
            Some("pub:workflows:sign-status")
        );
        assert_eq!(
            name("GET", "/public/api/v1/workflows/IC-1/sign-status"),
            Some("pub:workflows:read")
        );
        assert_eq!(
            name("POST", "/public/api/v1/workflows/IC-1/comments"),
            Some("pub:workflows:write")
        );
        assert_eq!(
            name("GET", "/public/api/v1/records/metadata"),
            Some("pub:records:read")
        );
        assert_eq!(
            name("DELETE", "/public/api/v1/webhooks/x"),
            Some("pub:webhooks")
        );
        assert_eq!(name("GET", "/public/api/v1/entities"), Some("pub:other"));
        assert_eq!(name("POST", "/oauth/token"), None);
    }

    #[test]
    fn a_bucket_empties_and_refills_with_the_window() {
        let mut limits = RateLimits::default();
        limits.configure(true, Some(1_000), ResetFormat::Seconds);
        let path = "/public/api/v1/workflows/IC-1/comments";
        for i in 0..40 {
            assert!(
                matches!(limits.judge("POST", path, i), Verdict::Admitted { .. }),
                "request {i}"
            );
        }
        let Verdict::Limited {
            retry_after_s,
            limit,
            ..
        } = limits.judge("POST", path, 500)
        else {
            panic!("41st must be limited")
        };
        assert_eq!((retry_after_s, limit), (1, Some((40, 500))));
        // Reads have their own bucket.
        assert!(matches!(
            limits.judge("GET", path, 500),
            Verdict::Admitted { .. }
        ));
        // After the window, the oldest admissions have expired.
        assert!(matches!(
            limits.judge("POST", path, 1_001),
            Verdict::Admitted { .. }
        ));
    }

    #[test]
    fn resets_are_seconds_with_milliseconds() {
        let text = seconds;
        assert_eq!(
            [text(2000), text(250), text(1), text(61_500)],
            ["2", "0.25", "0.001", "61.5"]
        );
        let mut limits = RateLimits::default();
        limits.configure(true, Some(4_000), ResetFormat::Seconds);
        let Verdict::Admitted {
            remaining,
            reset_ms,
            ..
        } = limits.judge("GET", "/public/api/v1/records", 10)
        else {
            panic!("admitted")
        };
        assert_eq!((remaining, reset_ms), (599, 4_000));
    }

    #[test]
    fn off_by_default_but_injections_always_apply() {
        let mut limits = RateLimits::default();
        let path = "/public/api/v1/workflows";
        // Off, every request is admitted, and still told about its bucket (room for anything).
        assert!((0..1000).all(|i| matches!(
            limits.judge("GET", path, i),
            Verdict::Admitted {
                remaining: UNENFORCED,
                limit: UNENFORCED,
                ..
            }
        )));
        limits.inject(0, 2, 7);
        assert!(matches!(
            limits.judge("GET", path, 0),
            Verdict::Limited {
                retry_after_s: 7,
                ..
            }
        ));
        assert!(matches!(
            limits.judge("GET", path, 0),
            Verdict::Limited { .. }
        ));
        assert!(matches!(
            limits.judge("GET", path, 0),
            Verdict::Admitted { .. }
        ));
    }
}
