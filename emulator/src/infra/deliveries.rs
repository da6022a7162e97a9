//! Webhook deliveries, the emulator's only outbound traffic (§6.2 of the API digest). The
//! queues, retry schedule and attempt log are tenant state (`store::deliveries`, reset with
//! `Data`); this module is the task that works through them and what it does per attempt.
//!
//! An event ([`crate::store::events`]) is queued once per enabled webhook subscribed to it, as the
//! envelope `{"companyID", "payload", "timestamp", "webhookID"}` (compact JSON) with a fresh
//! `X-Ironclad-Webhook-Event-Id` (`webhookEvent` + 32 hex) and nonce. A background task (started
//! by `serve`, [`run`]) POSTs each webhook's queue in event order, one delivery at a time, signed
//! with the key current at its first attempt (`infra::signing`); a retry resends the very same
//! bytes, event id, nonce and signature.
//!
//! Outcomes, per attempt (10 s timeout, redirects not followed): 2xx delivers and resets
//! `consecutiveFailureCount`; 410 sets the webhook `disabledBySystem` by `system` and drops its
//! queue; anything else (or no answer) counts a failure (`consecutiveFailureCount`,
//! `firstConsecutiveFailure`) and is retried after `base_delay_ms · 2^(retry-1)` up to
//! `max_retries` times (default 1 s and 10, set with `POST /_emulator/webhook-delivery`).
//! As in Ironclad, 100 consecutive failures spanning 7 days also disable the webhook.
//! Every attempt is logged (`GET /_emulator/deliveries`).
//!
//! Only loopback targets are called (`store::webhooks_and_jobs::is_loopback_target`): other registrations are
//! kept and listed but get no deliveries, so the emulator never reaches beyond this machine.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use tokio::task::JoinSet;

use crate::emulator::{Data, Emulator};
use crate::infra::signing;
use crate::store::deliveries::{Attempt, Delivery};
use crate::store::time;
use crate::store::webhook_keys::KeyId;
use crate::store::webhooks_and_jobs::Webhook;

/// Ironclad does not document its per-attempt timeout; 10 s keeps a stuck receiver from
/// holding its queue for long.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Ironclad disables a webhook that has failed this many times in a row…
const DISABLE_AFTER_FAILURES: u64 = 100;
/// …over at least this long.
const DISABLE_AFTER_MS: i64 = 7 * time::DAY_MS;

/// `X-Ironclad-Webhook-Verification`, fields in the documented order.
#[derive(Serialize)]
struct Verification<'a> {
    nonce: &'a str,
    #[serde(rename = "signAlgorithm")]
    sign_algorithm: &'a str,
    signature: &'a str,
    encoding: &'a str,
}

impl Emulator {
    /// Every webhook delivery attempt so far (`GET /_emulator/deliveries`), oldest first:
    /// `{event_id, webhook_id, event, target_url, attempt, status, error, at}`.
    pub fn deliveries(&self) -> Vec<Value> {
        self.data().deliveries.log()
    }

    /// Wait until at least `count` delivery attempts are logged: `Ok` with all of them, or
    /// `Err` with those logged when `timeout` ran out.
    pub async fn wait_for_deliveries(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<Value>, Vec<Value>> {
        let mut logged = self.data().deliveries.hub.logged.subscribe();
        let reached = tokio::time::timeout(timeout, logged.wait_for(|n| *n >= count))
            .await
            .is_ok_and(|r| r.is_ok());
        let all = self.deliveries();
        if reached { Ok(all) } else { Err(all) }
    }

    /// Set the retry schedule: the wait before the first retry (doubling after it) and how
    /// many retries follow a failed attempt; `None` keeps a value.
    pub fn configure_deliveries(&self, base_delay_ms: Option<u64>, max_retries: Option<u32>) {
        let config = &mut self.data().deliveries.config;
        if let Some(ms) = base_delay_ms {
            config.base_delay_ms = ms;
        }
        if let Some(n) = max_retries {
            config.max_retries = n;
        }
    }

    /// Sign with the other test key from now on; returns the new verification key (PEM).
    pub fn rotate_webhook_key(&self) -> &'static str {
        let outbox = &mut self.data().deliveries;
        outbox.key = outbox.key.rotated();
        outbox.key.verification_pem()
    }
}

/// The delivery task: starts a lane per webhook with queued deliveries. Lanes live in a
/// `JoinSet`, so aborting this task (emulator shutdown) stops them all.
pub async fn run(emu: Emulator) {
    let hub = emu.data().deliveries.hub.clone();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(ATTEMPT_TIMEOUT)
        .build()
        .expect("the delivery HTTP client builds");
    let mut lanes = JoinSet::new();
    loop {
        hub.wake.notified().await;
        while lanes.try_join_next().is_some() {}
        let idle = emu.data().deliveries.claim_idle();
        for (webhook_id, lane) in idle {
            lanes.spawn(work_lane(emu.clone(), client.clone(), webhook_id, lane));
        }
    }
}

/// Deliver `webhook_id`'s queue, head first, until it is empty. Each attempt starts from the
/// queue, so a webhook disabled or deleted meanwhile gets nothing more.
async fn work_lane(emu: Emulator, client: reqwest::Client, webhook_id: String, lane: u64) {
    // `(event id, X-Ironclad-Webhook-Verification)` of the head: signed at its first attempt,
    // resent as is by its retries.
    let mut signed: Option<(String, String)> = None;
    loop {
        let Some((delivery, target, key)) = next_delivery(&mut emu.data(), &webhook_id, lane)
        else {
            return;
        };
        let verification = match &signed {
            Some((event_id, header)) if *event_id == delivery.event_id => header.clone(),
            _ => {
                let header = verification(key, &delivery);
                signed = Some((delivery.event_id.clone(), header.clone()));
                header
            }
        };
        let outcome = client
            .post(&target)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Ironclad-Webhook-Event-Id", &delivery.event_id)
            .header("X-Ironclad-Webhook-Verification", verification)
            .body(delivery.body.clone())
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(describe);
        let retry = settle(
            &mut emu.data(),
            &webhook_id,
            lane,
            &delivery,
            &target,
            outcome,
        );
        if let Some(wait) = retry {
            tokio::time::sleep(wait).await;
        }
    }
}

/// The `X-Ironclad-Webhook-Verification` header of `delivery`, signed with `key`.
fn verification(key: KeyId, delivery: &Delivery) -> String {
    let signature = signing::sign(key, &delivery.event_id, &delivery.body, &delivery.nonce);
    serde_json::to_string(&Verification {
        nonce: &delivery.nonce,
        sign_algorithm: "sha256",
        signature: &signature,
        encoding: "base64",
    })
    .expect("verification headers serialise")
}

/// The head of the lane's queue with the webhook's target and the signing key, or `None` when
/// the lane is done: its queue is empty, its webhook gone or no longer enabled (its queue is
/// dropped), or a reset replaced it.
fn next_delivery(
    data: &mut Data,
    webhook_id: &str,
    lane: u64,
) -> Option<(Delivery, String, KeyId)> {
    let outbox = &mut data.deliveries;
    if outbox.lanes.get(webhook_id) != Some(&lane) {
        return None;
    }
    let target = data
        .platform
        .webhooks
        .iter()
        .find(|w| w.id == webhook_id && w.status == "enabled")
        .map(|w| w.target_url.clone());
    let head = outbox.queues.get(webhook_id).and_then(VecDeque::front);
    match (head, target) {
        (Some(head), Some(target)) => Some((head.clone(), target, outbox.key)),
        _ => {
            outbox.drop_queue(webhook_id);
            outbox.lanes.remove(webhook_id);
            None
        }
    }
}

/// Log one attempt and apply its outcome to the webhook and the queue; returns the wait
/// before retrying the head, if it is to be retried. An attempt whose delivery is no longer at
/// the head of this lane's queue (a reset, a dropped queue) is not logged.
fn settle(
    data: &mut Data,
    webhook_id: &str,
    lane: u64,
    delivery: &Delivery,
    target: &str,
    outcome: Result<u16, String>,
) -> Option<Duration> {
    if !data
        .deliveries
        .current(webhook_id, lane, &delivery.event_id)
    {
        return None;
    }
    let now = data.tick();
    let outbox = &mut data.deliveries;
    let attempt = delivery.attempts + 1;
    let (status, error) = match &outcome {
        Ok(status) => (Some(*status), None),
        Err(e) => (None, Some(e.clone())),
    };
    outbox.log.push(Attempt {
        event_id: delivery.event_id.clone(),
        webhook_id: webhook_id.to_owned(),
        event: delivery.event,
        target_url: target.to_owned(),
        attempt,
        status,
        error,
        at: time::format_ms(now),
    });
    outbox.hub.logged.send_replace(outbox.log.len());
    let queue = outbox.queues.entry(webhook_id.to_owned()).or_default();
    let Some(webhook) = data
        .platform
        .webhooks
        .iter_mut()
        .find(|w| w.id == webhook_id)
    else {
        queue.clear();
        return None;
    };
    if matches!(outcome, Ok(200..=299)) {
        webhook.consecutive_failure_count = 0;
        webhook.first_consecutive_failure = None;
        queue.pop_front();
        return None;
    }
    let disabled = record_failure(webhook, now, outcome == Ok(410));
    if disabled || webhook.status != "enabled" {
        // Disabled by the system now, or by its owner meanwhile: nothing more goes out.
        queue.clear();
        None
    } else if attempt <= outbox.config.max_retries {
        if let Some(head) = queue.front_mut() {
            head.attempts = attempt;
        }
        Some(outbox.config.delay(attempt))
    } else {
        // Out of retries: Ironclad gives this event up.
        queue.pop_front();
        None
    }
}

/// Count a failed attempt; returns whether the webhook is now disabled by the system (at once
/// for `410 Gone`, else after 100 consecutive failures spanning 7 days).
fn record_failure(webhook: &mut Webhook, now: i64, gone: bool) -> bool {
    webhook.consecutive_failure_count += 1;
    let first = webhook
        .first_consecutive_failure
        .get_or_insert_with(|| time::format_ms(now));
    let failing_since = time::parse(first).unwrap_or(now);
    let worn_out = webhook.consecutive_failure_count >= DISABLE_AFTER_FAILURES
        && now - failing_since >= DISABLE_AFTER_MS;
    if gone || worn_out {
        webhook.status = "disabledBySystem".into();
        webhook.status_last_updated_by = Some("system".into());
        webhook.status_last_updated_at = Some(time::format_ms(now));
        true
    } else {
        false
    }
}

/// A transport error with its causes (`error sending request: … Connection refused`), without
/// the URL (the attempt lists it).
fn describe(error: reqwest::Error) -> String {
    if error.is_timeout() {
        return format!("timed out after {} s", ATTEMPT_TIMEOUT.as_secs());
    }
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    let mut text = error.without_url().to_string();
    for cause in causes {
        if !text.contains(&cause) {
            text = format!("{text}: {cause}");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webhook() -> Webhook {
        Webhook {
            id: "w".into(),
            events: vec!["*".into()],
            target_url: "http://127.0.0.1:9/hook".into(),
            status: "enabled".into(),
            status_last_updated_at: None,
            status_last_updated_by: None,
            consecutive_failure_count: 0,
            first_consecutive_failure: None,
        }
    }

    #[test]
    fn failures_disable_after_100_over_7_days_or_at_once_on_410() {
        let start = time::parse("2025-01-01T00:00:00Z").unwrap();
        let mut w = webhook();
        assert!(!record_failure(&mut w, start, false));
        assert_eq!(w.consecutive_failure_count, 1);
        assert_eq!(
            w.first_consecutive_failure.as_deref(),
            Some("2025-01-01T00:00:00.000Z")
        );
        for _ in 0..98 {
            assert!(!record_failure(&mut w, start + 3_600_000, false));
        }
        // 100 failures, but within a day: still enabled.
        assert!(!record_failure(&mut w, start + 7_200_000, false));
        assert_eq!(w.consecutive_failure_count, 100);
        assert_eq!(w.status, "enabled");
        assert!(record_failure(&mut w, start + DISABLE_AFTER_MS, false));
        assert_eq!(w.status, "disabledBySystem");
        assert_eq!(w.status_last_updated_by.as_deref(), Some("system"));

        let mut gone = webhook();
        assert!(record_failure(&mut gone, start, true));
        assert_eq!(gone.status, "disabledBySystem");
    }
}
