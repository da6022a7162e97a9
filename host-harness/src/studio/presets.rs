//! Connections the studio offers ready-made: with `--emulator`, one per API type against the
//! in-process emulator. The page sees them with their secrets masked; the studio fills the
//! secrets back in when the page connects with a preset.

use anyhow::Context;
use serde_json::{Map, Value, json};

use crate::emulator::{ClickwrapFixture, RunningEmulator};

/// What a secret field reads on the page.
pub const MASK: &str = "<secret>";

/// A ready-made connection form, secrets included.
#[derive(Clone)]
pub struct Preset {
    pub id: &'static str,
    pub label: &'static str,
    pub form: Map<String, Value>,
}

impl Preset {
    /// The preset as the page sees it: every secret field that holds a value reads [`MASK`].
    pub fn public(&self, secret_fields: &[String]) -> Value {
        json!({ "id": self.id, "label": self.label, "form": masked(&self.form, secret_fields) })
    }
}

/// `form` with the value of every filled secret field replaced by [`MASK`].
pub fn masked(form: &Map<String, Value>, secret_fields: &[String]) -> Map<String, Value> {
    let mut form = form.clone();
    for field in secret_fields {
        if let Some(value) = form.get_mut(field)
            && !value.is_null()
        {
            *value = json!(MASK);
        }
    }
    form
}

/// One connection per API type against `emulator`.
pub fn for_emulator(emulator: &RunningEmulator) -> anyhow::Result<Vec<Preset>> {
    let seed = emulator.seed();
    let client = seed
        .clients
        .iter()
        .find(|c| c.name == "demo-client-credentials")
        .context("the emulator's seed has no client-credentials client")?;
    let user = seed
        .users
        .first()
        .context("the emulator's seed has no user")?;
    let base = |api_type: &str| json!({ "api_type": api_type, "region": "custom", "instance_url": emulator.base_url() });
    let clm = |api_type: &str| {
        let mut form = base(api_type);
        form["grant_type"] = json!("client_credentials");
        form["client_id"] = json!(client.client_id);
        form["client_secret"] = json!(client.client_secret);
        form["impersonate_user"] = json!(user.email);
        form
    };
    let mut clickwrap_rest = base("clickwrap_rest");
    clickwrap_rest["clickwrap_credential"] = json!("access_token");
    clickwrap_rest["access_token"] = json!(ClickwrapFixture::ADMIN_ACCESS_TOKEN);
    let mut clickwrap_activity = base("clickwrap_activity");
    clickwrap_activity["site_access_id"] = json!(ClickwrapFixture::SITE_ACCESS_ID);
    let presets = [
        ("clm_public", "CLM Public API (emulator)", clm("clm_public")),
        ("clm_scim", "CLM SCIM API (emulator)", clm("clm_scim")),
        (
            "clickwrap_rest",
            "Clickwrap REST API (emulator)",
            clickwrap_rest,
        ),
        (
            "clickwrap_activity",
            "Clickwrap Activity API (emulator)",
            clickwrap_activity,
        ),
    ];
    Ok(presets
        .into_iter()
        .map(|(id, label, form)| Preset {
            id,
            label,
            form: form.as_object().cloned().unwrap_or_default(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_filled_secret_fields_are_masked() {
        let form = json!({ "client_id": "id", "client_secret": "s3cret", "access_token": null });
        let Value::Object(form) = form else { panic!() };
        let secrets = ["client_secret".to_string(), "access_token".to_string()];
        assert_eq!(
            Value::Object(masked(&form, &secrets)),
            json!({ "client_id": "id", "client_secret": MASK, "access_token": null })
        );
    }
}
