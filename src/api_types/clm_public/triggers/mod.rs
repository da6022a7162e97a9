//! Triggers: what starts a recipe. Each row of [`TRIGGERS`] says how the trigger polls
//! (a [`PollRule`]) and which Ironclad webhook events deliver it; the modes follow from that.
//! Polls are stateless apart from the cursor the host keeps; webhooks from the subscription
//! state the host keeps. The host de-duplicates on event ids, which are stable across polls.

mod js_json;
pub mod polling;
pub mod signature;
pub mod webhook;

use serde_json::{Map, Value, json};

use crate::config::Connection;
use crate::error::ConnectorError;
use crate::http::HttpClient;
use crate::triggers::{PollResult, WebhookRequest, WebhookResult};
use polling::{PollRule, Rule, Source};

/// Which webhook events deliver a trigger.
#[derive(Debug, Clone, Copy)]
pub enum Delivery {
    /// Polling only.
    None,
    Events(&'static [&'static str]),
    /// The recipe builder picks from Ironclad's event types (input `events`).
    Chosen,
}

pub struct Trigger {
    pub key: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub poll: Option<PollRule>,
    pub webhook: Delivery,
}

const fn polled(source: Source, rule: Rule, event: &'static str) -> Option<PollRule> {
    Some(PollRule {
        source,
        rule,
        event,
    })
}

pub static TRIGGERS: &[Trigger] = &[
    Trigger {
        key: "workflow_launched",
        title: "New workflow launched",
        description: "A workflow was launched (polled by its `created` time, or Ironclad's \
                      `workflow_launched` webhook).",
        poll: polled(Source::Workflows, Rule::Launched, "workflow_launched"),
        webhook: Delivery::Events(&["workflow_launched"]),
    },
    Trigger {
        key: "workflow_updated",
        title: "Workflow updated",
        description: "Any change to a workflow: one event per `lastUpdated` value when polled, \
                      one per Ironclad `workflow_updated` delivery.",
        poll: polled(Source::Workflows, Rule::Updated, "workflow_updated"),
        webhook: Delivery::Events(&["workflow_updated"]),
    },
    Trigger {
        key: "workflow_completed",
        title: "Workflow completed",
        description: "A workflow reached status `completed` (once per workflow).",
        poll: polled(Source::Workflows, Rule::Completed, "workflow_completed"),
        webhook: Delivery::Events(&["workflow_completed"]),
    },
    Trigger {
        key: "workflow_step_changed",
        title: "Workflow entered a step",
        description: "A workflow was seen in a step (Review, Sign, Archive, Complete) for the \
                      first time; optionally only one step.",
        poll: polled(Source::Workflows, Rule::Step, "workflow_step_updated"),
        webhook: Delivery::Events(&["workflow_step_updated"]),
    },
    Trigger {
        key: "workflow_approval_changed",
        title: "Approval requested or given",
        description: "An approver was asked (pending in the active approval group) or \
                      decided, once per workflow, role and status.",
        poll: polled(
            Source::Workflows,
            Rule::Approval,
            "workflow_approval_status_changed",
        ),
        webhook: Delivery::Events(&["workflow_approval_status_changed"]),
    },
    Trigger {
        key: "record_created",
        title: "New record",
        description: "A record was created. Records carry no creation time, so \"new\" means a \
                      readable id (`IC-n`) above the highest one seen; the first poll reads \
                      the record list once to learn it.",
        poll: polled(Source::Records, Rule::Created, "record_created"),
        webhook: Delivery::None,
    },
    Trigger {
        key: "record_updated",
        title: "New or updated record",
        description: "A record was created or changed (one event per `lastUpdated` value).",
        poll: polled(Source::Records, Rule::Updated, "record_updated"),
        webhook: Delivery::None,
    },
    Trigger {
        key: "entity_updated",
        title: "New or updated entity",
        description: "An entity (counterparty, subsidiary…) was created or changed.",
        poll: polled(Source::Entities, Rule::Updated, "entity_updated"),
        webhook: Delivery::None,
    },
    Trigger {
        key: "obligation_updated",
        title: "New or updated obligation",
        description: "An obligation was created or changed (obligations without \
                      `lastUpdated` cannot be ordered and are skipped).",
        poll: polled(Source::Obligations, Rule::Updated, "obligation_updated"),
        webhook: Delivery::None,
    },
    Trigger {
        key: "webhook_event",
        title: "Ironclad webhook event",
        description: "Any of Ironclad's webhook event types (or `*` for all), verified and \
                      optionally hydrated with the workflow or record it is about.",
        poll: None,
        webhook: Delivery::Chosen,
    },
];

impl Trigger {
    pub fn polls(&self) -> bool {
        self.poll.is_some()
    }

    pub fn webhooks(&self) -> bool {
        !matches!(self.webhook, Delivery::None)
    }

    pub fn scopes(&self) -> Vec<&'static str> {
        let mut scopes: Vec<&'static str> = Vec::new();
        if let Some(rule) = &self.poll {
            scopes.push(rule.source.scope());
            if rule.rule == Rule::Approval {
                scopes.push("public.workflows.readApprovals");
            }
        }
        if self.webhooks() {
            scopes.extend(webhook::SCOPES);
        }
        scopes
    }

    pub fn input_schema(&self) -> Value {
        let mut props = Map::new();
        if let Some(rule) = &self.poll {
            props.insert("since".into(), json!({
                "type": "string", "format": "date-time",
                "title": "Start from (polling)",
                "description": "First poll only: report changes after this instant. Default: when the trigger is first polled."
            }));
            filters(rule, &mut props);
        }
        if self.webhooks() {
            if matches!(self.webhook, Delivery::Chosen) {
                props.insert("events".into(), json!({
                    "type": "array", "minItems": 1, "uniqueItems": true,
                    "title": "Event types",
                    "description": "Ironclad webhook event types to receive; `*` is every event (Ironclad advises against it at high volume).",
                    "items": { "type": "string", "enum": event_types() }
                }));
            }
            props.insert("hydrate".into(), json!({
                "type": "boolean", "default": true,
                "title": "Fetch the full object (webhooks)",
                "description": "Retrieve the workflow or record a delivery names, so the event carries it rather than only its id (one request per delivery)."
            }));
            props.insert("max_age_minutes".into(), json!({
                "type": "integer", "minimum": 1, "maximum": 10080,
                "default": webhook::DEFAULT_MAX_AGE_MINUTES,
                "title": "Refuse deliveries older than (minutes)",
                "description": "Signed deliveries older than this are rejected as stale (replay protection)."
            }));
        }
        let mut schema =
            json!({ "type": "object", "additionalProperties": false, "properties": props });
        if matches!(self.webhook, Delivery::Chosen) {
            schema["required"] = json!(["events"]);
        }
        schema
    }

    pub fn output_schema(&self) -> Value {
        let noun = match self.poll {
            Some(rule) => rule.source.noun(),
            None => "workflow",
        };
        let mut props = json!({
            "event": { "type": "string", "description": "Ironclad's event type (polled events use the matching name)." },
            "occurred_at": { "type": "string", "format": "date-time" },
            noun: { "type": ["object", "null"], "description": format!("The {noun} as Ironclad returns it (webhooks: when hydrated).") },
        });
        if self.poll.is_none() {
            props["record"] = json!({ "type": ["object", "null"], "description": "The record, for record events (when hydrated)." });
        }
        match self.poll.map(|r| r.rule) {
            Some(Rule::Step) => props["step"] = json!({ "type": "string" }),
            Some(Rule::Approval) => {
                props["approval"] = json!({
                    "type": "object",
                    "description": "The reviewer entry from the workflow's approvals: role, displayName, reviewerType, status, group_order."
                })
            }
            _ => {}
        }
        if self.webhooks() {
            props["webhook"] = json!({
                "type": "object",
                "description": "Webhook mode only: the delivery (event_id, webhook_id, company_id, payload).",
            });
        }
        json!({ "type": "object", "required": ["event", "occurred_at"], "properties": props })
    }

    /// The webhook event types a subscription registers.
    fn webhook_events(&self, input: &Map<String, Value>) -> Vec<String> {
        match self.webhook {
            Delivery::None => Vec::new(),
            Delivery::Events(events) => events.iter().map(|e| e.to_string()).collect(),
            Delivery::Chosen => input["events"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
        }
    }
}

/// Input filters a polled source supports.
fn filters(rule: &PollRule, props: &mut Map<String, Value>) {
    match rule.source {
        Source::Workflows => {
            props.insert("template".into(), json!({
                "type": "string", "title": "Template", "description": "Only workflows of this template (workflow schema id)."
            }));
            if !matches!(rule.rule, Rule::Completed) {
                props.insert("status".into(), json!({
                    "type": "array", "uniqueItems": true, "minItems": 1,
                    "items": { "type": "string", "enum": ["active", "paused", "completed", "cancelled"] },
                    "title": "Statuses",
                    "description": format!("Only workflows in these statuses. Default: {}.", polling::default_statuses(rule.rule).join(", "))
                }));
            }
            match rule.rule {
                Rule::Step => {
                    props.insert(
                        "step".into(),
                        json!({
                            "type": "string", "enum": ["Review", "Sign", "Archive", "Complete"],
                            "title": "Step", "description": "Only this step."
                        }),
                    );
                }
                Rule::Approval => {
                    props.insert("approval_status".into(), json!({
                        "type": "array", "uniqueItems": true, "minItems": 1,
                        "items": { "type": "string" },
                        "title": "Approval statuses",
                        "description": "Only these reviewer statuses (e.g. `pending` for requested, `approved`)."
                    }));
                }
                _ => {}
            }
        }
        Source::Records => {
            props.insert("types".into(), json!({
                "type": "array", "uniqueItems": true, "minItems": 1,
                "items": { "type": "string", "minLength": 1 },
                "title": "Record types", "description": "Only records of these type keys (see Retrieve Records Schema)."
            }));
        }
        Source::Entities | Source::Obligations => {}
    }
}

/// Ironclad's webhook event types, from the official spec's `create_webhook` schema.
pub fn event_types() -> Vec<String> {
    let op = crate::catalog::find("create_webhook").expect("create_webhook is in the catalog");
    let schema: Value =
        serde_json::from_str(&op.input_schema.text()).expect("catalog schemas are JSON");
    schema
        .pointer("/properties/body/properties/events/items/enum")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

pub fn find(key: &str) -> Result<&'static Trigger, ConnectorError> {
    TRIGGERS.iter().find(|t| t.key == key).ok_or_else(|| {
        ConnectorError::input(
            "trigger",
            format!(
                "unknown trigger `{}`; `describe` lists the triggers",
                crate::error::excerpt(key)
            ),
        )
    })
}

/// Parse and validate a trigger input against its schema.
fn input(trigger: &Trigger, input: &str) -> Result<Map<String, Value>, ConnectorError> {
    let value: Value = serde_json::from_str(if input.trim().is_empty() { "{}" } else { input })
        .map_err(|e| ConnectorError::input("/", format!("the input is not valid JSON: {e}")))?;
    crate::schema::validate(&trigger.input_schema(), &value)
        .map_err(|v| ConnectorError::input(v.pointer, v.message))?;
    // Ironclad takes record types comma-joined without spaces: one key must not hold either.
    for (i, t) in value["types"].as_array().into_iter().flatten().enumerate() {
        if t.as_str()
            .is_some_and(|t| t.contains(',') || t.contains(char::is_whitespace))
        {
            return Err(ConnectorError::input(
                format!("/types/{i}"),
                "a record type key has no commas or spaces; list each type separately",
            ));
        }
    }
    Ok(value.as_object().cloned().unwrap_or_default())
}

fn parse_json(what: &str, text: &str) -> Result<Value, ConnectorError> {
    serde_json::from_str(text)
        .map_err(|e| ConnectorError::input(what, format!("not valid JSON: {e}")))
}

pub fn poll(
    client: &dyn HttpClient,
    conn: &Connection,
    key: &str,
    input_text: &str,
    cursor: Option<&str>,
) -> Result<PollResult, ConnectorError> {
    let trigger = find(key)?;
    let rule = trigger.poll.as_ref().ok_or_else(|| {
        ConnectorError::Unsupported(format!("trigger `{key}` is delivered by webhooks only"))
    })?;
    let input = input(trigger, input_text)?;
    let cursor = cursor.map(|c| parse_json("cursor", c)).transpose()?;
    let owner = crate::owner::Owner::trigger(trigger.key, conn);
    polling::poll(client, conn, &owner, rule, &input, cursor.as_ref())
}

pub fn subscribe(
    client: &dyn HttpClient,
    conn: &Connection,
    key: &str,
    input_text: &str,
    target_url: &str,
) -> Result<Value, ConnectorError> {
    let trigger = webhook_trigger(key)?;
    let input = input(trigger, input_text)?;
    webhook::subscribe(client, conn, trigger.webhook_events(&input), target_url)
}

pub fn unsubscribe(
    client: &dyn HttpClient,
    conn: &Connection,
    key: &str,
    subscription: &str,
) -> Result<(), ConnectorError> {
    webhook_trigger(key)?;
    webhook::unsubscribe(client, conn, &parse_json("subscription", subscription)?)
}

pub fn handle_webhook(
    client: &dyn HttpClient,
    conn: &Connection,
    key: &str,
    input_text: &str,
    subscription: &str,
    request: &WebhookRequest,
) -> Result<WebhookResult, ConnectorError> {
    let trigger = webhook_trigger(key)?;
    let input = input(trigger, input_text)?;
    let subscription = parse_json("subscription", subscription)?;
    webhook::handle(client, conn, &input, &subscription, request)
}

fn webhook_trigger(key: &str) -> Result<&'static Trigger, ConnectorError> {
    let trigger = find(key)?;
    if trigger.webhooks() {
        Ok(trigger)
    } else {
        Err(ConnectorError::Unsupported(format!(
            "trigger `{key}` is polled; Ironclad has no webhook event for it"
        )))
    }
}
