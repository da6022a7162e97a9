//! What a worker acts with: the loaded package, the connection forms by reference name and
//! the host's token store. The activities and the webhook ingress of one worker share it.

use connector_host::{CallError, Runtime, Session, TokenStore};

use crate::connections::{Connections, ConnectionsError};

pub struct Connector {
    runtime: Runtime,
    connections: Connections,
    tokens: TokenStore,
}

/// Why no session could be made for a connection reference.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The name is not in this worker's connections file.
    #[error(transparent)]
    Unknown(#[from] ConnectionsError),
    /// The connector refused the form, or the host could not prepare it.
    #[error(transparent)]
    Connect(CallError),
}

impl Connector {
    pub fn new(runtime: Runtime, connections: Connections, tokens: TokenStore) -> Self {
        Connector {
            runtime,
            connections,
            tokens,
        }
    }

    /// The connection reference names this worker knows.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.connections.names()
    }

    /// A session for the referenced connection. A session per activity or delivery:
    /// connecting only runs the connector's `plan` (the token lives in the token store, not
    /// in the session), and nothing of one tenant's call stays in memory for the next.
    pub async fn session(&self, connection: &str) -> Result<Session<'_>, SessionError> {
        let form = self.connections.resolve(connection)?;
        self.runtime
            .connect(form, self.tokens.clone())
            .await
            .map_err(SessionError::Connect)
    }
}
