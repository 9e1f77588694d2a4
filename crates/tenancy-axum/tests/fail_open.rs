//! A limit store that goes down is never silent: with `FailMode::Open`
//! requests pass and with `FailMode::Closed` they get 503, and either way
//! each failure is counted and logged, and audited at most once per period.
//!
//! The Redis store points at a closed port, so no server is needed.

#![cfg(feature = "redis")]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "helpers fail the test loudly"
)]

mod common;

use std::sync::{Arc, Mutex, OnceLock};
use std::thread::ThreadId;
use std::time::Duration;

use common::*;
use tenancy_axum::problem::types;
use tenancy_axum::{FailMode, RedisRateStore, TenantLimits};
use tenancy_core::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

const REQUESTS: usize = 20;
const ACTION: &str = "tenant.limit.store_unavailable";

/// A Redis store where nothing listens.
fn dead_store() -> Arc<RedisRateStore> {
    Arc::new(
        RedisRateStore::new("redis://127.0.0.1:1")
            .unwrap()
            .with_timeout(Duration::from_millis(200)),
    )
}

/// The store failures in `audit`.
fn failure_events(audit: &MemoryAuditSink) -> Vec<AuditEvent> {
    audit
        .events()
        .into_iter()
        .filter(|e| e.action == ACTION)
        .collect()
}

/// A layer whose limits fail in `mode` and audit to the layer's own sink,
/// with the limits on `clock`.
fn world(
    mode: FailMode,
    clock: Arc<ManualClock>,
) -> (World, Arc<MemoryAuditSink>, Arc<TenantLimits>) {
    logs();
    let audit = Arc::new(MemoryAuditSink::default());
    let limits = Arc::new(
        TenantLimits::shared_with_clock(dead_store(), mode, clock)
            .audit(audit.clone())
            .report_failures_every(Duration::from_secs(60)),
    );
    let w = World::with(|b| b.limits(limits.clone()).audit(audit.clone()));
    (w, audit, limits)
}

/// Sends `REQUESTS` requests from the three tenants in turn; their statuses.
async fn flood(w: &World) -> Vec<u16> {
    let app = w.app();
    let tokens: Vec<String> = (1..=3).map(|t| w.token(t, RoleName::viewer())).collect();
    let mut statuses = Vec::new();
    for i in 0..REQUESTS {
        let r = get_as(&app, "/me", Some(&tokens[i % 3])).await;
        if r.status == 503 {
            r.problem(503, types::UNAVAILABLE);
        }
        statuses.push(r.status.as_u16());
    }
    statuses
}

#[tokio::test]
async fn a_dead_store_failing_open_is_audited_once_per_period_and_counted() {
    let clock = Arc::new(ManualClock::default());
    let (w, audit, limits) = world(FailMode::Open, clock.clone());
    assert_eq!(flood(&w).await, [200; REQUESTS]);
    let events = failure_events(&audit);
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.kind, AuditKind::Limited);
    assert_eq!(event.outcome, Outcome::Allowed);
    // A platform event: the store serves every tenant.
    assert_eq!(event.tenant, None);
    assert!(event.reason.as_deref().unwrap().contains("fail open"));
    assert_eq!(limits.store_failures(FailMode::Open), REQUESTS as u64);
    assert_eq!(limits.store_failures(FailMode::Closed), 0);

    // A period later, the next failure reports again, with the count of
    // those it did not report.
    clock.advance(Duration::from_secs(60));
    let app = w.app();
    let r = get_as(&app, "/me", Some(&w.token(1, RoleName::viewer()))).await;
    assert_eq!(r.status, 200);
    let events = failure_events(&audit);
    assert_eq!(events.len(), 2, "{events:?}");
    let reason = events[1].reason.as_deref().unwrap();
    assert!(
        reason.contains(&format!("{} more failures", REQUESTS - 1)),
        "{reason}"
    );
}

#[tokio::test]
async fn a_dead_store_failing_closed_audits_its_503s_once_per_period() {
    let (w, audit, limits) = world(FailMode::Closed, Arc::new(ManualClock::default()));
    assert_eq!(flood(&w).await, [503; REQUESTS]);
    let events = failure_events(&audit);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].kind, AuditKind::Limited);
    assert_eq!(events[0].outcome, Outcome::Denied);
    assert_eq!(events[0].tenant, None);
    assert!(events[0].reason.as_deref().unwrap().contains("fail closed"));
    assert_eq!(limits.store_failures(FailMode::Closed), REQUESTS as u64);
    // No tenant's log got a limit event for the store's failure.
    for t in 1..=3 {
        assert!(audit.for_tenant(tenant_id(t)).is_empty());
    }
}

/// The events the limits (tenancy-admission) log, from every thread: thread,
/// level, message.
#[derive(Default)]
struct Logs(Mutex<Vec<(ThreadId, Level, String)>>);

/// The process's subscriber, installed before any test logs anything (a
/// subscriber set later, or per thread, can miss events whose callsites
/// other threads registered first).
fn logs() -> &'static Logs {
    static LOGS: OnceLock<&'static Logs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs: &'static Logs = Box::leak(Box::default());
        tracing::subscriber::set_global_default(Forward(logs)).unwrap();
        logs
    })
}

impl Logs {
    /// The messages at `level` logged on this thread (a test's requests run
    /// on its own thread).
    fn at(&self, level: Level) -> Vec<String> {
        let this = std::thread::current().id();
        let logs = self.0.lock().unwrap();
        logs.iter()
            .filter(|(t, l, _)| *t == this && *l == level)
            .map(|(_, _, m)| m.clone())
            .collect()
    }
}

struct Forward(&'static Logs);

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        } else {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
}

impl Subscriber for Forward {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        if meta.target().starts_with("tenancy_admission") {
            let mut message = Message(String::new());
            event.record(&mut message);
            let thread = std::thread::current().id();
            self.0
                .0
                .lock()
                .unwrap()
                .push((thread, *meta.level(), message.0));
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test]
async fn a_dead_store_failing_open_is_logged_not_silent() {
    // Only what a service had before: the store and the fail mode.
    let logs = logs();
    let limits = Arc::new(TenantLimits::shared(dead_store(), FailMode::Open));
    let w = World::with(|b| b.limits(limits));
    assert_eq!(flood(&w).await, [200; REQUESTS]);
    // One loud line per period, with the cause; each other failure at debug.
    let warnings = logs.at(Level::WARN);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("fail open"), "{}", warnings[0]);
    assert!(warnings[0].contains("error="), "{}", warnings[0]);
    assert_eq!(logs.at(Level::DEBUG).len(), REQUESTS - 1);
}

#[cfg(feature = "metrics")]
mod metered {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU64, Ordering};

    use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, SharedString, Unit};

    use super::*;

    /// Counters by name and labels.
    #[derive(Default)]
    struct Counters(Mutex<HashMap<String, Arc<AtomicU64>>>);

    impl Counters {
        fn get(&self, key: &str) -> u64 {
            self.0
                .lock()
                .unwrap()
                .get(key)
                .map_or(0, |c| c.load(Ordering::Relaxed))
        }
    }

    impl metrics::Recorder for Counters {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
            let labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}=\"{}\"", l.key(), l.value()))
                .collect();
            let name = format!("{}{{{}}}", key.name(), labels.join(","));
            let counter = Arc::clone(self.0.lock().unwrap().entry(name).or_default());
            Counter::from_arc(counter)
        }
        fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::noop()
        }
        fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
            Histogram::noop()
        }
    }

    #[test]
    fn the_fail_mode_of_each_store_failure_is_metered() {
        logs();
        let counters = Counters::default();
        // A recorder for this thread only, so other tests do not count.
        metrics::with_local_recorder(&counters, || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                for mode in [FailMode::Open, FailMode::Closed] {
                    let (w, _, _) = world(mode, Arc::new(ManualClock::default()));
                    flood(&w).await;
                }
            });
        });
        let metric = "tenancy_limit_store_failures_total";
        assert_eq!(
            counters.get(&format!("{metric}{{mode=\"open\"}}")),
            REQUESTS as u64
        );
        assert_eq!(
            counters.get(&format!("{metric}{{mode=\"closed\"}}")),
            REQUESTS as u64
        );
    }
}
