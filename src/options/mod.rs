//! Pick lists (WIT `builder.list-options`): the choices for a dropdown, read from Ironclad or
//! from the connector's own tables, one page at a time. Each provider is a row: the
//! connector's own in [`providers::PROVIDERS`], those reading an API in its API type's
//! `providers` (`api_types::ApiTypeSpec`); [`all`] lists both. Action schemas point at them
//! with `x-options` ([`annotations`]).

pub mod annotations;
pub mod providers;
pub mod splice;

use serde_json::{Map, Value, json};

use crate::config::{ApiType, Connection};
use crate::error::{ConnectorError, excerpt};
use crate::http::HttpClient;
use crate::pages::PAGE_SIZE;
use crate::schema;

/// One dropdown entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub description: Option<String>,
    /// The `value` of the entry this one is nested under.
    pub parent: Option<String>,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Self {
        Choice {
            value: value.into(),
            label: label.into(),
            description: None,
            parent: None,
        }
    }

    pub fn describe(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    pub fn under(mut self, parent: impl Into<String>) -> Self {
        self.parent = Some(parent.into());
        self
    }

    pub fn to_json(&self) -> Value {
        json!({ "value": self.value, "label": self.label,
                "description": self.description, "parent": self.parent })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoicePage {
    pub choices: Vec<Choice>,
    /// The cursor of the next page; None on the last.
    pub next_cursor: Option<String>,
}

/// What a provider reads for page `page` (zero-based).
pub struct Request<'a> {
    pub client: &'a dyn HttpClient,
    pub conn: &'a Connection,
    pub params: &'a Map<String, Value>,
    pub page: u64,
}

impl Request<'_> {
    /// A string parameter the provider's schema declared (validated before `list` runs).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).and_then(Value::as_str)
    }
}

/// A page of choices and whether another follows.
pub struct Page {
    pub choices: Vec<Choice>,
    pub more: bool,
}

impl Page {
    /// Page `page` of a list the provider read whole (metadata, fixed tables): pages of
    /// [`PAGE_SIZE`] so every provider pages the same way.
    pub fn slice(all: Vec<Choice>, page: u64) -> Page {
        let start = (page * PAGE_SIZE) as usize;
        let more = all.len() > start + PAGE_SIZE as usize;
        Page {
            choices: all
                .into_iter()
                .skip(start)
                .take(PAGE_SIZE as usize)
                .collect(),
            more,
        }
    }
}

pub struct Provider {
    /// The name in `x-options.provider` and `list-options`.
    pub key: &'static str,
    pub description: &'static str,
    /// JSON Schema of `params` (an object).
    pub params: &'static str,
    /// OAuth scopes the provider's requests need (empty for the connector's own tables).
    pub scopes: &'static [&'static str],
    pub list: fn(&Request) -> Result<Page, ConnectorError>,
}

/// Every provider with the API type whose connections it reads; `None` for the connector's
/// own tables that belong to no API (the connection form's regions), listed on any
/// connection.
pub fn all() -> impl Iterator<Item = (Option<ApiType>, &'static Provider)> {
    let own = providers::PROVIDERS.iter().map(|p| (None, p));
    own.chain(
        crate::api_types::all()
            .flat_map(|(api_type, spec)| spec.providers.iter().map(move |p| (Some(api_type), p))),
    )
}

pub fn find(key: &str) -> Option<(Option<ApiType>, &'static Provider)> {
    all().find(|(_, p)| p.key == key)
}

/// One page of a provider's choices. `cursor` is what the previous page returned (a page
/// number, opaque to hosts); params are validated against the provider's schema first, so
/// a bad one is named (`/template`) before any request.
pub fn list(
    client: &dyn HttpClient,
    conn: &Connection,
    provider: &str,
    params: &str,
    cursor: Option<&str>,
) -> Result<ChoicePage, ConnectorError> {
    let (_, provider) = find(provider).ok_or_else(|| {
        let known: Vec<&str> = all().map(|(_, p)| p.key).collect();
        ConnectorError::input(
            "provider",
            format!(
                "unknown options provider `{}`; known: {}",
                excerpt(provider),
                known.join(", ")
            ),
        )
    })?;
    let params: Value = serde_json::from_str(if params.trim().is_empty() {
        "{}"
    } else {
        params
    })
    .map_err(|e| ConnectorError::input("/", format!("params are not valid JSON: {e}")))?;
    let schema: Value = serde_json::from_str(provider.params)
        .map_err(|e| ConnectorError::internal(format!("params schema of {}: {e}", provider.key)))?;
    schema::validate(&schema, &params).map_err(|v| ConnectorError::input(v.pointer, v.message))?;
    let page = match cursor {
        None => 0,
        Some(c) => c.parse::<u64>().map_err(|_| {
            ConnectorError::input(
                "cursor",
                format!(
                    "`{}` is not a cursor this connector returned; start without one",
                    excerpt(c)
                ),
            )
        })?,
    };
    let params = params
        .as_object()
        .expect("the params schema requires an object");
    let page_out = (provider.list)(&Request {
        client,
        conn,
        params,
        page,
    })?;
    Ok(ChoicePage {
        choices: page_out.choices,
        next_cursor: page_out.more.then(|| (page + 1).to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_pages_of_page_size() {
        let all: Vec<Choice> = (0..(PAGE_SIZE * 2 + 5))
            .map(|i| Choice::new(i.to_string(), i.to_string()))
            .collect();
        let sizes: Vec<(usize, bool)> = (0..3)
            .map(|p| {
                let page = Page::slice(all.clone(), p);
                (page.choices.len(), page.more)
            })
            .collect();
        let full = PAGE_SIZE as usize;
        assert_eq!(sizes, vec![(full, true), (full, true), (5, false)]);
        let exact: Vec<Choice> = all.into_iter().take(full).collect();
        assert!(!Page::slice(exact, 0).more);
    }

    #[test]
    fn every_provider_has_an_object_params_schema() {
        for (_, p) in all() {
            let schema: Value =
                serde_json::from_str(p.params).unwrap_or_else(|e| panic!("{}: {e}", p.key));
            assert_eq!(schema["type"], "object", "{}", p.key);
        }
    }
}
