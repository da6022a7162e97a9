//! Whose a cursor is: the action or trigger that wrote it, and the connection it read
//! ([`Connection::fingerprint`]). Page cursors and trigger state carry both, and state written
//! for another action, trigger or connection is refused as `invalid_input` before any request:
//! a `list_workflows` page number is no position in `list_records`, and one trigger's watermark
//! would make another skip or repeat events.

use crate::config::Connection;
use crate::error::{ConnectorError, excerpt};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Action,
    Trigger,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    kind: Kind,
    pub key: &'static str,
    pub connection: String,
}

/// A trigger cursor: it names the trigger and the connection that wrote it (both empty in
/// cursors of earlier versions) and the instant it stood at.
pub trait TriggerCursor {
    fn written_by(&self) -> (&str, &str);
    fn watermark(&self) -> &str;
}

impl Owner {
    /// A trigger cursor read back from its JSON, accepted only when this trigger wrote it on
    /// this connection; otherwise `invalid_input` on `cursor` saying why and how to go on.
    pub fn claim<T: TriggerCursor>(
        &self,
        parsed: Result<T, serde_json::Error>,
    ) -> Result<T, ConnectorError> {
        let cursor = parsed.map_err(|e| {
            ConnectorError::input(
                "cursor",
                format!(
                    "not a cursor this trigger wrote: {}",
                    excerpt(&e.to_string())
                ),
            )
        })?;
        let (trigger, connection) = cursor.written_by();
        if trigger.is_empty() {
            return Err(self.unbound("cursor", Some(cursor.watermark())));
        }
        self.check("cursor", trigger, connection)?;
        Ok(cursor)
    }

    pub fn action(key: &'static str, conn: &Connection) -> Owner {
        Owner {
            kind: Kind::Action,
            key,
            connection: conn.fingerprint(),
        }
    }

    pub fn trigger(key: &'static str, conn: &Connection) -> Owner {
        Owner {
            kind: Kind::Trigger,
            key,
            connection: conn.fingerprint(),
        }
    }

    /// Accept state that `key` wrote on `connection` only when that is this owner.
    pub fn check(&self, field: &str, key: &str, connection: &str) -> Result<(), ConnectorError> {
        let kind = self.kind_name();
        if key != self.key {
            return Err(ConnectorError::input(
                field,
                format!(
                    "this cursor belongs to {kind} `{}`, not `{}`: give it back to `{}`, or {}",
                    excerpt(key),
                    self.key,
                    excerpt(key),
                    self.restart()
                ),
            ));
        }
        if connection != self.connection {
            return Err(ConnectorError::input(
                field,
                format!(
                    "this cursor of {kind} `{}` was written on another connection (another \
                     instance, API type or site); {}",
                    self.key,
                    self.restart()
                ),
            ));
        }
        Ok(())
    }

    /// State from before cursors said whose they are: it cannot be told from another
    /// action's or trigger's, so it is refused with the way to start again (and, for a
    /// trigger, the instant to start from so nothing is lost).
    pub fn unbound(&self, field: &str, resume_from: Option<&str>) -> ConnectorError {
        let resume = match resume_from {
            Some(at) => format!(
                "; set `since` to `{}` to resume where it stood",
                excerpt(at)
            ),
            None => String::new(),
        };
        ConnectorError::input(
            field,
            format!(
                "this cursor was written by an earlier version of the connector and does not \
                 say which {} it belongs to; {}{resume}",
                self.kind_name(),
                self.restart()
            ),
        )
    }

    fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Action => "action",
            Kind::Trigger => "trigger",
        }
    }

    /// How to start afresh.
    fn restart(&self) -> String {
        match self.kind {
            Kind::Action => format!("pass \"\" to start reading `{}`", self.key),
            Kind::Trigger => format!(
                "reset the state of trigger `{}` (poll it without a cursor) to start it afresh",
                self.key
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::conn;

    fn other_instance() -> Connection {
        Connection {
            origin: "https://eu1.ironcladapp.com".into(),
            ..conn()
        }
    }

    #[test]
    fn state_is_accepted_only_by_its_owner() {
        let owner = Owner::action("list_records", &conn());
        assert_eq!(owner.connection.len(), 8);
        owner
            .check("/cursor", "list_records", &conn().fingerprint())
            .unwrap();
        let err = owner
            .check("/cursor", "list_workflows", &conn().fingerprint())
            .unwrap_err();
        let ConnectorError::InvalidInput { field, message } = err else {
            panic!()
        };
        assert_eq!(field, "/cursor");
        assert!(
            message.contains("belongs to action `list_workflows`, not `list_records`"),
            "{message}"
        );
        let err = owner
            .check("/cursor", "list_records", &other_instance().fingerprint())
            .unwrap_err();
        assert!(err.to_string().contains("another connection"), "{err}");
    }

    #[test]
    fn the_fingerprint_follows_what_the_connection_reads() {
        assert_eq!(conn().fingerprint(), conn().fingerprint());
        assert_ne!(conn().fingerprint(), other_instance().fingerprint());
        // The acting user does not change what a position means.
        let mut acting_as_nobody = conn();
        acting_as_nobody.impersonation = None;
        assert_eq!(acting_as_nobody.fingerprint(), conn().fingerprint());
    }
}
