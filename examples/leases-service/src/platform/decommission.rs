//! Decommissioning a tenant: its tokens and jobs stop, the work in flight
//! finishes, its data is deleted, and its record stays as `deleted`.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use tenancy_axum::input::PathId;
use tenancy_axum::{Require, SystemAdmin};
use tenancy_core::{AuditEvent, AuditSink, TenantContext, TenantEvent, TenantId, TenantStatus};
use tenancy_sql::Delete;

use super::tenants::{article, lock_tenant, set_status};
use crate::http::permissions::SystemTenants;
use crate::http::{ApiError, AppState};
use crate::infra::db::schema::TENANT_TABLES;

/// How long a decommissioning waits for the tenant's requests and jobs in
/// flight before deleting anyway.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Decommissions a tenant: marks it, deletes all its data and leaves a
/// `deleted` record (its slug stays taken). Its tokens stop working and its
/// queued jobs are dropped.
pub(crate) async fn decommission(
    state: &AppState,
    operator: &TenantContext,
    id: TenantId,
) -> Result<(), ApiError> {
    // 1. Mark it: from here on its tokens and queued jobs are refused.
    let mut sys = state.db.system(operator, "decommission a tenant").await?;
    let record = lock_tenant(&mut sys, id).await?;
    let mut status = record.status;
    for event in [TenantEvent::Suspend, TenantEvent::Decommission] {
        if let Ok(next) = status.apply(event) {
            status = next;
        }
    }
    if status != TenantStatus::Decommissioning {
        return Err(ApiError::Conflict(format!(
            "{} {} tenant cannot be decommissioned",
            article(record.status),
            record.status
        )));
    }
    sys.execute(&set_status(id, status)).await?;
    sys.commit().await?;
    state.tenants.invalidate(id);
    // New requests and jobs of the tenant are refused from here on; let the
    // ones already in flight finish, so nothing they write outlives step 2.
    // A request counts until its response body is sent, so a client that
    // stops reading holds the drain up to its timeout.
    drain(state, id).await;

    // 2. Delete its data. The operator reaches it only by acting for the
    //    tenant, with a reason, which is audited.
    let acting = operator.act_for_tenant(id, "decommission the tenant", &OperatorLog)?;
    let mut tx = state.db.tenant(&acting).await?;
    for table in TENANT_TABLES {
        tx.execute(Delete::from(table)).await?;
    }
    tx.commit().await?;

    // 3. Done: the record stays, `deleted`, and its slug stays taken.
    let mut sys = state
        .db
        .system(operator, "finish decommissioning a tenant")
        .await?;
    sys.execute(&set_status(id, TenantStatus::Deleted)).await?;
    sys.commit().await?;
    state.tenants.invalidate(id);
    Ok(())
}

/// `DELETE /system/tenants/{id}` → 204.
pub(crate) async fn route(
    State(state): State<AppState>,
    operator: SystemAdmin,
    _: Require<SystemTenants>,
    PathId(id): PathId<TenantId>,
) -> Result<StatusCode, ApiError> {
    decommission(&state, &operator, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where a decommissioning records that the operator acted for the tenant:
/// standard error, like the platform's other events, since the tenant's own
/// log is about to be deleted.
struct OperatorLog;

impl AuditSink for OperatorLog {
    fn record(&self, event: AuditEvent) {
        eprintln!(
            "leases-service: audit: {} {} by {} ({})",
            event.action,
            event.outcome.as_str(),
            event
                .subject
                .map(|s| s.to_string())
                .unwrap_or_else(|| "unknown".to_owned()),
            event.reason.as_deref().unwrap_or_default()
        );
    }
}

/// Waits until no request or job of `tenant` is in flight in this process.
async fn drain(state: &AppState, tenant: TenantId) {
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    while (state.limits.in_flight(tenant) > 0 || state.jobs.is_running_for(tenant))
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
