//! The service's data access under the SDK's leak-test kit: its lookups run
//! as each tenant with its own, another tenant's and nobody's ids, and the
//! kit's fuzzer runs random statements over the service's own schema, on
//! SQLite and, when `TENANCY_TEST_POSTGRES_URL` is set, on PostgreSQL as an
//! application role under Row-Level Security.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod support;

use leases_service::domain::{leases, properties};
use leases_service::schema::{migration, schema};
use tenancy_sql::testing::LeakCheck;

/// SQLite (`None`), and PostgreSQL when configured.
fn servers() -> Vec<Option<String>> {
    let mut out = vec![None];
    out.extend(support::postgres_url().map(Some));
    out
}

#[tokio::test]
async fn lookups_by_id_never_reach_another_tenant() {
    for server in servers() {
        let check = LeakCheck::new(&schema().unwrap())
            .migration(|backend| migration(&schema().unwrap(), backend).unwrap())
            .tenants(4);
        let check = match &server {
            Some(url) => check.database(url),
            None => check,
        };
        let report = check
            .run(async |probe, tx| {
                let (lease, property) = (
                    probe.id("leases").to_string(),
                    probe.id("properties").to_string(),
                );
                let found = (
                    leases::fetch(tx, &lease).await,
                    properties::fetch(tx, &property).await,
                );
                (found, leases::property_exists(tx, &property).await)
            })
            .await;
        println!("{report}");
    }
}
