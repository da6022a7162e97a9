//! Connector errors as Temporal activity failures: what Temporal may retry, after how long,
//! and what no retry can fix.
//!
//! Temporal retries a failed activity by its retry policy unless the failure says it is
//! non-retryable; a failure may also name the delay before its next attempt, which is where
//! the connector's `retry_after` goes. The failure's type is the connector's error kind
//! (`rate_limited`, `not_found`, ...), so a workflow in any SDK can branch on it.

use std::time::Duration;

use connector_host::{CallError, ErrorReport};
use temporalio_sdk::ApplicationFailure;
use temporalio_sdk::activities::ActivityError;

/// What Temporal should do with one failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retry {
    /// Another attempt may succeed; `after` overrides the policy's backoff when the API said
    /// when to come back.
    Again { after: Option<Duration> },
    /// The same call would fail the same way: the input, the connection or the connector
    /// must change first.
    Never,
}

/// How a connector error kind is retried. Transient kinds are the ones the WIT contract calls
/// transient (`rate_limited`, `timeout`) and upstream answers that are not the caller's
/// fault (5xx, or no answer at all); everything else describes a request or a connection
/// that has to change.
pub fn classify(report: &ErrorReport) -> Retry {
    match report.kind {
        "rate_limited" => Retry::Again {
            after: report.details["retry_after_ms"]
                .as_u64()
                .map(Duration::from_millis),
        },
        "timeout" => Retry::Again { after: None },
        "upstream" => match report.details["status"].as_u64() {
            // 408 and 429 are the API asking for another try; a 4xx that is neither is a
            // request the API will refuse again.
            Some(408 | 429) | None => Retry::Again { after: None },
            Some(status) if status >= 500 => Retry::Again { after: None },
            Some(_) => Retry::Never,
        },
        // invalid_input, invalid_config, forbidden, not_found, conflict, unauthenticated
        // (the host already renewed the token once), unsupported, internal (a connector
        // bug), webhook_rejected.
        _ => Retry::Never,
    }
}

/// A failed call as an activity error. Host failures (a trap, the call's deadline, every
/// instance slot busy, I/O) say nothing about the input, so they are retried.
pub fn activity_error(error: CallError) -> ActivityError {
    match error {
        CallError::Connector(report) => {
            let retry = classify(&report);
            application_failure(&report, retry)
        }
        CallError::Host(e) => ActivityError::application(
            ApplicationFailure::builder(Box::<dyn std::error::Error + Send + Sync>::from(format!(
                "{e:#}"
            )))
            .type_name("host".to_string())
            .build(),
        ),
    }
}

/// A failure that no retry fixes and that did not come from the connector (an unknown
/// connection reference, a worker misconfigured), typed `kind`.
pub fn non_retryable(kind: &str, message: String) -> ActivityError {
    ActivityError::application(
        ApplicationFailure::builder(Box::<dyn std::error::Error + Send + Sync>::from(message))
            .type_name(kind.to_string())
            .non_retryable(true)
            .build(),
    )
}

fn application_failure(report: &ErrorReport, retry: Retry) -> ActivityError {
    // The report's Display: `kind (field): message`. The host has already redacted every
    // secret it knows from the message before it reached us.
    let source = Box::<dyn std::error::Error + Send + Sync>::from(report.to_string());
    let builder = ApplicationFailure::builder(source).type_name(report.kind.to_string());
    let failure = match retry {
        Retry::Never => builder.non_retryable(true).build(),
        Retry::Again { after: Some(delay) } => builder.next_retry_delay(delay).build(),
        Retry::Again { after: None } => builder.build(),
    };
    ActivityError::application(failure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(kind: &'static str, details: serde_json::Value) -> ErrorReport {
        ErrorReport {
            details,
            ..ErrorReport::new(kind, "m")
        }
    }

    #[test]
    fn rate_limits_retry_after_the_connectors_hint() {
        assert_eq!(
            classify(&report("rate_limited", json!({ "retry_after_ms": 1500 }))),
            Retry::Again {
                after: Some(Duration::from_millis(1500))
            }
        );
        assert_eq!(
            classify(&report("rate_limited", json!({ "retry_after_ms": null }))),
            Retry::Again { after: None }
        );
    }

    #[test]
    fn upstream_failures_retry_only_when_the_api_was_not_refusing_the_request() {
        for status in [json!(500), json!(503), json!(429), json!(408), json!(null)] {
            assert_eq!(
                classify(&report("upstream", json!({ "status": status }))),
                Retry::Again { after: None },
                "{status}"
            );
        }
        for status in [400, 404, 422] {
            assert_eq!(
                classify(&report("upstream", json!({ "status": status }))),
                Retry::Never,
                "{status}"
            );
        }
    }

    #[test]
    fn caller_errors_are_never_retried() {
        for kind in [
            "invalid_input",
            "invalid_config",
            "forbidden",
            "not_found",
            "conflict",
            "unauthenticated",
            "unsupported",
            "internal",
        ] {
            assert_eq!(classify(&report(kind, json!(null))), Retry::Never, "{kind}");
        }
        assert_eq!(
            classify(&report("timeout", json!(null))),
            Retry::Again { after: None }
        );
    }

    #[test]
    fn the_failure_carries_the_kind_the_retry_flag_and_the_delay() {
        let ActivityError::Application(f) =
            activity_error(report("rate_limited", json!({ "retry_after_ms": 2000 })).into())
        else {
            panic!("an application failure")
        };
        assert_eq!(f.type_name(), Some("rate_limited"));
        assert!(!f.is_non_retryable());
        assert_eq!(f.next_retry_delay(), Some(Duration::from_secs(2)));

        let ActivityError::Application(f) =
            activity_error(ErrorReport::new("not_found", "no such workflow").into())
        else {
            panic!("an application failure")
        };
        assert_eq!(f.type_name(), Some("not_found"));
        assert!(f.is_non_retryable());
        assert_eq!(f.source_error().to_string(), "not_found: no such workflow");

        let ActivityError::Application(f) =
            activity_error(CallError::Host(anyhow::anyhow!("trap")))
        else {
            panic!("an application failure")
        };
        assert!(!f.is_non_retryable(), "host failures are retried");
    }
}
