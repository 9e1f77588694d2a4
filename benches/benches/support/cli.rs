//! What the benches read from their command line and environment, and how
//! they summarise interleaved rounds.

/// Whether the part `name` runs: with no filter on the command line, or a
/// filter it contains. Arguments that are options, or values of criterion's
/// options, are not filters.
pub(crate) fn selected(name: &str) -> bool {
    const WITH_VALUE: &[&str] = &[
        "--baseline",
        "--baseline-lenient",
        "--color",
        "--confidence-level",
        "--format",
        "--load-baseline",
        "--measurement-time",
        "--noise-threshold",
        "--nresamples",
        "--output-format",
        "--plotting-backend",
        "--profile-time",
        "--sample-size",
        "--save-baseline",
        "--significance-level",
        "--warm-up-time",
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut filters = args.iter().enumerate().filter(|(i, arg)| {
        !arg.starts_with('-') && (*i == 0 || !WITH_VALUE.contains(&args[i - 1].as_str()))
    });
    let mut any = false;
    let matched = filters.any(|(_, filter)| {
        any = true;
        name.contains(filter.as_str())
    });
    matched || !any
}

/// `cargo bench` passes `--bench`; without it the binary runs as a test.
pub(crate) fn benchmarking() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// The median of `values` (the upper one of an even count).
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The smallest and the largest of `values`.
pub(crate) fn range(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        })
}

/// A counted run asked for in the environment variable `var`, written
/// `<mode>:<n>`: the bench then does only that, `n` times, and exits, so
/// that it can be run under an instruction counter.
pub(crate) fn counted_run(var: &str) -> Option<(String, u64)> {
    let value = std::env::var(var).ok()?;
    let (mode, n) = value.split_once(':')?;
    Some((mode.to_owned(), n.parse().ok()?))
}
