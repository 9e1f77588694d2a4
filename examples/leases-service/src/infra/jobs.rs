//! Background jobs. A job travels as a [`Scoped`] envelope bound to the
//! tenant that asked for it; the worker opens it only under a context of
//! that same tenant, and drops it if the tenant no longer serves (for
//! example, was decommissioned while the job waited).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tenancy_core::{
    PermissionSet, RoleName, Scoped, SubjectId, TenantContext, TenantId, TenantStatus,
};
use tokio::sync::mpsc;

use super::db::Db;
use crate::domain::audit::{self, Entry};
use crate::http::ApiError;
use tenancy_sql::{Select, col};

/// The subject the worker acts as when it opens an envelope.
const WORKER: SubjectId = SubjectId::from_u128(0x006a_6f62);

/// Remind a lessee of their lease.
#[derive(Debug, Clone)]
pub(crate) struct ReminderJob {
    /// The job's id.
    pub(crate) id: String,
    /// The lease, in the envelope's tenant.
    pub(crate) lease_id: String,
    /// Who asked; the worker acts as them.
    pub(crate) requested_by: SubjectId,
}

/// What the worker did so far.
#[derive(Debug, Default)]
pub struct JobStats {
    ran: AtomicU64,
    dropped: AtomicU64,
}

impl JobStats {
    /// Jobs that ran to the end.
    pub fn ran(&self) -> u64 {
        self.ran.load(Ordering::Acquire)
    }

    /// Jobs dropped because their tenant or lease was gone.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Acquire)
    }
}

/// Where handlers put jobs.
#[derive(Debug, Clone)]
pub(crate) struct JobQueue {
    sender: mpsc::UnboundedSender<Scoped<ReminderJob>>,
    stats: Arc<JobStats>,
    running: Arc<Mutex<Option<TenantId>>>,
}

impl JobQueue {
    /// Starts the worker on the current runtime.
    pub(crate) fn start(db: Db, delay: Duration) -> JobQueue {
        let (sender, mut receiver) = mpsc::unbounded_channel::<Scoped<ReminderJob>>();
        let stats = Arc::new(JobStats::default());
        let worker_stats = Arc::clone(&stats);
        let running = Arc::new(Mutex::new(None));
        let worker_running = Arc::clone(&running);
        tokio::spawn(async move {
            while let Some(envelope) = receiver.recv().await {
                tokio::time::sleep(delay).await;
                // INVARIANT: set before the job checks its tenant's status and
                // cleared after it committed, so a decommissioning that waits
                // for it (see `is_running_for`) deletes what it wrote.
                *lock(&worker_running) = Some(envelope.tenant());
                let outcome = run(&db, envelope).await;
                *lock(&worker_running) = None;
                let counter = match outcome {
                    Ok(true) => &worker_stats.ran,
                    Ok(false) => &worker_stats.dropped,
                    Err(e) => {
                        eprintln!(
                            "leases-service: job failed: {}",
                            tenancy_axum::Problem::from(e).status()
                        );
                        &worker_stats.dropped
                    }
                };
                counter.fetch_add(1, Ordering::AcqRel);
            }
        });
        JobQueue {
            sender,
            stats,
            running,
        }
    }

    /// True while the worker runs a job of `tenant`.
    pub(crate) fn is_running_for(&self, tenant: TenantId) -> bool {
        *lock(&self.running) == Some(tenant)
    }

    /// Queues a job.
    pub(crate) fn enqueue(&self, job: Scoped<ReminderJob>) -> Result<(), ApiError> {
        self.sender.send(job).map_err(|_| ApiError::Unavailable)
    }

    /// The worker's counters.
    pub(crate) fn stats(&self) -> &JobStats {
        &self.stats
    }
}

fn lock(m: &Mutex<Option<TenantId>>) -> std::sync::MutexGuard<'_, Option<TenantId>> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs one job; `Ok(false)` when it was dropped.
async fn run(db: &Db, envelope: Scoped<ReminderJob>) -> Result<bool, ApiError> {
    let tenant = envelope.tenant();
    // A tenant that stopped serving (decommissioned meanwhile) gets nothing
    // run for it: its jobs are dropped, never run under another tenant.
    if !crate::platform::tenants::status(db, tenant)
        .await?
        .is_some_and(TenantStatus::serves_requests)
    {
        return Ok(false);
    }
    // The worker acts inside the envelope's tenant and nowhere else.
    let ctx = TenantContext::tenant(
        tenant,
        WORKER,
        RoleName::member(),
        PermissionSet::parse(["leases:read"]).map_err(|_| ApiError::Internal)?,
    );
    let job = envelope.into_inner(&ctx)?;
    let mut tx = db.tenant(&ctx).await?;
    let exists = tx
        .fetch_optional(
            Select::from("leases")
                .column("id")
                .filter(col("leases", "id").eq(job.lease_id.as_str())),
        )
        .await?
        .is_some();
    if !exists {
        return Ok(false);
    }
    let entry = Entry {
        subject: crate::domain::audit::Actor::Subject(job.requested_by),
        action: "lease.reminder.sent",
        resource: Some(("lease", &job.lease_id)),
        outcome: tenancy_core::Outcome::Allowed,
    };
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(true)
}
