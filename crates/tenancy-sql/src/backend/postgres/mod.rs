//! PostgreSQL: `$n` placeholders, standard `ON CONFLICT`, and Row-Level
//! Security behind the scoped statements (see `crate::ddl`), with the
//! catalogue audit that checks it in `audit`.

#[cfg(feature = "postgres")]
mod audit;
pub(crate) mod ddl;

#[cfg(feature = "postgres")]
pub(super) use audit::audit;

use sea_query::{Alias, OnConflict, PostgresQueryBuilder, QueryStatementWriter, Values};

use crate::query::SqlType;

/// `BEGIN` and the tenant binding in one round trip. The setting is local
/// to the transaction (`set_config(…, true)`), so a pooled connection never
/// carries a tenant further.
#[cfg(feature = "postgres")]
pub(super) fn begin_tenant(setting: &str, tenant: tenancy_core::TenantId) -> String {
    // INVARIANT: `setting` is validated as `namespace.name` by the pool and
    // a TenantId renders only as a canonical UUID, so this text carries no
    // caller input.
    format!("BEGIN; SELECT set_config('{setting}', '{tenant}', true)")
}

pub(super) fn render(statement: &impl QueryStatementWriter) -> (String, Values) {
    statement.build(PostgresQueryBuilder)
}

pub(super) fn type_name(ty: SqlType) -> &'static str {
    match ty {
        SqlType::Text => "text",
        SqlType::BigInt => "bigint",
        SqlType::Double => "double precision",
    }
}

/// `ON CONFLICT (tenant, target…) DO NOTHING | DO UPDATE SET c = excluded.c`:
/// the arbiter is a tenant-led unique key, so the row it finds is always the
/// tenant's own; a conflict on any other key is an error, not an update.
/// SQLite writes the same clause.
pub(super) fn upsert_with_conflict_target(
    target: &[&'static str],
    update: Option<&[&'static str]>,
) -> OnConflict {
    let mut oc = OnConflict::columns(target.iter().map(|c| Alias::new(*c)));
    match update {
        None => oc.do_nothing(),
        Some(columns) => oc.update_columns(columns.iter().map(|c| Alias::new(*c))),
    };
    oc
}
