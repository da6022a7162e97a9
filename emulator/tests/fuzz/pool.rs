//! Values the emulator holds, by the name they go by (`id`, `email`, `client_id`, `template`):
//! gathered from the seed and from the emulator's own answers, so that generated requests name
//! things that exist often enough to get past 404 and reach the handlers' happy paths.

use std::collections::BTreeMap;

use ironclad_emulator::Seed;
use serde_json::Value;

/// Objects kept for their string fields (the first ones seen).
const OBJECTS: usize = 400;

#[derive(Default, Clone)]
pub struct Pool {
    by_name: BTreeMap<String, Vec<String>>,
    /// The string fields of objects seen, so that values that go together (a client's id and
    /// secret, a record's type and name) can be used together.
    objects: Vec<BTreeMap<String, String>>,
}

impl Pool {
    /// What the seed knows that no answer repeats: client credentials and redirect URIs.
    pub fn from_seed(seed: &Seed) -> Pool {
        let mut pool = Pool::default();
        for client in &seed.clients {
            pool.add("client_id", &client.client_id);
            pool.add("client_secret", &client.client_secret);
            for uri in &client.redirect_uris {
                pool.add("redirect_uri", uri);
            }
            pool.harvest(&serde_json::json!({
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "redirect_uri": client.redirect_uris.first(),
                "grant_type": client.grant_types.first(),
            }));
        }
        for user in &seed.users {
            pool.add("email", &user.email);
            pool.add("userId", &user.id);
        }
        for template in &seed.templates {
            pool.add("template", &template.id);
        }
        pool
    }

    pub fn add(&mut self, name: &str, value: &str) {
        let values = self.by_name.entry(name.to_owned()).or_default();
        if !value.is_empty() && !values.iter().any(|v| v == value) {
            values.push(value.to_owned());
        }
    }

    /// Every string of `answer` under the key it appears with.
    pub fn harvest(&mut self, answer: &Value) {
        match answer {
            Value::Object(map) => {
                let mut strings = BTreeMap::new();
                for (key, value) in map {
                    match value {
                        Value::String(text) => {
                            self.add(key, text);
                            strings.insert(key.clone(), text.clone());
                        }
                        // An array of strings (SCIM's `schemas`): each is a value of its key.
                        Value::Array(items) => {
                            for text in items.iter().filter_map(Value::as_str) {
                                self.add(key, text);
                            }
                        }
                        _ => {}
                    }
                    self.harvest(value);
                }
                if strings.len() >= 2
                    && self.objects.len() < OBJECTS
                    && !self.objects.contains(&strings)
                {
                    self.objects.push(strings);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| self.harvest(item)),
            _ => {}
        }
    }

    /// The objects seen with at least two string fields among `names`.
    pub fn objects_with(&self, names: &[&str]) -> Vec<&BTreeMap<String, String>> {
        self.objects
            .iter()
            .filter(|o| names.iter().filter(|n| o.contains_key(**n)).count() >= 2)
            .collect()
    }

    pub fn get(&self, name: &str) -> &[String] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }
}
