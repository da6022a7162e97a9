//! Ironclad Clickwrap's tenant: account, users with site permissions, API keys and their
//! access tokens, sites, contracts, versions, groups, signers and activity (entities are JSON
//! objects as the API returns them), seeded by [`seed`].

pub mod seed;

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

pub use seed::Fixture;

/// How the Activity API answers an unknown or missing `sid`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UnknownSid {
    /// 401 with Clickwrap's error body (the emulator's default).
    #[default]
    Refused,
    /// Taken and dropped: `/send` answers 200 with no body and records nothing; the reads
    /// answer `{}`, as for a signer who never agreed to anything.
    Unrecorded,
}

/// A user behind API keys: site id → permissions.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub sites: BTreeMap<i64, Vec<&'static str>>,
}

#[derive(Debug, Clone)]
pub struct ApiKey {
    pub client_id: String,
    pub client_secret: String,
    pub user_id: i64,
    /// The key's current access token: the one shown at registration until an exchange
    /// replaces it.
    pub access_token: String,
}

/// Everything Clickwrap keeps; entities are JSON objects as the API returns them.
#[derive(Debug, Default)]
pub struct Store {
    pub account: i64,
    pub users: Vec<User>,
    pub keys: Vec<ApiKey>,
    /// Live access tokens → user id (each key's current one).
    pub tokens: HashMap<String, i64>,
    /// How the Activity API answers an unknown `sid` (set by a test control).
    pub unknown_sid: UnknownSid,
    pub sites: Vec<Value>,
    pub contracts: Vec<Value>,
    pub versions: Vec<Value>,
    pub groups: Vec<Value>,
    pub signers: Vec<Value>,
    pub activity: Vec<Value>,
    next_id: i64,
}

impl Store {
    /// A fresh integer id for sites, contracts and groups.
    pub fn next_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn user(&self, id: i64) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn site_by_access_id(&self, sid: &str) -> Option<&Value> {
        self.sites
            .iter()
            .find(|s| s["access_id"].as_str() == Some(sid))
    }
}
