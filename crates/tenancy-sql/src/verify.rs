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
    /// A registered tenant table does not exist in the database.
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
    /// No policy on the table has both USING and WITH CHECK on the tenant setting.
    NoTenantPolicy {
        /// The table.
        table: String,
    },
    /// A permissive policy ignores the tenant setting; permissive policies
    /// are OR-ed, so it opens the table to every tenant.
    PolicyWithoutTenant {
        /// The table.
        table: String,
        /// The policy.
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
    /// A unique index on a tenant table does not start with the tenant
    /// column and was not declared global: it reveals other tenants' values.
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
                "`{table}`: no policy with both USING and WITH CHECK on the tenant setting"
            ),
            Finding::PolicyWithoutTenant { table, policy } => write!(
                f,
                "`{table}`: permissive policy `{policy}` does not test the tenant setting"
            ),
            Finding::RoleOwnsTable { table, role } => {
                write!(f, "`{table}` is owned by the application role `{role}`")
            }
            Finding::ViewWithoutSecurityInvoker { view, table } => write!(
                f,
                "view `{view}` reads tenant table `{table}` without security_invoker"
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
        writeln!(
            f,
            "isolation audit as role `{}`: {} tenant table(s), {} finding(s)",
            self.role,
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
