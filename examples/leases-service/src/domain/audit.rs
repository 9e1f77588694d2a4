//! Each tenant's audit log: written in the same transaction as the change
//! it records, read newest first by the tenant's admins.

use axum::extract::State;
use sea_query::Value;
use serde::Serialize;
use tenancy_axum::{Require, ScopedJson, Tenant};
use tenancy_core::{Outcome, Scope, SubjectId, TenantContext};
use tenancy_sql::{Insert, TenantTx};

use crate::http::page::{Page, PageRequest, read_newest_first};
use crate::http::permissions::AuditRead;
use crate::http::{ApiError, AppState};
use crate::infra::clock;

/// One entry, as the API shows it (no tenant id).
#[derive(Debug, Serialize)]
pub(crate) struct AuditItem {
    /// When (RFC 3339, UTC).
    pub(crate) at: String,
    /// Who acted.
    pub(crate) subject: Option<String>,
    /// What happened (`lease.create`).
    pub(crate) action: String,
    /// On what kind of resource.
    pub(crate) resource_type: Option<String>,
    /// On which resource.
    pub(crate) resource_id: Option<String>,
    /// `allowed` or `denied`.
    pub(crate) outcome: String,
}

/// The subject a tenant's log shows for a platform operator's actions: an
/// operator's own id never appears in a tenant's log.
pub(crate) const PLATFORM_SUBJECT: &str = "platform";

/// Who acted, as a tenant's log shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Actor {
    /// A subject of the tenant.
    Subject(SubjectId),
    /// A platform operator (system scope), shown as [`PLATFORM_SUBJECT`].
    Platform,
    /// Nobody known.
    Unknown,
}

impl Actor {
    /// `ctx`'s subject, or the platform for a system-scope context.
    pub(crate) fn of(ctx: &TenantContext) -> Self {
        match ctx.scope() {
            Scope::System => Actor::Platform,
            _ => Actor::Subject(ctx.subject()),
        }
    }

    fn text(self) -> Option<String> {
        match self {
            Actor::Subject(subject) => Some(subject.to_string()),
            Actor::Platform => Some(PLATFORM_SUBJECT.to_owned()),
            Actor::Unknown => None,
        }
    }
}

/// An event to record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    /// Who acted.
    pub(crate) subject: Actor,
    /// What happened.
    pub(crate) action: &'a str,
    /// The resource's kind and id.
    pub(crate) resource: Option<(&'a str, &'a str)>,
    /// Whether it went ahead.
    pub(crate) outcome: Outcome,
}

impl<'a> Entry<'a> {
    /// An allowed action by `ctx`'s subject on a resource.
    pub(crate) fn by(ctx: &TenantContext, action: &'a str, kind: &'a str, id: &'a str) -> Self {
        Entry {
            subject: Actor::of(ctx),
            action,
            resource: Some((kind, id)),
            outcome: Outcome::Allowed,
        }
    }
}

/// Records `entry` in the transaction's tenant log (the tenant column is
/// stamped by `tenancy-sql`).
pub(crate) async fn record(tx: &mut TenantTx, entry: Entry<'_>) -> Result<(), ApiError> {
    let text = |v: Option<&str>| Value::from(v.map(str::to_owned));
    tx.execute(
        Insert::into("audit_events")
            .columns([
                "id",
                "seq",
                "at",
                "subject",
                "action",
                "resource_type",
                "resource_id",
                "outcome",
            ])
            .values([
                Value::from(clock::new_id()?),
                Value::from(clock::next_seq()),
                Value::from(clock::now()),
                Value::from(entry.subject.text()),
                Value::from(entry.action.to_owned()),
                text(entry.resource.map(|(kind, _)| kind)),
                text(entry.resource.map(|(_, id)| id)),
                Value::from(entry.outcome.as_str().to_owned()),
            ]),
    )
    .await?;
    Ok(())
}

/// `GET /audit` (needs `audit:read`): this tenant's events, newest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
    _: Require<AuditRead>,
    page: PageRequest,
) -> Result<ScopedJson<Page<AuditItem>>, ApiError> {
    let columns = [
        "seq",
        "at",
        "subject",
        "action",
        "resource_type",
        "resource_id",
        "outcome",
    ];
    read_newest_first(&state.db, &tenant, "audit_events", &columns, page, |row| {
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
    .await
}
