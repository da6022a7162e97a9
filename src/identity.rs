//! What test-connection reports: who the connection acts as. Each API type fills in what its
//! API tells (its `identity` in `api_types`).

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identity {
    pub user_id: Option<String>,
    pub user_email: Option<String>,
    pub user_name: Option<String>,
    pub company_id: Option<String>,
    pub company_name: Option<String>,
    pub scopes: Vec<String>,
}
