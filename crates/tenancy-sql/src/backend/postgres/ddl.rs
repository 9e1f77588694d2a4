//! PostgreSQL DDL text: Row-Level Security, the application role and the
//! Citus distribution statements. [`crate::ddl::Ddl`] calls these for the
//! PostgreSQL backend; every name comes from the schema registry (plain
//! identifiers) and is quoted anyway.

use crate::schema::{Schema, TableDef};

/// Quotes an identifier (doubling quotes keeps this safe for any text).
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a string literal.
pub(crate) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// ENABLE, FORCE and one permissive policy for ALL commands whose USING
/// and WITH CHECK both compare the tenant column with
/// `current_setting(setting, true)`: exactly what the catalogue audit
/// expects to find.
pub(crate) fn row_level_security(table: &TableDef, setting: &str) -> Vec<String> {
    let name = table.name();
    let t = ident(name);
    let predicate = format!(
        "{} = current_setting({}, true)",
        ident(table.tenant_column()),
        literal(setting)
    );
    vec![
        format!("ALTER TABLE {t} ENABLE ROW LEVEL SECURITY"),
        format!("ALTER TABLE {t} FORCE ROW LEVEL SECURITY"),
        format!(
            "CREATE POLICY {} ON {t} AS PERMISSIVE FOR ALL USING ({predicate}) WITH CHECK ({predicate})",
            ident(&format!("{name}_tenant_isolation"))
        ),
    ]
}

/// A login role that is not a superuser, has no BYPASSRLS, creates nothing
/// and owns nothing, with DML on the registered tables of `pg_schema`.
pub(crate) fn app_role(
    schema: &Schema,
    role: &str,
    password: Option<&str>,
    pg_schema: &str,
) -> Vec<String> {
    let r = ident(role);
    let password = password
        .map(|p| format!(" PASSWORD {}", literal(p)))
        .unwrap_or_default();
    let mut out = vec![
        format!(
            "CREATE ROLE {r} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT{password}"
        ),
        format!("GRANT USAGE ON SCHEMA {} TO {r}", ident(pg_schema)),
    ];
    for table in schema.tables() {
        out.push(format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON {}.{} TO {r}",
            ident(pg_schema),
            ident(table.name())
        ));
    }
    out
}

/// Reference tables for global and system tables; tenant tables
/// distributed by their tenant column, co-located with the first one.
pub(crate) fn citus(schema: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    for table in schema.tables().filter(|t| !t.is_tenant()) {
        out.push(format!(
            "SELECT create_reference_table({})",
            literal(table.name())
        ));
    }
    let tenants: Vec<&TableDef> = schema.tenant_tables();
    if let Some(first) = tenants.first() {
        for table in &tenants {
            let mut s = format!(
                "SELECT create_distributed_table({}, {}",
                literal(table.name()),
                literal(table.tenant_column())
            );
            if table.name() != first.name() {
                s.push_str(&format!(", colocate_with => {}", literal(first.name())));
            }
            s.push(')');
            out.push(s);
        }
    }
    out
}
