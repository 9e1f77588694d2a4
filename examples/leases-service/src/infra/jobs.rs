//! Background jobs. A job travels as a [`Scoped`] envelope bound to the
//! tenant that asked for it; the worker opens it only under a context of
//! that same tenant, which the SDK's admission hands out (the decision the
//! tenancy layer asks for each request), and drops it if the tenant no
//! longer serves (for example, was decommissioned while the job waited).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tenancy_admission::{Admission, AdmissionRequest, Refusal};
use tenancy_core::{PermissionSet, RoleName, Scoped, SubjectId, TenantContext, TenantId};
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
    /// Starts the worker on the current runtime; each job passes
    /// `admission` before it runs.
    pub(crate) fn start(db: Db, admission: Arc<Admission>, delay: Duration) -> JobQueue {
        let (sender, mut receiver) = mpsc::unbounded_channel::<Scoped<ReminderJob>>();
        let stats = Arc::new(JobStats::default());
        let worker_stats = Arc::clone(&stats);
        let running = Arc::new(Mutex::new(None));
        let worker_running = Arc::clone(&running);
        tokio::spawn(async move {
            while let Some(envelope) = receiver.recv().await {
                tokio::time::sleep(delay).await;
                // INVARIANT: set before the job's admission checks its
                // tenant's status and cleared after it committed, so a
                // decommissioning that waits for it (see `is_running_for`)
                // deletes what it wrote.
                *lock(&worker_running) = Some(envelope.tenant());
                let outcome = run(&db, &admission, envelope).await;
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
async fn run(
    db: &Db,
    admission: &Admission,
    envelope: Scoped<ReminderJob>,
) -> Result<bool, ApiError> {
    // The worker acts inside the envelope's tenant and nowhere else, with
    // what the member role grants there today.
    let worker = TenantContext::tenant(
        envelope.tenant(),
        WORKER,
        RoleName::member(),
        PermissionSet::parse(["leases:read"]).map_err(|_| ApiError::Internal)?,
    );
    // The tenant's requests pass the same decision: a tenant that stopped
    // serving (suspended, or decommissioned meanwhile) gets nothing run for
    // it, and its jobs are dropped, never run under another tenant.
    let admitted = match admission.admit(AdmissionRequest::job(&worker)).await {
        Ok(admitted) => admitted,
        Err(Refusal::TenantUnavailable(_)) => return Ok(false),
        Err(_) => return Err(ApiError::Unavailable),
    };
    let ctx = admitted.context();
    let job = envelope.into_inner(ctx)?;
    let mut tx = db.tenant(ctx).await?;
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
