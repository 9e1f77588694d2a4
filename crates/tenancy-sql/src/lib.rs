//! Tenant-scoped SQL for the tenancy SDK.
//!
//! This crate will hold the schema registry (which tables are tenant-owned),
//! sea-query statements that always carry the tenant predicate, DDL with
//! PostgreSQL Row-Level Security, and a sqlx runtime that binds the tenant per
//! transaction.
