//! Launching a workflow from a template: the launch body (`WorkflowLaunchModel` as JSON, or
//! `multipart/form-data` with the body in a `data` part and the files in parts of their own),
//! launch-form validation of attributes against the template's `FieldSchema`s, and the new
//! workflow, whose uploaded files become documents downloadable byte for byte.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use serde_json::{Map, Value, json};

use crate::api::files;
use crate::emulator::Data;
use crate::infra::errors::ApiError;
use crate::store::events::{Event, Kind};
use crate::store::files::Blob;
use crate::store::seed::{
    Creator, FieldSchema, Role, RoleAssignee, Seed, StepState, Template, User, Workflow,
    ironclad_number,
};
use crate::{infra::query, store::ids, store::time};

/// The multipart part holding the launch body.
const DATA_PART: &str = "data";

/// A parsed launch body (`WorkflowLaunchModel`, `additionalProperties: false`).
#[derive(Debug)]
pub struct LaunchRequest {
    pub template: String,
    pub attributes: Map<String, Value>,
    pub files: Files,
}

/// How a launch's document attributes get their files. The spec: "we only support `url` for
/// json request and `multipartField` for multipart request".
#[derive(Debug, Default)]
pub enum Files {
    /// A JSON launch: documents are `{url}`s.
    #[default]
    Json,
    /// A multipart launch: documents are `{file: <part name>}`s naming these file parts.
    Multipart(BTreeMap<String, Blob>),
}

impl LaunchRequest {
    pub fn parse(headers: &HeaderMap, body: &Bytes) -> Result<Self, ApiError> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if content_type.starts_with("multipart/") {
            return Self::parse_form(headers, body);
        }
        let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
            return Err(ApiError::invalid_param(
                "request body must be a JSON object",
                "body",
            ));
        };
        Self::from_body(body, Files::Json)
    }

    /// `data` (the launch body as JSON) and the file parts, by name.
    fn parse_form(headers: &HeaderMap, body: &Bytes) -> Result<Self, ApiError> {
        let form = files::form(headers, body, DATA_PART)?;
        let data = form.get(DATA_PART).ok_or_else(|| {
            ApiError::missing_param(
                format!("missing required form-data part '{DATA_PART}'"),
                DATA_PART,
            )
        })?;
        let data = files::json_part(data)?;
        let mut uploads = BTreeMap::new();
        for part in form.parts.iter().filter(|p| p.name != DATA_PART) {
            let blob = files::uploaded(part, &part.name);
            if uploads.insert(part.name.clone(), blob).is_some() {
                return Err(ApiError::invalid_param(
                    format!("form-data part '{}' is sent more than once", part.name),
                    &part.name,
                ));
            }
        }
        Self::from_body(data, Files::Multipart(uploads))
    }

    fn from_body(mut body: Map<String, Value>, files: Files) -> Result<Self, ApiError> {
        if let Some(unknown) = body
            .keys()
            .find(|k| !["template", "attributes", "creator"].contains(&k.as_str()))
        {
            return Err(ApiError::invalid_param(
                format!("unknown property '{unknown}'; expected template, attributes, creator"),
                unknown,
            ));
        }
        let template = match body.remove("template") {
            None | Some(Value::Null) => {
                return Err(ApiError::missing_param(
                    "missing required parameter",
                    "template",
                ));
            }
            Some(Value::String(t)) if !t.is_empty() => t,
            Some(_) => {
                return Err(ApiError::invalid_param(
                    "template must be a template id string",
                    "template",
                ));
            }
        };
        let attributes = match body.remove("attributes") {
            None | Some(Value::Null) => {
                return Err(ApiError::missing_param(
                    "missing required parameter",
                    "attributes",
                ));
            }
            Some(Value::Object(a)) => a,
            Some(_) => {
                return Err(ApiError::invalid_param(
                    "attributes must be an object",
                    "attributes",
                ));
            }
        };
        // `creator` is only honoured for legacy tokens; OAuth launches use the acting user. Its
        // shape is still checked.
        if let Some(creator) = body.get("creator") {
            let ok = match creator["type"].as_str() {
                Some("email") => creator["email"].is_string(),
                Some("id") => creator["id"].is_string(),
                _ => false,
            };
            if !ok {
                return Err(ApiError::invalid_param(
                    "creator must be {type: 'email', email} or {type: 'id', id}",
                    "creator",
                ));
            }
        }
        Ok(Self {
            template,
            attributes,
            files,
        })
    }
}

/// Check `attributes` against the launch form: unknown ids, value types, then required fields
/// (after defaults when `use_defaults`). Returns the attributes normalised (dates canonical).
pub fn validate_attributes(
    template: &Template,
    mut attributes: Map<String, Value>,
    use_defaults: bool,
    files: &Files,
) -> Result<Map<String, Value>, ApiError> {
    attributes.retain(|_, v| !v.is_null());
    let unknown: Vec<&String> = attributes
        .keys()
        .filter(|k| !template.schema.contains_key(k.as_str()))
        .collect();
    if let Some(first) = unknown.first() {
        let names: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
        return Err(ApiError::invalid_param(
            format!("non-existent attribute(s) specified: {}", names.join(", ")),
            first,
        ));
    }
    if use_defaults {
        for (id, field) in &template.schema {
            if let (false, Some(default)) = (attributes.contains_key(id), &field.default) {
                attributes.insert(id.clone(), default.clone());
            }
        }
    }
    let mut normalised = Map::new();
    for (id, value) in attributes {
        let field = &template.schema[&id];
        normalised.insert(id.clone(), check(&id, field, value, files)?);
    }
    for (id, field) in &template.schema {
        if !normalised.contains_key(id)
            && (field.always_required() || conditionally_required(id, &normalised))
        {
            return Err(ApiError::missing_param("missing required attribute", id));
        }
    }
    Ok(normalised)
}

/// Counterparty paper needs the counterparty's draft (the spec's `paperSource` rule).
fn conditionally_required(id: &str, attributes: &Map<String, Value>) -> bool {
    id == "draft"
        && attributes.get("paperSource").and_then(Value::as_str) == Some("Counterparty paper")
}

fn check(id: &str, field: &FieldSchema, value: Value, files: &Files) -> Result<Value, ApiError> {
    let invalid = |expected: &str| {
        ApiError::invalid_param(
            format!("invalid value for attribute '{id}': expected {expected}"),
            id,
        )
    };
    match field.kind.as_str() {
        "string" => {
            let s = value.as_str().ok_or_else(|| invalid("a string"))?;
            if let Some(options) = field.options.as_ref().filter(|o| !o.free_text_allowed)
                && !options.values.iter().any(|v| v == s)
            {
                return Err(invalid(&format!("one of [{}]", options.values.join(", "))));
            }
            Ok(value)
        }
        "number" => value
            .is_number()
            .then_some(value)
            .ok_or_else(|| invalid("a number")),
        "boolean" => value
            .is_boolean()
            .then_some(value)
            .ok_or_else(|| invalid("a boolean")),
        "date" => value
            .as_str()
            .and_then(time::normalize)
            .map(Value::String)
            .ok_or_else(|| invalid("an ISO-8601 date")),
        "email" => value
            .as_str()
            .filter(|s| is_email(s))
            .is_some()
            .then_some(value)
            .ok_or_else(|| invalid("an email address")),
        "monetaryAmount" => {
            let ok = value.as_object().is_some_and(|o| {
                o.keys().all(|k| k == "currency" || k == "amount")
                    && o.get("amount").is_some_and(Value::is_number)
                    && o.get("currency")
                        .and_then(Value::as_str)
                        .is_some_and(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
            });
            ok.then_some(value)
                .ok_or_else(|| invalid("{currency: 'USD', amount: number}"))
        }
        "duration" => {
            let ok = value.as_object().is_some_and(|o| {
                !o.is_empty()
                    && o.iter().all(|(k, v)| {
                        ["years", "months", "weeks", "days"].contains(&k.as_str())
                            && v.as_u64().is_some()
                    })
                    && o.values().any(|v| v.as_u64() > Some(0))
            });
            ok.then_some(value)
                .ok_or_else(|| invalid("{years, months, weeks, days} with at least one unit"))
        }
        "address" => {
            let ok = value.as_object().is_some_and(|o| {
                o.get("lines")
                    .and_then(Value::as_array)
                    .is_some_and(|l| l.len() <= 4 && l.iter().all(Value::is_string))
                    && ["locality", "region", "postcode", "country"]
                        .iter()
                        .all(|k| o.get(*k).is_none_or(Value::is_string))
            });
            ok.then_some(value)
                .ok_or_else(|| invalid("{lines: [string], locality, region, postcode, country}"))
        }
        "document" => upload(id, value, files),
        "linkedRecord" | "parentRecord" | "childRecord" => match value.as_str() {
            Some(v) if ids::is_uuid(v) => Ok(json!({ "recordId": v })),
            Some(v) if ironclad_number(v).is_ok() => Ok(json!({ "readableId": v })),
            _ => Err(invalid("a record id (UUID) or Ironclad id like IC-123")),
        },
        "array" => {
            let items = value.as_array().ok_or_else(|| invalid("an array"))?;
            let element = field.element_type.as_deref();
            items
                .iter()
                .map(|item| element.map_or(Ok(item.clone()), |e| check(id, e, item.clone(), files)))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        "object" => {
            let object = value.as_object().ok_or_else(|| invalid("an object"))?;
            let Some(schema) = &field.schema else {
                return Ok(value);
            };
            let mut out = Map::new();
            for (k, v) in object {
                let child = schema.get(k).ok_or_else(|| {
                    invalid(&format!(
                        "only the properties [{}]",
                        schema.keys().cloned().collect::<Vec<_>>().join(", ")
                    ))
                })?;
                out.insert(k.clone(), check(id, child, v.clone(), files)?);
            }
            Ok(Value::Object(out))
        }
        _ => Ok(value),
    }
}

/// A file reference: `{url}` in a JSON launch, `{file: <part name>}` in a multipart one, whose
/// part the request must hold.
fn upload(id: &str, value: Value, files: &Files) -> Result<Value, ApiError> {
    let only = |key: &str| {
        value
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.get(key))
            .and_then(Value::as_str)
    };
    let invalid = |expected: &str| {
        ApiError::invalid_param(
            format!("invalid value for attribute '{id}': expected {expected}"),
            id,
        )
    };
    match files {
        Files::Json => match only("url") {
            Some(u) if u.starts_with("http://") || u.starts_with("https://") => Ok(value),
            _ => Err(invalid(
                "{url: string} (file parts need a multipart/form-data request)",
            )),
        },
        Files::Multipart(parts) => match only("file") {
            Some(part) if parts.contains_key(part) => Ok(value),
            Some(part) => Err(ApiError::missing_param(
                format!(
                    "missing required form-data part '{part}' (referenced by attribute '{id}')"
                ),
                id,
            )),
            None => Err(invalid(
                "{file: '<form-data part name>'} (a multipart request takes files, not urls)",
            )),
        },
    }
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(char::is_whitespace)
        && !domain.contains('@')
}

/// The workflow's `schema` view of a template: `{attrId: {type, displayName, propertyKey, readOnly, elementType?}}`.
pub fn workflow_schema(template: &Template) -> Map<String, Value> {
    template
        .schema
        .iter()
        .map(|(id, f)| {
            let mut entry = json!({ "type": f.kind, "displayName": f.display_name, "propertyKey": id, "readOnly": false });
            if let Some(element) = &f.element_type {
                entry["elementType"] = json!({ "type": element.kind, "displayName": element.display_name });
            }
            (id.clone(), entry)
        })
        .collect()
}

/// Launch a workflow: a new active workflow in Review, created by `user`, with the next
/// `IC-n`, stored and announced (`workflow_launched`). Every launch path goes through here.
pub fn launch(
    data: &mut Data,
    seed: &Seed,
    template: &Template,
    attributes: Map<String, Value>,
    files: &Files,
    user: &User,
) -> Workflow {
    let workflow = build(data, seed, template, attributes, files, user);
    data.workflows.push(workflow.clone());
    data.emit([Event::workflow(Kind::Launched, &workflow)]);
    workflow
}

fn build(
    data: &mut Data,
    seed: &Seed,
    template: &Template,
    mut attributes: Map<String, Value>,
    files: &Files,
    user: &User,
) -> Workflow {
    let now_ms = data.tick();
    let now = time::format_ms(now_ms);
    let id = loop {
        let id = ids::object_id();
        if !data.workflows.iter().any(|w| w.id == id) {
            break id;
        }
    };
    let number = data
        .workflows
        .iter()
        .filter_map(|w| ironclad_number(&w.ironclad_id).ok())
        .max()
        .unwrap_or(0)
        + 1;
    for (attr, field) in &template.schema {
        let holds_documents = field.kind == "document"
            || field
                .element_type
                .as_ref()
                .is_some_and(|e| e.kind == "document");
        if let (true, Some(value)) = (holds_documents, attributes.get_mut(attr)) {
            let mut add = |upload: &Value| {
                let (filename, blob) = match (upload.get("file").and_then(Value::as_str), files) {
                    (Some(part), Files::Multipart(parts)) => {
                        let blob = parts.get(part).expect("references checked at validation");
                        (blob.filename.clone(), Some(blob))
                    }
                    _ => (
                        url_filename(upload["url"].as_str().unwrap_or_default()),
                        None,
                    ),
                };
                let document = files::new_document(&id, &filename, now_ms, author(seed, user));
                if let Some(blob) = blob {
                    let key = document["key"].as_str().unwrap_or_default().to_owned();
                    data.files.documents.insert((id.clone(), key), blob.clone());
                }
                document
            };
            *value = match std::mem::take(value) {
                Value::Array(items) => Value::Array(items.iter().map(&mut add).collect()),
                single => add(&single),
            };
        }
    }
    let title = match attributes.get("counterpartyName").and_then(Value::as_str) {
        Some(counterparty) => format!("{} with {counterparty}", template.name),
        None => template.name.clone(),
    };
    let assignee = RoleAssignee {
        user_name: user.display_name(),
        user_id: user.id.clone(),
        email: user.email.clone(),
    };
    let mut roles: Vec<Role> = template.launch_roles.clone();
    roles.push(Role {
        id: "owner".into(),
        display_name: "Owner".into(),
        assignees: vec![assignee],
    });
    Workflow {
        ironclad_id: format!("IC-{number}"),
        title,
        template: template.id.clone(),
        step: "Review".into(),
        schema: workflow_schema(template),
        attributes,
        is_cancelled: false,
        is_complete: false,
        status: "active".into(),
        creator: Creator::from_user(user),
        created: now.clone(),
        last_updated: now,
        roles,
        approvals: StepState::InProgress {
            url: format!("/public/api/v1/workflows/{id}/approvals"),
        },
        signatures: StepState::NotStarted,
        is_revertible_to_review: false,
        record_ids: Vec::new(),
        id,
    }
}

/// The file name a `{url}` upload gets: the URL's last path segment, else `document.pdf`.
fn url_filename(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let filename = query::decode(path.rsplit('/').next().unwrap_or_default());
    if filename.is_empty()
        || !path
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .contains('/')
    {
        "document.pdf".to_owned()
    } else {
        filename
    }
}

/// The `ActivityFeedAuthor` of the launching user.
fn author(seed: &Seed, user: &User) -> Value {
    json!({ "type": "internalUser", "companyName": seed.company.name, "displayName": user.display_name(), "email": user.email, "userId": user.id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::seed::default_seed;

    fn nda() -> Template {
        default_seed().template_named("Mutual NDA").unwrap().clone()
    }

    fn consulting() -> Template {
        default_seed()
            .template_named("Consulting Agreement")
            .unwrap()
            .clone()
    }

    fn attrs(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn launch_form_rules() {
        let t = nda();
        let ok = validate_attributes(&t, attrs(json!({ "counterpartyName": "Initech", "paperSource": "Our paper", "agreementDate": "2026-01-15" })), false, &Files::Json).unwrap();
        assert_eq!(ok["agreementDate"], "2026-01-15T00:00:00.000Z");
        let e = validate_attributes(
            &t,
            attrs(json!({ "paperSource": "Our paper" })),
            false,
            &Files::Json,
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str(), e.param.as_deref()),
            (
                "MISSING_PARAM",
                "missing required attribute",
                Some("counterpartyName")
            )
        );
        let e = validate_attributes(
            &t,
            attrs(json!({ "counterpartyName": "x", "paperSource": "Counterparty paper" })),
            false,
            &Files::Json,
        )
        .unwrap_err();
        assert_eq!(e.param.as_deref(), Some("draft"));
        let e = validate_attributes(
            &t,
            attrs(json!({ "counterpartyName": "x", "paperSource": "Napkin" })),
            false,
            &Files::Json,
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("INVALID_PARAM", Some("paperSource"))
        );
        let e = validate_attributes(
            &t,
            attrs(json!({ "counterpartyName": "x", "paperSource": "Our paper", "bogus": 1 })),
            false,
            &Files::Json,
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("INVALID_PARAM", Some("bogus"))
        );
        let e = validate_attributes(&t, attrs(json!({ "counterpartyName": "x", "paperSource": "Our paper", "counterpartyEmail": "nope" })), false, &Files::Json).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("counterpartyEmail"));
        let e = validate_attributes(&t, attrs(json!({ "counterpartyName": "x", "paperSource": "Our paper", "draft": [{ "file": "part" }] })), false, &Files::Json).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("draft"));
    }

    #[test]
    fn types_and_defaults() {
        let t = consulting();
        let base =
            json!({ "counterpartyName": "x", "fee": { "currency": "USD", "amount": 1200.5 } });
        let with_defaults =
            validate_attributes(&t, attrs(base.clone()), true, &Files::Json).unwrap();
        assert_eq!(with_defaults["termMonths"], 12);
        assert_eq!(with_defaults["isRenewal"], false);
        assert!(
            !validate_attributes(&t, attrs(base.clone()), false, &Files::Json)
                .unwrap()
                .contains_key("termMonths")
        );
        for (k, bad) in [
            ("fee", json!(1200)),
            ("fee", json!({ "currency": "usd", "amount": 1 })),
            ("termMonths", json!("12")),
            ("isRenewal", json!("yes")),
            ("startDate", json!("soon")),
        ] {
            let mut a = attrs(base.clone());
            a.insert(k.into(), bad);
            assert_eq!(
                validate_attributes(&t, a, false, &Files::Json)
                    .unwrap_err()
                    .param
                    .as_deref(),
                Some(k)
            );
        }
    }

    fn form(parts: &[crate::infra::multipart::PartSpec<'_>]) -> (HeaderMap, Bytes) {
        let (boundary, body) = crate::infra::multipart::encode(parts);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}")
                .parse()
                .unwrap(),
        );
        (headers, Bytes::from(body))
    }

    #[test]
    fn multipart_launch_stores_the_files_as_documents() {
        let seed = default_seed();
        let t = nda();
        let data = json!({ "template": t.id, "attributes": { "counterpartyName": "Initech",
            "paperSource": "Counterparty paper", "draft": [{ "file": "contract" }, { "file": "exhibit" }] } })
        .to_string();
        let pdf: &[u8] = b"%PDF-1.7\n\x00\xff\r\n--";
        let (headers, body) = form(&[
            ("data", None, Some("application/json"), data.as_bytes()),
            ("contract", Some("MSA.pdf"), Some("application/pdf"), pdf),
            ("exhibit", None, None, b"exhibit"),
        ]);
        let request = LaunchRequest::parse(&headers, &body).unwrap();
        let attributes =
            validate_attributes(&t, request.attributes, false, &request.files).unwrap();
        let mut data = Data::default();
        let user = &seed.users[0];
        let w = build(&mut data, &seed, &t, attributes, &request.files, user);
        let draft = w.attributes["draft"].as_array().unwrap();
        // A file part without a filename is named after the part.
        let names: Vec<&str> = draft
            .iter()
            .map(|d| d["filename"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["MSA.pdf", "exhibit"]);
        for (document, bytes) in draft.iter().zip([pdf, b"exhibit".as_slice()]) {
            let key = document["key"].as_str().unwrap();
            assert_eq!(
                document["download"],
                format!("/public/api/v1/workflows/{}/document/{key}/download", w.id)
            );
            assert_eq!(document["versionNumber"], 1);
            let blob = &data.files.documents[&(w.id.clone(), key.to_owned())];
            assert_eq!(&blob.data[..], bytes);
        }
    }

    #[test]
    fn multipart_launch_errors() {
        let t = nda();
        let data = |draft: Value| {
            json!({ "template": t.id, "attributes": { "counterpartyName": "x",
                    "paperSource": "Our paper", "draft": draft } })
            .to_string()
        };
        let refused = |parts: &[crate::infra::multipart::PartSpec<'_>]| {
            let (headers, body) = form(parts);
            let e = LaunchRequest::parse(&headers, &body)
                .and_then(|r| validate_attributes(&t, r.attributes, false, &r.files))
                .unwrap_err();
            (e.code, e.param.unwrap_or_default(), e.message)
        };
        let file = ("contract", Some("c.pdf"), None, b"%PDF".as_slice());
        // A reference to a part the request lacks.
        let d = data(json!([{ "file": "contract" }, { "file": "gone" }]));
        let (code, param, message) = refused(&[("data", None, None, d.as_bytes()), file]);
        assert_eq!((code, param.as_str()), ("MISSING_PARAM", "draft"));
        assert!(message.contains("form-data part 'gone'"), "{message}");
        // Urls are for JSON launches.
        let d = data(json!([{ "url": "https://x.example/a.pdf" }]));
        let (code, param, _) = refused(&[("data", None, None, d.as_bytes()), file]);
        assert_eq!((code, param.as_str()), ("INVALID_PARAM", "draft"));
        // No data part; data not JSON; a file part twice.
        let (code, param, _) = refused(&[file]);
        assert_eq!((code, param.as_str()), ("MISSING_PARAM", "data"));
        let (code, param, _) = refused(&[("data", None, None, b"{oops"), file]);
        assert_eq!((code, param.as_str()), ("INVALID_PARAM", "data"));
        let d = data(json!([{ "file": "contract" }]));
        let (code, param, _) = refused(&[("data", None, None, d.as_bytes()), file, file]);
        assert_eq!((code, param.as_str()), ("INVALID_PARAM", "contract"));
    }
}
