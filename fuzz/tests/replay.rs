//! Replays every committed corpus input through its target, on stable and
//! without libFuzzer: CI's guard that no known input panics again.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target)
}

/// Runs every file of `target`'s corpus and names each one that panics.
fn replay(target: &str) {
    let (_, harness) = tenancy_fuzz::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no target {target}"));
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.map(|e| e.path()).unwrap_or_else(|e| panic!("{e}")))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the corpus of {target} is empty");

    let mut failures = Vec::new();
    for file in &files {
        let data = fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if catch_unwind(AssertUnwindSafe(|| harness(&data))).is_err() {
            failures.push(file.display().to_string());
        }
    }
    println!("{target}: {} inputs replayed", files.len());
    assert!(
        failures.is_empty(),
        "{target}: {} of {} corpus inputs panic:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn bearer_token_corpus_replays() {
    replay("bearer_token");
}

#[test]
fn claims_corpus_replays() {
    replay("claims");
}

#[test]
fn jwks_corpus_replays() {
    replay("jwks");
}

#[test]
fn permission_corpus_replays() {
    replay("permission");
}

#[test]
fn ids_and_slugs_corpus_replays() {
    replay("ids_and_slugs");
}

/// A new target cannot be added without a binary, a corpus and a replay.
#[test]
fn every_target_has_a_binary_and_a_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut binaries: Vec<String> = fs::read_dir(root.join("fuzz_targets"))
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.path()
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .collect();
    binaries.sort();
    let mut targets: Vec<String> = tenancy_fuzz::TARGETS
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    targets.sort();
    assert_eq!(binaries, targets);
    for target in &targets {
        assert!(corpus_dir(target).is_dir(), "no corpus for {target}");
    }
    let this = fs::read_to_string(root.join("tests/replay.rs")).unwrap_or_else(|e| panic!("{e}"));
    for target in &targets {
        assert!(
            this.contains(&format!("fn {target}_corpus_replays()")),
            "no replay test for {target}"
        );
    }
}
