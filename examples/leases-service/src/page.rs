//! Pagination: `?limit=` (1 to 100, default 20) and an opaque `cursor`,
//! answered as `{items, next_cursor}`, newest first.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::Serialize;

use crate::problem::{ApiError, FieldError};

/// The default page size.
pub const DEFAULT_LIMIT: i64 = 20;
/// The largest page size.
pub const MAX_LIMIT: i64 = 100;

/// Which page a list request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// How many items at most.
    pub limit: i64,
    /// Only items older than this position (exclusive).
    pub before: i64,
}

impl PageRequest {
    /// How many rows to fetch: one more than the page, to learn whether a
    /// next page exists.
    pub fn fetch(&self) -> u64 {
        self.limit.unsigned_abs() + 1
    }
}

/// One page of a list.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// Pass back as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows `(position, item)`, newest
    /// first: the extra row only says that there is a next page.
    pub fn from_rows(request: PageRequest, mut rows: Vec<(i64, T)>) -> Self {
        let more = rows.len() as i64 > request.limit;
        rows.truncate(request.limit as usize);
        let next_cursor = if more {
            rows.last().map(|(position, _)| encode_cursor(*position))
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(|(_, item)| item).collect(),
            next_cursor,
        }
    }
}

const CURSOR_PREFIX: &str = "p1:";

/// Hides a position behind an opaque token.
pub fn encode_cursor(position: i64) -> String {
    format!("{CURSOR_PREFIX}{position}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads a token from [`encode_cursor`].
pub fn decode_cursor(cursor: &str) -> Option<i64> {
    if !cursor.len().is_multiple_of(2) || cursor.len() > 64 {
        return None;
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(cursor.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    let text = String::from_utf8(bytes).ok()?;
    let position: i64 = text.strip_prefix(CURSOR_PREFIX)?.parse().ok()?;
    (position > 0).then_some(position)
}

impl<S: Send + Sync> FromRequestParts<S> for PageRequest {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(params) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::BadRequest {
                detail: "the query string could not be read".into(),
                errors: Vec::new(),
            })?;
        let bad = |field: &str, detail: &str| ApiError::BadRequest {
            detail: format!("`{field}`: {detail}"),
            errors: vec![FieldError::new(field, detail)],
        };
        let limit = match params.get("limit") {
            None => DEFAULT_LIMIT,
            Some(text) => match text.parse::<i64>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => return Err(bad("limit", "must be an integer from 1 to 100")),
            },
        };
        let before = match params.get("cursor") {
            None => i64::MAX,
            Some(text) => decode_cursor(text)
                .ok_or_else(|| bad("cursor", "is not a cursor from this list"))?,
        };
        Ok(PageRequest { limit, before })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_roundtrips_and_refuses_forgeries() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("42"), None);
        assert_eq!(decode_cursor("zz"), None);
        assert_eq!(decode_cursor(&encode_cursor(-1)), None);
    }

    #[test]
    fn next_cursor_only_when_more_rows_exist() {
        let request = PageRequest {
            limit: 2,
            before: i64::MAX,
        };
        let page = Page::from_rows(request, vec![(9, 'a'), (7, 'b'), (3, 'c')]);
        assert_eq!(page.items, vec!['a', 'b']);
        assert_eq!(page.next_cursor.as_deref().and_then(decode_cursor), Some(7));
        let last = Page::from_rows(request, vec![(3, 'c')]);
        assert_eq!(last.next_cursor, None);
    }
}
