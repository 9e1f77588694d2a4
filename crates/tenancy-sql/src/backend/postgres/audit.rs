//! The PostgreSQL catalogue audit: reads what the server stores (roles,
//! `pg_class`, `pg_policy` through `pg_get_expr`, views, indexes,
//! `pg_proc`) as the application role, and reports every way a tenant
//! could read or write past the second wall.
//!
//! Policies are compared as the server stores them, never by substring:
//! `pg_get_expr` prints the parsed, normalised expression, and the audit
//! builds the expected text in exactly the shape PostgreSQL prints the
//! predicate of [`Ddl::row_level_security`](crate::ddl::Ddl::row_level_security).
//! Anything else (an `OR true`, a policy that only asks whether the setting
//! is set, a look-alike function in another schema) is a finding.

use sqlx::Row;
use sqlx::postgres::{PgConnection, PgPool};

use crate::backend::audit::{KeyPart, exact, unique_index};
use crate::error::Result;
use crate::schema::{Schema, TableDef};
use crate::verify::{Finding, IsolationReport};

/// The text `pg_get_expr` prints for the tenant predicate the DDL writes,
/// `"<column>" = current_setting('<setting>', true)`.
///
/// `column` is the column as the server quotes it (`quote_ident`); a
/// `text` column is compared as it is, any other (`varchar`, `char`) through
/// a cast to `text`, which the server prints as `(column)::text`. Checked
/// against PostgreSQL 15; a server that prints it differently fails closed
/// (the policy is reported, never accepted).
fn expected_predicate(column: &str, column_is_text: bool, setting: &str) -> String {
    let column = if column_is_text {
        column.to_owned()
    } else {
        format!("({column})::text")
    };
    // INVARIANT: the pool accepts only `namespace.name` settings of
    // lowercase letters, digits and `_`, so the literal needs no escapes;
    // doubling quotes keeps a bad one from matching anything real.
    let setting = setting.replace('\'', "''");
    format!("({column} = current_setting('{setting}'::text, true))")
}

/// One row of `pg_policy`, as the audit needs it.
#[derive(Debug)]
struct StoredPolicy {
    name: String,
    permissive: bool,
    /// `pg_policy.polcmd`: `*` for ALL, `r`, `a`, `w`, `d`.
    command: String,
    /// Roles other than PUBLIC and the application role.
    other_roles: Vec<String>,
    using: Option<String>,
    check: Option<String>,
}

fn command_name(polcmd: &str) -> &str {
    match polcmd {
        "r" => "SELECT",
        "a" => "INSERT",
        "w" => "UPDATE",
        "d" => "DELETE",
        other => other,
    }
}

/// The findings for the policies of `table`: exactly one permissive policy,
/// the tenant policy; restrictive policies only narrow and pass.
fn policy_findings(table: &str, policies: &[StoredPolicy], expected: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut tenant_policy_seen = false;
    for p in policies.iter().filter(|p| p.permissive) {
        let mut deviations = Vec::new();
        if p.command != "*" {
            deviations.push(Finding::PermissivePolicyCommand {
                table: table.to_owned(),
                policy: p.name.clone(),
                command: command_name(&p.command).to_owned(),
            });
        }
        if !p.other_roles.is_empty() {
            deviations.push(Finding::PermissivePolicyRoles {
                table: table.to_owned(),
                policy: p.name.clone(),
                roles: p.other_roles.clone(),
            });
        }
        if p.using.as_deref() != Some(expected) {
            deviations.push(Finding::PermissivePolicyUsing {
                table: table.to_owned(),
                policy: p.name.clone(),
            });
        }
        // A policy without WITH CHECK checks writes with its USING; the
        // tenant policy states both, so a missing one is a deviation too.
        if p.check.as_deref() != Some(expected) {
            deviations.push(Finding::PermissivePolicyWithCheck {
                table: table.to_owned(),
                policy: p.name.clone(),
            });
        }
        if !deviations.is_empty() {
            findings.extend(deviations);
        } else if tenant_policy_seen {
            findings.push(Finding::DuplicateTenantPolicy {
                table: table.to_owned(),
                policy: p.name.clone(),
            });
        } else {
            tenant_policy_seen = true;
        }
    }
    if !tenant_policy_seen {
        findings.insert(
            0,
            Finding::NoTenantPolicy {
                table: table.to_owned(),
            },
        );
    }
    findings
}

/// The role the audit runs as: the application role.
struct AppRole {
    name: String,
    oid: i64,
    superuser: bool,
}

/// A tenant table as found in the catalogue.
struct Found<'a> {
    table: &'a TableDef,
    oid: i64,
}

/// Runs the audit on one connection of `db`, in a read-only transaction
/// that is rolled back.
pub(in crate::backend) async fn audit(
    db: &PgPool,
    schema: &Schema,
    setting: &str,
) -> Result<IsolationReport> {
    let mut tx = db.begin().await?;
    sqlx::query("SET TRANSACTION READ ONLY")
        .execute(&mut *tx)
        .await?;
    let report = run(&mut tx, schema, setting).await?;
    tx.rollback().await?;
    Ok(report)
}

async fn run(conn: &mut PgConnection, schema: &Schema, setting: &str) -> Result<IsolationReport> {
    let mut report = IsolationReport::default();
    let role_row = sqlx::query(
        "SELECT current_user::text, r.oid::int8, r.rolsuper, r.rolbypassrls \
         FROM pg_catalog.pg_roles r WHERE r.rolname = current_user",
    )
    .fetch_one(&mut *conn)
    .await?;
    let role = AppRole {
        name: role_row.try_get(0)?,
        oid: role_row.try_get(1)?,
        superuser: role_row.try_get(2)?,
    };
    if role.superuser {
        report.findings.push(Finding::Superuser {
            role: role.name.clone(),
        });
    }
    if role_row.try_get::<bool, _>(3)? {
        report.findings.push(Finding::BypassRls {
            role: role.name.clone(),
        });
    }
    report.role = role.name.clone();

    // Tables resolve the way statements resolve them: through the role's
    // search_path, by the declared (quoted) name.
    let mut found = Vec::new();
    for table in schema.tenant_tables() {
        report.tables_checked += 1;
        let oid: Option<i64> = sqlx::query_scalar(
            "SELECT pg_catalog.to_regclass(pg_catalog.quote_ident($1))::oid::int8",
        )
        .bind(table.name())
        .fetch_one(&mut *conn)
        .await?;
        match oid {
            Some(oid) => found.push(Found { table, oid }),
            None => report.findings.push(Finding::MissingTable {
                table: table.name().to_owned(),
            }),
        }
    }

    // INVARIANT: from here on the search_path is `pg_catalog` alone, so
    // `pg_get_expr` and `regprocedure` print every function, operator and
    // type outside pg_catalog schema-qualified: a look-alike
    // `public.current_setting` or `public.=` never prints like the real one.
    sqlx::query("SELECT pg_catalog.set_config('search_path', 'pg_catalog', true)")
        .execute(&mut *conn)
        .await?;

    // A superuser is a member of every role; that finding says it all.
    if !role.superuser {
        let roles = sqlx::query(
            "SELECT r.rolname::text FROM pg_roles r \
             WHERE r.oid <> $1::int8::oid AND (r.rolsuper OR r.rolbypassrls) \
               AND pg_has_role($1::int8::oid, r.oid, 'MEMBER') \
             ORDER BY r.rolname",
        )
        .bind(role.oid)
        .fetch_all(&mut *conn)
        .await?;
        for r in &roles {
            report.findings.push(Finding::RoleCanBecome {
                role: role.name.clone(),
                target: r.try_get(0)?,
            });
        }
    }

    for f in &found {
        table_findings(&mut *conn, &mut report, f, &role, setting).await?;
    }

    definer_findings(&mut *conn, &mut report, &found).await?;
    Ok(report)
}

async fn table_findings(
    conn: &mut PgConnection,
    report: &mut IsolationReport,
    found: &Found<'_>,
    role: &AppRole,
    setting: &str,
) -> Result<()> {
    let table = found.table;
    let name = table.name().to_owned();
    let class = sqlx::query(
        "SELECT c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner)::text, \
                pg_has_role($2::int8::oid, c.relowner, 'MEMBER') \
         FROM pg_class c WHERE c.oid = $1::int8::oid",
    )
    .bind(found.oid)
    .bind(role.oid)
    .fetch_one(&mut *conn)
    .await?;
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
    let owner: String = class.try_get(2)?;
    if owner == role.name {
        report.findings.push(Finding::RoleOwnsTable {
            table: name.clone(),
            role: role.name.clone(),
        });
    } else if class.try_get::<bool, _>(3)? && !role.superuser {
        let finding = Finding::RoleCanBecome {
            role: role.name.clone(),
            target: owner,
        };
        if !report.findings.contains(&finding) {
            report.findings.push(finding);
        }
    }

    // The expected predicate, quoted and cast the way the server prints it.
    let column = sqlx::query(
        "SELECT quote_ident($2), coalesce(( \
             SELECT a.atttypid = 'text'::regtype FROM pg_attribute a \
             WHERE a.attrelid = $1::int8::oid AND a.attname = $2 AND NOT a.attisdropped), false)",
    )
    .bind(found.oid)
    .bind(table.tenant_column())
    .fetch_one(&mut *conn)
    .await?;
    let expected = expected_predicate(
        &column.try_get::<String, _>(0)?,
        column.try_get(1)?,
        setting,
    );

    let rows = sqlx::query(
        "SELECT p.polname::text, p.polpermissive, p.polcmd::text, \
                (SELECT string_agg(pg_get_userbyid(r)::text, ',' ORDER BY pg_get_userbyid(r)::text) \
                   FROM unnest(p.polroles) AS r WHERE r <> 0 AND r <> $2::int8::oid), \
                pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid) \
         FROM pg_policy p WHERE p.polrelid = $1::int8::oid ORDER BY p.polname",
    )
    .bind(found.oid)
    .bind(role.oid)
    .fetch_all(&mut *conn)
    .await?;
    let mut policies = Vec::with_capacity(rows.len());
    for p in &rows {
        let other_roles: Option<String> = p.try_get(3)?;
        policies.push(StoredPolicy {
            name: p.try_get(0)?,
            permissive: p.try_get(1)?,
            command: p.try_get(2)?,
            other_roles: other_roles
                .map(|r| r.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
            using: p.try_get(4)?,
            check: p.try_get(5)?,
        });
    }
    report
        .findings
        .extend(policy_findings(&name, &policies, &expected));

    // Views and materialized views that read the table. A view without
    // security_invoker reads the tables it names as its owner; one that
    // reads the table only through a security_invoker view does not (that
    // view checks as the querying role), and one over a view without it is
    // no worse than that view, which is reported itself. A materialized
    // view holds rows no policy filters, however deep the table lies.
    let views = sqlx::query(
        "WITH RECURSIVE reach(oid, depth) AS ( \
             SELECT $1::int8::oid, 0 \
             UNION ALL \
             SELECT v.oid, reach.depth + 1 FROM reach \
             JOIN pg_depend d ON d.refobjid = reach.oid AND d.classid = 'pg_rewrite'::regclass \
             JOIN pg_rewrite r ON r.oid = d.objid \
             JOIN pg_class v ON v.oid = r.ev_class \
             WHERE v.relkind IN ('v', 'm') AND v.oid <> reach.oid AND reach.depth < 32) \
         SELECT v.relname::text, v.relkind::text, min(reach.depth) = 1 AND NOT EXISTS ( \
                    SELECT 1 FROM pg_options_to_table(v.reloptions) o \
                    WHERE o.option_name = 'security_invoker' AND o.option_value::boolean) \
         FROM reach JOIN pg_class v ON v.oid = reach.oid \
         WHERE reach.depth > 0 GROUP BY v.oid, v.relname, v.relkind, v.reloptions \
         ORDER BY v.relname",
    )
    .bind(found.oid)
    .fetch_all(&mut *conn)
    .await?;
    for v in &views {
        let view: String = v.try_get(0)?;
        let kind: String = v.try_get(1)?;
        if kind == "m" {
            report.findings.push(Finding::MaterializedView {
                view,
                table: name.clone(),
            });
        } else if v.try_get::<bool, _>(2)? {
            report.findings.push(Finding::ViewWithoutSecurityInvoker {
                view,
                table: name.clone(),
            });
        }
    }

    // Unique indexes, key columns only (not INCLUDE); an expression is an
    // empty name, which no column has.
    let indexes = sqlx::query(
        "SELECT i.relname::text, \
                (SELECT string_agg(coalesce(a.attname::text, ''), ',' ORDER BY k.ord) \
                   FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
                   LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum \
                  WHERE k.ord <= x.indnkeyatts) \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
         WHERE x.indrelid = $1::int8::oid AND x.indisunique ORDER BY i.relname",
    )
    .bind(found.oid)
    .fetch_all(&mut *conn)
    .await?;
    for ix in &indexes {
        let index: String = ix.try_get(0)?;
        let columns: Option<String> = ix.try_get(1)?;
        let parts: Vec<KeyPart> = columns
            .unwrap_or_default()
            .split(',')
            .map(|c| (!c.is_empty()).then(|| c.to_owned()))
            .collect();
        report
            .findings
            .extend(unique_index(table, &index, &parts, exact));
    }
    Ok(())
}

/// `SECURITY DEFINER` functions that read past row-level security.
///
/// A function is reported when it runs as a role that reads past RLS (a
/// superuser; a role with BYPASSRLS; or the owner of a tenant table, or a
/// member of that owner's role, who can lift the table's RLS from inside
/// the function) and the application role can reach it: it holds EXECUTE
/// on the function and USAGE on its schema, or the function returns
/// `trigger` (a trigger fires without either). Functions of any schema
/// count, pg_catalog included.
async fn definer_findings(
    conn: &mut PgConnection,
    report: &mut IsolationReport,
    found: &[Found<'_>],
) -> Result<()> {
    let tables = found
        .iter()
        .map(|f| f.oid.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let rows = sqlx::query(
        "SELECT p.oid::regprocedure::text, pg_get_userbyid(p.proowner)::text \
         FROM pg_proc p JOIN pg_roles o ON o.oid = p.proowner \
         WHERE p.prosecdef \
           AND ((has_function_privilege(p.oid, 'EXECUTE') \
                 AND has_schema_privilege(p.pronamespace, 'USAGE')) \
                OR p.prorettype = 'trigger'::regtype) \
           AND (o.rolsuper OR o.rolbypassrls OR EXISTS ( \
                SELECT 1 FROM pg_class c \
                WHERE c.oid = ANY (string_to_array($1, ',')::oid[]) \
                  AND pg_has_role(p.proowner, c.relowner, 'MEMBER'))) \
         ORDER BY 1",
    )
    .bind(tables)
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        report.findings.push(Finding::SecurityDefinerFunction {
            function: r.try_get(0)?,
            owner: r.try_get(1)?,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTING: &str = "tenancy.tenant_id";

    fn expected() -> String {
        expected_predicate("tenant_id", false, SETTING)
    }

    fn tenant_policy(name: &str) -> StoredPolicy {
        StoredPolicy {
            name: name.to_owned(),
            permissive: true,
            command: "*".to_owned(),
            other_roles: Vec::new(),
            using: Some(expected()),
            check: Some(expected()),
        }
    }

    fn check(policies: &[StoredPolicy]) -> Vec<Finding> {
        policy_findings("leases", policies, &expected())
    }

    #[test]
    fn the_expected_predicate_has_the_shape_postgres_prints() {
        // As PostgreSQL 15 prints the DDL's predicate for a varchar, a text
        // and a keyword-named column.
        assert_eq!(
            expected(),
            "((tenant_id)::text = current_setting('tenancy.tenant_id'::text, true))"
        );
        assert_eq!(
            expected_predicate("tenant_id", true, SETTING),
            "(tenant_id = current_setting('tenancy.tenant_id'::text, true))"
        );
        assert_eq!(
            expected_predicate("\"user\"", false, SETTING),
            "((\"user\")::text = current_setting('tenancy.tenant_id'::text, true))"
        );
    }

    #[test]
    fn the_tenant_policy_alone_is_clean() {
        assert_eq!(check(&[tenant_policy("p")]), []);
    }

    #[test]
    fn restrictive_policies_pass_whatever_they_say() {
        let mut restrictive = tenant_policy("narrow");
        restrictive.permissive = false;
        restrictive.command = "r".into();
        restrictive.using = Some("true".into());
        restrictive.check = None;
        assert_eq!(check(&[tenant_policy("p"), restrictive]), []);
    }

    #[test]
    fn a_predicate_that_merely_contains_the_setting_is_not_the_tenant_predicate() {
        let mut widened = tenant_policy("p");
        widened.using = Some(format!("({} OR true)", expected()));
        let findings = check(&[widened]);
        assert_eq!(
            findings,
            [
                Finding::NoTenantPolicy {
                    table: "leases".into()
                },
                Finding::PermissivePolicyUsing {
                    table: "leases".into(),
                    policy: "p".into()
                },
            ]
        );
    }

    #[test]
    fn every_other_permissive_policy_is_a_finding() {
        let extra = StoredPolicy {
            name: "setting_is_set".into(),
            permissive: true,
            command: "*".into(),
            other_roles: Vec::new(),
            using: Some("(current_setting('tenancy.tenant_id'::text, true) IS NOT NULL)".into()),
            check: None,
        };
        let findings = check(&[tenant_policy("p"), extra]);
        assert_eq!(
            findings,
            [
                Finding::PermissivePolicyUsing {
                    table: "leases".into(),
                    policy: "setting_is_set".into()
                },
                Finding::PermissivePolicyWithCheck {
                    table: "leases".into(),
                    policy: "setting_is_set".into()
                },
            ]
        );
    }

    #[test]
    fn the_tenant_policy_covers_all_commands_for_public_or_the_application_role() {
        let mut select_only = tenant_policy("p");
        select_only.command = "r".into();
        select_only.check = None;
        let findings = check(&[select_only]);
        assert!(findings.contains(&Finding::PermissivePolicyCommand {
            table: "leases".into(),
            policy: "p".into(),
            command: "SELECT".into()
        }));
        assert!(findings.contains(&Finding::NoTenantPolicy {
            table: "leases".into()
        }));
        let mut other_role = tenant_policy("p");
        other_role.other_roles = vec!["reporting".into()];
        assert!(
            check(&[other_role]).contains(&Finding::PermissivePolicyRoles {
                table: "leases".into(),
                policy: "p".into(),
                roles: vec!["reporting".into()]
            })
        );
    }

    #[test]
    fn a_second_copy_of_the_tenant_policy_is_reported() {
        assert_eq!(
            check(&[tenant_policy("a"), tenant_policy("b")]),
            [Finding::DuplicateTenantPolicy {
                table: "leases".into(),
                policy: "b".into()
            }]
        );
    }

    #[test]
    fn no_policy_at_all_is_no_tenant_policy() {
        assert_eq!(
            check(&[]),
            [Finding::NoTenantPolicy {
                table: "leases".into()
            }]
        );
    }
}
