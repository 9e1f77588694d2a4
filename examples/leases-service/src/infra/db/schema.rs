//! The schema: declared once for `tenancy-sql`, created with its DDL.
//!
//! Tenant tables (`properties`, `leases`, `audit_events`) get the tenant
//! column, a composite primary key `(tenant_id, id)` and, on PostgreSQL,
//! Row-Level Security enabled and forced; a lease names its property through
//! the composite foreign key `(tenant_id, property_id)`, so the database
//! itself refuses a lease pointing at another tenant's property. `tenants`
//! and `redeem_codes` are platform metadata (system tables); `tenants` holds
//! the columns the SDK's `SqlDirectory` reads. `seq` orders rows newest
//! first for pagination.

use sea_query::ColumnDef;
use tenancy_axum::sql::SqlDirectory;
use tenancy_sql::ddl::Ddl;
use tenancy_sql::{Backend, Schema};

use crate::error::ServiceError;

/// Tables that belong to a tenant, children first (the order to delete in).
pub(crate) const TENANT_TABLES: [&str; 3] = ["leases", "properties", "audit_events"];

/// The schema registry. Every column a statement names is declared here
/// (the tenant column, ids and foreign keys are implied); `tenancy-sql`
/// refuses a statement naming any other.
pub fn schema() -> Result<Schema, ServiceError> {
    Ok(Schema::builder()
        .system("tenants")
        .columns(SqlDirectory::COLUMNS)
        .columns(["seq", "name", "created_at"])
        .system("redeem_codes")
        .id(["code"])
        .columns(["plan", "created_at", "redeemed_at"])
        .tenant("properties")
        .columns(["seq", "name", "address", "created_at", "updated_at"])
        .tenant("leases")
        .references("property_id", "properties")
        .columns([
            "seq",
            "lessee",
            "start_date",
            "end_date",
            "rent_cents",
            "created_at",
            "updated_at",
        ])
        .tenant("audit_events")
        .columns([
            "seq",
            "at",
            "subject",
            "action",
            "resource_type",
            "resource_id",
            "outcome",
        ])
        .build()?)
}

fn id(name: &str) -> ColumnDef {
    ColumnDef::new(name.to_owned())
        .string_len(36)
        .not_null()
        .take()
}

fn text(name: &str) -> ColumnDef {
    ColumnDef::new(name.to_owned()).text().not_null().take()
}

fn seq() -> ColumnDef {
    ColumnDef::new("seq").big_integer().not_null().take()
}

fn count(name: &str) -> ColumnDef {
    ColumnDef::new(name.to_owned()).big_integer().null().take()
}

/// Every statement that creates what is missing of the schema on
/// `backend` (each safe to run again; a table that exists is left alone).
pub fn migration(schema: &Schema, backend: Backend) -> Result<Vec<String>, ServiceError> {
    let ddl = Ddl::new(schema, backend).repeatable();
    let mut out = Vec::new();
    out.extend(ddl.create_table("tenants", |t| {
        t.col(id("id").primary_key())
            .col(seq())
            .col(
                ColumnDef::new("slug")
                    .string_len(63)
                    .not_null()
                    .unique_key(),
            )
            .col(text("name"))
            .col(text("plan"))
            .col(text("status"))
            .col(text("created_at"))
            // A tenant's own limits in place of its plan's, when set.
            .col(count("rate_per_second"))
            .col(count("rate_burst"))
            .col(count("max_concurrent"));
    })?);
    out.extend(ddl.create_table("redeem_codes", |t| {
        t.col(
            ColumnDef::new("code")
                .string_len(64)
                .not_null()
                .primary_key(),
        )
        .col(text("plan"))
        .col(text("created_at"))
        .col(ColumnDef::new("redeemed_at").text().null());
    })?);
    out.extend(ddl.create_table("properties", |t| {
        t.col(id("id"))
            .col(seq())
            .col(text("name"))
            .col(text("address"))
            .col(text("created_at"))
            .col(text("updated_at"));
    })?);
    out.extend(ddl.create_table("leases", |t| {
        t.col(id("id"))
            .col(seq())
            .col(id("property_id"))
            .col(text("lessee"))
            .col(text("start_date"))
            .col(text("end_date"))
            .col(ColumnDef::new("rent_cents").big_integer().not_null())
            .col(text("created_at"))
            .col(text("updated_at"));
    })?);
    out.extend(ddl.create_table("audit_events", |t| {
        t.col(id("id"))
            .col(seq())
            .col(text("at"))
            .col(ColumnDef::new("subject").text().null())
            .col(text("action"))
            .col(ColumnDef::new("resource_type").text().null())
            .col(ColumnDef::new("resource_id").text().null())
            .col(text("outcome"));
    })?);
    for table in ["properties", "leases", "audit_events"] {
        out.push(format!(
            "CREATE INDEX IF NOT EXISTS {table}_by_seq ON {table} (tenant_id, seq)"
        ));
    }
    Ok(out)
}
