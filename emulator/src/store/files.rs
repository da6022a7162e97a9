//! Uploaded file bytes (workflow documents, record attachments) and smart-import bookkeeping,
//! seeded from `fixtures/emulator/files.json`. Uploads come back byte-identical.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use serde::Deserialize;

const FIXTURE: &str = include_str!("../../../fixtures/emulator/files.json");

/// A stored file.
#[derive(Clone)]
pub struct Blob {
    pub filename: String,
    pub content_type: String,
    pub data: Bytes,
}

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blob")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("bytes", &self.data.len())
            .finish()
    }
}

/// This area's state: uploaded bytes and smart-import bookkeeping.
#[derive(Debug, Default)]
pub struct FileStore {
    /// Workflow document bytes by (workflow id, document key).
    pub documents: HashMap<(String, String), Blob>,
    /// Record attachment bytes by (record id, attachment key).
    pub attachments: HashMap<(String, String), Blob>,
    /// AI Contract Credits left for smart import.
    pub credits: u64,
    /// Imports smart import created.
    pub imports: HashSet<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Fixture {
    #[serde(rename = "_comment", default)]
    _comment: Option<String>,
    smart_import_credits: u64,
}

impl FileStore {
    /// The built-in store (`fixtures/emulator/files.json`).
    pub fn seeded() -> Self {
        let f: Fixture =
            serde_json::from_str(FIXTURE).expect("fixtures/emulator/files.json parses");
        Self {
            credits: f.smart_import_credits,
            ..Self::default()
        }
    }
}
