//! The differential leak fuzzer: random statements from the whole public
//! builder surface, prepared under tenant A and run on SQLite, PostgreSQL
//! with Row-Level Security (as the application role), PostgreSQL without it
//! (so the statement is the only wall there too) and MariaDB, each seeded
//! with marker rows of tenants A, B and C.
//!
//! Every case must either be refused with a typed [`tenancy_sql::Error`]
//! before anything is sent, or read no foreign marker (`-t2`, `-t3`, B's or
//! C's id) and leave B's and C's rows exactly as they were (the owner checks
//! after every write), and its rendered SQL must pass the independent oracle
//! (`tests/oracle`). Cases that carry something that must be refused (a
//! hostile name, the tenant column as a write target in any case, a CTE
//! shadowing a table, a duplicate alias, a system table, a write to a
//! global table, an unknown name, the tenant placeholder as a value) must be
//! refused with the matching error, the same on every backend. At the end
//! every construct must have been exercised by at least one case; the table
//! of counts is printed.
//!
//! The default run is 1,000 cases per backend from a fixed seed. A longer
//! run, with a seed of its own:
//!
//! ```text
//! TENANCY_FUZZ_CASES=20000 TENANCY_FUZZ_SEED=$RANDOM \
//!   TENANCY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   TENANCY_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test \
//!   cargo test -p tenancy-sql --release --test leak_fuzzer -- --nocapture
//! ```
//!
//! `TENANCY_FUZZ_VERBOSE=1` prints every statement a server refused, with
//! its values. The whole proof (oracle, fuzzer, mutation checks) is
//! described in `crates/tenancy-sql/docs/isolation-proof.md`.

mod common;
mod leak;
mod oracle;

use std::cell::RefCell;
use std::time::Instant;

use proptest::test_runner::TestCaseError;

use leak::{Gen, Harness, Stats};

#[test]
fn random_statements_never_reach_another_tenant() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let harness = rt.block_on(Harness::new());
    let cases = leak::cases_from_env();
    let seed = leak::seed_from_env();
    let stats = RefCell::new(Stats::default());
    let started = Instant::now();
    let mut runner = leak::runner(cases, seed);
    let result = runner.run(&leak::tapes(), |tape| {
        let case = Gen::case(tape);
        let report = rt.block_on(harness.run(&case));
        stats.borrow_mut().add(&case, &report);
        if report.is_clean() {
            Ok(())
        } else {
            Err(TestCaseError::fail(format!(
                "{report:#?}\n{}",
                leak::describe(&case)
            )))
        }
    });
    let stats = stats.into_inner();
    println!(
        "leak fuzzer: seed {seed}, {} backends, {:.1?}\n{}",
        harness.dbs.len(),
        started.elapsed(),
        stats.table()
    );
    rt.block_on(harness.cleanup());
    if let Err(e) = result {
        panic!("seed {seed}: {e}");
    }
    assert!(
        stats.surprising_cases * 20 <= stats.cases,
        "{} of {} cases without poison were refused: the generator or the crate changed",
        stats.surprising_cases,
        stats.cases
    );
    let missing = stats.missing();
    assert!(
        missing.is_empty(),
        "no case exercised {missing:?}: the generator lost them"
    );
}
