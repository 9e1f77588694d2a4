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

use leases_service::domain::{leases, properties};
use leases_service::schema::{migration, schema};
use tenancy_sql::testing::LeakCheck;

fn servers() -> Vec<Option<String>> {
    let mut out = vec![None];
    match std::env::var("TENANCY_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => out.push(Some(url)),
        _ if std::env::var("TENANCY_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!("TENANCY_TEST_POSTGRES_URL is not set but TENANCY_TEST_REQUIRE_SERVICES=1")
        }
        _ => println!("PostgreSQL skipped: TENANCY_TEST_POSTGRES_URL is not set"),
    }
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
