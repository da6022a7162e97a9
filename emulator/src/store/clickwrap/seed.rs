//! The Clickwrap tenant the emulator starts from: one account with a production and a sandbox
//! site, contracts with versions, a signup group, 120 signers who agreed to the Terms (so
//! collections span pages), and two API keys — an admin's and a read-only user's — each with
//! the access token its user's profile showed when it was registered.

use std::collections::BTreeMap;

use serde_json::json;

use super::{ApiKey, Store, User};

/// The fixed facts tests and demos use (fake secrets, emulator only).
pub struct Fixture;

impl Fixture {
    pub const ACCOUNT_ID: i64 = 1001;
    /// An API key of a user with every permission on both sites.
    pub const ADMIN_CLIENT_ID: &'static str = "cw-admin-6f1d2c9e";
    pub const ADMIN_CLIENT_SECRET: &'static str = "emulator-clickwrap-secret-7d3a9c1e5b2f";
    /// An API key of a user who may only read the production site.
    pub const VIEWER_CLIENT_ID: &'static str = "cw-viewer-3b8e0a4d";
    pub const VIEWER_CLIENT_SECRET: &'static str = "emulator-clickwrap-viewer-secret-1c4e8a2d";
    /// The admin key's access token, as User Profile > API Keys showed it at registration:
    /// valid until an exchange of the key's client id and secret regenerates it.
    pub const ADMIN_ACCESS_TOKEN: &'static str = "emu_b182475c7dc57df0046daef48d73f166fdb44c44";
    /// The viewer key's access token.
    pub const VIEWER_ACCESS_TOKEN: &'static str = "emu_c670debe562775d35cd616d138dd5f54e9abed97";
    pub const SITE_ID: i64 = 1;
    pub const SITE_ACCESS_ID: &'static str = "1e8ddd9d-f32c-4dc7-9c13-62095e6d4317";
    pub const SANDBOX_SITE_ID: i64 = 2;
    pub const SANDBOX_ACCESS_ID: &'static str = "5a0c7c3e-2b9d-4f61-8e2a-9d4b7c1f0e35";
    /// Terms of Service: one published version.
    pub const TERMS_ID: i64 = 11;
    pub const TERMS_VERSION: &'static str = "64b0c0ffee00000000000111";
    /// Privacy Policy: version 1 published, version 2 a draft (the latest).
    pub const PRIVACY_ID: i64 = 12;
    pub const PRIVACY_V1: &'static str = "64b0c0ffee00000000000121";
    pub const PRIVACY_V2: &'static str = "64b0c0ffee00000000000122";
    /// The signup clickwrap: Terms and Privacy.
    pub const GROUP_ID: i64 = 31;
    pub const GROUP_KEY: &'static str = "signup";
    pub const SIGNERS: usize = 120;
    /// Both users' ids: admin, viewer.
    pub const USERS: [i64; 2] = [501, 502];

    /// The client secrets and access tokens, by what they are, for output scans.
    pub fn secrets() -> [(&'static str, &'static str); 4] {
        [
            (
                "client secret of the Clickwrap admin API key",
                Self::ADMIN_CLIENT_SECRET,
            ),
            (
                "client secret of the Clickwrap viewer API key",
                Self::VIEWER_CLIENT_SECRET,
            ),
            (
                "access token of the Clickwrap admin API key",
                Self::ADMIN_ACCESS_TOKEN,
            ),
            (
                "access token of the Clickwrap viewer API key",
                Self::VIEWER_ACCESS_TOKEN,
            ),
        ]
    }

    /// The seeded signer number `n` (1-based).
    pub fn signer(n: usize) -> String {
        format!("signer{n:03}@example.com")
    }
}

const ALL: [&str; 4] = ["read", "create", "update", "publish"];
/// Seeded activity happened a day apart from this instant (2025-06-01).
const SEEDED_FROM_MS: i64 = 1_748_736_000_000;

pub fn store() -> Store {
    let f = |ms: i64| crate::store::time::format_ms(ms);
    let site = |id: i64, access_id: &str, key: &str, name: &str, sandbox: bool| {
        json!({ "id": id, "access_id": access_id, "key": key, "name": name, "sandbox": sandbox,
                "primary": !sandbox, "account": Fixture::ACCOUNT_ID,
                "legal_center_url": format!("https://{key}.example/legal"), "time_zone": "UTC" })
    };
    let contract = |id: i64, site: i64, key: &str, title: &str, latest: &str, published: &str| {
        json!({ "id": id, "site": site, "key": key, "title": title, "type": "html", "tags": [],
                "published": true, "archived": false, "public": true,
                "latest_version": latest, "published_version": published })
    };
    let version = |id: &str, contract: i64, n: u32, status: &str| {
        json!({ "id": id, "contract": contract, "version_number": n,
                "full_version_number": format!("{n}.0"), "status": status,
                "published_time": (status == "published").then(|| f(SEEDED_FROM_MS)),
                "effective_time": (status == "published").then(|| f(SEEDED_FROM_MS)),
                "title": format!("Version {n}"), "body": format!("<p>Version {n}</p>"), "fields": [] })
    };
    let mut signers = Vec::new();
    let mut activity = Vec::new();
    for n in 1..=Fixture::SIGNERS {
        let at = f(SEEDED_FROM_MS + n as i64 * 86_400_000);
        let signer_id = Fixture::signer(n);
        signers.push(json!({ "signer_id": signer_id, "uuid": format!("5e1e00000000000000{n:06}"),
                             "email": signer_id, "name": format!("Signer {n}"), "site": Fixture::SITE_ID,
                             "latest_activity_time": at, "last_action": "agreed", "source": "activity",
                             "test_mode": false, "additional_attributes": {} }));
        activity.push(
            json!({ "id": format!("ac7100000000000000{n:06}"), "signer_id": signer_id,
                              "event_type": "agreed", "contract": Fixture::TERMS_ID,
                              "version": Fixture::TERMS_VERSION, "group": Fixture::GROUP_ID,
                              "site": Fixture::SITE_ID, "created_time": at, "custom_data": {},
                              "connection_data": {}, "test_mode": false }),
        );
    }
    let keys = vec![
        ApiKey {
            client_id: Fixture::ADMIN_CLIENT_ID.into(),
            client_secret: Fixture::ADMIN_CLIENT_SECRET.into(),
            user_id: Fixture::USERS[0],
            access_token: Fixture::ADMIN_ACCESS_TOKEN.into(),
        },
        ApiKey {
            client_id: Fixture::VIEWER_CLIENT_ID.into(),
            client_secret: Fixture::VIEWER_CLIENT_SECRET.into(),
            user_id: Fixture::USERS[1],
            access_token: Fixture::VIEWER_ACCESS_TOKEN.into(),
        },
    ];
    let user = |id: i64, email: &str, name: &str, sites: &[(i64, &[&'static str])]| User {
        id,
        email: email.into(),
        name: name.into(),
        sites: sites
            .iter()
            .map(|(s, p)| (*s, p.to_vec()))
            .collect::<BTreeMap<_, _>>(),
    };
    Store {
        account: Fixture::ACCOUNT_ID,
        users: vec![
            user(
                Fixture::USERS[0],
                "clickwrap-admin@acme.example",
                "Clickwrap Admin",
                &[(Fixture::SITE_ID, &ALL), (Fixture::SANDBOX_SITE_ID, &ALL)],
            ),
            user(
                Fixture::USERS[1],
                "clickwrap-viewer@acme.example",
                "Clickwrap Viewer",
                &[(Fixture::SITE_ID, &["read"])],
            ),
        ],
        tokens: keys
            .iter()
            .map(|k| (k.access_token.clone(), k.user_id))
            .collect(),
        keys,
        sites: vec![
            site(
                Fixture::SITE_ID,
                Fixture::SITE_ACCESS_ID,
                "acme",
                "Acme",
                false,
            ),
            site(
                Fixture::SANDBOX_SITE_ID,
                Fixture::SANDBOX_ACCESS_ID,
                "acme-sandbox",
                "Acme Sandbox",
                true,
            ),
        ],
        contracts: vec![
            contract(
                Fixture::TERMS_ID,
                Fixture::SITE_ID,
                "terms",
                "Terms of Service",
                Fixture::TERMS_VERSION,
                Fixture::TERMS_VERSION,
            ),
            contract(
                Fixture::PRIVACY_ID,
                Fixture::SITE_ID,
                "privacy",
                "Privacy Policy",
                Fixture::PRIVACY_V2,
                Fixture::PRIVACY_V1,
            ),
        ],
        versions: vec![
            version(Fixture::TERMS_VERSION, Fixture::TERMS_ID, 1, "published"),
            version(Fixture::PRIVACY_V1, Fixture::PRIVACY_ID, 1, "published"),
            version(Fixture::PRIVACY_V2, Fixture::PRIVACY_ID, 2, "draft"),
        ],
        groups: vec![json!({ "id": Fixture::GROUP_ID, "site": Fixture::SITE_ID,
                             "key": Fixture::GROUP_KEY, "name": "Signup", "type": "clickwrap",
                             "style": "full", "published": true, "paused": false,
                             "contracts": [Fixture::TERMS_ID, Fixture::PRIVACY_ID],
                             "display_all": true, "signer_id_selector": "email" })],
        signers,
        activity,
        // Ids created while running start above every seeded one.
        next_id: 100,
        ..Store::default()
    }
}

/// A seeded entity by its id, for tests of the seed itself.
#[cfg(test)]
pub fn by_id<'a>(
    items: &'a [serde_json::Value],
    id: &serde_json::Value,
) -> Option<&'a serde_json::Value> {
    items.iter().find(|i| &i["id"] == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_is_consistent() {
        let s = store();
        for c in &s.contracts {
            for v in ["latest_version", "published_version"] {
                assert!(by_id(&s.versions, &c[v]).is_some(), "{c}");
            }
        }
        for a in &s.activity {
            assert!(by_id(&s.versions, &a["version"]).is_some());
            assert!(by_id(&s.contracts, &a["contract"]).is_some());
        }
        assert_eq!(s.signers.len(), Fixture::SIGNERS);
        assert!(s.keys.iter().all(|k| s.user(k.user_id).is_some()));
        // Each key's profile token is live and acts as the key's user.
        for k in &s.keys {
            assert_eq!(s.tokens.get(&k.access_token), Some(&k.user_id));
            assert!(k.access_token.starts_with(crate::store::ids::TOKEN_PREFIX));
        }
    }
}
