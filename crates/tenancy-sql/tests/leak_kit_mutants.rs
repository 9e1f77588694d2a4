//! The leak-test kit's fuzzer is not vacuous: with each deliberately broken
//! scoper (feature `mutation-testing`), a `LeakCheck` over the test schema,
//! with no code of its own, must report a leak on SQLite, where the scoped
//! statement is the only wall.
//!
//! ```text
//! cargo test -p tenancy-sql --all-features --test leak_kit_mutants
//! ```

#![cfg(feature = "mutation-testing")]
#![allow(clippy::unwrap_used, reason = "tests")]

mod common;

use tenancy_sql::mutation::{Mutant, set_mutant};
use tenancy_sql::testing::LeakCheck;

#[test]
fn the_kit_catches_every_mutant_of_the_scoper() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut missed = Vec::new();
    for mutant in Mutant::ALL {
        set_mutant(mutant);
        let schema = common::schema();
        let report = rt
            .block_on(
                LeakCheck::new(&schema)
                    .migration(move |b| common::migration(&schema, b))
                    .fuzz_cases(300)
                    .try_run(async |_, _| ()),
            )
            .unwrap();
        set_mutant(Mutant::None);
        match report.leaks().first() {
            Some(leak) => println!("{mutant:?}: {leak}"),
            None => missed.push(mutant),
        }
    }
    assert!(missed.is_empty(), "the kit missed {missed:?}");
}
