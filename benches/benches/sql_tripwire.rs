//! tenancy-sql: what the leak tripwire costs a scoped read of 50 rows on
//! SQLite in memory, with the tripwire on against off in the same process.
//!
//! Two reads: one whose columns leave out the tenant column (the tripwire
//! only looks at the column names), and one that returns it (the tripwire
//! decodes and compares it in every row). Each is timed twice: as a whole
//! request (BEGIN, the SELECT, COMMIT) and as the SELECT alone inside an
//! open transaction. Criterion gives absolute times; the interleaved part
//! printed after it gives the ratios (the contenders take turns for nine
//! rounds, so a change in the machine's load hits both alike).

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "bench harness"
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tenancy_core::{PermissionSet, RoleName, SubjectId, TenantContext, TenantId};
use tenancy_sql::ddl::Ddl;
use tenancy_sql::sea_query::ColumnDef;
use tenancy_sql::{Backend, OwnerPool, Schema, Select, TenantPool, TenantTx, val};
use tokio::runtime::Runtime;
use tokio::sync::Mutex;

const ROWS: i64 = 50;

fn schema() -> Schema {
    Schema::builder()
        .tenant("leases")
        .columns(["lessee", "unit", "rent_cents"])
        .build()
        .unwrap()
}

fn ctx(t: u128) -> TenantContext {
    TenantContext::tenant(
        TenantId::from_u128(t),
        SubjectId::from_u128(1),
        RoleName::member(),
        PermissionSet::all(),
    )
}

/// The read without the tenant column.
fn read() -> Select {
    Select::from("leases").columns(["id", "lessee", "unit", "rent_cents"])
}

/// The read with it: the tripwire decodes it in every row.
fn read_with_tenant() -> Select {
    Select::from("leases").columns(["id", "tenant_id", "lessee", "unit", "rent_cents"])
}

struct Setup {
    rt: Runtime,
    on: TenantPool,
    off: TenantPool,
}

fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let schema = schema();
    let (on, off) = rt.block_on(async {
        let owner = OwnerPool::connect("sqlite::memory:").await.unwrap();
        let ddl = Ddl::new(&schema, Backend::Sqlite);
        let create = ddl
            .create_table("leases", |t| {
                t.col(ColumnDef::new("id").big_integer().not_null())
                    .col(ColumnDef::new("lessee").string_len(200).not_null())
                    .col(ColumnDef::new("unit").string_len(20).not_null())
                    .col(ColumnDef::new("rent_cents").big_integer().not_null());
            })
            .unwrap();
        owner.apply("bench schema", create).await.unwrap();
        let pool = owner.tenant_pool(schema.clone());
        // Three tenants, so the tenant predicate has rows to leave out.
        for t in 1..=3 {
            let mut tx = pool.begin(&ctx(t)).await.unwrap();
            for id in 0..ROWS {
                tx.execute(
                    tenancy_sql::Insert::into("leases")
                        .columns(["id", "lessee", "unit", "rent_cents"])
                        .exprs([
                            val(id),
                            val(format!("lessee number {id} of tenant {t}")),
                            val(format!("{id}B")),
                            val(100_000 + id),
                        ]),
                )
                .await
                .unwrap();
            }
            tx.commit().await.unwrap();
        }
        (pool.clone().with_tripwire(true), pool.with_tripwire(false))
    });
    Setup { rt, on, off }
}

/// A whole request's read: BEGIN, the SELECT, COMMIT.
fn request(rt: &Runtime, pool: &TenantPool, ctx: &TenantContext, stmt: fn() -> Select) {
    let rows = rt.block_on(async {
        let mut tx = pool.begin(ctx).await.unwrap();
        let rows = tx.fetch_all(stmt()).await.unwrap();
        tx.commit().await.unwrap();
        rows
    });
    assert_eq!(rows.len() as i64, ROWS);
    black_box(rows);
}

/// The SELECT alone, in a transaction kept open across runs.
fn select(rt: &Runtime, tx: &Mutex<TenantTx>, stmt: fn() -> Select) {
    let rows = rt.block_on(async { tx.lock().await.fetch_all(stmt()).await.unwrap() });
    assert_eq!(rows.len() as i64, ROWS);
    black_box(rows);
}

fn tripwire(c: &mut Criterion) {
    let Setup { rt, on, off } = setup();
    // Dropping a transaction hands its connection back through the runtime.
    let _runtime = rt.enter();
    let acme = ctx(1);
    if let Some(counted) = counted_run(&rt, &on, &off, &acme) {
        println!("{counted}");
        return;
    }
    for (name, stmt) in [
        ("without_tenant_column", read as fn() -> Select),
        ("with_tenant_column", read_with_tenant),
    ] {
        let group = format!("sql_tripwire_request_{name}");
        let mut g = c.benchmark_group(&group);
        g.bench_function("off", |b| b.iter(|| request(&rt, &off, &acme, stmt)));
        g.bench_function("on", |b| b.iter(|| request(&rt, &on, &acme, stmt)));
        g.finish();
        interleaved(
            &group,
            100,
            &mut [
                ("off", &mut || request(&rt, &off, &acme, stmt)),
                ("on", &mut || request(&rt, &on, &acme, stmt)),
            ],
        );
    }
    // One connection (SQLite in memory): the two open transactions take
    // turns on it, so each is opened, used and dropped in its own round.
    for (name, stmt) in [
        ("without_tenant_column", read as fn() -> Select),
        ("with_tenant_column", read_with_tenant),
    ] {
        let group = format!("sql_tripwire_select_{name}");
        let open = |pool: &TenantPool| Mutex::new(rt.block_on(pool.begin(&acme)).unwrap());
        let mut g = c.benchmark_group(&group);
        for (label, pool) in [("off", &off), ("on", &on)] {
            let tx = open(pool);
            g.bench_function(label, |b| b.iter(|| select(&rt, &tx, stmt)));
            drop(tx);
        }
        g.finish();
        interleaved_with_setup(&group, 100, &rt, &acme, [("off", &off), ("on", &on)], stmt);
    }
}

/// True when the bench runs for timing (`cargo bench`), not as a check
/// (`cargo test --benches`), and no filter excludes `group`.
fn selected(group: &str) -> bool {
    let mut args = std::env::args().skip(1);
    let timing = std::env::args().any(|a| a == "--bench");
    let filter = args.find(|a| !a.starts_with('-'));
    timing && filter.is_none_or(|f| group.contains(&f))
}

/// Many short rounds, the order of the contenders reversed every other
/// round, so a change in the machine's load hits both alike.
const ROUNDS: usize = 41;

/// Runs the contenders in turn for several rounds and prints each one's
/// median time per run and the median of its per-round time ratio to the
/// first (above 1: slower than the first).
fn interleaved(group: &str, per_round: u32, contenders: &mut [(&str, &mut dyn FnMut())]) {
    if !selected(group) {
        return;
    }
    let mut seconds = vec![Vec::with_capacity(ROUNDS); contenders.len()];
    for round in 0..ROUNDS {
        let mut this_round = vec![0.0; contenders.len()];
        for i in order(round, contenders.len()) {
            let run = &mut contenders[i].1;
            let start = std::time::Instant::now();
            for _ in 0..per_round {
                run();
            }
            this_round[i] = start.elapsed().as_secs_f64() / f64::from(per_round);
        }
        for (times, t) in seconds.iter_mut().zip(this_round) {
            times.push(t);
        }
    }
    let names: Vec<&str> = contenders.iter().map(|(n, _)| *n).collect();
    report(group, per_round, &names, &seconds);
}

/// [`interleaved`] for the SELECT alone: each round opens a transaction on
/// the contender's pool, times the runs, and drops it.
fn interleaved_with_setup(
    group: &str,
    per_round: u32,
    rt: &Runtime,
    ctx: &TenantContext,
    pools: [(&str, &TenantPool); 2],
    stmt: fn() -> Select,
) {
    if !selected(group) {
        return;
    }
    let mut seconds = vec![Vec::with_capacity(ROUNDS); pools.len()];
    for round in 0..ROUNDS {
        let mut this_round = vec![0.0; pools.len()];
        for i in order(round, pools.len()) {
            let tx = Mutex::new(rt.block_on(pools[i].1.begin(ctx)).unwrap());
            select(rt, &tx, stmt);
            let start = std::time::Instant::now();
            for _ in 0..per_round {
                select(rt, &tx, stmt);
            }
            this_round[i] = start.elapsed().as_secs_f64() / f64::from(per_round);
        }
        for (times, t) in seconds.iter_mut().zip(this_round) {
            times.push(t);
        }
    }
    let names: Vec<&str> = pools.iter().map(|(n, _)| *n).collect();
    report(group, per_round, &names, &seconds);
}

/// The contenders' order in `round`: forwards, then backwards.
fn order(round: usize, n: usize) -> Vec<usize> {
    if round.is_multiple_of(2) {
        (0..n).collect()
    } else {
        (0..n).rev().collect()
    }
}

/// With `TENANCY_BENCH_TRIPWIRE_RUNS=<on|off>:<n>[:select][:without]`, runs
/// `n` reads on one pool and nothing else, for counting instructions under
/// an instruction counter (the time of a shared machine is too noisy for a
/// difference of a few percent). By default each read is a whole request
/// (BEGIN, the SELECT with the tenant column, COMMIT); `select` runs the
/// SELECTs in one open transaction, `without` leaves the tenant column out.
///
/// ```sh
/// cargo bench -p tenancy-benches --bench sql_tripwire --no-run
/// for mode in off:0 off:200 on:0 on:200; do
///   TENANCY_BENCH_TRIPWIRE_RUNS=$mode valgrind --tool=callgrind --callgrind-out-file=/dev/null \
///     target/release/deps/sql_tripwire-<hash> --bench 2>&1 | grep Collected
/// done
/// ```
///
/// Instructions per read: (count at 200 - count at 0) / 200, per mode
/// (callgrind also prints a line for a helper process criterion starts;
/// take the larger count).
fn counted_run(
    rt: &Runtime,
    on: &TenantPool,
    off: &TenantPool,
    ctx: &TenantContext,
) -> Option<String> {
    let spec = std::env::var("TENANCY_BENCH_TRIPWIRE_RUNS").ok()?;
    let mut parts = spec.split(':');
    let mode = parts.next().unwrap_or_default();
    let n: u32 = parts
        .next()
        .and_then(|n| n.parse().ok())
        .expect("`<on|off>:<n>[:select][:without]`");
    let flags: Vec<&str> = parts.collect();
    let pool = match mode {
        "on" => on,
        "off" => off,
        _ => return Some(format!("`on` or `off`, not `{mode}`")),
    };
    let stmt = if flags.contains(&"without") {
        read as fn() -> Select
    } else {
        read_with_tenant
    };
    if flags.contains(&"select") {
        let tx = Mutex::new(rt.block_on(pool.begin(ctx)).unwrap());
        for _ in 0..n {
            select(rt, &tx, stmt);
        }
    } else {
        for _ in 0..n {
            request(rt, pool, ctx, stmt);
        }
    }
    Some(format!("ran {n} reads ({spec})"))
}

fn report(group: &str, per_round: u32, names: &[&str], seconds: &[Vec<f64>]) {
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "{group}/interleaved ({ROUNDS} rounds of {per_round} runs each; median time per run, median of the per-round time ratios to the first, their range):"
    );
    for (name, times) in names.iter().zip(seconds) {
        let ratios: Vec<f64> = seconds[0].iter().zip(times).map(|(b, t)| t / b).collect();
        let (low, high) = ratios
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), r| (l.min(*r), h.max(*r)));
        println!(
            "  {name:<10} {:>9.2} µs  {:.3}x ({low:.3}..{high:.3})",
            median(times.clone()) * 1e6,
            median(ratios),
        );
    }
}

criterion_group!(benches, tripwire);
criterion_main!(benches);
