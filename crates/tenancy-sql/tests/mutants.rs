//! Mutation checks: the proof is not vacuous. For each deliberately broken
//! scoper (feature `mutation-testing`, see `tenancy_sql::mutation`), the
//! leak fuzzer, driven by the same generator and seed as
//! `tests/leak_fuzzer.rs`, must see a leak on a real database, and the
//! oracle must refuse a rendered statement, each within 1,000 cases.
//!
//! The switch is process-global, so every mutant runs in this one test, one
//! after the other, and nothing else shares this binary:
//!
//! ```text
//! cargo test -p tenancy-sql --all-features --test mutants -- --nocapture
//! ```

#![cfg(feature = "mutation-testing")]

mod common;
mod leak;
mod oracle;

use std::fmt::Write as _;
use std::time::Instant;

use proptest::strategy::{Strategy, ValueTree};
use tenancy_sql::mutation::{Mutant, set_mutant};

use leak::{Gen, Harness};

/// The most cases a mutant may take to be caught.
const BUDGET: usize = 1000;

/// When the fuzzer and the oracle first caught one mutant.
struct Caught {
    mutant: Mutant,
    fuzzer: Option<(usize, String)>,
    oracle: Option<(usize, String)>,
    /// Backends on which the fuzzer saw a leak, over the cases run.
    leaked_on: std::collections::BTreeSet<String>,
    cases: usize,
}

#[test]
fn every_mutant_is_caught_by_the_fuzzer_and_the_oracle() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let harness = rt.block_on(Harness::new());
    let seed = leak::seed_from_env();
    let started = Instant::now();
    let mut results = Vec::new();
    for mutant in Mutant::ALL {
        set_mutant(mutant);
        let mut runner = leak::runner(BUDGET as u32, seed);
        let tapes = leak::tapes();
        let mut caught = Caught {
            mutant,
            fuzzer: None,
            oracle: None,
            leaked_on: Default::default(),
            cases: 0,
        };
        for i in 0..BUDGET {
            let tape = tapes.new_tree(&mut runner).unwrap().current();
            let case = Gen::case(tape);
            let report = rt.block_on(harness.run(&case));
            caught.cases = i + 1;
            for leak in &report.leaks {
                let backend = leak.split(':').next().unwrap_or_default().to_owned();
                caught.leaked_on.insert(backend);
            }
            if caught.fuzzer.is_none()
                && let Some(leak) = report.leaks.first()
            {
                caught.fuzzer = Some((i + 1, leak.clone()));
            }
            if caught.oracle.is_none()
                && let Some(v) = report.oracle.first()
            {
                caught.oracle = Some((i + 1, v.clone()));
            }
            if caught.fuzzer.is_some() && caught.oracle.is_some() {
                break;
            }
        }
        set_mutant(Mutant::None);
        rt.block_on(harness.reset());
        results.push(caught);
    }
    let mut table = String::new();
    let _ = writeln!(
        table,
        "{:<14} {:>14} {:>14}  leaked on",
        "mutant", "fuzzer (case)", "oracle (case)"
    );
    for c in &results {
        let at = |f: &Option<(usize, String)>| {
            f.as_ref()
                .map_or("missed".to_owned(), |(n, _)| n.to_string())
        };
        let _ = writeln!(
            table,
            "{:<14} {:>14} {:>14}  {:?}",
            format!("{:?}", c.mutant),
            at(&c.fuzzer),
            at(&c.oracle),
            c.leaked_on
        );
    }
    for c in &results {
        if let Some((_, leak)) = &c.fuzzer {
            let _ = writeln!(table, "{:?}, first leak: {}", c.mutant, first_line(leak));
        }
        if let Some((_, v)) = &c.oracle {
            let _ = writeln!(
                table,
                "{:?}, first oracle refusal: {}",
                c.mutant,
                first_line(v)
            );
        }
    }
    println!("mutants ({:.1?}, seed {seed}):\n{table}", started.elapsed());
    rt.block_on(harness.cleanup());
    let missed: Vec<String> = results
        .iter()
        .filter(|c| c.fuzzer.is_none() || c.oracle.is_none())
        .map(|c| format!("{:?} after {} cases", c.mutant, c.cases))
        .collect();
    assert!(missed.is_empty(), "not caught: {missed:?}\n{table}");
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}
