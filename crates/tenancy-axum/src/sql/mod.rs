//! Behind the `sql` feature: a tenant directory over a global `tenants`
//! table, and a tenant-bound transaction per request, both through
//! `tenancy-sql`.

mod directory;
mod tx;

pub use directory::SqlDirectory;
pub use tx::{Tx, TxLayer, TxRejection, TxService};

use crate::problem::Problem;

/// Renders a `tenancy-sql` error for a client: a reference to something not
/// in this tenant is 404 (as if it did not exist), a refused access 403, any
/// other failure a bare 500 (the cause stays in the server's logs).
pub fn sql_problem(error: &tenancy_sql::Error) -> Problem {
    match error {
        tenancy_sql::Error::NotFound { table } => {
            Problem::not_found(format!("referenced `{table}` row not found"))
        }
        tenancy_sql::Error::Access(tenancy_core::AccessError::CrossTenant) => {
            Problem::not_found("not found in this tenant")
        }
        _ => Problem::internal(),
    }
}

impl From<tenancy_sql::Error> for Problem {
    fn from(error: tenancy_sql::Error) -> Self {
        sql_problem(&error)
    }
}
