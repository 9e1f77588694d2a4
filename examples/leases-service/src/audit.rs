//! Each tenant's audit log: written in the same transaction as the change
//! it records, read newest first by the tenant's admins.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use sqlx::Row;
use tenancy_core::{Outcome, SubjectId, TenantContext};

use crate::db::TenantTx;
use crate::page::{Page, PageRequest};
use crate::permissions::*;
use crate::problem::ApiError;
use crate::state::AppState;
use tenancy_axum::{Require, Tenant};

/// One entry, as the API shows it (no tenant id).
#[derive(Debug, Serialize)]
pub struct AuditItem {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Who acted.
    pub subject: Option<String>,
    /// What happened (`lease.create`).
    pub action: String,
    /// On what kind of resource.
    pub resource_type: Option<String>,
    /// On which resource.
    pub resource_id: Option<String>,
    /// `allowed` or `denied`.
    pub outcome: String,
}

/// An event to record.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// Who acted.
    pub subject: Option<SubjectId>,
    /// What happened.
    pub action: &'a str,
    /// The resource's kind and id.
    pub resource: Option<(&'a str, &'a str)>,
    /// Whether it went ahead.
    pub outcome: Outcome,
}

impl<'a> Entry<'a> {
    /// An allowed action by `ctx`'s subject on a resource.
    pub fn by(ctx: &TenantContext, action: &'a str, kind: &'a str, id: &'a str) -> Self {
        Entry {
            subject: Some(ctx.subject()),
            action,
            resource: Some((kind, id)),
            outcome: Outcome::Allowed,
        }
    }
}

/// Records `entry` in the transaction's tenant log.
pub async fn record(tx: &mut TenantTx, entry: Entry<'_>) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant_param();
    sqlx::query(
        "INSERT INTO audit_events (tenant_id, at, subject, action, resource_type, resource_id, outcome) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant)
    .bind(crate::clock::now())
    .bind(entry.subject.map(|s| s.to_string()))
    .bind(entry.action)
    .bind(entry.resource.map(|(kind, _)| kind))
    .bind(entry.resource.map(|(_, id)| id))
    .bind(entry.outcome.as_str())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// `GET /audit` [audit:read]: this tenant's events, newest first.
pub async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
    _: Require<AuditRead>,
    page: PageRequest,
) -> Result<Json<Page<AuditItem>>, ApiError> {
    let ctx = tenant.into_context();
    let mut tx = state.db.tenant(&ctx).await?;
    let rows = sqlx::query(
        "SELECT seq, at, subject, action, resource_type, resource_id, outcome FROM audit_events \
         WHERE tenant_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
    )
    .bind(tx.tenant_param())
    .bind(page.before)
    .bind(page.limit + 1)
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    let rows = rows
        .into_iter()
        .map(|row| {
            Ok((
                row.try_get::<i64, _>("seq")?,
                AuditItem {
                    at: row.try_get("at")?,
                    subject: row.try_get("subject")?,
                    action: row.try_get("action")?,
                    resource_type: row.try_get("resource_type")?,
                    resource_id: row.try_get("resource_id")?,
                    outcome: row.try_get("outcome")?,
                },
            ))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Json(Page::from_rows(page, rows)))
}
