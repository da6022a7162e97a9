//! Triggers on the host side: calling the guest's poll / subscribe / unsubscribe /
//! handle-webhook, and the state a host keeps so every event is delivered at least once and,
//! short of a crash, once: the cursor, the recently delivered event ids, and webhook
//! subscriptions.
//!
//! Order matters: events are handed out first, then the state (cursor + seen ids) is
//! committed atomically. A crash in between loses nothing — the next poll hands out the same
//! events again, which the consumer may already have (their ids are stable); without a crash
//! the seen ids drop every event delivered before.

use std::collections::VecDeque;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::bindings::triggers as wit;
use crate::private_file;
use crate::report::{CallError, ErrorReport};
use crate::session::Session;

/// Event ids remembered per trigger. Polled ids embed timestamps and webhook ids are
/// unique per event, so this only has to cover re-reads at the cursor boundary and
/// Ironclad's retries (hours), not all history.
pub const SEEN_CAPACITY: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub id: String,
    pub payload: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Polled {
    pub events: Vec<Event>,
    pub cursor: Option<Value>,
    pub has_more: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Handled {
    pub events: Vec<Event>,
    /// The guest's replacement subscription state (a rotated key), to store.
    pub subscription: Option<Value>,
}

/// Recently delivered event ids, oldest first, at most [`SEEN_CAPACITY`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SeenIds(VecDeque<String>);

impl SeenIds {
    pub fn contains(&self, id: &str) -> bool {
        self.0.iter().any(|s| s == id)
    }

    pub fn insert(&mut self, id: &str) {
        if !self.contains(id) {
            self.0.push_back(id.to_string());
            while self.0.len() > SEEN_CAPACITY {
                self.0.pop_front();
            }
        }
    }

    /// Keep the events not delivered before, and remember them.
    pub fn admit(&mut self, events: Vec<Event>) -> Vec<Event> {
        events
            .into_iter()
            .filter(|e| {
                let fresh = !self.contains(&e.id);
                self.insert(&e.id);
                fresh
            })
            .collect()
    }
}

/// What a polling trigger keeps between polls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PollState {
    /// The trigger this state belongs to: a state file is never fed to another trigger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    #[serde(default)]
    pub cursor: Option<Value>,
    #[serde(default)]
    pub seen: SeenIds,
}

/// A webhook subscription as the host keeps it: the guest's state plus delivery history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    pub trigger: String,
    pub input: Value,
    pub target_url: String,
    /// The connector's own state (webhook id, events, verification key).
    pub state: Value,
    #[serde(default)]
    pub seen: SeenIds,
    #[serde(default, skip_serializing_if = "Forgeries::is_quiet")]
    pub forgeries: Forgeries,
}

/// Deliveries refused as forged lately. A connector cannot tell a forged delivery from one
/// signed with a key rotated a moment ago until it has re-fetched the key, so each forgery
/// may cost the tenant an API request. The host lets at most [`FORGERY_BUDGET`] deliveries per
/// [`FORGERY_WINDOW_SECS`] end as `bad_signature`; past that it refuses every delivery of the
/// subscription without running the connector (`rate_limited`, retry when the window ends):
/// a flood of forgeries costs a bounded number of requests, and a genuine sender that
/// retries later loses nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Forgeries {
    /// Unix seconds when the current window began.
    pub window_start: u64,
    /// `bad_signature` outcomes in that window.
    pub count: u32,
}

pub const FORGERY_BUDGET: u32 = 5;
pub const FORGERY_WINDOW_SECS: u64 = 60;

impl Forgeries {
    fn is_quiet(&self) -> bool {
        self.count == 0
    }

    /// Seconds until deliveries are handled again, when the budget is spent at `now`.
    pub fn closed_for(&self, now: u64) -> Option<u64> {
        let ends = self.window_start.saturating_add(FORGERY_WINDOW_SECS);
        (self.count >= FORGERY_BUDGET && (self.window_start..ends).contains(&now))
            .then(|| ends - now)
    }

    /// Count one forged delivery seen at `now`.
    pub fn record(&mut self, now: u64) {
        if now >= self.window_start.saturating_add(FORGERY_WINDOW_SECS) || now < self.window_start {
            *self = Forgeries {
                window_start: now,
                count: 0,
            };
        }
        self.count = self.count.saturating_add(1);
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Hold `path`'s lock while reading, using and writing it: two processes polling with one
/// state file, or handling deliveries of one subscription, take turns, so neither delivers
/// what the other already did nor drops the other's seen ids.
pub fn lock(path: &Path) -> anyhow::Result<private_file::Lock> {
    private_file::lock(path)
}

/// A polling trigger's state file (missing: a first poll), refused when it belongs to
/// another trigger.
pub fn load_poll_state(path: &Path, trigger: &str) -> anyhow::Result<PollState> {
    let mut state: PollState = load(path)?;
    match &state.trigger {
        Some(owner) if owner != trigger => anyhow::bail!(
            "{} holds the state of trigger `{owner}`, not `{trigger}`; use a state file per trigger",
            path.display()
        ),
        _ => state.trigger = Some(trigger.to_string()),
    }
    Ok(state)
}

/// Load a JSON state file; a missing file is the default state.
pub fn load<T: Default + for<'de> Deserialize<'de>>(path: &Path) -> anyhow::Result<T> {
    match private_file::read(path)? {
        None => Ok(T::default()),
        Some(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a state file this host wrote", path.display())),
    }
}

pub fn load_subscription(path: &Path) -> anyhow::Result<Subscription> {
    let bytes = private_file::read(path)?.with_context(|| {
        format!(
            "{} does not exist; run `webhook subscribe` first",
            path.display()
        )
    })?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a subscription this host wrote", path.display()))
}

pub fn save<T: Serialize>(path: &Path, state: &T) -> anyhow::Result<()> {
    private_file::write(path, &serde_json::to_vec_pretty(state)?)
}

impl Session<'_> {
    pub async fn poll(
        &self,
        trigger: &str,
        input: &Value,
        cursor: Option<&Value>,
    ) -> Result<Polled, CallError> {
        let cursor = cursor.map(Value::to_string);
        let input = input.to_string();
        let r = self
            .call(async |store, guest| {
                guest
                    .triggers(&mut *store)?
                    .call_poll(store, &self.guest_config, trigger, &input, cursor.as_ref())
                    .await
            })
            .await?;
        Ok(Polled {
            events: events(r.events)?,
            cursor: r.cursor.as_deref().map(parse).transpose()?,
            has_more: r.has_more,
        })
    }

    /// Poll once with `state`, drop events already delivered, and advance the state in
    /// memory. The caller delivers the events, then saves the state.
    pub async fn poll_with(
        &self,
        trigger: &str,
        input: &Value,
        state: &mut PollState,
    ) -> Result<Polled, CallError> {
        let mut polled = self.poll(trigger, input, state.cursor.as_ref()).await?;
        polled.events = state.seen.admit(polled.events);
        if polled.cursor.is_some() {
            state.cursor = polled.cursor.clone();
        }
        Ok(polled)
    }

    pub async fn subscribe(
        &self,
        trigger: &str,
        input: &Value,
        target_url: &str,
    ) -> Result<Subscription, CallError> {
        let input_text = input.to_string();
        let state = self
            .call(async |store, guest| {
                guest
                    .triggers(&mut *store)?
                    .call_subscribe(store, &self.guest_config, trigger, &input_text, target_url)
                    .await
            })
            .await?;
        Ok(Subscription {
            trigger: trigger.to_string(),
            input: input.clone(),
            target_url: target_url.to_string(),
            state: parse(&state)?,
            seen: SeenIds::default(),
            forgeries: Forgeries::default(),
        })
    }

    pub async fn unsubscribe(&self, sub: &Subscription) -> Result<(), CallError> {
        let state = sub.state.to_string();
        self.call(async |store, guest| {
            guest
                .triggers(&mut *store)?
                .call_unsubscribe(store, &self.guest_config, &sub.trigger, &state)
                .await
        })
        .await?;
        Ok(())
    }

    /// Verify one delivery through the connector and keep the events not delivered before.
    /// `sub` takes a rotated key, the delivered ids and the forged-delivery count: the caller
    /// delivers the events, then saves `sub`, whatever the outcome.
    pub async fn handle_webhook(
        &self,
        sub: &mut Subscription,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<Vec<Event>, CallError> {
        if let Some(seconds) = sub.forgeries.closed_for(unix_now()) {
            return Err(ErrorReport {
                details: json!({ "retry_after_ms": seconds * 1000, "reason": "forged_deliveries" }),
                ..ErrorReport::new(
                    "rate_limited",
                    format!(
                        "{FORGERY_BUDGET} forged deliveries within {FORGERY_WINDOW_SECS} s: \
                         deliveries of this subscription are refused for {seconds} s"
                    ),
                )
            }
            .into());
        }
        let outcome = self.verify_delivery(sub, headers, body).await;
        if let Err(CallError::Connector(report)) = &outcome
            && report.rejection() == Some("bad_signature")
        {
            sub.forgeries.record(unix_now());
        }
        outcome
    }

    async fn verify_delivery(
        &self,
        sub: &mut Subscription,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<Vec<Event>, CallError> {
        let request = wit::WebhookRequest { headers, body };
        let (input, state) = (sub.input.to_string(), sub.state.to_string());
        let r = self
            .call(async |store, guest| {
                guest
                    .triggers(&mut *store)?
                    .call_handle_webhook(
                        store,
                        &self.guest_config,
                        &sub.trigger,
                        &input,
                        &state,
                        &request,
                    )
                    .await
            })
            .await?;
        if let Some(state) = r.subscription.as_deref() {
            sub.state = parse(state)?;
        }
        let events = events(r.events)?;
        let total = events.len();
        let fresh = sub.seen.admit(events);
        if total > 0 && fresh.is_empty() {
            return Err(ErrorReport::rejected(
                "replayed",
                "this event id was already delivered; the delivery is acknowledged and dropped",
            )
            .into());
        }
        Ok(fresh)
    }
}

fn parse(text: &str) -> Result<Value, CallError> {
    serde_json::from_str(text)
        .map_err(|e| CallError::Host(anyhow::anyhow!("the connector returned invalid JSON: {e}")))
}

fn events(events: Vec<wit::Event>) -> Result<Vec<Event>, CallError> {
    events
        .into_iter()
        .map(|e| {
            Ok(Event {
                payload: parse(&e.payload)?,
                id: e.id,
            })
        })
        .collect()
}

/// `{"events": [...], "cursor": ..., "has_more": ...}` as the CLI prints a poll.
pub fn polled_json(p: &Polled) -> Value {
    json!({ "events": p.events, "cursor": p.cursor, "has_more": p.has_more })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: &str) -> Event {
        Event {
            id: id.into(),
            payload: json!({}),
        }
    }

    #[test]
    fn seen_ids_drop_repeats_and_stay_bounded() {
        let mut seen = SeenIds::default();
        assert_eq!(
            seen.admit(vec![ev("a"), ev("b"), ev("a")]),
            vec![ev("a"), ev("b")]
        );
        assert_eq!(seen.admit(vec![ev("b"), ev("c")]), vec![ev("c")]);
        for i in 0..SEEN_CAPACITY {
            seen.insert(&format!("x{i}"));
        }
        assert!(!seen.contains("a"), "the oldest ids are forgotten first");
        assert!(seen.contains(&format!("x{}", SEEN_CAPACITY - 1)));
    }

    #[test]
    fn forged_deliveries_close_the_subscription_until_their_window_ends() {
        let mut f = Forgeries::default();
        for _ in 0..FORGERY_BUDGET - 1 {
            f.record(1_000);
            assert_eq!(f.closed_for(1_000), None);
        }
        f.record(1_010);
        assert_eq!(f.closed_for(1_010), Some(FORGERY_WINDOW_SECS - 10));
        assert_eq!(f.closed_for(1_000 + FORGERY_WINDOW_SECS), None);
        // A forgery after the window starts a new one, counted from one.
        f.record(1_000 + FORGERY_WINDOW_SECS);
        assert_eq!((f.window_start, f.count), (1_000 + FORGERY_WINDOW_SECS, 1));
        // A clock set back does not keep a subscription closed.
        f.count = FORGERY_BUDGET;
        assert_eq!(f.closed_for(10), None);
    }
}
