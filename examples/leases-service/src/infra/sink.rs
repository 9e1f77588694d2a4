//! Where the tenancy layer's refusals go: into the refused tenant's own
//! audit log (so its admins see them), never into another tenant's.
//!
//! Refusals are cheap to provoke (a flood of 429s), so their audit path is
//! bounded: [`DbAuditSink::record`] never waits and never spawns; it puts
//! the event on a bounded queue drained by one writer task, drops (and
//! counts) events when the queue is full, and records at most one `limited`
//! refusal per tenant per second (counting the ones it folds away).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tenancy_core::{
    AuditEvent, AuditKind, AuditSink, PermissionSet, RoleName, SubjectId, TenantContext, TenantId,
    TenantStatus,
};
use tokio::sync::mpsc;

use super::db::Db;
use crate::domain::audit::{self, Actor, Entry};

/// How many refusals may wait for the writer.
pub(crate) const QUEUE_CAPACITY: usize = 1024;
/// At most one `limited` refusal per tenant is recorded per this window.
pub(crate) const LIMITED_WINDOW: Duration = Duration::from_secs(1);
/// How many tenants the coalescing remembers before it forgets old windows.
const WINDOW_CAPACITY: usize = 10_000;

/// What the audit path for refusals did so far.
#[derive(Debug, Default)]
pub struct SinkStats {
    queued: AtomicU64,
    dropped: AtomicU64,
    coalesced: AtomicU64,
}

impl SinkStats {
    /// Events handed to the writer.
    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }

    /// Events dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// `limited` refusals folded into one already recorded in their window.
    pub fn coalesced(&self) -> u64 {
        self.coalesced.load(Ordering::Relaxed)
    }
}

/// Writes each tenant-bound refusal to that tenant's `audit_events` through
/// one background writer; platform events (no tenant) go to standard error.
#[derive(Debug, Clone)]
pub(crate) struct DbAuditSink {
    queue: mpsc::Sender<AuditEvent>,
    stats: Arc<SinkStats>,
    windows: Arc<Mutex<HashMap<TenantId, Instant>>>,
}

impl DbAuditSink {
    /// A sink writing through `db`; starts its writer on the current Tokio
    /// runtime (the writer stops when every clone of the sink is dropped).
    pub(crate) fn new(db: Db) -> Self {
        let (queue, events) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(writer(db, events));
        DbAuditSink {
            queue,
            stats: Arc::default(),
            windows: Arc::default(),
        }
    }

    /// What it did so far.
    pub(crate) fn stats(&self) -> Arc<SinkStats> {
        Arc::clone(&self.stats)
    }

    /// False when a `limited` refusal of `tenant` was already recorded in
    /// the current window.
    fn first_in_window(&self, tenant: TenantId) -> bool {
        let now = Instant::now();
        let Ok(mut windows) = self.windows.lock() else {
            return true;
        };
        match windows.get(&tenant) {
            Some(start) if now.duration_since(*start) < LIMITED_WINDOW => false,
            _ => {
                if windows.len() >= WINDOW_CAPACITY {
                    windows.retain(|_, start| now.duration_since(*start) < LIMITED_WINDOW);
                }
                if windows.len() < WINDOW_CAPACITY {
                    windows.insert(tenant, now);
                }
                true
            }
        }
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
        if event.kind == AuditKind::Limited && !self.first_in_window(tenant) {
            self.stats.coalesced.fetch_add(1, Ordering::Relaxed);
            return;
        }
        match self.queue.try_send(event) {
            Ok(()) => self.stats.queued.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.stats.dropped.fetch_add(1, Ordering::Relaxed),
        };
    }
}

/// Writes queued refusals one at a time.
async fn writer(db: Db, mut events: mpsc::Receiver<AuditEvent>) {
    while let Some(event) = events.recv().await {
        if let Err(e) = write(&db, event).await {
            eprintln!(
                "leases-service: audit write failed: {}",
                tenancy_axum::Problem::from(e).status()
            );
        }
    }
}

async fn write(db: &Db, event: AuditEvent) -> Result<(), crate::http::ApiError> {
    let Some(tenant) = event.tenant else {
        return Ok(());
    };
    // A tenant being removed keeps no new rows.
    let status = crate::platform::tenants::status(db, tenant).await?;
    if !matches!(status, Some(TenantStatus::Active | TenantStatus::Suspended)) {
        return Ok(());
    }
    let subject = event.subject.unwrap_or(SubjectId::from_u128(0));
    let ctx = TenantContext::tenant(tenant, subject, RoleName::viewer(), PermissionSet::empty());
    let mut tx = db.tenant(&ctx).await?;
    let entry = Entry {
        subject: event.subject.map_or(Actor::Unknown, Actor::Subject),
        action: &event.action,
        resource: None,
        outcome: event.outcome,
    };
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(())
}
