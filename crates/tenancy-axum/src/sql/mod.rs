//! Behind the `sql` feature: a tenant directory over a system `tenants`
//! table, and a tenant-bound transaction per request, both through
//! `tenancy-sql`.

mod directory;
mod tx;

pub use directory::{DirectorySchemaError, SqlDirectory};
pub use tx::{Tx, TxLayer, TxRejection, TxService};

use crate::problem::Problem;

/// Renders a `tenancy-sql` error for a client without revealing another
/// tenant:
///
/// - a reference to a row not in this tenant ([`NotFound`]) or a value of
///   another tenant ([`AccessError::CrossTenant`]) is 404, as if it did not
///   exist;
/// - a bound value equal to the crate's tenant placeholder ([`InvalidValue`])
///   can only come from the request, so it is 400;
/// - anything else is a bare 500, the cause left to the server's logs: a
///   statement naming an unknown table, column or alias, an invalid or
///   duplicate name, a function or upsert the backend refuses, a write of
///   the tenant column, a context that may not run the statement, a
///   transaction aborted by an earlier failure ([`TransactionAborted`]), or
///   the database itself. These are wiring or programming errors, or
///   outages, not something the client can fix.
///
/// [`NotFound`]: tenancy_sql::Error::NotFound
/// [`AccessError::CrossTenant`]: tenancy_core::AccessError::CrossTenant
/// [`InvalidValue`]: tenancy_sql::Error::InvalidValue
/// [`TransactionAborted`]: tenancy_sql::Error::TransactionAborted
pub fn sql_problem(error: &tenancy_sql::Error) -> Problem {
    use tenancy_sql::Error;
    match error {
        Error::NotFound { table } => {
            Problem::not_found(format!("referenced `{table}` row not found"))
        }
        Error::Access(tenancy_core::AccessError::CrossTenant) => {
            Problem::not_found("not found in this tenant")
        }
        Error::InvalidValue => Problem::bad_request("a value in the request is not accepted"),
        _ => Problem::internal(),
    }
}

impl From<tenancy_sql::Error> for Problem {
    fn from(error: tenancy_sql::Error) -> Self {
        sql_problem(&error)
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use tenancy_core::AccessError;
    use tenancy_sql::{Error, Function};

    use super::sql_problem;

    fn check(error: Error, status: StatusCode) {
        let problem = sql_problem(&error);
        assert_eq!(problem.status(), status, "{error:?}");
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            assert_eq!(problem.detail(), None, "a 500 carries no detail: {error:?}");
        }
    }

    #[test]
    fn other_tenants_rows_look_absent() {
        check(
            Error::NotFound {
                table: "leases".to_owned(),
            },
            StatusCode::NOT_FOUND,
        );
        check(
            Error::Access(AccessError::CrossTenant),
            StatusCode::NOT_FOUND,
        );
    }

    #[test]
    fn the_tenant_placeholder_as_input_is_a_bad_request() {
        check(Error::InvalidValue, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn programming_errors_are_bare_internal_errors() {
        for error in [
            Error::InvalidName {
                name: "Bad Name".to_owned(),
            },
            Error::UnknownColumn {
                table: "leases".to_owned(),
                column: "secret".to_owned(),
            },
            Error::UnknownSource {
                name: "l".to_owned(),
            },
            Error::DuplicateName {
                name: "l".to_owned(),
            },
            Error::FunctionNotAllowed(Function::Round),
            Error::UnsafeUpsert {
                table: "leases".to_owned(),
            },
            Error::TransactionAborted,
            Error::TenantColumnWrite {
                column: "tenant_id".to_owned(),
            },
            Error::UnknownTable {
                table: "nope".to_owned(),
            },
            Error::Access(AccessError::NoTenant),
            Error::LeakPrevented,
        ] {
            check(error, StatusCode::INTERNAL_SERVER_ERROR);
        }
    }
}
