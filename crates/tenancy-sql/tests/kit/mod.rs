//! What the `LeakCheck` tests share: the runtime, the checks on every
//! backend configured here, and the pieces of planted leaks (a pool of the
//! code's own, its placeholders, its cells).

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    reason = "test helpers; each test binary uses a part of them"
)]

use sqlx::AnyPool;
use tenancy_sql::Schema;
use tenancy_sql::testing::{LeakCheck, LeakKind, LeakReport, Probe};

use crate::common;

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A check of `schema` on SQLite and on every server configured here.
pub fn on_every_backend(schema: &Schema) -> Vec<LeakCheck> {
    let mut out = vec![LeakCheck::new(schema)];
    for var in ["TENANCY_TEST_POSTGRES_URL", "TENANCY_TEST_MYSQL_URL"] {
        if let Some(url) = common::service_url(var) {
            out.push(LeakCheck::new(schema).database(&url));
        }
    }
    out
}

/// A pool of the code's own, from the URL: what the kit must catch.
pub async fn own_pool(probe: &Probe<'_>) -> AnyPool {
    sqlx::any::install_default_drivers();
    AnyPool::connect(probe.database_url()).await.unwrap()
}

/// The `n`th placeholder in the scratch database's dialect.
pub fn q(probe: &Probe<'_>, n: usize) -> String {
    if probe.database_url().starts_with("postgres") {
        format!("${n}")
    } else {
        "?".to_owned()
    }
}

/// The first cell as text (MySQL's driver reports `TEXT` as bytes).
pub fn text(row: &sqlx::any::AnyRow) -> String {
    use sqlx::Row;
    row.try_get::<String, _>(0)
        .unwrap_or_else(|_| String::from_utf8_lossy(&row.get::<Vec<u8>, _>(0)).into_owned())
}

/// The kinds of leak a report found, once each, in order.
pub fn kinds(report: &LeakReport) -> Vec<LeakKind> {
    let mut kinds: Vec<LeakKind> = report.leaks().iter().map(|l| l.kind.clone()).collect();
    kinds.sort();
    kinds.dedup();
    kinds
}
