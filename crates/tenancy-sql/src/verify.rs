//! The isolation report `verify_isolation` produces.

use std::fmt;

/// One problem the isolation audit found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    /// The application role is a superuser: Row-Level Security does not apply to it.
    Superuser {
        /// The role.
        role: String,
    },
    /// The application role has `BYPASSRLS`.
    BypassRls {
        /// The role.
        role: String,
    },
    /// A registered tenant table does not exist in the database under its
    /// declared name (compared by the backend's own case rules).
    MissingTable {
        /// The table.
        table: String,
    },
    /// Row-Level Security is not enabled on a tenant table.
    RlsDisabled {
        /// The table.
        table: String,
    },
    /// Row-Level Security is enabled but not forced, so the owner bypasses it.
    RlsNotForced {
        /// The table.
        table: String,
    },
    /// No permissive policy on the table is the tenant policy: for ALL
    /// commands, applying to PUBLIC or the application role, with USING and
    /// WITH CHECK both exactly the tenant predicate.
    NoTenantPolicy {
        /// The table.
        table: String,
    },
    /// A permissive policy's USING is missing or not exactly the tenant
    /// predicate. Permissive policies are OR-ed, so it widens which rows a
    /// tenant reads.
    PermissivePolicyUsing {
        /// The table.
        table: String,
        /// The policy.
        policy: String,
    },
    /// A permissive policy's WITH CHECK is missing or not exactly the tenant
    /// predicate, so it widens which rows a tenant may write.
    PermissivePolicyWithCheck {
        /// The table.
        table: String,
        /// The policy.
        policy: String,
    },
    /// A permissive policy covers one command, not ALL.
    PermissivePolicyCommand {
        /// The table.
        table: String,
        /// The policy.
        policy: String,
        /// `SELECT`, `INSERT`, `UPDATE` or `DELETE`.
        command: String,
    },
    /// A permissive policy applies to roles other than PUBLIC and the
    /// application role.
    PermissivePolicyRoles {
        /// The table.
        table: String,
        /// The policy.
        policy: String,
        /// The other roles, by name.
        roles: Vec<String>,
    },
    /// A second policy identical to the tenant policy: harmless today, but
    /// the audit wants exactly one permissive policy per table.
    DuplicateTenantPolicy {
        /// The table.
        table: String,
        /// The second policy.
        policy: String,
    },
    /// The application role owns a tenant table.
    RoleOwnsTable {
        /// The table.
        table: String,
        /// The role.
        role: String,
    },
    /// A view reads a tenant table without `security_invoker`, so it runs
    /// with its owner's rights and bypasses the caller's policies.
    ViewWithoutSecurityInvoker {
        /// The view.
        view: String,
        /// The tenant table it reads.
        table: String,
    },
    /// A materialized view reads a tenant table, directly or through
    /// views: it holds rows computed as its owner when it was refreshed,
    /// and no policy filters them.
    MaterializedView {
        /// The materialized view.
        view: String,
        /// The tenant table it reads.
        table: String,
    },
    /// A `SECURITY DEFINER` function runs as an owner who reads past
    /// row-level security (a superuser, a role with BYPASSRLS, or a tenant
    /// table's owner or a member of that owner's role, who can lift the
    /// table's RLS), and the application role can execute it (or it is a
    /// trigger function, which fires without that privilege).
    SecurityDefinerFunction {
        /// The function, schema-qualified with its argument types.
        function: String,
        /// The role it runs as.
        owner: String,
    },
    /// The application role is a member of a role that reads past
    /// row-level security (a superuser, a role with BYPASSRLS, or a tenant
    /// table's owner), so `SET ROLE` takes it past the policies.
    RoleCanBecome {
        /// The application role.
        role: String,
        /// The role it can become.
        target: String,
    },
    /// A unique index on a tenant table does not start with the whole tenant
    /// column (not a prefix of it, not an expression) and was not declared
    /// with `global_unique`: it tells one tenant which values another one
    /// uses, and on MySQL/MariaDB `ON DUPLICATE KEY` fires on it.
    GlobalUniqueIndex {
        /// The table.
        table: String,
        /// The index.
        index: String,
    },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Superuser { role } => write!(
                f,
                "role `{role}` is a superuser; row-level security does not apply to it"
            ),
            Finding::BypassRls { role } => write!(f, "role `{role}` has BYPASSRLS"),
            Finding::MissingTable { table } => write!(f, "tenant table `{table}` does not exist"),
            Finding::RlsDisabled { table } => {
                write!(f, "`{table}`: row-level security is not enabled")
            }
            Finding::RlsNotForced { table } => write!(
                f,
                "`{table}`: row-level security is not forced (the owner bypasses it)"
            ),
            Finding::NoTenantPolicy { table } => write!(
                f,
                "`{table}`: no permissive policy for all commands whose USING and WITH CHECK are exactly the tenant predicate"
            ),
            Finding::PermissivePolicyUsing { table, policy } => write!(
                f,
                "`{table}`: permissive policy `{policy}` has a USING that is missing or not exactly the tenant predicate; permissive policies are OR-ed, so it widens what a tenant reads"
            ),
            Finding::PermissivePolicyWithCheck { table, policy } => write!(
                f,
                "`{table}`: permissive policy `{policy}` has a WITH CHECK that is missing or not exactly the tenant predicate; it widens what a tenant writes"
            ),
            Finding::PermissivePolicyCommand {
                table,
                policy,
                command,
            } => write!(
                f,
                "`{table}`: permissive policy `{policy}` applies to {command} only, not to all commands"
            ),
            Finding::PermissivePolicyRoles {
                table,
                policy,
                roles,
            } => write!(
                f,
                "`{table}`: permissive policy `{policy}` applies to roles other than PUBLIC and the application role (`{}`)",
                roles.join("`, `")
            ),
            Finding::DuplicateTenantPolicy { table, policy } => write!(
                f,
                "`{table}`: permissive policy `{policy}` repeats the tenant policy; keep exactly one"
            ),
            Finding::RoleOwnsTable { table, role } => {
                write!(f, "`{table}` is owned by the application role `{role}`")
            }
            Finding::ViewWithoutSecurityInvoker { view, table } => write!(
                f,
                "view `{view}` reads tenant table `{table}` without security_invoker"
            ),
            Finding::MaterializedView { view, table } => write!(
                f,
                "materialized view `{view}` holds rows of tenant table `{table}` that no policy filters"
            ),
            Finding::SecurityDefinerFunction { function, owner } => write!(
                f,
                "security definer function `{function}` runs as `{owner}`, who reads past row-level security, and the application role can call it"
            ),
            Finding::RoleCanBecome { role, target } => write!(
                f,
                "role `{role}` can SET ROLE to `{target}`, which reads past row-level security"
            ),
            Finding::GlobalUniqueIndex { table, index } => write!(
                f,
                "`{table}`: unique index `{index}` does not start with the tenant column"
            ),
        }
    }
}

/// What the isolation audit found; empty means every check passed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IsolationReport {
    /// The role the checks ran as.
    pub role: String,
    /// The tenant tables checked.
    pub tables_checked: usize,
    /// The problems, in the order found.
    pub findings: Vec<Finding>,
    /// Facts worth knowing that are not failures (a backend without RLS).
    pub notes: Vec<String>,
}

impl IsolationReport {
    /// True when nothing was found.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

impl fmt::Display for IsolationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("isolation audit")?;
        if !self.role.is_empty() {
            write!(f, " as role `{}`", self.role)?;
        }
        writeln!(
            f,
            ": {} tenant table(s), {} finding(s)",
            self.tables_checked,
            self.findings.len()
        )?;
        for finding in &self.findings {
            writeln!(f, "  - {finding}")?;
        }
        for note in &self.notes {
            writeln!(f, "  note: {note}")?;
        }
        Ok(())
    }
}
