//! The polling cursor: a watermark instant plus the ids already emitted at exactly that
//! instant (Ironclad filters `lastUpdated` inclusively and timestamps collide at millisecond
//! precision, so the ids are the tie-break). Records also keep the highest readable number
//! seen, which is how "new" is told from "updated" where the API has no creation time.
//! The cursor names its trigger and connection ([`Owner`]); no other trigger reads it.
//!
//! Triggers that read a backlog in slices ([`super::slices`]) also keep the width of the last
//! slice that fitted a page (`slice_ms`) and, while more than a page of items share the
//! watermark's millisecond, their reading position (`instant`). Both are optional, so a cursor
//! of an earlier release (watermark and ids only) is read as it was written. The cursor stays
//! small: `ids` holds at most a page of ids, because an instant with more is read by position.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ConnectorError, excerpt};
use crate::owner::{Owner, TriggerCursor};
use crate::time::{self, Millis};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The trigger that wrote the cursor; empty in cursors of earlier versions, which are
    /// refused.
    #[serde(default)]
    pub trigger: String,
    /// The fingerprint of the connection it read.
    #[serde(default)]
    pub connection: String,
    /// ISO-8601 UTC; items updated before it were handled.
    pub watermark: String,
    /// Items at exactly `watermark` already handled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    /// Highest readable number (`IC-123` → 123) seen, for "new record".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_number: Option<u64>,
    /// Milliseconds spanned by the last backlog slice that fitted a page: the next poll's
    /// first guess, so a steady backlog costs no narrowing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice_ms: Option<i64>,
    /// Reading the items stamped exactly `watermark` page by page (more than a page of them);
    /// `ids` is empty meanwhile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instant: Option<InstantRead>,
}

/// Where the reading of one millisecond's items stands: the next page (of the trigger's
/// budget in items) and how many items the instant held when last read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstantRead {
    pub page: u64,
    pub count: u64,
}

impl TriggerCursor for Cursor {
    fn written_by(&self) -> (&str, &str) {
        (&self.trigger, &self.connection)
    }

    fn watermark(&self) -> &str {
        &self.watermark
    }
}

impl Cursor {
    pub fn at(watermark: Millis, owner: &Owner) -> Self {
        Cursor {
            trigger: owner.key.to_string(),
            connection: owner.connection.clone(),
            watermark: time::format(watermark),
            ids: Vec::new(),
            max_number: None,
            slice_ms: None,
            instant: None,
        }
    }

    /// The host's stored cursor, if `owner` wrote it. A cursor this trigger did not write is
    /// an input error on `cursor`, not a reason to start over silently (which would lose or
    /// repeat events).
    pub fn from_json(value: &Value, owner: &Owner) -> Result<Self, ConnectorError> {
        let cursor = owner.claim(Cursor::deserialize(value))?;
        cursor.millis()?;
        Ok(cursor)
    }

    pub fn millis(&self) -> Result<Millis, ConnectorError> {
        time::parse(&self.watermark).ok_or_else(|| {
            ConnectorError::input(
                "cursor",
                format!("bad watermark `{}`", excerpt(&self.watermark)),
            )
        })
    }

    /// Not handled yet: after the watermark, or at it with an id not yet handled.
    pub fn is_new(&self, watermark: Millis, at: Millis, id: &str) -> bool {
        at > watermark || (at == watermark && !self.ids.iter().any(|seen| seen == id))
    }

    /// Move past an item handled at `at`.
    pub fn advance(&mut self, watermark: &mut Millis, at: Millis, id: &str) {
        if at > *watermark {
            *watermark = at;
            self.watermark = time::format(at);
            self.ids.clear();
        }
        self.ids.push(id.to_string());
    }

    /// Everything stamped up to `through` is handled: the watermark moves just past it.
    pub fn pass(&mut self, watermark: &mut Millis, through: Millis) {
        *watermark = through + 1;
        self.watermark = time::format(*watermark);
        self.ids.clear();
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a cursor serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::conn;

    fn owner(key: &'static str) -> Owner {
        Owner::trigger(key, &conn())
    }

    #[test]
    fn ties_at_the_watermark_are_broken_by_id() {
        let owner = owner("record_updated");
        let mut c = Cursor::at(1000, &owner);
        let mut w = c.millis().unwrap();
        assert!(c.is_new(w, 1000, "a"));
        c.advance(&mut w, 1000, "a");
        assert!(!c.is_new(w, 1000, "a"));
        assert!(c.is_new(w, 1000, "b"));
        assert!(!c.is_new(w, 999, "z"));
        c.advance(&mut w, 2000, "c");
        assert_eq!((w, c.ids.clone()), (2000, vec!["c".to_string()]));
        assert_eq!(Cursor::from_json(&c.to_json(), &owner).unwrap(), c);
    }

    #[test]
    fn foreign_cursors_are_refused() {
        let owner = owner("record_updated");
        let mut bad_watermark = Cursor::at(1000, &owner).to_json();
        bad_watermark["watermark"] = serde_json::json!("soon");
        for bad in [
            serde_json::json!("x"),
            serde_json::json!({"watermark": "soon"}),
            bad_watermark,
        ] {
            let err = Cursor::from_json(&bad, &owner).unwrap_err();
            assert!(
                matches!(err, ConnectorError::InvalidInput { ref field, .. } if field == "cursor"),
                "{err:?}"
            );
        }
    }

    /// One trigger's cursor is refused by another (its watermark would skip or repeat the
    /// other's events), and on another connection.
    #[test]
    fn a_cursor_belongs_to_its_trigger_and_connection() {
        let launched = Cursor::at(1000, &owner("workflow_launched")).to_json();
        assert_eq!(launched["trigger"], "workflow_launched");
        let err = Cursor::from_json(&launched, &owner("record_created")).unwrap_err();
        let ConnectorError::InvalidInput { field, message } = err else {
            panic!()
        };
        assert_eq!(field, "cursor");
        assert!(
            message.contains("belongs to trigger `workflow_launched`, not `record_created`"),
            "{message}"
        );
        let mut elsewhere = launched.clone();
        elsewhere["connection"] = serde_json::json!("00000000");
        let err = Cursor::from_json(&elsewhere, &owner("workflow_launched")).unwrap_err();
        assert!(err.to_string().contains("another connection"), "{err}");
        // A cursor from before cursors named their trigger: refused, with where to resume.
        let legacy = serde_json::json!({"watermark": "2026-01-01T00:00:00.000Z", "ids": ["a"]});
        let err = Cursor::from_json(&legacy, &owner("workflow_launched")).unwrap_err();
        assert!(
            err.to_string().contains("earlier version")
                && err
                    .to_string()
                    .contains("set `since` to `2026-01-01T00:00:00.000Z`"),
            "{err}"
        );
    }
}
