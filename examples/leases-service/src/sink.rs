//! Where the tenancy layer's refusals go: into the refused tenant's own
//! audit log (so its admins see them), never into another tenant's.

use tenancy_core::{
    AuditEvent, AuditSink, PermissionSet, RoleName, SubjectId, TenantContext, TenantStatus,
};

use crate::audit::{self, Entry};
use crate::db::Db;

/// Writes each tenant-bound denial to that tenant's `audit_events`, in the
/// background; platform events (no tenant) go to standard error.
#[derive(Debug, Clone)]
pub struct DbAuditSink {
    db: Db,
}

impl DbAuditSink {
    /// A sink writing through `db`.
    pub fn new(db: Db) -> Self {
        DbAuditSink { db }
    }
}

impl AuditSink for DbAuditSink {
    fn record(&self, event: AuditEvent) {
        let Some(tenant) = event.tenant else {
            eprintln!(
                "leases-service: audit: {} {} ({})",
                event.action,
                event.outcome.as_str(),
                event.reason.as_deref().unwrap_or_default()
            );
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let db = self.db.clone();
        runtime.spawn(async move {
            let write = async {
                // A tenant being removed keeps no new rows.
                let status = crate::tenants::status(&db, tenant).await?;
                if !matches!(status, Some(TenantStatus::Active | TenantStatus::Suspended)) {
                    return Ok(());
                }
                let subject = event.subject.unwrap_or(SubjectId::from_u128(0));
                let ctx = TenantContext::tenant(
                    tenant,
                    subject,
                    RoleName::viewer(),
                    PermissionSet::empty(),
                );
                let mut tx = db.tenant(&ctx).await?;
                let entry = Entry {
                    subject: event.subject,
                    action: &event.action,
                    resource: None,
                    outcome: event.outcome,
                };
                audit::record(&mut tx, entry).await?;
                tx.commit().await?;
                Ok(())
            };
            let result: Result<(), crate::problem::ApiError> = write.await;
            if let Err(e) = result {
                eprintln!("leases-service: audit write failed: {}", e.status());
            }
        });
    }
}
