//! The MySQL/MariaDB catalogue audit. There is no row-level security: the
//! scoped statement is the only wall, so the audit checks what that wall
//! relies on in the catalogue: every tenant table exists under its declared
//! name, and no unique key lets one tenant's write collide with another's
//! row (`ON DUPLICATE KEY UPDATE` fires on any unique key).

use sqlx::MySqlPool;
use sqlx::Row;

use crate::backend::Backend;
use crate::backend::audit::{KeyPart, ascii_case_insensitive, exact, no_rls_note, unique_index};
use crate::error::Result;
use crate::schema::Schema;
use crate::verify::{Finding, IsolationReport};

pub(in crate::backend) async fn audit(db: &MySqlPool, schema: &Schema) -> Result<IsolationReport> {
    let mut conn = db.acquire().await?;
    let mut report = IsolationReport::default();
    report.notes.push(no_rls_note(Backend::MySql));
    let row = sqlx::query("SELECT CURRENT_USER(), CAST(@@lower_case_table_names AS CHAR)")
        .fetch_one(&mut *conn)
        .await?;
    report.role = row.try_get(0)?;
    let lower_case: String = row.try_get(1)?;
    // 0: names are stored and compared as written; 1 and 2: compared in
    // lowercase, so a table differing only in case is the same table.
    let same_table: fn(&str, &str) -> bool = if lower_case.trim() == "0" {
        exact
    } else {
        ascii_case_insensitive
    };
    report.notes.push(format!(
        "lower_case_table_names = {}: table names compare {}",
        lower_case.trim(),
        if lower_case.trim() == "0" {
            "exactly"
        } else {
            "ignoring case"
        }
    ));

    let rows = sqlx::query(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut existing = Vec::with_capacity(rows.len());
    for r in &rows {
        existing.push(r.try_get::<String, _>(0)?);
    }

    for table in schema.tenant_tables() {
        report.tables_checked += 1;
        let Some(stored) = existing.iter().find(|t| same_table(t, table.name())) else {
            report.findings.push(Finding::MissingTable {
                table: table.name().to_owned(),
            });
            continue;
        };
        // A prefix of a column (`tenant_id(10)`) or a functional key part
        // is not the column: its uniqueness reaches across tenants.
        let parts = sqlx::query(
            "SELECT INDEX_NAME, CASE WHEN SUB_PART IS NULL THEN COLUMN_NAME END \
             FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND NON_UNIQUE = 0 \
             ORDER BY INDEX_NAME, SEQ_IN_INDEX",
        )
        .bind(stored.as_str())
        .fetch_all(&mut *conn)
        .await?;
        let mut indexes: Vec<(String, Vec<KeyPart>)> = Vec::new();
        for p in &parts {
            let index: String = p.try_get(0)?;
            let column: Option<String> = p.try_get(1)?;
            match indexes.last_mut() {
                Some((name, columns)) if *name == index => columns.push(column),
                _ => indexes.push((index, vec![column])),
            }
        }
        for (index, parts) in &indexes {
            report
                .findings
                .extend(unique_index(table, index, parts, ascii_case_insensitive));
        }
    }
    Ok(report)
}
