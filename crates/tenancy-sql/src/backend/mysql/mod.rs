//! MySQL and MariaDB: `?` placeholders, no Row-Level Security: the scoped
//! statements are the only wall. Column names compare case-insensitively,
//! which the name resolution of `crate::query` follows; every name is
//! rendered in its declared spelling, so `lower_case_table_names` cannot
//! make a statement reach a table the schema does not name.

#[cfg(feature = "mysql")]
mod audit;

#[cfg(feature = "mysql")]
pub(super) use audit::audit;

use sea_query::{
    Alias, Expr, ExprTrait, MysqlQueryBuilder, OnConflict, QueryStatementWriter, Values,
};

use crate::query::SqlType;

pub(super) fn render(statement: &impl QueryStatementWriter) -> (String, Values) {
    statement.build(MysqlQueryBuilder)
}

pub(super) fn type_name(ty: SqlType) -> &'static str {
    match ty {
        SqlType::Text => "CHAR",
        SqlType::BigInt => "SIGNED",
        SqlType::Double => "DOUBLE",
    }
}

/// `ON DUPLICATE KEY UPDATE` fires on *any* unique key, including one that
/// holds across tenants, so the row it finds may be another tenant's. Every
/// assignment is therefore guarded:
/// `c = CASE WHEN tenant = <tenant> THEN VALUES(c) ELSE c END`, which leaves
/// a foreign row exactly as it was. "Do nothing" assigns the tenant column
/// to itself, which changes no row.
pub(super) fn upsert(
    target: &[&'static str],
    update: Option<&[&'static str]>,
    tenant: Option<(&'static str, Expr)>,
) -> OnConflict {
    let mut oc = OnConflict::new();
    match (update, tenant) {
        (None, Some((tenant_column, _))) => {
            oc.do_nothing_on([Alias::new(tenant_column)]);
        }
        (None, None) => {
            oc.do_nothing_on(target.iter().take(1).map(|c| Alias::new(*c)));
        }
        (Some(columns), None) => {
            oc.update_columns(columns.iter().map(|c| Alias::new(*c)));
        }
        (Some(columns), Some((tenant_column, slot))) => {
            for &c in columns {
                // INVARIANT: `c` and `tenant_column` are declared schema
                // names (lowercase identifiers), so this text carries no
                // caller input; the tenant is a bound value.
                let incoming = Expr::cust(format!("VALUES(`{c}`)"));
                let guarded = Expr::case(
                    Expr::col(Alias::new(tenant_column)).eq(slot.clone()),
                    incoming,
                )
                .finally(Expr::col(Alias::new(c)));
                oc.value(Alias::new(c), guarded);
            }
        }
    }
    oc
}
