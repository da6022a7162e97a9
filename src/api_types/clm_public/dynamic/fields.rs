//! A workflow template's launch form (`GET /workflow-schemas/{id}?form=launch`) as JSON Schema:
//! one property per field, typed as Ironclad accepts it on launch, with its required flag,
//! options, default and a description.

use serde_json::{Map, Value, json};

/// How a launch takes document fields: JSON launches give Ironclad a URL to fetch, the
/// multipart launch names one of its own file parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Documents {
    Url,
    Part,
}

/// The `attributes` object of a launch for this form. Unknown attributes are refused, as
/// Ironclad refuses them; fields required `always` are required, unless `use_defaults` and the
/// field has a default. `conditional` fields are described, not required: their condition
/// lives in the template.
pub fn attributes_schema(form: &Value, documents: Documents, use_defaults: bool) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (id, field) in form["schema"].as_object().into_iter().flatten() {
        properties.insert(id.clone(), field_schema(id, field, documents));
        let defaulted = use_defaults && field.get("default").is_some();
        if field["required"] == "always" && !defaulted {
            required.push(Value::String(id.clone()));
        }
    }
    let name = form["name"].as_str().unwrap_or("the template");
    json!({
        "type": "object",
        "title": format!("{name} launch form"),
        "description": format!("The launch-form fields of `{name}` ({}).", form["id"].as_str().unwrap_or_default()),
        "additionalProperties": false,
        "properties": properties,
        "required": required,
    })
}

/// The `attributes` of a workflow launched from this form, as Ironclad returns them: each
/// field titled and described; scalars typed, the rest (documents become document objects,
/// record links `{recordId, readableId}`) left open, as are attributes the form does not list.
pub fn launched_attributes_schema(form: &Value) -> Value {
    let properties: Map<String, Value> = form["schema"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(id, field)| {
            let kind = field["type"].as_str().unwrap_or("unknown");
            let mut schema = match kind {
                "string" | "email" | "date" => json!({ "type": "string" }),
                "number" => json!({ "type": "number" }),
                "boolean" => json!({ "type": "boolean" }),
                _ => json!({}),
            };
            schema["title"] = field["displayName"].clone();
            schema["description"] = json!(format!("Launch-form field `{id}` ({kind})."));
            (id.clone(), schema)
        })
        .collect();
    json!({ "type": "object", "additionalProperties": true, "properties": properties })
}

/// One field: its type's schema plus title, description and default.
pub fn field_schema(id: &str, field: &Value, documents: Documents) -> Value {
    let mut schema = type_schema(field, documents);
    let kind = field["type"].as_str().unwrap_or("unknown");
    let obj = schema.as_object_mut().expect("type schemas are objects");
    if let Some(title) = field["displayName"].as_str() {
        obj.insert("title".into(), json!(title));
    }
    let required = match field["required"].as_str() {
        Some("always") => "required".to_string(),
        Some("conditional") => "required in some cases (the template decides)".to_string(),
        _ => "optional".to_string(),
    };
    let mut description = format!("Launch-form field `{id}` ({kind}, {required}).");
    if let Some(note) = obj
        .remove("description")
        .and_then(|d| d.as_str().map(str::to_string))
    {
        description = format!("{description} {note}");
    }
    obj.insert("description".into(), json!(description));
    if let Some(default) = field.get("default") {
        obj.insert("default".into(), default.clone());
    }
    schema
}

fn type_schema(field: &Value, documents: Documents) -> Value {
    match field["type"].as_str().unwrap_or_default() {
        "string" => choice_schema(field),
        "number" => json!({ "type": "number" }),
        "boolean" => json!({ "type": "boolean" }),
        "date" => json!({ "type": "string", "format": "date",
                          "description": "ISO-8601, e.g. 2026-05-01 or 2026-05-01T00:00:00Z." }),
        "email" => json!({ "type": "string", "format": "email" }),
        "monetaryAmount" => json!({
            "type": "object", "additionalProperties": false, "required": ["currency", "amount"],
            "properties": {
                "currency": { "type": "string", "minLength": 3, "maxLength": 3, "description": "ISO 4217, e.g. USD." },
                "amount": { "type": "number" }
            }
        }),
        "address" => json!({
            "type": "object", "additionalProperties": false, "required": ["lines"],
            "properties": {
                "lines": { "type": "array", "maxItems": 4, "items": { "type": "string" } },
                "locality": { "type": "string" }, "region": { "type": "string" },
                "postcode": { "type": "string" }, "country": { "type": "string" }
            }
        }),
        "duration" => json!({
            "type": "object", "additionalProperties": false, "minProperties": 1,
            "properties": {
                "years": { "type": "integer", "minimum": 0 }, "months": { "type": "integer", "minimum": 0 },
                "weeks": { "type": "integer", "minimum": 0 }, "days": { "type": "integer", "minimum": 0 }
            }
        }),
        "document" => match documents {
            Documents::Url => json!({
                "type": "object", "additionalProperties": false, "required": ["url"],
                "properties": { "url": { "type": "string", "description": "Where Ironclad fetches the file." } }
            }),
            Documents::Part => json!({
                "type": "object", "additionalProperties": false, "required": ["file"],
                "properties": { "file": { "type": "string", "description": "The `part` of one of `files`." } }
            }),
        },
        "array" => {
            let element = &field["elementType"];
            let mut items = type_schema(element, documents);
            if let (Some(title), Some(obj)) =
                (element["displayName"].as_str(), items.as_object_mut())
            {
                obj.insert("title".into(), json!(title));
            }
            // An array of options is a multi-select: each option at most once.
            let multi_select = element.get("options").is_some();
            json!({ "type": "array", "items": items, "uniqueItems": multi_select })
        }
        "object" => object_schema(&field["schema"], documents),
        "linkedRecord" | "parentRecord" | "childRecord" => json!({
            "type": "string", "minLength": 1,
            "description": "A record's Ironclad id (IC-123) or UUID."
        }),
        "user" | "role" | "userRole" => json!({
            "type": "string", "minLength": 1,
            "description": "An Ironclad user's id or email."
        }),
        "entity" | "reference" => json!({
            "type": "string", "minLength": 1,
            "description": "An entity's Ironclad id (ENTITY-1) or UUID."
        }),
        "clause" | "playbookClause" => json!({
            "type": "string", "minLength": 1,
            "description": "The name of a playbook clause (e.g. Standard)."
        }),
        // A type this connector does not know: any value, Ironclad judges it.
        _ => json!({}),
    }
}

/// A string field: a fixed select (`enum`) unless free text is allowed, then `examples`.
fn choice_schema(field: &Value) -> Value {
    let Some(values) = field["options"]["values"].as_array() else {
        return json!({ "type": "string" });
    };
    if field["options"]["freeTextAllowed"] == Value::Bool(true) {
        json!({ "type": "string", "examples": values })
    } else {
        json!({ "type": "string", "enum": values })
    }
}

/// An object (a table row) whose columns are the field's `schema`.
fn object_schema(columns: &Value, documents: Documents) -> Value {
    let Some(columns) = columns.as_object() else {
        return json!({ "type": "object" });
    };
    let properties: Map<String, Value> = columns
        .iter()
        .map(|(id, f)| (id.clone(), field_schema(id, f, documents)))
        .collect();
    let required: Vec<&String> = columns
        .iter()
        .filter(|(_, f)| f["required"] == "always")
        .map(|(id, _)| id)
        .collect();
    json!({ "type": "object", "additionalProperties": false, "properties": properties, "required": required })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::validate;

    fn form() -> Value {
        json!({ "id": "t1", "name": "MSA", "schema": {
            "counterpartyName": { "type": "string", "displayName": "Counterparty", "required": "always" },
            "paperSource": { "type": "string", "required": "always",
                             "options": { "values": ["Our paper", "Counterparty paper"], "freeTextAllowed": false } },
            "region": { "type": "string", "required": "never",
                        "options": { "values": ["EMEA"], "freeTextAllowed": true } },
            "fee": { "type": "monetaryAmount", "required": "always" },
            "term": { "type": "number", "required": "always", "default": 12 },
            "start": { "type": "date", "required": "never" },
            "contact": { "type": "email", "required": "never" },
            "renewal": { "type": "boolean", "required": "never" },
            "address": { "type": "address", "required": "never" },
            "notice": { "type": "duration", "required": "never" },
            "draft": { "type": "array", "required": "conditional", "elementType": { "type": "document" } },
            "regions": { "type": "array", "required": "never",
                         "elementType": { "type": "string", "options": { "values": ["EU", "US"], "freeTextAllowed": false } } },
            "lineItems": { "type": "array", "required": "never", "elementType": { "type": "object", "schema": {
                "item": { "type": "string", "required": "always" }, "qty": { "type": "number", "required": "never" } } } },
            "parent": { "type": "parentRecord", "required": "never" },
            "approver": { "type": "user", "required": "never" },
            "clause": { "type": "playbookClause", "required": "never" },
            "mystery": { "type": "hologram", "required": "never" }
        }})
    }

    fn valid() -> Value {
        json!({ "counterpartyName": "Initech", "paperSource": "Our paper", "region": "APAC",
                "fee": { "currency": "USD", "amount": 10 }, "term": 24,
                "start": "2026-01-01T00:00:00Z", "contact": "a@b.example", "renewal": true,
                "address": { "lines": ["1 Main St"], "country": "US" }, "notice": { "days": 30 },
                "draft": [{ "url": "https://files.example/a.pdf" }], "regions": ["EU", "US"],
                "lineItems": [{ "item": "Support", "qty": 2 }], "parent": "IC-4",
                "approver": "raj@acme.example", "clause": "Standard", "mystery": [1] })
    }

    fn refusal(schema: &Value, attrs: Value) -> String {
        validate(schema, &attrs).expect_err("refused").pointer
    }

    #[test]
    fn maps_every_field_type_and_accepts_a_valid_launch() {
        let schema = attributes_schema(&form(), Documents::Url, false);
        validate(&schema, &valid()).unwrap();
        assert_eq!(
            schema["properties"]["paperSource"]["enum"],
            json!(["Our paper", "Counterparty paper"])
        );
        assert_eq!(schema["properties"]["region"]["examples"], json!(["EMEA"]));
        assert_eq!(schema["properties"]["term"]["default"], json!(12));
        assert_eq!(
            schema["properties"]["counterpartyName"]["title"],
            "Counterparty"
        );
        let draft = schema["properties"]["draft"]["description"]
            .as_str()
            .unwrap();
        assert!(draft.contains("required in some cases"), "{draft}");
        let mut required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        required.sort();
        assert_eq!(required, ["counterpartyName", "fee", "paperSource", "term"]);
    }

    #[test]
    fn refuses_each_kind_of_mistake_naming_the_field() {
        let schema = attributes_schema(&form(), Documents::Url, false);
        let cases = [
            ("/term", json!("twelve")),
            ("/paperSource", json!("Their paper")),
            (
                "/fee/currency",
                json!({ "currency": "DOLLARS", "amount": 1 }),
            ),
            ("/contact", json!("nobody")),
            ("/start", json!("soon")),
            ("/regions/1", json!(["EU", "EU"])),
            ("/regions/0", json!(["Mars"])),
            ("/lineItems/0/item", json!([{ "qty": 1 }])),
            ("/draft/0/url", json!([{ "file": "x" }])),
            ("/notice", json!({})),
        ];
        for (pointer, value) in cases {
            let field = pointer.split('/').nth(1).unwrap();
            let mut attrs = valid();
            attrs[field] = value;
            let got = refusal(&schema, attrs);
            assert!(got.starts_with(&format!("/{field}")), "{pointer}: {got}");
        }
        let mut unknown = valid();
        unknown["bogus"] = json!(1);
        assert_eq!(refusal(&schema, unknown), "/bogus");
        let mut missing = valid();
        missing.as_object_mut().unwrap().remove("fee");
        assert_eq!(refusal(&schema, missing), "/fee");
    }

    #[test]
    fn defaults_lift_requirements_only_when_asked_and_parts_replace_urls() {
        let mut attrs = valid();
        attrs.as_object_mut().unwrap().remove("term");
        assert_eq!(
            refusal(
                &attributes_schema(&form(), Documents::Url, false),
                attrs.clone()
            ),
            "/term"
        );
        validate(&attributes_schema(&form(), Documents::Url, true), &attrs).unwrap();
        let parts = attributes_schema(&form(), Documents::Part, false);
        attrs["term"] = json!(1);
        assert_eq!(refusal(&parts, attrs.clone()), "/draft/0/file");
        attrs["draft"] = json!([{ "file": "contract" }]);
        validate(&parts, &attrs).unwrap();
    }
}
