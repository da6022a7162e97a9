//! Connection references: the names workflows carry in place of connection forms.
//!
//! Temporal stores every workflow's and activity's input and output in its history, in plain
//! text. So no form, secret or token ever crosses into Temporal: a workflow names a
//! connection (`acme-prod`), and only the activity worker, which owns this file and the token
//! store, turns the name into the form.
//!
//! The file is one JSON object, a form per name:
//! `{"acme-prod": {"api_type": "clm_public", "client_id": "...", ...}}`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use connector_host::ConnectionConfig;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum ConnectionsError {
    #[error("reading the connections file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Only the position: serde's message could quote the file, secrets included.
    #[error("the connections file {path} is not JSON (line {line}, column {column})")]
    NotJson {
        path: PathBuf,
        line: usize,
        column: usize,
    },
    #[error("the connections file {path} must be a JSON object of connection forms by name")]
    NotAnObject { path: PathBuf },
    #[error("connection `{name}` in {path} is not a JSON object")]
    NotAForm { path: PathBuf, name: String },
    #[error("no connection named `{name}` in this worker's connections file")]
    Unknown { name: String },
}

/// The connection forms a worker may use, by reference name.
pub struct Connections {
    forms: BTreeMap<String, ConnectionConfig>,
}

impl Connections {
    pub fn from_file(path: &Path) -> Result<Self, ConnectionsError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConnectionsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let doc: Value = serde_json::from_str(&text).map_err(|e| ConnectionsError::NotJson {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
        })?;
        Self::from_value(doc, path)
    }

    fn from_value(doc: Value, path: &Path) -> Result<Self, ConnectionsError> {
        let Value::Object(entries) = doc else {
            return Err(ConnectionsError::NotAnObject {
                path: path.to_path_buf(),
            });
        };
        let mut forms = BTreeMap::new();
        for (name, form) in entries {
            let config = match form {
                Value::Object(_) => {
                    ConnectionConfig::from_value(form).expect("a JSON object is a connection form")
                }
                _ => {
                    return Err(ConnectionsError::NotAForm {
                        path: path.to_path_buf(),
                        name,
                    });
                }
            };
            forms.insert(name, config);
        }
        Ok(Connections { forms })
    }

    /// The form behind `name`.
    pub fn resolve(&self, name: &str) -> Result<&ConnectionConfig, ConnectionsError> {
        self.forms
            .get(name)
            .ok_or_else(|| ConnectionsError::Unknown {
                name: name.to_string(),
            })
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.forms.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_resolve_to_forms_and_errors_never_quote_the_file() {
        let path = Path::new("connections.json");
        let c = Connections::from_value(
            json!({ "acme": { "client_secret": "s3cret" }, "beta": {} }),
            path,
        )
        .unwrap();
        assert_eq!(c.names().collect::<Vec<_>>(), ["acme", "beta"]);
        assert_eq!(c.resolve("acme").unwrap().form()["client_secret"], "s3cret");
        let e = c.resolve("gamma").err().unwrap().to_string();
        assert!(e.contains("`gamma`"), "{e}");

        let e = Connections::from_value(json!({ "acme": "s3cret" }), path)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("`acme`") && !e.contains("s3cret"), "{e}");
        assert!(matches!(
            Connections::from_value(json!([]), path),
            Err(ConnectionsError::NotAnObject { .. })
        ));

        let dir = std::env::temp_dir().join(format!("conn-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.json");
        std::fs::write(&file, r#"{"acme": {"client_secret": "s3cret""#).unwrap();
        let e = Connections::from_file(&file).err().unwrap().to_string();
        assert!(e.contains("line 1") && !e.contains("s3cret"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
