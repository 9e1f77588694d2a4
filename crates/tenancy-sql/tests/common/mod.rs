//! What the tests share: the schema and its migration, the tenants and
//! contexts, the servers configured here and how a test without one says
//! it is skipped. The databases themselves (`db`) need the runtime
//! (feature `sqlx`).

#![allow(
    dead_code,
    unused_imports,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers; each test binary uses a part of them"
)]

use std::io::Write as _;

use tenancy_core::{PermissionSet, RoleName, SubjectId, TenantContext, TenantId};
use tenancy_sql::sea_query::ColumnDef;
use tenancy_sql::{Backend, Schema, ddl::Ddl};

#[cfg(feature = "sqlx")]
mod db;
#[cfg(feature = "sqlx")]
pub use db::*;

pub fn schema() -> Schema {
    Schema::builder()
        .system("tenants")
        .columns(["slug", "name", "plan", "status"])
        .global("plans")
        .id(["code"])
        .columns(["max_properties"])
        .tenant("properties")
        .unique(["name"])
        .columns(["address"])
        .tenant("leases")
        .references("property_id", "properties")
        .columns(["lessee", "rent_cents"])
        .tenant("payments")
        .references("lease_id", "leases")
        .columns(["amount_cents"])
        .tenant("audit_events")
        .columns(["action", "outcome"])
        .build()
        .unwrap()
}

/// The migration for [`schema`] on `backend`.
pub fn migration(schema: &Schema, backend: Backend) -> Vec<String> {
    let ddl = Ddl::new(schema, backend);
    let mut out = Vec::new();
    out.extend(
        ddl.create_table("tenants", |t| {
            t.col(ColumnDef::new("id").string_len(36).not_null().primary_key())
                .col(
                    ColumnDef::new("slug")
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new("name").string_len(200).not_null())
                .col(ColumnDef::new("plan").string_len(32).not_null())
                .col(ColumnDef::new("status").string_len(32).not_null());
        })
        .unwrap(),
    );
    out.extend(
        ddl.create_table("plans", |t| {
            t.col(
                ColumnDef::new("code")
                    .string_len(32)
                    .not_null()
                    .primary_key(),
            )
            .col(ColumnDef::new("max_properties").big_integer().not_null());
        })
        .unwrap(),
    );
    out.extend(
        ddl.create_table("properties", |t| {
            t.col(ColumnDef::new("id").big_integer().not_null())
                .col(ColumnDef::new("name").string_len(200).not_null())
                .col(ColumnDef::new("address").string_len(200).not_null());
        })
        .unwrap(),
    );
    out.extend(
        ddl.create_table("leases", |t| {
            t.col(ColumnDef::new("id").big_integer().not_null())
                .col(ColumnDef::new("property_id").big_integer().not_null())
                .col(ColumnDef::new("lessee").string_len(200).not_null())
                .col(ColumnDef::new("rent_cents").big_integer().not_null());
        })
        .unwrap(),
    );
    out.extend(
        ddl.create_table("payments", |t| {
            t.col(ColumnDef::new("id").big_integer().not_null())
                .col(ColumnDef::new("lease_id").big_integer().not_null())
                .col(ColumnDef::new("amount_cents").big_integer().not_null());
        })
        .unwrap(),
    );
    out.extend(
        ddl.create_table("audit_events", |t| {
            t.col(ColumnDef::new("id").big_integer().not_null())
                .col(ColumnDef::new("action").string_len(100).not_null())
                .col(ColumnDef::new("outcome").string_len(20).not_null());
        })
        .unwrap(),
    );
    out
}

pub fn ctx(tenant: u128) -> TenantContext {
    TenantContext::tenant(
        TenantId::from_u128(tenant),
        SubjectId::from_u128(1000 + tenant),
        RoleName::member(),
        PermissionSet::all(),
    )
}

pub fn operator() -> TenantContext {
    TenantContext::system(
        SubjectId::from_u128(99),
        RoleName::platform_admin(),
        PermissionSet::all(),
    )
}

fn require_services() -> bool {
    std::env::var("TENANCY_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// The URL in `var`, or `None` after saying why the test is skipped
/// (a panic when services are required).
pub fn service_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                !require_services(),
                "{var} is not set but TENANCY_TEST_REQUIRE_SERVICES=1"
            );
            skipped(&format!("{var} is not set"));
            None
        }
    }
}

/// Says that the running test skips a part, and why: on stdout, which
/// `cargo test` shows only for a failing test, and as a line appended to
/// the file named by `TENANCY_TEST_SKIP_LOG` when it is set, so a run can
/// list every skip (`.ci/run` does).
pub fn skipped(reason: &str) {
    println!("skipped: {reason}");
    if let Some(path) = std::env::var_os("TENANCY_TEST_SKIP_LOG") {
        let test = std::thread::current().name().unwrap_or("?").to_owned();
        let line = format!(
            "{} {}::{test}: {reason}\n",
            env!("CARGO_PKG_NAME"),
            env!("CARGO_CRATE_NAME")
        );
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut log| log.write_all(line.as_bytes()))
            .expect("TENANCY_TEST_SKIP_LOG is writable");
    }
}

/// The tenants every attack test seeds: the attacker is `A`.
pub const A: u128 = 1;
pub const B: u128 = 2;
pub const C: u128 = 3;
