//! Requests for one operation: valid ones generated from its parameters and body schemas, and
//! invalid ones, each a valid request with one thing broken (a wrong type, a value outside its
//! enum or range, an unknown query parameter, a missing required property, malformed JSON, the
//! wrong content type).

use std::collections::BTreeMap;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};

use crate::generate::{Extent, Generator, as_text, fields};
use crate::spec::{Body, Location, Operation};
use crate::tenant::{CREDENTIAL_HEADERS, Request};

const BOUNDARY: &str = "fuzz-boundary-7f3a";

/// A small PDF: what file parts carry.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

/// Values a path parameter can take in this emulator: `walk` the ones that lead to the
/// parameters after it, `known` all that were seen.
#[derive(Debug, Default, Clone)]
pub struct PathValues {
    pub walk: BTreeMap<String, String>,
    pub known: BTreeMap<String, Vec<String>>,
}

/// A request before it is encoded, so that one part of it can be broken.
#[derive(Debug, Clone)]
struct Draft {
    path: Vec<(String, String)>,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<Payload>,
}

#[derive(Debug, Clone)]
enum Payload {
    /// A value for a declared media type, encoded as that type.
    Value { media: String, value: Value },
    /// Bytes sent as they are.
    Raw {
        content_type: Option<String>,
        bytes: Vec<u8>,
    },
}

pub struct Cases<'a> {
    pub op: &'a Operation,
    /// The API base, e.g. `/public/api/v1`.
    pub base: &'a str,
    pub paths: &'a PathValues,
    /// Added to every request (the tenant's, for resource calls; none for OAuth itself).
    pub credentials: &'a [(String, String)],
}

impl Cases<'_> {
    /// The valid request of `turn` (0, 1, …): the last path parameter takes the known values
    /// in turn, so that twenty requests try twenty workflows rather than a few twice.
    pub fn valid(&self, generator: &mut Generator<'_>, turn: usize) -> Request {
        let extent = if generator.chance(0.5) {
            Extent::Full
        } else {
            Extent::Required
        };
        let draft = self.draft(generator, extent, Some(turn));
        self.encode(&draft)
    }

    /// A valid request with only what is required (and the walk's path values).
    pub fn required(&self, generator: &mut Generator<'_>) -> Request {
        let draft = self.draft(generator, Extent::Required, None);
        self.encode(&draft)
    }

    /// A request with one thing broken, and what was broken.
    pub fn invalid(&self, generator: &mut Generator<'_>) -> (String, Request) {
        let mut draft = self.draft(generator, Extent::Full, None);
        let what = self.break_one(generator, &mut draft);
        (what, self.encode(&draft))
    }

    fn draft(&self, generator: &mut Generator<'_>, extent: Extent, turn: Option<usize>) -> Draft {
        let op = self.op;
        let last = op.params_in(Location::Path).last().map(|p| p.name.clone());
        let mut path = Vec::new();
        for param in op.params_in(Location::Path) {
            let known = self
                .paths
                .known
                .get(&param.name)
                .cloned()
                .unwrap_or_default();
            let walked = self.paths.walk.get(&param.name);
            let value = match walked {
                // Only the walk's value is known: it is the one to use.
                Some(v) if known.is_empty() => v.clone(),
                // Earlier parameters mostly keep the value the walk found children under.
                Some(v) if Some(&param.name) != last.as_ref() && generator.chance(0.8) => v.clone(),
                _ if !known.is_empty() && generator.chance(0.85) => match turn {
                    Some(turn) if Some(&param.name) == last.as_ref() => {
                        known[turn % known.len()].clone()
                    }
                    _ => generator.pick(&known).cloned().unwrap_or_default(),
                },
                _ => generator.text(&param.schema, &param.name),
            };
            path.push((param.name.clone(), value));
        }
        let optional = |generator: &mut Generator<'_>, required: bool| {
            required || (extent == Extent::Full && generator.chance(0.5))
        };
        // The query as one object, so that values that go together (a client id and its
        // redirect URI) can come from one thing the emulator holds.
        let mut properties = Map::new();
        let mut required = Vec::new();
        for param in op.params_in(Location::Query) {
            properties.insert(param.name.clone(), param.schema.clone());
            if param.required {
                required.push(Value::from(param.name.clone()));
            }
        }
        let schema = json!({ "type": "object", "properties": properties, "required": required });
        let query: Vec<(String, String)> = match generator.value(&schema, "query", extent) {
            Value::Object(values) => values
                .iter()
                .map(|(k, v)| (k.clone(), as_text(v)))
                .collect(),
            _ => Vec::new(),
        };
        let mut headers = self.credentials.to_vec();
        for param in op.params_in(Location::Header) {
            if !CREDENTIAL_HEADERS.contains(&param.name.as_str())
                && optional(generator, param.required)
            {
                headers.push((
                    param.name.clone(),
                    generator.text(&param.schema, &param.name),
                ));
            }
        }
        let body = op.body.as_ref().and_then(|body| {
            if !body.required && generator.chance(0.05) {
                return None;
            }
            let (media, schema) = generator.pick(&body.content)?.clone();
            let value = generator.value(&schema, "body", extent);
            Some(Payload::Value { media, value })
        });
        Draft {
            path,
            query,
            headers,
            body,
        }
    }

    /// Break one part of `draft`: returns what.
    fn break_one(&self, generator: &mut Generator<'_>, draft: &mut Draft) -> String {
        let op = self.op;
        let mut ways: Vec<&str> = vec!["unknown query parameter"];
        let typed_query: Vec<_> = op
            .params_in(Location::Query)
            .filter(|p| generator.wrong_text(&p.schema).is_some())
            .collect();
        if !typed_query.is_empty() {
            ways.push("query parameter out of its schema");
        }
        if op.params_in(Location::Query).any(|p| p.required) {
            ways.push("required query parameter missing");
        }
        match (&op.body, &draft.body) {
            (None, _) => ways.push("a body where none is taken"),
            (Some(body), payload) => {
                ways.push("wrong content type");
                if body.required {
                    ways.push("required body missing");
                }
                if let Some(Payload::Value { media, value }) = payload {
                    if media.contains("json") {
                        ways.extend(["malformed JSON", "body of another type"]);
                    }
                    if media.contains("multipart") {
                        ways.push("multipart without a boundary");
                    }
                    if value.is_object() {
                        ways.extend(["required property missing", "property out of its schema"]);
                    }
                }
            }
        }
        let way = *generator.pick(&ways).expect("there is always a way");
        match way {
            "unknown query parameter" => draft.query.push(("fuzzUnknown".into(), "1".into())),
            "query parameter out of its schema" => {
                let param = *generator.pick(&typed_query).expect("checked");
                let wrong = generator.wrong_text(&param.schema).expect("checked");
                draft.query.retain(|(k, _)| k != &param.name);
                draft.query.push((param.name.clone(), wrong));
                return format!("{way}: {}", param.name);
            }
            "required query parameter missing" => {
                let required: Vec<_> = op
                    .params_in(Location::Query)
                    .filter(|p| p.required)
                    .collect();
                let param = *generator.pick(&required).expect("checked");
                draft.query.retain(|(k, _)| k != &param.name);
                return format!("{way}: {}", param.name);
            }
            "a body where none is taken" => {
                draft.body = Some(Payload::Raw {
                    content_type: Some("application/json".into()),
                    bytes: b"{}".to_vec(),
                });
            }
            "wrong content type" => {
                draft.body = Some(Payload::Raw {
                    content_type: Some("text/plain".into()),
                    bytes: b"{\"hello\": \"world\"}".to_vec(),
                });
            }
            "required body missing" => draft.body = None,
            "malformed JSON" => {
                draft.body = Some(Payload::Raw {
                    content_type: Some("application/json".into()),
                    bytes: b"{\"unterminated\": [1, 2".to_vec(),
                });
            }
            "multipart without a boundary" => {
                draft.body = Some(Payload::Raw {
                    content_type: Some("multipart/form-data".into()),
                    bytes: b"--x\r\n\r\n--x--\r\n".to_vec(),
                });
            }
            _ => return self.break_body(generator, draft, way),
        }
        way.to_owned()
    }

    /// The body-value ways: another type, a required property missing, a property broken.
    fn break_body(&self, generator: &mut Generator<'_>, draft: &mut Draft, way: &str) -> String {
        let Some(Payload::Value { media, value }) = &mut draft.body else {
            unreachable!("only offered for a body value");
        };
        let body = self.op.body.as_ref().expect("a body value has a body");
        let schema = schema_of(body, media);
        let fields = fields(&schema);
        let object = value.as_object_mut();
        match (way, object) {
            ("body of another type", _) => {
                *value = generator.wrong(&schema).unwrap_or(Value::from(42));
                way.to_owned()
            }
            ("required property missing", Some(object)) => {
                let required: Vec<&String> = fields
                    .iter()
                    .filter(|f| f.required && object.contains_key(&f.name))
                    .map(|f| &f.name)
                    .collect();
                match generator.pick(&required) {
                    Some(name) => {
                        object.remove(*name);
                        format!("{way}: {name}")
                    }
                    None => {
                        object.insert("fuzzUnknown".into(), Value::from(1));
                        "unknown property (none required)".into()
                    }
                }
            }
            (_, Some(object)) => {
                let present: Vec<_> = fields
                    .iter()
                    .filter(|f| object.contains_key(&f.name))
                    .collect();
                let Some(field) = generator.pick(&present) else {
                    *value = generator.wrong(&schema).unwrap_or(Value::from(42));
                    return "body of another type (no property present)".into();
                };
                let wrong = generator.wrong(&field.schema).unwrap_or(Value::Null);
                object.insert(field.name.clone(), wrong);
                format!("{way}: {}", field.name)
            }
            _ => unreachable!("property ways are offered for objects only"),
        }
    }

    fn encode(&self, draft: &Draft) -> Request {
        let mut path = format!("{}{}", self.base, self.op.template);
        for (name, value) in &draft.path {
            let encoded = utf8_percent_encode(value, NON_ALPHANUMERIC).to_string();
            path = path.replace(&format!("{{{name}}}"), &encoded);
        }
        let mut request = Request::new(&self.op.method, &path);
        request.query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&draft.query)
            .finish();
        request.headers = draft.headers.clone();
        let (content_type, bytes) = match &draft.body {
            None => (None, Vec::new()),
            Some(Payload::Raw {
                content_type,
                bytes,
            }) => (content_type.clone(), bytes.clone()),
            Some(Payload::Value { media, value }) => {
                let body = self.op.body.as_ref().expect("a body value has a body");
                encode_value(body, media, value)
            }
        };
        if let Some(content_type) = content_type {
            request.headers.push(("content-type".into(), content_type));
        }
        request.body = bytes;
        request
    }
}

fn schema_of(body: &Body, media: &str) -> Value {
    body.content
        .iter()
        .find(|(m, _)| m == media)
        .map(|(_, s)| s.clone())
        .unwrap_or_default()
}

/// `value` as a body of `media`: its content type and bytes.
fn encode_value(body: &Body, media: &str, value: &Value) -> (Option<String>, Vec<u8>) {
    if media.contains("json") {
        return (Some(media.to_owned()), value.to_string().into_bytes());
    }
    let empty = Map::new();
    let object = value.as_object().unwrap_or(&empty);
    match media {
        "application/x-www-form-urlencoded" => {
            let text = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(object.iter().map(|(k, v)| (k, as_text(v))))
                .finish();
            (Some(media.to_owned()), text.into_bytes())
        }
        "multipart/form-data" => {
            let schema = schema_of(body, media);
            let mut out = Vec::new();
            for (name, part) in object {
                let declared = &schema["properties"][name.as_str()];
                let encoding = body.encoding.get(name.as_str());
                let json_part = declared["type"] == "object"
                    || encoding
                        .and_then(|e| e["contentType"].as_str())
                        .is_some_and(|t| t.contains("json"));
                out.extend(format!("--{BOUNDARY}\r\n").into_bytes());
                if declared["format"] == "binary" {
                    out.extend(
                        format!(
                            "Content-Disposition: form-data; name=\"{name}\"; \
                             filename=\"{name}.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
                        )
                        .into_bytes(),
                    );
                    out.extend(PDF);
                } else if json_part {
                    out.extend(
                        format!(
                            "Content-Disposition: form-data; name=\"{name}\"\r\n\
                             Content-Type: application/json\r\n\r\n{part}"
                        )
                        .into_bytes(),
                    );
                } else {
                    out.extend(
                        format!(
                            "Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{}",
                            as_text(part)
                        )
                        .into_bytes(),
                    );
                }
                out.extend(b"\r\n");
            }
            out.extend(format!("--{BOUNDARY}--\r\n").into_bytes());
            (Some(format!("{media}; boundary={BOUNDARY}")), out)
        }
        _ => (Some(media.to_owned()), as_text(value).into_bytes()),
    }
}
