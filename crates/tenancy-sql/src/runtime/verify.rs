//! The isolation audit against a live PostgreSQL catalogue.

use sqlx::Row;

use super::pool::TenantPool;
use crate::backend::Backend;
use crate::error::Result;
use crate::verify::{Finding, IsolationReport};

pub(crate) async fn run(pool: &TenantPool) -> Result<IsolationReport> {
    let mut report = IsolationReport::default();
    if pool.backend != Backend::Postgres {
        report.notes.push(format!(
            "{} has no row-level security: isolation rests on the scoped statements and the composite keys",
            pool.backend
        ));
        return Ok(report);
    }
    let db = &pool.pool;
    let role_row = sqlx::query(
        "SELECT current_user::text AS role, r.rolsuper, r.rolbypassrls \
         FROM pg_roles r WHERE r.rolname = current_user",
    )
    .fetch_one(db)
    .await?;
    let role: String = role_row.try_get(0)?;
    if role_row.try_get::<bool, _>(1)? {
        report
            .findings
            .push(Finding::Superuser { role: role.clone() });
    }
    if role_row.try_get::<bool, _>(2)? {
        report
            .findings
            .push(Finding::BypassRls { role: role.clone() });
    }
    report.role = role.clone();
    let setting = pool.setting.to_string();
    for table in pool.schema.tenant_tables() {
        report.tables_checked += 1;
        let name = table.name().to_owned();
        let class = sqlx::query(
            "SELECT c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner)::text \
             FROM pg_class c WHERE c.oid = to_regclass($1)",
        )
        .bind(name.clone())
        .fetch_optional(db)
        .await?;
        let Some(class) = class else {
            report.findings.push(Finding::MissingTable { table: name });
            continue;
        };
        if !class.try_get::<bool, _>(0)? {
            report.findings.push(Finding::RlsDisabled {
                table: name.clone(),
            });
        }
        if !class.try_get::<bool, _>(1)? {
            report.findings.push(Finding::RlsNotForced {
                table: name.clone(),
            });
        }
        if class.try_get::<String, _>(2)? == role {
            report.findings.push(Finding::RoleOwnsTable {
                table: name.clone(),
                role: role.clone(),
            });
        }
        let policies = sqlx::query(
            "SELECT p.policyname::text, p.permissive::text, p.cmd::text, \
                    coalesce(p.qual, '') AS qual, coalesce(p.with_check, '') AS with_check \
             FROM pg_policies p \
             WHERE p.schemaname = current_schema() AND p.tablename = $1",
        )
        .bind(name.clone())
        .fetch_all(db)
        .await?;
        let mut guarded = false;
        for p in &policies {
            let policy: String = p.try_get(0)?;
            let permissive = p.try_get::<String, _>(1)? == "PERMISSIVE";
            let cmd: String = p.try_get(2)?;
            let qual: String = p.try_get(3)?;
            let check: String = p.try_get(4)?;
            let reads_setting = |s: &str| s.contains(&setting);
            if permissive && cmd == "ALL" && reads_setting(&qual) && reads_setting(&check) {
                guarded = true;
            }
            if permissive && !(reads_setting(&qual) || (qual.is_empty() && reads_setting(&check))) {
                report.findings.push(Finding::PolicyWithoutTenant {
                    table: name.clone(),
                    policy,
                });
            }
        }
        if !guarded {
            report.findings.push(Finding::NoTenantPolicy {
                table: name.clone(),
            });
        }
        let views = sqlx::query(
            "SELECT DISTINCT v.relname::text, coalesce(array_to_string(v.reloptions, ','), '') \
             FROM pg_depend d \
             JOIN pg_rewrite r ON r.oid = d.objid \
             JOIN pg_class v ON v.oid = r.ev_class \
             WHERE d.refobjid = to_regclass($1) AND v.relkind = 'v' AND v.oid <> d.refobjid",
        )
        .bind(name.clone())
        .fetch_all(db)
        .await?;
        for v in &views {
            let view: String = v.try_get(0)?;
            let options: String = v.try_get(1)?;
            let invoker = options.split(',').any(|o| {
                matches!(
                    o,
                    "security_invoker=true" | "security_invoker=on" | "security_invoker=1"
                )
            });
            if !invoker {
                report.findings.push(Finding::ViewWithoutSecurityInvoker {
                    view,
                    table: name.clone(),
                });
            }
        }
        let indexes = sqlx::query(
            "SELECT i.relname::text, \
                    (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) \
                       FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
                       JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum) \
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
             WHERE x.indrelid = to_regclass($1) AND x.indisunique",
        )
        .bind(name.clone())
        .fetch_all(db)
        .await?;
        for ix in &indexes {
            let index: String = ix.try_get(0)?;
            let columns: Option<String> = ix.try_get(1)?;
            let columns: Vec<String> = columns
                .unwrap_or_default()
                .split(',')
                .map(str::to_owned)
                .collect();
            let tenant_led = columns.first().is_some_and(|c| c == table.tenant_column());
            let declared = table.global_unique().contains(&columns);
            if !tenant_led && !declared {
                report.findings.push(Finding::GlobalUniqueIndex {
                    table: name.clone(),
                    index,
                });
            }
        }
    }
    Ok(report)
}
