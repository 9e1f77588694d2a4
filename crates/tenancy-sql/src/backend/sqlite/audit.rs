//! The SQLite catalogue audit. There is no row-level security: the scoped
//! statement is the only wall, so the audit checks what that wall relies on
//! in the catalogue: every tenant table exists under its declared name
//! (SQLite compares names ignoring ASCII case), and every unique key of a
//! tenant table leads with the tenant column, `INTEGER PRIMARY KEY`
//! (the rowid, unique across the whole table) included.

use sqlx::Row;
use sqlx::SqlitePool;

use crate::backend::Backend;
use crate::backend::audit::{KeyPart, ascii_case_insensitive, no_rls_note, unique_index};
use crate::error::Result;
use crate::schema::Schema;
use crate::verify::{Finding, IsolationReport};

pub(in crate::backend) async fn audit(db: &SqlitePool, schema: &Schema) -> Result<IsolationReport> {
    let mut conn = db.acquire().await?;
    let mut report = IsolationReport::default();
    report.notes.push(no_rls_note(Backend::Sqlite));

    let rows = sqlx::query("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
        .fetch_all(&mut *conn)
        .await?;
    let mut existing = Vec::with_capacity(rows.len());
    for r in &rows {
        existing.push(r.try_get::<String, _>(0)?);
    }

    for table in schema.tenant_tables() {
        report.tables_checked += 1;
        let Some(stored) = existing
            .iter()
            .find(|t| ascii_case_insensitive(t, table.name()))
        else {
            report.findings.push(Finding::MissingTable {
                table: table.name().to_owned(),
            });
            continue;
        };
        // `pragma_index_info` names no column for an expression.
        let parts = sqlx::query(
            "SELECT il.name, ii.name FROM pragma_index_list(?) AS il \
             JOIN pragma_index_info(il.name) AS ii \
             WHERE il.\"unique\" = 1 ORDER BY il.name, ii.seqno",
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
        // An `INTEGER PRIMARY KEY` is the rowid: unique across the table
        // and listed by no pragma_index_list row (a primary key that is not
        // the rowid has an index of origin `pk`).
        let rowid = sqlx::query(
            "SELECT (SELECT group_concat(name) FROM pragma_table_info(?1) WHERE pk > 0), \
                    (SELECT count(*) = 1 AND max(upper(type)) = 'INTEGER' FROM pragma_table_info(?1) WHERE pk > 0) \
                    AND NOT EXISTS (SELECT 1 FROM pragma_index_list(?1) WHERE origin = 'pk')",
        )
        .bind(stored.as_str())
        .fetch_one(&mut *conn)
        .await?;
        if rowid.try_get::<i64, _>(1)? == 1 {
            let column: Option<String> = rowid.try_get(0)?;
            report.findings.extend(unique_index(
                table,
                "INTEGER PRIMARY KEY",
                &[column],
                ascii_case_insensitive,
            ));
        }
    }
    Ok(report)
}
