//! Pagination: `?limit=` (1 to 100, default 20) and an opaque `cursor`,
//! answered as `{items, next_cursor}`, newest first.

use std::collections::HashMap;
use tenancy_sql::DbRow;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Serialize;
use tenancy_axum::ScopedJson;
use tenancy_axum::input::{self, FieldError};
use tenancy_core::{Scoped, TenantContext, TenantId};
use tenancy_sql::{Order, Select, col};

use super::cursor::CursorKey;
use super::{ApiError, AppState};
use crate::infra::db::Db;

/// The default page size.
const DEFAULT_LIMIT: i64 = 20;
/// The largest page size.
const MAX_LIMIT: i64 = 100;

/// Which page a list request asks for.
#[derive(Debug, Clone)]
pub(crate) struct PageRequest {
    /// How many items at most.
    pub(crate) limit: i64,
    /// Only items older than this position (exclusive).
    pub(crate) before: i64,
    /// The tenant reading the list (`None` on the platform's lists) and the
    /// list (its path): cursors are bound to both.
    tenant: Option<TenantId>,
    list: String,
    key: CursorKey,
}

impl PageRequest {
    /// The first page of `list` as read by `tenant`, `limit` items long.
    pub(crate) fn first(tenant: Option<TenantId>, list: &str, limit: i64, key: CursorKey) -> Self {
        PageRequest {
            limit,
            before: i64::MAX,
            tenant,
            list: list.to_owned(),
            key,
        }
    }

    /// How many rows to fetch: one more than the page, to learn whether a
    /// next page exists.
    pub(crate) fn fetch(&self) -> u64 {
        self.limit.unsigned_abs() + 1
    }

    /// The cursor for the items after `position` in this list.
    pub(crate) fn cursor(&self, position: i64) -> String {
        self.key.seal(self.tenant, &self.list, position)
    }
}

/// One page of a list.
#[derive(Debug, Serialize)]
pub(crate) struct Page<T> {
    /// The items, newest first.
    pub(crate) items: Vec<T>,
    /// Pass back as `cursor` for the next page; `null` on the last page.
    pub(crate) next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows `(position, item)`, newest
    /// first: the extra row only says that there is a next page.
    pub(crate) fn from_rows(request: PageRequest, mut rows: Vec<(i64, T)>) -> Self {
        let more = rows.len() as i64 > request.limit;
        rows.truncate(request.limit as usize);
        let next_cursor = if more {
            rows.last().map(|(position, _)| request.cursor(*position))
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(|(_, item)| item).collect(),
            next_cursor,
        }
    }
}

impl FromRequestParts<AppState> for PageRequest {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let input::Query(params) =
            input::Query::<HashMap<String, String>>::from_request_parts(parts, state).await?;
        let bad =
            |field: &str, detail: &str| ApiError::BadQuery(vec![FieldError::new(field, detail)]);
        let limit = match params.get("limit") {
            None => DEFAULT_LIMIT,
            Some(text) => match text.parse::<i64>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => return Err(bad("limit", "must be an integer from 1 to 100")),
            },
        };
        // The tenant the tenancy layer put the request in (an operator
        // acting for one counts as that tenant); the platform's lists have
        // none.
        let tenant = tenancy_axum::context_from(&parts.extensions).and_then(|c| c.tenant_id());
        let mut page = PageRequest::first(tenant, parts.uri.path(), limit, state.cursors.clone());
        if let Some(text) = params.get("cursor") {
            // INVARIANT: one answer for every bad cursor, so a cursor of
            // another tenant cannot be told from a malformed one.
            page.before = page
                .key
                .open(page.tenant, &page.list, text)
                .ok_or_else(|| bad("cursor", "is not a cursor from this list"))?;
        }
        Ok(page)
    }
}

/// Reads one page of `table`, newest first by its `seq` column, in a
/// transaction bound to `ctx`. The page comes back bound to the tenant the
/// transaction ran for and is opened for the response only under `ctx`.
pub(crate) async fn read_newest_first<T>(
    db: &Db,
    ctx: &TenantContext,
    table: &'static str,
    columns: &[&'static str],
    page: PageRequest,
    from_row: impl Fn(&DbRow) -> tenancy_sql::Result<(i64, T)>,
) -> Result<ScopedJson<Page<T>>, ApiError> {
    let mut tx = db.tenant(ctx).await?;
    let rows = tx
        .fetch_all(
            Select::from(table)
                .columns(columns.iter().copied())
                .filter(col(table, "seq").lt(page.before))
                .order_by(col(table, "seq"), Order::Desc)
                .limit(page.fetch()),
        )
        .await?;
    let owner = tx.tenant();
    tx.commit().await?;
    let rows = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(ScopedJson::new(
        ctx,
        Scoped::restore(ctx, owner, Page::from_rows(page, rows))?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACME: Option<TenantId> = Some(TenantId::from_u128(1));

    fn key() -> CursorKey {
        CursorKey::derive(b"a test secret of thirty-two bytes")
    }

    #[test]
    fn next_cursor_only_when_more_rows_exist() {
        let request = PageRequest::first(ACME, "/leases", 2, key());
        let page = Page::from_rows(request.clone(), vec![(9, 'a'), (7, 'b'), (3, 'c')]);
        assert_eq!(page.items, vec!['a', 'b']);
        assert_eq!(
            page.next_cursor
                .and_then(|c| key().open(ACME, "/leases", &c)),
            Some(7)
        );
        let last = Page::from_rows(request, vec![(3, 'c')]);
        assert_eq!(last.next_cursor, None);
    }
}
