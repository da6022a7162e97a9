//! The polling cursor: a watermark instant plus the ids already emitted at exactly that
//! instant (Ironclad filters `lastUpdated` inclusively and timestamps collide at millisecond
//! precision, so the ids are the tie-break). Records also keep the highest readable number
//! seen, which is how "new" is told from "updated" where the API has no creation time.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ConnectorError;
use crate::time::{self, Millis};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// ISO-8601 UTC; items updated before it were handled.
    pub watermark: String,
    /// Items at exactly `watermark` already handled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    /// Highest readable number (`IC-123` → 123) seen, for "new record".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_number: Option<u64>,
}

impl Cursor {
    pub fn at(watermark: Millis) -> Self {
        Cursor {
            watermark: time::format(watermark),
            ids: Vec::new(),
            max_number: None,
        }
    }

    /// The host's stored cursor. A cursor this connector did not write is an input error on
    /// `cursor`, not a reason to start over silently (which would lose or repeat events).
    pub fn from_json(value: &Value) -> Result<Self, ConnectorError> {
        let cursor: Cursor = serde_json::from_value(value.clone()).map_err(|e| {
            ConnectorError::input("cursor", format!("not a cursor this trigger wrote: {e}"))
        })?;
        cursor.millis()?;
        Ok(cursor)
    }

    pub fn millis(&self) -> Result<Millis, ConnectorError> {
        time::parse(&self.watermark).ok_or_else(|| {
            ConnectorError::input("cursor", format!("bad watermark `{}`", self.watermark))
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

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a cursor serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_at_the_watermark_are_broken_by_id() {
        let mut c = Cursor::at(1000);
        let mut w = c.millis().unwrap();
        assert!(c.is_new(w, 1000, "a"));
        c.advance(&mut w, 1000, "a");
        assert!(!c.is_new(w, 1000, "a"));
        assert!(c.is_new(w, 1000, "b"));
        assert!(!c.is_new(w, 999, "z"));
        c.advance(&mut w, 2000, "c");
        assert_eq!((w, c.ids.clone()), (2000, vec!["c".to_string()]));
        assert_eq!(Cursor::from_json(&c.to_json()).unwrap(), c);
    }

    #[test]
    fn foreign_cursors_are_refused() {
        for bad in [
            serde_json::json!("x"),
            serde_json::json!({"watermark": "soon"}),
        ] {
            let err = Cursor::from_json(&bad).unwrap_err();
            assert!(
                matches!(err, ConnectorError::InvalidInput { ref field, .. } if field == "cursor"),
                "{err:?}"
            );
        }
    }
}
