//! What the catalogue audits of every backend share: the rule for unique
//! indexes of tenant tables, and the note for backends without RLS.

#[cfg(any(feature = "mysql", feature = "sqlite"))]
use crate::backend::Backend;
use crate::schema::TableDef;
use crate::verify::Finding;

/// One key part of a unique index: a whole column by name, or `None` for
/// anything else (an expression, or a prefix of a column), which never
/// counts as the tenant column.
pub(super) type KeyPart = Option<String>;

/// The finding for a unique index of `table` whose key parts are `parts`,
/// if any: the index must lead with the whole tenant column, or be
/// declared with `global_unique` (same columns, same order). `same` is the
/// backend's rule for comparing column names.
pub(super) fn unique_index(
    table: &TableDef,
    index: &str,
    parts: &[KeyPart],
    same: fn(&str, &str) -> bool,
) -> Option<Finding> {
    let tenant_led = parts
        .first()
        .and_then(Option::as_deref)
        .is_some_and(|c| same(c, table.tenant_column()));
    let declared = table.global_unique().iter().any(|global| {
        global.len() == parts.len()
            && global
                .iter()
                .zip(parts)
                .all(|(g, p)| p.as_deref().is_some_and(|p| same(p, g)))
    });
    (!tenant_led && !declared).then(|| Finding::GlobalUniqueIndex {
        table: table.name().to_owned(),
        index: index.to_owned(),
    })
}

/// Column names compared exactly (PostgreSQL, quoted names).
#[cfg(any(feature = "mysql", feature = "postgres", test))]
pub(super) fn exact(a: &str, b: &str) -> bool {
    a == b
}

/// Column names compared ignoring ASCII case (SQLite, MySQL/MariaDB).
#[cfg(any(feature = "mysql", feature = "sqlite", test))]
pub(super) fn ascii_case_insensitive(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The note of a backend without row-level security.
#[cfg(any(feature = "mysql", feature = "sqlite"))]
pub(super) fn no_rls_note(backend: Backend) -> String {
    format!(
        "{backend} has no row-level security: the scoped statement is the only wall (the composite keys keep references inside the tenant)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;

    fn parts(columns: &[&str]) -> Vec<KeyPart> {
        columns
            .iter()
            .map(|c| (!c.is_empty()).then(|| (*c).to_owned()))
            .collect()
    }

    #[test]
    fn a_unique_index_must_lead_with_the_whole_tenant_column_or_be_declared_global() {
        let schema = Schema::builder()
            .tenant("users")
            .global_unique(["email"])
            .build()
            .unwrap();
        let users = schema.table("users").unwrap();
        let check = |columns: &[&str], same: fn(&str, &str) -> bool| {
            unique_index(users, "ix", &parts(columns), same).is_some()
        };
        assert!(!check(&["tenant_id", "id"], exact));
        assert!(!check(&["email"], exact));
        assert!(check(&["name"], exact));
        assert!(check(&["email", "name"], exact));
        assert!(check(&["id", "tenant_id"], exact));
        // An expression or a prefix in front is not the tenant column.
        assert!(check(&["", "tenant_id"], exact));
        assert!(check(&["TENANT_ID", "id"], exact));
        assert!(!check(&["TENANT_ID", "id"], ascii_case_insensitive));
        assert!(check(&[], exact));
    }
}
