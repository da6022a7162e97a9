//! Ironclad's zero-based page/pageSize paging and its `{page, pageSize, count, list}` envelope.

use serde_json::{Value, json};

use crate::infra::errors::ApiError;
use crate::infra::query::Params;

pub const MAX_PAGE: i64 = 100_000_000;
pub const DEFAULT_PAGE_SIZE: i64 = 20;
pub const MAX_PAGE_SIZE: i64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: usize,
    pub page_size: usize,
}

impl PageRequest {
    /// `page` (≥ 0, default 0) and `pageSize` (1..=100, default 20) from the query.
    pub fn from_params(params: &Params) -> Result<Self, ApiError> {
        let page = params.int("page", 0, 0, MAX_PAGE)?;
        let page_size = params.int("pageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)?;
        Ok(Self {
            page: page as usize,
            page_size: page_size as usize,
        })
    }

    /// The envelope for one page of `all` (already filtered and ordered); `count` is the total.
    pub fn envelope(&self, mut all: Vec<Value>) -> Value {
        let count = all.len();
        let list = all.drain(self.window(count)).collect();
        self.envelope_of(count, list)
    }

    /// Which of `count` ordered items this page holds (empty past the end).
    pub fn window(&self, count: usize) -> std::ops::Range<usize> {
        let start = self.page.saturating_mul(self.page_size).min(count);
        start..start.saturating_add(self.page_size).min(count)
    }

    /// The envelope of a page already cut with [`PageRequest::window`].
    pub fn envelope_of(&self, count: usize, list: Vec<Value>) -> Value {
        json!({ "page": self.page, "pageSize": self.page_size, "count": count, "list": list })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_bounds() {
        let all: Vec<Value> = (0..45).map(|i| json!(i)).collect();
        let p = PageRequest::from_params(&Params::parse("page=2&pageSize=20")).unwrap();
        let env = p.envelope(all.clone());
        assert_eq!(env["count"], 45);
        assert_eq!(env["list"].as_array().unwrap().len(), 5);
        assert_eq!(
            PageRequest::from_params(&Params::parse("")).unwrap(),
            PageRequest {
                page: 0,
                page_size: 20
            }
        );
        let e = PageRequest::from_params(&Params::parse("pageSize=101")).unwrap_err();
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("INVALID_PARAM", Some("pageSize"))
        );
        let far = PageRequest::from_params(&Params::parse("page=9&pageSize=100")).unwrap();
        assert_eq!(far.window(45), 45..45);
        assert_eq!(p.window(45), 40..45);
        assert!(PageRequest::from_params(&Params::parse("page=-1")).is_err());
        assert!(PageRequest::from_params(&Params::parse("pageSize=0")).is_err());
        assert!(PageRequest::from_params(&Params::parse("pageSize=abc")).is_err());
    }
}
