//! Webhook deliveries' state: the queue per webhook, the retry schedule, the signing key and
//! the log of attempts, one field of `Data`; [`Hub`] is what outlives a reset. The delivery
//! task that works through the queues is `infra::deliveries`; events are queued here, inside
//! the data lock, by `Data::emit`.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{Notify, watch};

use crate::store::events::Event;
use crate::store::webhook_keys::KeyId;
use crate::store::webhooks_and_jobs::{Webhook, is_loopback_target};
use crate::{store::ids, store::time};

/// Retry schedule; test-controlled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub base_delay_ms: u64,
    pub max_retries: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            base_delay_ms: 1000,
            max_retries: 10,
        }
    }
}

impl Config {
    /// The wait before retry `n` (1-based): base, 2·base, 4·base, …
    pub fn delay(self, retry: u32) -> Duration {
        let factor = 1u64 << (retry.saturating_sub(1)).min(40);
        Duration::from_millis(self.base_delay_ms.saturating_mul(factor))
    }
}

/// What outlives a reset: the wake-up call of the delivery task, the count of logged attempts
/// (for waiters) and lane ids.
#[derive(Debug)]
pub struct Hub {
    pub wake: Notify,
    pub logged: watch::Sender<usize>,
    lanes: AtomicU64,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            wake: Notify::new(),
            logged: watch::channel(0).0,
            lanes: AtomicU64::new(0),
        }
    }
}

/// One queued delivery: the exact bytes and headers every attempt sends.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub event_id: String,
    pub event: &'static str,
    pub body: Bytes,
    pub nonce: String,
    /// Attempts made so far.
    pub attempts: u32,
}

/// One attempt, as `GET /_emulator/deliveries` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub event_id: String,
    pub webhook_id: String,
    pub event: &'static str,
    pub target_url: String,
    /// 1 for the first try, 2 for the first retry, …
    pub attempt: u32,
    /// The receiver's HTTP status, if it answered.
    pub status: Option<u16>,
    /// Why there was no answer (connect error, timeout).
    pub error: Option<String>,
    pub at: String,
}

/// The deliveries state, one field of `Data` (reset with it).
#[derive(Debug, Default)]
pub struct Outbox {
    /// The tenant's company id (`companyID` of every envelope).
    company_id: String,
    pub hub: Arc<Hub>,
    pub config: Config,
    /// The key signing deliveries (and served as the verification key).
    pub key: KeyId,
    /// Per webhook id, in event order.
    pub queues: HashMap<String, VecDeque<Delivery>>,
    /// Webhook id → the lane (task) working through its queue.
    pub lanes: HashMap<String, u64>,
    pub log: Vec<Attempt>,
}

impl Outbox {
    pub fn new(company_id: String, hub: Arc<Hub>) -> Self {
        hub.logged.send_replace(0);
        Self {
            company_id,
            hub,
            ..Self::default()
        }
    }

    /// Queue `event` for every enabled webhook subscribed to it whose target the emulator may
    /// call, and wake the delivery task.
    pub fn enqueue(&mut self, webhooks: &[Webhook], event: &Event, at: i64) {
        let kind = event.kind.as_str();
        let payload = event.payload();
        let timestamp = time::format_ms(at);
        let mut queued = false;
        for webhook in webhooks.iter().filter(|w| {
            w.status == "enabled"
                && w.events.iter().any(|e| e == "*" || e == kind)
                && is_loopback_target(&w.target_url)
        }) {
            let envelope = Envelope {
                company_id: &self.company_id,
                payload: &payload,
                timestamp: &timestamp,
                webhook_id: &webhook.id,
            };
            let body = serde_json::to_vec(&envelope).expect("envelopes serialise");
            self.queues
                .entry(webhook.id.clone())
                .or_default()
                .push_back(Delivery {
                    event_id: format!("webhookEvent{}", ids::hex(16)),
                    event: kind,
                    body: Bytes::from(body),
                    nonce: ids::hex(16),
                    attempts: 0,
                });
            queued = true;
        }
        if queued {
            self.hub.wake.notify_one();
        }
    }

    /// Every attempt so far, oldest first.
    pub fn log(&self) -> Vec<Value> {
        self.log
            .iter()
            .map(|a| serde_json::to_value(a).expect("attempts serialise"))
            .collect()
    }

    /// Webhooks with queued deliveries and no lane yet, each given a new lane.
    pub fn claim_idle(&mut self) -> Vec<(String, u64)> {
        let idle: Vec<String> = self
            .queues
            .iter()
            .filter(|(id, queue)| !queue.is_empty() && !self.lanes.contains_key(*id))
            .map(|(id, _)| id.clone())
            .collect();
        idle.into_iter()
            .map(|id| {
                let lane = self.hub.lanes.fetch_add(1, Ordering::Relaxed);
                self.lanes.insert(id.clone(), lane);
                (id, lane)
            })
            .collect()
    }

    /// Whether `lane` still serves `webhook_id` with `event_id` at the head of its queue (a
    /// reset or a dropped queue makes an in-flight attempt stale).
    pub fn current(&self, webhook_id: &str, lane: u64, event_id: &str) -> bool {
        self.lanes.get(webhook_id) == Some(&lane)
            && self
                .queues
                .get(webhook_id)
                .and_then(VecDeque::front)
                .is_some_and(|d| d.event_id == event_id)
    }

    pub fn drop_queue(&mut self, webhook_id: &str) {
        self.queues.remove(webhook_id);
    }
}

/// The envelope, fields in Ironclad's (alphabetical) order.
#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "companyID")]
    company_id: &'a str,
    payload: &'a std::collections::BTreeMap<&'static str, Value>,
    timestamp: &'a str,
    #[serde(rename = "webhookID")]
    webhook_id: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base() {
        let config = Config::default();
        let waits: Vec<u64> = (1..=4)
            .map(|n| config.delay(n).as_millis() as u64)
            .collect();
        assert_eq!(waits, [1000, 2000, 4000, 8000]);
        assert_eq!(config.delay(10).as_secs(), 512);
        let huge = Config {
            base_delay_ms: u64::MAX / 2,
            max_retries: 100,
        };
        assert_eq!(huge.delay(100), Duration::from_millis(u64::MAX));
    }
}
