//! Where action and trigger schemas take their values from a pick list: `x-options` on a
//! property, `{"provider": KEY, "params": {NAME: VALUE}}`, where a VALUE is either literal JSON
//! or `{"$input": "/json/pointer"}`, the value the user gave at that pointer of the same
//! input (the dropdown of `userId` lists the assignees of the workflow in `/id` and the role
//! in `/roleName`). A schema whose concrete form depends on the input lists the pointers it
//! depends on in `x-schema-depends-on` at its root (`[]`: only on the connection); a builder
//! calls `builder.input-schema` when one of them changes.
//!
//! Added when the generated manifest is made (`manifest::generate`), so the generated catalog
//! stays the spec's and `describe` only copies the result.

use serde_json::{Value, json};

/// One annotation: in the schema of `action`, the property at `at` (a JSON Pointer into the
/// schema) takes its values from `provider` with `params`.
pub struct Pick {
    pub actions: &'static [&'static str],
    pub at: &'static str,
    pub provider: &'static str,
    pub params: fn() -> Value,
    /// For a string holding several values: the separator (`x-options.join`).
    pub join: Option<&'static str>,
}

/// Where an API type's schemas take their values from pick lists, and what else `describe`
/// adds to them; each API type gives its own (`api_types::ApiTypeSpec::annotations`).
pub struct Annotations {
    pub picks: &'static [Pick],
    /// Marks derived from the API's own rows (`(pointer, x-options)`).
    pub derived: fn(&str) -> Vec<(String, Value)>,
    /// Where a structured filter's `field` dropdown comes from.
    pub filter_fields: fn(&str) -> Option<Value>,
    /// Actions whose `builder.input-schema` is more precise than `describe`'s, and the input
    /// pointers it depends on (`[]`: only on the connection).
    pub depends_on: fn(&str) -> Option<&'static [&'static str]>,
}

impl Annotations {
    /// An API type whose schemas get nothing.
    pub const NONE: Annotations = Annotations {
        picks: &[],
        derived: |_| Vec::new(),
        filter_fields: |_| None,
        depends_on: |_| None,
    };

    /// The marks of `key`: its picks, then what the rows give.
    fn marks(&self, key: &str) -> impl Iterator<Item = (String, Value)> {
        self.picks
            .iter()
            .filter(move |p| p.actions.contains(&key))
            .map(|pick| {
                let mut options = json!({ "provider": pick.provider, "params": (pick.params)() });
                if let Some(separator) = pick.join {
                    options["join"] = json!(separator);
                }
                (pick.at.to_string(), options)
            })
            .chain((self.derived)(key))
    }
}

/// Pick params that take nothing from the input.
pub fn none() -> Value {
    json!({})
}

/// List operations with Ironclad's `filter` formula parameter, which also take the
/// structured formula (`crate::formula`).
pub fn takes_filter(key: &str) -> bool {
    crate::catalog::find(key).is_some_and(|op| op.params.iter().any(|p| p.name == "filter"))
}

/// The schema text with this key's `x-options` and `x-schema-depends-on` added.
///
/// `describe` does not call this at run time: the generated manifest (`manifest::stored`)
/// holds what it gives for every action and trigger, made by `manifest::generate`.
pub fn annotate(key: &str, original: &str) -> String {
    let wanted = wanted(key);
    if wanted.is_none() {
        return original.to_string();
    }
    // Edited as text: the rest of the schema keeps its bytes, and nothing is parsed but the
    // filter's description. The tree is the fallback for text the edits cannot place.
    spliced(original, &wanted)
        .and_then(|edits| super::splice::apply(original, edits))
        .unwrap_or_else(|| rebuilt(original, &wanted))
}

/// The text edits that annotate `key`'s schema `original`, in the order they apply (none
/// when it gets nothing), or `None` when they cannot be placed (`annotate` then rebuilds
/// the tree).
pub fn edits(key: &str, original: &str) -> Option<Vec<super::splice::Edit>> {
    let wanted = wanted(key);
    if wanted.is_none() {
        return Some(Vec::new());
    }
    super::splice::sorted(spliced(original, &wanted)?)
}

/// What one schema gets: `(pointer, x-options)` marks, a structured filter (with its field
/// list), the pointers its concrete form depends on.
struct Wanted {
    marks: Vec<(String, Value)>,
    filter: Option<Option<Value>>,
    depends: Option<&'static [&'static str]>,
}

/// Everything `key` gets, decided before reading the text: most schemas get nothing.
fn wanted(key: &str) -> Wanted {
    let specs = || crate::api_types::all().map(|(_, spec)| spec.annotations);
    Wanted {
        marks: specs().flat_map(|a| a.marks(key)).collect(),
        filter: takes_filter(key).then(|| specs().find_map(|a| (a.filter_fields)(key))),
        depends: specs().find_map(|a| (a.depends_on)(key)),
    }
}

impl Wanted {
    fn is_none(&self) -> bool {
        self.marks.is_empty() && self.filter.is_none() && self.depends.is_none()
    }
}

fn spliced(original: &str, wanted: &Wanted) -> Option<Vec<super::splice::Edit>> {
    use super::splice::{Edit, add_member, locate};
    let mut edits = Vec::new();
    for (at, options) in &wanted.marks {
        // A pointer the schema lacks is skipped, as the tree would.
        if let Some(slot) = locate(original, at) {
            edits.push(add_member(
                original,
                slot,
                "x-options",
                &crate::json_text::sorted(options),
            )?);
        }
    }
    if let Some(fields) = &wanted.filter
        && let Some(slot) = locate(original, "/properties/filter")
    {
        let old: Value = serde_json::from_str(&original[slot.clone()]).ok()?;
        let description = old["description"].as_str().unwrap_or_default();
        edits.push(Edit {
            range: slot,
            with: crate::formula::schema_text(description, fields.as_ref()),
        });
    }
    if let Some(pointers) = wanted.depends {
        let root = locate(original, "")?;
        edits.push(add_member(
            original,
            root,
            "x-schema-depends-on",
            &crate::json_text::sorted(&json!(pointers)),
        )?);
    }
    Some(edits)
}

fn rebuilt(original: &str, wanted: &Wanted) -> String {
    let Ok(mut schema) = serde_json::from_str::<Value>(original) else {
        return original.to_string();
    };
    let mut changed = false;
    for (at, options) in &wanted.marks {
        if let Some(Value::Object(slot)) = schema.pointer_mut(at) {
            slot.insert("x-options".into(), options.clone());
            changed = true;
        }
    }
    if let Some(fields) = &wanted.filter
        && let Some(slot) = schema.pointer_mut("/properties/filter")
    {
        let description = slot["description"].as_str().unwrap_or_default().to_string();
        *slot = crate::formula::schema(&description, fields.clone());
        changed = true;
    }
    if let (Some(pointers), Some(root)) = (wanted.depends, schema.as_object_mut()) {
        root.insert("x-schema-depends-on".into(), json!(pointers));
        changed = true;
    }
    if changed {
        crate::json_text::sorted(&schema)
    } else {
        // Untouched schemas keep their text byte for byte.
        original.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text edits say what the tree would: for every action and trigger, the spliced
    /// schema parses to the rebuilt one.
    #[test]
    fn splicing_and_rebuilding_agree_on_every_schema() {
        let rows = crate::catalog::all().map(|op| (op.key, op.input_schema.text().into_owned()));
        let built = crate::api_types::all()
            .flat_map(|(_, spec)| {
                let actions = spec.actions.all().into_iter().map(|a| a.schemas());
                actions.chain(spec.triggers.schemas())
            })
            .map(|b| (b.key, b.input.to_string()));
        let mut spliced_count = 0;
        for (key, original) in rows.chain(built) {
            let wanted = wanted(key);
            let rebuilt: Value = serde_json::from_str(&rebuilt(&original, &wanted)).unwrap();
            let text = spliced(&original, &wanted)
                .and_then(|edits| super::super::splice::apply(&original, edits));
            if let Some(text) = text {
                spliced_count += 1;
                let spliced: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(spliced, rebuilt, "{key}");
            }
        }
        assert!(
            spliced_count > 100,
            "only {spliced_count} schemas were spliced"
        );
    }

    fn described(key: &str) -> Value {
        let m = crate::describe();
        let text = m
            .actions
            .iter()
            .find(|a| a.key == key)
            .map(|a| a.input_schema.clone())
            .or_else(|| {
                m.triggers
                    .iter()
                    .find(|t| t.key == key)
                    .map(|t| t.input_schema.clone())
            })
            .unwrap_or_else(|| panic!("{key} is not described"));
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn every_pick_lands_on_a_property_and_names_a_provider() {
        let picks = crate::api_types::all().flat_map(|(_, spec)| spec.annotations.picks);
        for pick in picks {
            assert!(
                super::super::find(pick.provider).is_some(),
                "{}",
                pick.provider
            );
            for key in pick.actions {
                let schema = described(key);
                let slot = schema
                    .pointer(pick.at)
                    .unwrap_or_else(|| panic!("{key}: no {}", pick.at));
                assert_eq!(
                    slot["x-options"]["provider"], pick.provider,
                    "{key} {}",
                    pick.at
                );
            }
        }
    }

    #[test]
    fn clickwrap_and_scim_ids_take_their_providers() {
        let options =
            |key: &str, at: &str| described(key).pointer(at).unwrap()["x-options"].clone();
        assert_eq!(
            options("clickwrap_get_site", "/properties/site_id"),
            json!({ "provider": "clickwrap_sites", "params": {} })
        );
        assert_eq!(
            options("clickwrap_list_groups", "/properties/site_id")["provider"],
            "clickwrap_sites"
        );
        assert_eq!(
            options("clickwrap_update_group", "/properties/group_id"),
            json!({ "provider": "clickwrap_groups", "params": {} })
        );
        assert_eq!(
            options("clickwrap_publish_version", "/properties/contract_id")["provider"],
            "clickwrap_contracts"
        );
        assert!(
            described("clickwrap_activity_published")["properties"]["gkey"]
                .get("x-options")
                .is_none()
        );
        assert_eq!(
            options("scim_delete_user", "/properties/userId")["provider"],
            "scim_users"
        );
        assert_eq!(
            options("scim_patch_group", "/properties/groupId")["provider"],
            "scim_groups"
        );
        // Every annotated property lands on a provider of the action's own API type.
        for action in crate::describe().actions {
            let schema: Value = serde_json::from_str(&action.input_schema).unwrap();
            let mut providers = Vec::new();
            collect_providers(&schema, &mut providers);
            for key in providers {
                let (provider_api, _) = super::super::find(&key).unwrap();
                if let Some(api_type) = provider_api {
                    assert_eq!(api_type, action.api_type, "{} {key}", action.key);
                }
            }
        }
    }

    fn collect_providers(schema: &Value, out: &mut Vec<String>) {
        match schema {
            Value::Object(map) => {
                if let Some(p) = map.get("x-options").and_then(|o| o["provider"].as_str()) {
                    out.push(p.to_string());
                }
                map.values().for_each(|v| collect_providers(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| collect_providers(v, out)),
            _ => {}
        }
    }

    #[test]
    fn workflow_ids_dependencies_and_params() {
        assert_eq!(
            described("retrieve_workflow")["properties"]["id"]["x-options"]["provider"],
            "workflows"
        );
        assert_eq!(
            described("launch_new_workflow")["x-schema-depends-on"],
            json!(["/body/template", "/useDefaultValues"])
        );
        let user = &described("update_workflow_role_assignment")["properties"]["body"]["properties"]
            ["userId"];
        assert_eq!(
            user["x-options"]["params"]["role"],
            json!({ "$input": "/roleName" })
        );
        assert!(
            described("list_entities")
                .get("x-schema-depends-on")
                .is_none()
        );
        let filter = &described("list_workflows")["properties"]["filter"];
        assert_eq!(
            filter["anyOf"][1]["properties"]["field"]["x-options"]["provider"],
            "template_fields"
        );
        assert!(described("list_obligations")["properties"]["filter"]["anyOf"].is_array());
    }
}
