//! The leak tripwire behind a broken first wall: with the FROM predicate
//! dropped (feature `mutation-testing`), a tenant column returned under an
//! alias must still be caught. The switch is process-global, so this binary
//! holds this one test:
//!
//! ```text
//! cargo test -p tenancy-sql --all-features --test tripwire_mutants
//! ```

#![cfg(feature = "mutation-testing")]

mod common;

use common::{A, ctx};
use tenancy_sql::mutation::{Mutant, set_mutant};
use tenancy_sql::{Error, Select, col};

#[tokio::test]
async fn a_tenant_column_under_an_alias_is_still_checked_when_the_predicate_is_lost() {
    let schema = common::schema();
    for (label, db) in common::every_backend_seeded(&schema).await {
        let aliased = || {
            Select::from("leases")
                .column("lessee")
                .expr_as(col("leases", "tenant_id"), "owner")
        };
        let through_derived = || {
            Select::from_subquery(aliased(), "d")
                .column_of("d", "lessee")
                .column_of("d", "owner")
        };
        // The real scoper: the tenant's own rows come back.
        for q in [aliased(), through_derived()] {
            let mut tx = db.pool.begin(&ctx(A)).await.unwrap();
            assert_eq!(tx.fetch_all(q).await.unwrap().len(), 2, "{label}");
        }
        // The FROM predicate lost (at the top, then in the derived table):
        // the tripwire withholds the result although no column is called
        // `tenant_id`. Under Row-Level Security the second wall filters.
        let rls = label.contains("with rls");
        for (mutant, q) in [
            (Mutant::Where, aliased()),
            (Mutant::Subquery, through_derived()),
        ] {
            set_mutant(mutant);
            let mut tx = db.pool.begin(&ctx(A)).await.unwrap();
            let outcome = tx.fetch_all(q).await.map(|rows| rows.len());
            set_mutant(Mutant::None);
            if rls {
                assert_eq!(outcome.unwrap(), 2, "{label}");
            } else {
                assert!(
                    matches!(outcome, Err(Error::LeakPrevented)),
                    "{label}: {mutant:?}: {outcome:?}"
                );
            }
        }
        set_mutant(Mutant::None);
        db.cleanup().await;
    }
}
