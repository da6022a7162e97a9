//! Before an operation is fuzzed: what its path parameters can name in this emulator, found by
//! walking its path from the left. For each parameter: the listing above it (`GET /workflows`
//! for `/workflows/{id}`), the resource above that (`GET /workflows/{id}` holds the roles of
//! `/workflows/{id}/roles/{roleName}`), and, when neither names one, a creation (`POST
//! /exports` makes the job of `/exports/{jobId}`). Every answer also feeds the pool.

use serde_json::Value;

use crate::cases::{Cases, PathValues};
use crate::generate::Generator;
use crate::pool::Pool;
use crate::spec::{Document, Operation};
use crate::tenant::Tenant;

/// Creations tried before a parameter is given up on (each a generated valid request).
const CREATION_TRIES: usize = 12;

/// Status polls of a new thing (a job reaches `done` after two).
const POLLS: usize = 3;

/// Generated requests tried for a listing or resource above a parameter.
const GET_TRIES: usize = 8;

/// Candidates of a parameter tried as the way to the next parameter.
const WALK_TRIES: usize = 25;

/// Where an answer above a parameter holds what the parameter names, beyond the parameter's
/// own name and, in listings and creations, the items' `id`: `key` (any depth), `key/field`
/// (that field of each item or of the object under `key`), `key/*` (the object's keys).
const ALIASES: &[(&str, &[&str])] = &[
    // A workflow's `roles[].id`; an approval reviewer's `role`.
    ("roleName", &["roles/id"]),
    ("roleId", &["role", "roles/id"]),
    // The sign status's `signers[].roleName`.
    ("signerRoleName", &["roleName"]),
    // A workflow's launch-form attributes (`schema`); a record's `attachments` by key.
    ("attributeId", &["schema/*"]),
    ("key", &["attachments/*"]),
];

pub struct Walker<'a> {
    pub tenant: &'a Tenant,
    pub doc: &'a Document,
    pub credentials: &'a [(String, String)],
    pub seed: u64,
}

impl Walker<'_> {
    /// Fill `pool` from every listing of the document that takes no path parameter.
    pub async fn survey(&self, pool: &mut Pool) {
        for op in &self.doc.operations {
            if op.method == "GET" && !op.template.contains('{') {
                let answer = self.get(&op.template, &Default::default()).await;
                pool.harvest(&answer);
            }
        }
    }

    pub async fn path_values(&self, op: &Operation, pool: &mut Pool) -> PathValues {
        let segments: Vec<&str> = op.template.split('/').collect();
        let params: Vec<(usize, &str)> = segments
            .iter()
            .enumerate()
            .filter_map(|(i, s)| parameter(s).map(|name| (i, name)))
            .collect();
        let mut values = PathValues::default();
        for (k, &(index, name)) in params.iter().enumerate() {
            let found = self.lookup(&segments, index, name, &values, pool).await;
            let mut chosen = found.first().cloned();
            if let Some(&(next_index, next_name)) = params.get(k + 1) {
                for candidate in found.iter().take(WALK_TRIES) {
                    let mut trial = values.clone();
                    trial.walk.insert(name.to_owned(), candidate.clone());
                    let next = self
                        .lookup(&segments, next_index, next_name, &trial, pool)
                        .await;
                    if !next.is_empty() {
                        chosen = Some(candidate.clone());
                        break;
                    }
                }
            }
            values.known.insert(name.to_owned(), found);
            if let Some(chosen) = chosen {
                values.walk.insert(name.to_owned(), chosen);
            }
        }
        values
    }

    /// Candidates for the parameter `name` at `segments[index]`.
    async fn lookup(
        &self,
        segments: &[&str],
        index: usize,
        name: &str,
        values: &PathValues,
        pool: &mut Pool,
    ) -> Vec<String> {
        let above = segments[..index].join("/");
        let mut found = Vec::new();
        if self.has("GET", &above) {
            let listing = self.get(&above, values).await;
            pool.harvest(&listing);
            found.extend(items(&listing, name));
            // Any `id` deeper in a listing names something else (a creator, a role).
            if name != "id" {
                found.extend(named(&listing, name));
            }
        }
        // The resources above, from the last parameter before `index` on: `/workflows/{id}`
        // and `/workflows/{id}/sign-status` for `/workflows/{id}/sign-status/signers/{x}`.
        if let Some(last) = segments[..index]
            .iter()
            .rposition(|s| parameter(s).is_some())
        {
            for end in last + 1..index {
                let resource = segments[..end].join("/");
                if self.has("GET", &resource) {
                    let answer = self.get(&resource, values).await;
                    pool.harvest(&answer);
                    found.extend(named(&answer, name));
                }
            }
        }
        if found.is_empty() && self.has("POST", &above) {
            found = self.create(&above, name, values, pool).await;
        }
        let mut unique = Vec::new();
        for value in found {
            if !unique.contains(&value) {
                unique.push(value);
            }
        }
        unique
    }

    /// POST generated valid bodies to `template` until one creates something `name` names.
    async fn create(
        &self,
        template: &str,
        name: &str,
        values: &PathValues,
        pool: &mut Pool,
    ) -> Vec<String> {
        let op = self
            .doc
            .operations
            .iter()
            .find(|o| o.method == "POST" && o.template == template)
            .expect("checked");
        let snapshot = pool.clone();
        let mut generator = Generator::new(self.seed ^ 0xc0ffee, &snapshot).typical();
        let cases = Cases {
            op,
            base: self.doc.base(),
            paths: values,
            credentials: self.credentials,
        };
        for turn in 0..CREATION_TRIES {
            let request = cases.valid(&mut generator, turn);
            if request.judged_by(&self.doc.contract).is_err() {
                continue;
            }
            let answer = self.tenant.send(&request).await;
            if answer.succeeded() {
                let created = answer.json();
                // Jobs advance as they are polled (exports): poll the new one as a client would.
                let child = format!("{template}/{{{name}}}");
                if let Some(value) = items(&created, name)
                    .into_iter()
                    .chain(named(&created, name))
                    .next()
                    && self.has("GET", &child)
                {
                    let mut polled = values.clone();
                    polled.walk.insert(name.to_owned(), value);
                    for _ in 0..POLLS {
                        self.get(&child, &polled).await;
                    }
                }
                pool.harvest(&created);
                let mut found = items(&created, name);
                found.extend(named(&created, name));
                if !found.is_empty() {
                    return found;
                }
            }
        }
        Vec::new()
    }

    fn has(&self, method: &str, template: &str) -> bool {
        self.doc
            .operations
            .iter()
            .any(|o| o.method == method && o.template == template)
    }

    /// The answer to GET `template` with the walk's values (generated requests with only the
    /// required parameters until one succeeds), or `null`.
    async fn get(&self, template: &str, values: &PathValues) -> Value {
        let op = self
            .doc
            .operations
            .iter()
            .find(|o| o.method == "GET" && o.template == template)
            .expect("checked");
        let mut walked = values.clone();
        walked.known.clear();
        let cases = Cases {
            op,
            base: self.doc.base(),
            paths: &walked,
            credentials: self.credentials,
        };
        // Without the pool: a known value in an optional filter would narrow the listing.
        let pool = Pool::default();
        let mut generator = Generator::new(self.seed ^ 0x6e7, &pool).typical();
        for _ in 0..GET_TRIES {
            let request = cases.required(&mut generator);
            if request.judged_by(&self.doc.contract).is_ok() {
                let answer = self.tenant.send(&request).await;
                if answer.succeeded() {
                    return answer.json();
                }
            }
        }
        Value::Null
    }
}

/// `{name}` → `name`.
fn parameter(segment: &str) -> Option<&str> {
    segment.strip_prefix('{')?.strip_suffix('}')
}

/// The items of a listing (`list`, SCIM's `Resources`, a bare array) or the one thing an
/// answer is: each one's `name`, or else its `id`.
fn items(answer: &Value, name: &str) -> Vec<String> {
    let items: Vec<&Value> = match answer {
        Value::Array(items) => items.iter().collect(),
        Value::Object(map) => match ["list", "Resources"]
            .iter()
            .find_map(|k| map.get(*k).and_then(Value::as_array))
        {
            Some(items) => items.iter().collect(),
            None => vec![answer],
        },
        _ => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(|item| item[name].as_str().or_else(|| item["id"].as_str()))
        .map(str::to_owned)
        .collect()
}

/// Every string of `answer` under the key `name` or one of its aliases, at any depth.
fn named(answer: &Value, name: &str) -> Vec<String> {
    let aliases = ALIASES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(&[][..], |(_, a)| a);
    let mut out = Vec::new();
    for path in std::iter::once(&name).chain(aliases) {
        let (key, field) = path.split_once('/').unwrap_or((path, ""));
        under(answer, key, &mut |found| match (found, field) {
            (Value::String(text), "") => out.push(text.clone()),
            (Value::Object(map), "*") => out.extend(map.keys().cloned()),
            (Value::Object(_), field) if !field.is_empty() => {
                out.extend(found[field].as_str().map(str::to_owned));
            }
            (Value::Array(items), field) if !field.is_empty() => {
                out.extend(
                    items
                        .iter()
                        .filter_map(|i| i[field].as_str())
                        .map(str::to_owned),
                );
            }
            _ => {}
        });
    }
    out
}

/// Every value under the key `key` in `value`, at any depth.
fn under(value: &Value, key: &str, found: &mut impl FnMut(&Value)) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == key {
                    found(v);
                }
                under(v, key, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| under(item, key, found)),
        _ => {}
    }
}
