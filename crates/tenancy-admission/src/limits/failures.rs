//! A rate-limit store that cannot answer, made visible: every failure is
//! counted (and metered, with the `metrics` feature) and logged, and the
//! first of each period is logged loudly and audited, so a dead store
//! neither goes unnoticed nor floods the log and the audit trail.

use std::error::Error as StdError;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tenancy_core::{AuditEvent, AuditKind, AuditSink, Outcome};

use super::FailMode;
use crate::error::Error;

/// The audit action of a limit store failure.
pub(super) const ACTION: &str = "tenant.limit.store_unavailable";

/// The default period between two reports of one fail mode.
pub(super) const DEFAULT_REPORT_EVERY: Duration = Duration::from_secs(60);

/// `last_report` before the first report.
const NEVER: u64 = u64::MAX;

/// Which store failed, for the log line and the audit reason.
#[derive(Debug, Clone, Copy)]
enum Store {
    /// A shared store (Redis, or another [`RateStore`](super::RateStore))
    /// that did not answer.
    Shared,
    /// The in-memory store, full of live tenants.
    Memory,
}

impl Store {
    fn of(failure: &Error) -> Self {
        match failure {
            Error::LimitStoreFull => Store::Memory,
            _ => Store::Shared,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Store::Shared => "shared",
            Store::Memory => "memory",
        }
    }
}

/// The failures of one fail mode.
struct Kind {
    total: AtomicU64,
    /// Failures since the last report, not yet reported.
    unreported: AtomicU64,
    /// When the last report was made (nanoseconds on the limits' clock), or
    /// [`NEVER`].
    last_report: AtomicU64,
}

impl Kind {
    const fn new() -> Self {
        Kind {
            total: AtomicU64::new(0),
            unreported: AtomicU64::new(0),
            last_report: AtomicU64::new(NEVER),
        }
    }

    /// True when this failure, at `now`, is the one that reports: the first
    /// ever, or the first a full period after the last report.
    fn claims_report(&self, now: u64, every: u64) -> bool {
        let last = self.last_report.load(Ordering::Acquire);
        let due = last == NEVER || now.saturating_sub(last) >= every;
        // INVARIANT: one failure per period reports; concurrent ones lose
        // the exchange and count as unreported.
        due && self
            .last_report
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

/// The failure counters and report schedule of one [`TenantLimits`](super::TenantLimits).
pub(super) struct StoreFailures {
    audit: OnceLock<Arc<dyn AuditSink>>,
    report_every_nanos: u64,
    open: Kind,
    closed: Kind,
}

impl StoreFailures {
    pub(super) fn new() -> Self {
        StoreFailures {
            audit: OnceLock::new(),
            report_every_nanos: super::nanos(DEFAULT_REPORT_EVERY),
            open: Kind::new(),
            closed: Kind::new(),
        }
    }

    pub(super) fn set_audit(&mut self, sink: Arc<dyn AuditSink>) {
        self.audit = OnceLock::from(sink);
    }

    /// Audits to `sink` unless a sink was given already.
    pub(super) fn audit_unless_set(&self, sink: &Arc<dyn AuditSink>) {
        let _ = self.audit.set(Arc::clone(sink));
    }

    pub(super) fn set_report_every(&mut self, every: Duration) {
        self.report_every_nanos = super::nanos(every);
    }

    fn kind(&self, mode: FailMode) -> &Kind {
        match mode {
            FailMode::Open => &self.open,
            FailMode::Closed => &self.closed,
        }
    }

    /// How many failures happened while failing `mode`.
    pub(super) fn total(&self, mode: FailMode) -> u64 {
        self.kind(mode).total.load(Ordering::Relaxed)
    }

    /// Records one failure of the store, answered by `mode`, at `now` on
    /// the limits' clock.
    pub(super) fn record(&self, mode: FailMode, cause: &Error, now: Duration) {
        let store = Store::of(cause);
        let kind = self.kind(mode);
        kind.total.fetch_add(1, Ordering::Relaxed);
        #[cfg(feature = "metrics")]
        metrics::counter!("tenancy_limit_store_failures_total", "mode" => mode.as_str())
            .increment(1);
        let cause = chain(cause);
        if !kind.claims_report(super::nanos(now), self.report_every_nanos) {
            kind.unreported.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                mode = mode.as_str(),
                store = store.as_str(),
                error = %cause,
                "rate-limit store failure (reported at most once per period)"
            );
            return;
        }
        let earlier = kind.unreported.swap(0, Ordering::Relaxed);
        let message = message(mode, store, earlier);
        match mode {
            FailMode::Open => tracing::warn!(
                mode = mode.as_str(),
                store = store.as_str(),
                earlier_failures = earlier,
                error = %cause,
                "{message}"
            ),
            FailMode::Closed => tracing::error!(
                mode = mode.as_str(),
                store = store.as_str(),
                earlier_failures = earlier,
                error = %cause,
                "{message}"
            ),
        }
        if let Some(audit) = self.audit.get() {
            let outcome = match mode {
                FailMode::Open => Outcome::Allowed,
                FailMode::Closed => Outcome::Denied,
            };
            // A platform event, in no tenant's log: the store serves every
            // tenant, and the count of failures since the last report
            // includes other tenants' requests.
            audit.record(AuditEvent::new(AuditKind::Limited, ACTION, outcome).with_reason(message));
        }
    }
}

/// The log message and audit reason of a report.
fn message(mode: FailMode, store: Store, earlier: u64) -> String {
    let mut message = match store {
        Store::Shared => "the shared rate-limit store did not answer".to_owned(),
        Store::Memory => "the in-memory rate-limit store is full".to_owned(),
    };
    message.push_str(match mode {
        FailMode::Open => "; requests are admitted without a rate limit (fail open)",
        FailMode::Closed => "; requests are refused with 503 (fail closed)",
    });
    if earlier > 0 {
        let _ = write!(message, "; {earlier} more failures since the last report");
    }
    message
}

/// An error and its sources, each once: `a: b: c`. A source whose text
/// its error already ends with (an error that shows its source and returns
/// it too) is not repeated.
fn chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            let _ = write!(text, ": {cause_text}");
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenancy_core::MemoryAuditSink;

    #[derive(Debug)]
    struct Refused;

    impl std::fmt::Display for Refused {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("connection refused")
        }
    }

    impl StdError for Refused {}

    fn refused() -> Error {
        Error::LimitStore(Box::new(Refused))
    }

    #[test]
    fn one_report_per_period_per_mode_counting_the_rest() {
        let audit = Arc::new(MemoryAuditSink::default());
        let mut failures = StoreFailures::new();
        failures.set_audit(audit.clone());
        failures.set_report_every(Duration::from_secs(10));
        let at = Duration::from_secs;
        for s in 0..10 {
            failures.record(FailMode::Open, &refused(), at(s));
        }
        failures.record(FailMode::Closed, &Error::LimitStoreFull, at(9));
        failures.record(FailMode::Open, &refused(), at(10));
        let events = audit.events();
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].outcome, Outcome::Allowed);
        assert_eq!(events[1].outcome, Outcome::Denied);
        assert!(events.iter().all(|e| e.tenant.is_none()));
        let last = events[2].reason.as_deref().unwrap();
        assert!(last.contains("9 more failures"), "{last}");
        assert!(last.contains("fail open"), "{last}");
        assert_eq!(failures.total(FailMode::Open), 11);
        assert_eq!(failures.total(FailMode::Closed), 1);
    }

    #[test]
    fn the_chain_names_each_cause_once() {
        assert_eq!(
            chain(&refused()),
            "limit store unavailable: connection refused"
        );
    }
}
