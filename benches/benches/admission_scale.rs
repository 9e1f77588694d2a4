//! The admission pipeline at scale: one process admits requests for 1,000,
//! 10,000 and 100,000 known tenants (1,000,000 on request), each with its
//! own plan, directory entry, token and cached context.
//!
//! `cargo bench -p tenancy-benches --bench admission_scale [-- FILTER]`.
//! For each size the bench builds a `MemoryDirectory` of that many tenants,
//! one member token per tenant, and an `Admission` whose token cache, tenant
//! cache (one hour, so nothing expires during the run) and in-memory limits
//! are each sized to the tenant count; a `TenancyLayer` asks that admission.
//! Requests go round-robin over the tenants, in a fixed order that strides
//! through them rather than following their allocation order, in batches of
//! 64 whose tokens are staged (or requests built) before the batch is timed,
//! as a server finds a token in the buffer it has just read. Parts:
//! - `admission_scale/cold`: the first pass over every tenant of each size,
//!   which verifies every token and loads every tenant, and the time of one
//!   sweep of idle tenants' limits (printed);
//! - `admission_scale/admit/<tenants>` and `admission_scale/layer/<tenants>`
//!   (criterion groups): `Admission::admit` on a bearer token, and a whole
//!   request through the layer (tower `oneshot`, router and handler
//!   included), warm;
//! - `admission_scale/interleaved`: every size in turn for 9 rounds, the
//!   order reversed every other round, printed as the median time per
//!   request and the median and range of the per-round ratios to the
//!   smallest size;
//! - `admission_scale/memory`: for each size, four child processes of this
//!   bench build the set-up up to a stage (nothing; the clients' tokens; the
//!   directory; the admission after one pass over every tenant) and report
//!   their peak RSS (`VmHWM`); the differences, divided by the tenants, are
//!   the bytes per tenant of each stage.
//!
//! `TENANCY_BENCH_SCALE_SIZES=1000,100000,1000000` chooses the sizes (the
//! first one is the baseline of the ratios); the default is
//! `1000,10000,100000`, since 1,000,000 tenants take about 20 s to set up
//! and about 3 GiB, and each timed part then runs longer. `TENANCY_BENCH_SCALE_RUNS=<admit|layer>-<tenants>:<n>`
//! makes the bench set up that size, pass over every tenant once, then make
//! `n` more requests and exit, for counting instructions (see the README).
//! Without `--bench` (`cargo test --benches`) it admits each tenant of the
//! smallest size once, and sends each one request through the layer, as a
//! check.

#![allow(clippy::panic, clippy::expect_used, reason = "bench harness")]

#[path = "support/cli.rs"]
mod cli;
#[allow(dead_code, reason = "the bare handler is for the axum_layer bench")]
#[path = "support/service.rs"]
mod service;

use std::cell::Cell;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use criterion::Criterion;
use tenancy_admission::{Admission, AdmissionRequest};
use tenancy_auth::CachedValidator;
use tenancy_axum::{MemoryDirectory, TenancyLayer, TenantLimits};
use tenancy_core::MemoryAuditSink;
use tokio::runtime::Runtime;
use tower::ServiceExt;

const SIZES_VAR: &str = "TENANCY_BENCH_SCALE_SIZES";
const MEMORY_VAR: &str = "TENANCY_BENCH_SCALE_MEMORY";
const RUNS_VAR: &str = "TENANCY_BENCH_SCALE_RUNS";
const DEFAULT_SIZES: &[usize] = &[1_000, 10_000, 100_000];
/// Requests staged together and then timed together.
const BATCH: usize = 64;

/// The sizes to run, smallest first.
fn sizes() -> Vec<usize> {
    let mut sizes = match std::env::var(SIZES_VAR) {
        Ok(list) => list
            .split(',')
            .map(|s| s.trim().replace('_', "").parse().expect("a tenant count"))
            .collect(),
        Err(_) => DEFAULT_SIZES.to_vec(),
    };
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// One process's tenants, tokens and admission.
struct Scale {
    tenants: usize,
    tokens: Vec<String>,
    admission: Arc<Admission>,
    app: Router,
    // Where the round-robin goes next, as a count of requests made.
    next: Cell<usize>,
}

/// The clients' tokens: one member of each tenant.
fn tokens(tenants: usize) -> Vec<String> {
    let issuer = service::issuer();
    (0..tenants)
        .map(|i| service::member_token(&issuer, i))
        .collect()
}

fn directory(tenants: usize) -> Arc<MemoryDirectory> {
    let directory = Arc::new(MemoryDirectory::new());
    for i in 0..tenants {
        directory.insert(service::record(i));
    }
    directory
}

impl Scale {
    fn new(tokens: Vec<String>, directory: Arc<MemoryDirectory>) -> Scale {
        let tenants = tokens.len();
        let admission = Admission::builder()
            .validator(Arc::new(CachedValidator::new(
                service::validator(),
                tenants,
            )))
            .directory(directory)
            .cache_settings(tenants, Duration::from_secs(3600))
            .limits(Arc::new(TenantLimits::in_memory(tenants)))
            .audit(Arc::new(MemoryAuditSink::default()))
            .build()
            .map(Arc::new)
            .expect("the admission");
        let layer = TenancyLayer::builder()
            .admission(admission.clone())
            .build()
            .expect("the layer");
        Scale {
            tenants,
            tokens,
            admission,
            app: service::tenant_routes().layer(layer),
            next: Cell::new(0),
        }
    }

    fn build(tenants: usize) -> Scale {
        Scale::new(tokens(tenants), directory(tenants))
    }

    /// The token of the next tenant in the round: a stride through the
    /// tenants coprime with their number, so neighbours in the round are
    /// not neighbours in memory.
    fn next_token(&self) -> &str {
        const STRIDE: usize = 7_919;
        let k = self.next.get();
        self.next.set(k + 1);
        &self.tokens[(k % self.tenants) * STRIDE % self.tenants]
    }

    /// `n` admissions; the time per request in ns. Every one must be
    /// admitted.
    ///
    /// The tokens of each batch are copied out of the clients' table
    /// before the batch is timed: a server finds a request's token in the
    /// buffer it has just read, not in a table of every tenant's token.
    async fn admit(&self, n: usize) -> f64 {
        let mut staged = vec![String::new(); BATCH];
        let (mut elapsed, mut refused, mut done) = (Duration::ZERO, 0, 0);
        while done < n {
            let batch = &mut staged[..BATCH.min(n - done)];
            for token in batch.iter_mut() {
                token.clear();
                token.push_str(self.next_token());
            }
            let start = Instant::now();
            for token in batch.iter() {
                let admitted = self.admission.admit(AdmissionRequest::bearer(token)).await;
                refused += usize::from(std::hint::black_box(admitted.is_err()));
            }
            elapsed += start.elapsed();
            done += batch.len();
        }
        assert_eq!(refused, 0, "{} tenants: refused requests", self.tenants);
        elapsed.as_secs_f64() * 1e9 / n as f64
    }

    /// `n` requests through the layer; the time per request in ns. Every one
    /// must be answered 200. The requests of each batch are built before
    /// the batch is timed, as [`admit`](Self::admit) stages its tokens.
    async fn layer(&self, n: usize) -> f64 {
        let (mut elapsed, mut failed, mut done) = (Duration::ZERO, 0, 0);
        while done < n {
            let batch: Vec<_> = (0..BATCH.min(n - done))
                .map(|_| service::request(self.next_token()))
                .collect();
            done += batch.len();
            let start = Instant::now();
            for request in batch {
                let response = self.app.clone().oneshot(request).await;
                let ok = matches!(response.map(|r| r.status()), Ok(StatusCode::OK));
                failed += usize::from(!std::hint::black_box(ok));
            }
            elapsed += start.elapsed();
        }
        assert_eq!(
            failed, 0,
            "{} tenants: requests not answered 200",
            self.tenants
        );
        elapsed.as_secs_f64() * 1e9 / n as f64
    }

    /// One admission of every tenant, from empty caches; the time per request.
    async fn warm(&self) -> f64 {
        self.next.set(0);
        self.admit(self.tenants).await
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
}

/// Builds and warms every size, printing the cold pass.
fn scales(rt: &Runtime) -> Vec<Scale> {
    let scales: Vec<Scale> = sizes().into_iter().map(Scale::build).collect();
    println!("admission_scale/cold (one pass verifying every token and loading every tenant):");
    for scale in &scales {
        let ns = rt.block_on(scale.warm());
        // The periodic sweep of idle tenants' limits, which one request in
        // each period (a minute by default) makes; the state it drops comes
        // back with the tenants' next requests.
        let start = Instant::now();
        scale.admission.limits().evict_idle();
        let sweep = start.elapsed();
        println!(
            "  {:>9} tenants {ns:>9.0} ns per request; then {} tenants in the tenant cache; \
             a sweep of idle limits {:.1} ms",
            scale.tenants,
            scale.admission.cache().len(),
            sweep.as_secs_f64() * 1e3
        );
        // Sized to the tenant count, the cache holds them all: every
        // request of the timed parts is a hit.
        assert_eq!(scale.admission.cache().len(), scale.tenants);
    }
    scales
}

fn criterion_groups(c: &mut Criterion, rt: &Runtime, scales: &[Scale]) {
    for (part, through_layer) in [("admit", false), ("layer", true)] {
        let mut group = c.benchmark_group(format!("admission_scale/{part}"));
        group.measurement_time(Duration::from_secs(2));
        group.warm_up_time(Duration::from_millis(500));
        for scale in scales {
            group.bench_function(scale.tenants.to_string(), |b| {
                b.iter_custom(|iters| {
                    let n = usize::try_from(iters).unwrap_or(usize::MAX).max(1);
                    let ns = if through_layer {
                        rt.block_on(scale.layer(n))
                    } else {
                        rt.block_on(scale.admit(n))
                    };
                    Duration::from_secs_f64(ns * n as f64 / 1e9)
                });
            });
        }
        group.finish();
    }
}

/// Every size in turn, for both paths; per-round ratios to the smallest.
fn interleaved(rt: &Runtime, scales: &[Scale]) {
    const ROUNDS: usize = 9;
    const REQUESTS: usize = 100_000;
    for (part, through_layer) in [("admit", false), ("layer", true)] {
        let mut ns = vec![Vec::new(); scales.len()];
        for round in 0..ROUNDS {
            let order: Vec<usize> = if round % 2 == 0 {
                (0..scales.len()).collect()
            } else {
                (0..scales.len()).rev().collect()
            };
            for i in order {
                let scale = &scales[i];
                let t = if through_layer {
                    rt.block_on(scale.layer(REQUESTS))
                } else {
                    rt.block_on(scale.admit(REQUESTS))
                };
                ns[i].push(t);
            }
        }
        println!(
            "admission_scale/interleaved/{part} ({ROUNDS} rounds of {REQUESTS} requests per size; \
             median ns per request, median and range of the per-round ratios to {} tenants):",
            scales[0].tenants
        );
        for (scale, times) in scales.iter().zip(&ns) {
            let ratios: Vec<f64> = times.iter().zip(&ns[0]).map(|(t, b)| t / b).collect();
            let (lo, hi) = cli::range(&ratios);
            println!(
                "  {:>9} tenants {:>9.0} ns  {:.2}x ({lo:.2}..{hi:.2})",
                scale.tenants,
                cli::median(times),
                cli::median(&ratios),
            );
        }
    }
}

/// How far a memory child process builds the set-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Nothing,
    Tokens,
    Directory,
    Admission,
}

impl Stage {
    const ALL: [Stage; 4] = [
        Stage::Nothing,
        Stage::Tokens,
        Stage::Directory,
        Stage::Admission,
    ];

    fn name(self) -> &'static str {
        match self {
            Stage::Nothing => "nothing",
            Stage::Tokens => "tokens",
            Stage::Directory => "directory",
            Stage::Admission => "admission",
        }
    }
}

/// A line of `/proc/self/status` in bytes (`VmHWM`, `VmRSS`).
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix(field)?.strip_prefix(':')?;
            rest.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()
        })
        .map_or(0, |kb| kb * 1024)
}

/// In a child process: builds `tenants` up to `stage`, prints the peak RSS.
fn memory_child(spec: &str) {
    let (tenants, stage) = spec.split_once(':').expect("<tenants>:<stage>");
    let tenants: usize = tenants.parse().expect("a tenant count");
    let stage = Stage::ALL
        .into_iter()
        .find(|s| s.name() == stage)
        .expect("a stage");
    let rt = runtime();
    let tokens = if stage >= Stage::Tokens {
        tokens(tenants)
    } else {
        Vec::new()
    };
    let directory = (stage >= Stage::Directory).then(|| directory(tenants));
    match directory {
        Some(directory) if stage == Stage::Admission => {
            let scale = Scale::new(tokens, directory);
            rt.block_on(scale.warm());
            std::hint::black_box(&scale);
        }
        directory => {
            std::hint::black_box((&tokens, &directory));
        }
    }
    println!("{}", status_bytes("VmHWM"));
}

/// Peak RSS per tenant of each stage, each from processes of its own.
fn memory() {
    let exe = std::env::current_exe().expect("the bench's path");
    println!(
        "admission_scale/memory (peak RSS of a process per stage; bytes per tenant, \
         the difference to the stage before divided by the tenants):"
    );
    println!(
        "  {:>9}  {:>8}  {:>9}  {:>10}  {:>10}  {:>9}",
        "tenants", "tokens", "directory", "admission", "SDK", "peak"
    );
    for tenants in sizes() {
        let peaks: Vec<f64> = Stage::ALL
            .iter()
            .map(|stage| {
                let output = Command::new(&exe)
                    .arg("--bench")
                    .env(MEMORY_VAR, format!("{tenants}:{}", stage.name()))
                    .output()
                    .expect("a memory child process");
                let text = String::from_utf8_lossy(&output.stdout);
                text.trim()
                    .lines()
                    .last()
                    .and_then(|l| l.parse::<f64>().ok())
                    .unwrap_or_else(|| panic!("no peak from the {} stage: {text}", stage.name()))
            })
            .collect();
        let per = |to: usize| (peaks[to] - peaks[to - 1]) / tenants as f64;
        println!(
            "  {tenants:>9}  {:>8.0}  {:>9.0}  {:>10.0}  {:>10.0}  {:>9.0}",
            per(1),
            per(2),
            per(3),
            (peaks[3] - peaks[1]) / tenants as f64,
            (peaks[3] - peaks[0]) / tenants as f64,
        );
    }
}

/// `TENANCY_BENCH_SCALE_RUNS=<admit|layer>-<tenants>:<n>`: one pass over
/// every tenant, then `n` requests.
fn counted(mode: &str, n: u64) {
    let (path, tenants) = mode.split_once('-').expect("<admit|layer>-<tenants>");
    let tenants: usize = tenants.parse().expect("a tenant count");
    let rt = runtime();
    let scale = Scale::build(tenants);
    rt.block_on(scale.warm());
    let n = usize::try_from(n).expect("a request count");
    if n > 0 {
        match path {
            "admit" => rt.block_on(scale.admit(n)),
            "layer" => rt.block_on(scale.layer(n)),
            other => panic!("unknown path `{other}`"),
        };
    }
}

fn main() {
    if let Ok(spec) = std::env::var(MEMORY_VAR) {
        memory_child(&spec);
        return;
    }
    if let Some((mode, n)) = cli::counted_run(RUNS_VAR) {
        counted(&mode, n);
        return;
    }
    let rt = runtime();
    if !cli::benchmarking() {
        let scale = Scale::build(sizes()[0]);
        rt.block_on(scale.warm());
        rt.block_on(scale.layer(scale.tenants));
        println!("admission_scale: every tenant admitted (a check, not a measurement)");
        return;
    }
    let grouped = ["admission_scale/admit", "admission_scale/layer"];
    let grouped = grouped.iter().any(|part| cli::selected(part));
    if grouped || cli::selected("admission_scale/interleaved") {
        // Built once for every part that times them.
        let scales = scales(&rt);
        if grouped {
            let mut c = Criterion::default().configure_from_args();
            criterion_groups(&mut c, &rt, &scales);
        }
        if cli::selected("admission_scale/interleaved") {
            interleaved(&rt, &scales);
        }
    }
    if cli::selected("admission_scale/memory") {
        memory();
    }
    Criterion::default().configure_from_args().final_summary();
}
