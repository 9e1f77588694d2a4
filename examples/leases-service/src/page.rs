//! Pagination: `?limit=` (1 to 100, default 20) and an opaque `cursor`,
//! answered as `{items, next_cursor}`, newest first.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::Serialize;

use std::sync::Arc;

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use tenancy_core::TenantId;

use crate::problem::{ApiError, FieldError};
use crate::state::AppState;

/// The default page size.
pub const DEFAULT_LIMIT: i64 = 20;
/// The largest page size.
pub const MAX_LIMIT: i64 = 100;

/// The server key cursors are sealed with: a cursor is opaque (the position
/// is encrypted), cannot be forged, and works only on the list it came from
/// and for the tenant it was issued to. Any other use is refused exactly like
/// a malformed cursor.
#[derive(Clone)]
pub struct CursorKey(Arc<[u8; 64]>);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

type HmacSha256 = Hmac<Sha256>;

/// The tag's length in bytes (128 bits).
const TAG_BYTES: usize = 16;

impl CursorKey {
    /// A key derived from the service's secret (so cursors survive a restart
    /// with the same secret, and say nothing about it).
    pub fn derive(secret: &[u8]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"leases-service cursor key\0")
            .chain_update(secret)
            .finalize();
        // HMAC pads a short key with zeros to its block size; doing it here
        // makes the key's length fixed, and keying infallible.
        let mut key = [0u8; 64];
        key[..32].copy_from_slice(&digest);
        CursorKey(Arc::new(key))
    }

    fn mac(&self, parts: &[&[u8]]) -> HmacSha256 {
        let mut mac = <HmacSha256 as KeyInit>::new(&(*self.0).into());
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    fn tag(&self, tenant: Option<TenantId>, list: &str, position: i64) -> HmacSha256 {
        // Length-prefixed parts: a tenant's 16 bytes never read as the
        // platform's empty scope.
        let scope = tenant.map(|t| t.as_u128().to_be_bytes());
        let scope: &[u8] = scope.as_ref().map_or(&[], |s| s.as_slice());
        self.mac(&[b"tag", scope, list.as_bytes(), &position.to_be_bytes()])
    }

    fn stream(&self, tag: &[u8]) -> [u8; 32] {
        self.mac(&[b"enc", tag]).finalize().into_bytes().into()
    }

    /// Seals `position` of `list`, as read by `tenant` (`None` for the
    /// platform's own lists), into a cursor: a tag over the tenant, the list
    /// and the position, then the position encrypted under a keystream
    /// derived from the tag (a deterministic, misuse-resistant construction).
    pub fn seal(&self, tenant: Option<TenantId>, list: &str, position: i64) -> String {
        let tag = self.tag(tenant, list, position).finalize().into_bytes();
        let tag = &tag[..TAG_BYTES];
        let stream = self.stream(tag);
        let mut out = String::with_capacity(2 * (TAG_BYTES + 8));
        let hidden = position
            .to_be_bytes()
            .into_iter()
            .zip(stream)
            .map(|(p, k)| p ^ k);
        for byte in tag.iter().copied().chain(hidden) {
            out.push_str(&format!("{byte:02x}"));
        }
        out
    }

    /// Opens a cursor from [`CursorKey::seal`] for `tenant` and `list`;
    /// `None` for a forged or altered cursor, one of another list, or one
    /// issued to another tenant (the caller cannot tell these apart).
    pub fn open(&self, tenant: Option<TenantId>, list: &str, cursor: &str) -> Option<i64> {
        if cursor.len() != 2 * (TAG_BYTES + 8) {
            return None;
        }
        let bytes = (0..cursor.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(cursor.get(i..i + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        let (tag, hidden) = bytes.split_at(TAG_BYTES);
        let stream = self.stream(tag);
        let mut position = [0u8; 8];
        for (i, (h, k)) in hidden.iter().zip(stream).enumerate() {
            position[i] = h ^ k;
        }
        let position = i64::from_be_bytes(position);
        // Constant-time comparison, by the MAC itself.
        let same = self
            .tag(tenant, list, position)
            .verify_truncated_left(tag)
            .is_ok();
        (same && position > 0).then_some(position)
    }
}

/// Which page a list request asks for.
#[derive(Debug, Clone)]
pub struct PageRequest {
    /// How many items at most.
    pub limit: i64,
    /// Only items older than this position (exclusive).
    pub before: i64,
    /// The tenant reading the list (`None` on the platform's lists) and the
    /// list (its path): cursors are bound to both.
    tenant: Option<TenantId>,
    list: String,
    key: CursorKey,
}

impl PageRequest {
    /// The first page of `list` as read by `tenant`, `limit` items long.
    pub fn first(tenant: Option<TenantId>, list: &str, limit: i64, key: CursorKey) -> Self {
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
    pub fn fetch(&self) -> u64 {
        self.limit.unsigned_abs() + 1
    }

    /// The cursor for the items after `position` in this list.
    pub fn cursor(&self, position: i64) -> String {
        self.key.seal(self.tenant, &self.list, position)
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
pub async fn read_newest_first<T>(
    db: &crate::db::Db,
    ctx: &tenancy_core::TenantContext,
    table: &'static str,
    columns: &[&'static str],
    page: PageRequest,
    from_row: impl Fn(&sqlx::any::AnyRow) -> Result<(i64, T), sqlx::Error>,
) -> Result<tenancy_axum::ScopedJson<Page<T>>, ApiError> {
    use tenancy_sql::{Order, Select, col};

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
    Ok(tenancy_axum::ScopedJson::new(
        ctx,
        tenancy_core::Scoped::restore(ctx, owner, Page::from_rows(page, rows))?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CursorKey {
        CursorKey::derive(b"a test secret of thirty-two bytes")
    }

    const ACME: Option<TenantId> = Some(TenantId::from_u128(1));

    #[test]
    fn cursor_roundtrips_and_refuses_forgeries() {
        let key = key();
        let cursor = key.seal(ACME, "/properties", 1_763_800_000_123_456);
        assert_eq!(
            key.open(ACME, "/properties", &cursor),
            Some(1_763_800_000_123_456)
        );
        assert!(
            !cursor.contains("1763800000123456")
                && !cursor.contains(&format!("{:x}", 1_763_800_000_123_456_i64)),
            "the position shows through: {cursor}"
        );
        assert_eq!(
            key.open(ACME, "/leases", &cursor),
            None,
            "another list's cursor"
        );
        let other = CursorKey::derive(b"another secret of thirty-two bytes");
        assert_eq!(
            other.open(ACME, "/properties", &cursor),
            None,
            "another key"
        );
        let mut flipped = cursor.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(
            key.open(ACME, "/properties", &flipped),
            None,
            "an altered cursor"
        );
        assert_eq!(key.open(ACME, "/properties", "42"), None);
        assert_eq!(key.open(ACME, "/properties", "zz"), None);
        assert_eq!(
            key.open(ACME, "/properties", &key.seal(ACME, "/properties", -1)),
            None
        );
    }

    #[test]
    fn a_cursor_opens_only_for_the_tenant_it_was_issued_to() {
        let key = key();
        let globex = Some(TenantId::from_u128(2));
        let cursor = key.seal(ACME, "/properties", 42);
        assert_eq!(key.open(ACME, "/properties", &cursor), Some(42));
        assert_eq!(key.open(globex, "/properties", &cursor), None);
        assert_eq!(key.open(None, "/properties", &cursor), None);
        let platform = key.seal(None, "/properties", 42);
        assert_eq!(key.open(ACME, "/properties", &platform), None);
        assert_eq!(key.open(None, "/properties", &platform), Some(42));
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
