//! tenancy-sql: the cost of scoping, of re-binding a prepared statement, and
//! of a tenant-bound PostgreSQL transaction, each next to its baseline in the
//! same run.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "bench harness"
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tenancy_core::{PermissionSet, RoleName, SubjectId, TenantContext, TenantId};
use tenancy_sql::sea_query::{
    self, Alias, Condition, ExprTrait, JoinType, PostgresQueryBuilder, Query,
};
use tenancy_sql::{Backend, Schema, Select, Statement, col};

fn schema() -> Schema {
    Schema::builder()
        .tenant("owners")
        .columns(["name"])
        .tenant("properties")
        .references("owner_id", "owners")
        .columns(["name"])
        .tenant("leases")
        .references("property_id", "properties")
        .columns(["lessee", "rent_cents"])
        .tenant("payments")
        .references("lease_id", "leases")
        .columns(["amount_cents"])
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

fn scoped_three_joins() -> Select {
    Select::from("leases")
        .column_of("leases", "id")
        .column_of("leases", "lessee")
        .column_of("properties", "name")
        .column_of("payments", "amount_cents")
        .column_of("owners", "name")
        .inner_join(
            "properties",
            col("properties", "id").eq(col("leases", "property_id")),
        )
        .inner_join(
            "payments",
            col("payments", "lease_id").eq(col("leases", "id")),
        )
        .inner_join(
            "owners",
            col("owners", "id").eq(col("properties", "owner_id")),
        )
        .filter(col("leases", "rent_cents").gt(1000))
        .filter(col("leases", "lessee").like("a%"))
        .filter(col("payments", "amount_cents").lt(5000))
}

/// A sea-query column as the baseline has always built it (owned names, as
/// tenancy-sql's `col` did before it had expressions of its own).
fn sq_col(table: &str, column: &str) -> sea_query::Expr {
    sea_query::Expr::col((table.to_owned(), column.to_owned()))
}

/// The same statement written by hand in sea-query, tenant conditions included.
fn by_hand(tenant: &str) -> (String, sea_query::Values) {
    let t = |table: &'static str| {
        sea_query::Expr::col((Alias::new(table), Alias::new("tenant_id"))).eq(tenant)
    };
    Query::select()
        .column((Alias::new("leases"), Alias::new("id")))
        .column((Alias::new("leases"), Alias::new("lessee")))
        .column((Alias::new("properties"), Alias::new("name")))
        .column((Alias::new("payments"), Alias::new("amount_cents")))
        .column((Alias::new("owners"), Alias::new("name")))
        .from(Alias::new("leases"))
        .join(
            JoinType::InnerJoin,
            Alias::new("properties"),
            Condition::all()
                .add(t("properties"))
                .add(sq_col("properties", "id").equals(("leases", "property_id"))),
        )
        .join(
            JoinType::InnerJoin,
            Alias::new("payments"),
            Condition::all()
                .add(t("payments"))
                .add(sq_col("payments", "lease_id").equals(("leases", "id"))),
        )
        .join(
            JoinType::InnerJoin,
            Alias::new("owners"),
            Condition::all()
                .add(t("owners"))
                .add(sq_col("owners", "id").equals(("properties", "owner_id"))),
        )
        .cond_where(
            Condition::all()
                .add(t("leases"))
                .add(sq_col("leases", "rent_cents").gt(1000))
                .add(sq_col("leases", "lessee").like("a%"))
                .add(sq_col("payments", "amount_cents").lt(5000)),
        )
        .build(PostgresQueryBuilder)
}

fn building(c: &mut Criterion) {
    let schema = schema();
    let acme = ctx(1);
    let tenant = TenantId::from_u128(1).to_string();
    if let Some(counted) = counted_run(&schema, &acme, &tenant) {
        println!("{counted}");
        return;
    }
    let mut g = c.benchmark_group("sql_select_three_joins");
    g.bench_function("hand_written_sea_query", |b| {
        b.iter(|| black_box(by_hand(black_box(&tenant))))
    });
    g.bench_function("scoped", |b| {
        b.iter(|| {
            black_box(
                scoped_three_joins()
                    .prepare_owned(&schema, Backend::Postgres, black_box(&acme))
                    .unwrap(),
            )
        })
    });
    g.finish();
    interleaved(
        "sql_select_three_joins",
        20_000,
        &mut [
            ("hand_written_sea_query", &mut || {
                drop(black_box(by_hand(black_box(&tenant))))
            }),
            ("scoped", &mut || {
                drop(black_box(
                    scoped_three_joins()
                        .prepare_owned(&schema, Backend::Postgres, black_box(&acme))
                        .unwrap(),
                ))
            }),
        ],
    );

    let globex = ctx(2);
    let prepared = scoped_three_joins()
        .prepare(&schema, Backend::Postgres, &acme)
        .unwrap();
    let mut g = c.benchmark_group("sql_prepared_for_another_tenant");
    g.bench_function("rebuild", |b| {
        b.iter(|| {
            black_box(
                scoped_three_joins()
                    .prepare_owned(&schema, Backend::Postgres, black_box(&globex))
                    .unwrap(),
            )
        })
    });
    g.bench_function("rebind", |b| {
        b.iter(|| black_box(prepared.rebind(black_box(&globex)).unwrap()))
    });
    g.finish();
}

/// The value of `TENANCY_BENCH_SCOPING_RUNS`, when set.
fn counted_spec() -> Option<String> {
    std::env::var("TENANCY_BENCH_SCOPING_RUNS")
        .ok()
        .filter(|s| !s.is_empty())
}

/// With `TENANCY_BENCH_SCOPING_RUNS=<scoped|by_hand>:<n>`, builds the
/// three-join statement `n` times, scoped or by hand, and nothing else (no
/// criterion group, no PostgreSQL part), for counting instructions under an
/// instruction counter: the time of a shared machine is too noisy for a
/// difference of a few percent.
///
/// ```sh
/// cargo bench -p tenancy-benches --bench sql_scoping --no-run
/// for mode in scoped:1000 scoped:2000 by_hand:1000 by_hand:2000; do
///   TENANCY_BENCH_SCOPING_RUNS=$mode valgrind --tool=callgrind --callgrind-out-file=/dev/null \
///     target/release/deps/sql_scoping-<hash> --bench 2>&1 | grep Collected
/// done
/// ```
///
/// Instructions per statement: (count at 2000 - count at 1000) / 1000, per
/// mode, so start-up and the first run's one-time costs cancel out
/// (callgrind may also print a line for a helper process criterion starts;
/// take the larger count).
fn counted_run(schema: &Schema, acme: &TenantContext, tenant: &str) -> Option<String> {
    let spec = counted_spec()?;
    let (mode, n) = spec
        .split_once(':')
        .and_then(|(m, n)| Some((m, n.parse::<u32>().ok()?)))
        .expect("`<scoped|by_hand>:<n>`");
    match mode {
        "scoped" => {
            for _ in 0..n {
                drop(black_box(
                    scoped_three_joins()
                        .prepare_owned(schema, Backend::Postgres, black_box(acme))
                        .unwrap(),
                ));
            }
        }
        "by_hand" => {
            for _ in 0..n {
                drop(black_box(by_hand(black_box(tenant))));
            }
        }
        _ => return Some(format!("`scoped` or `by_hand`, not `{mode}`")),
    }
    Some(format!("ran {n} statements ({spec})"))
}

/// True when the bench runs for timing (`cargo bench`), not as a check
/// (`cargo test --benches`), and no filter excludes `group`.
fn selected(group: &str) -> bool {
    let mut args = std::env::args().skip(1);
    let timing = std::env::args().any(|a| a == "--bench");
    let filter = args.find(|a| !a.starts_with('-'));
    timing && filter.is_none_or(|f| group.contains(&f))
}

/// Runs the contenders in turn for several rounds (so a change in the
/// machine's load hits all alike) and prints each one's median time per run
/// and the median of its per-round throughput ratio to the first.
fn interleaved(group: &str, per_round: u32, contenders: &mut [(&str, &mut dyn FnMut())]) {
    const ROUNDS: usize = 9;
    if !selected(group) {
        return;
    }
    let mut seconds = vec![Vec::with_capacity(ROUNDS); contenders.len()];
    for _ in 0..ROUNDS {
        for ((_, run), times) in contenders.iter_mut().zip(&mut seconds) {
            let start = std::time::Instant::now();
            for _ in 0..per_round {
                run();
            }
            times.push(start.elapsed().as_secs_f64() / f64::from(per_round));
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "{group}/interleaved ({ROUNDS} rounds of {per_round} runs each; median time per run, median of the per-round throughput ratios to the first, their range):"
    );
    for ((name, _), times) in contenders.iter().zip(&seconds) {
        let ratios: Vec<f64> = seconds[0].iter().zip(times).map(|(b, t)| b / t).collect();
        let (low, high) = ratios
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), r| (l.min(*r), h.max(*r)));
        println!(
            "  {name:<42} {:>9.2} µs  {:.2}x ({low:.2}..{high:.2})",
            median(times.clone()) * 1e6,
            median(ratios),
        );
    }
}

#[path = "support/pg_wire.rs"]
mod pg_wire;

mod postgres {
    use super::*;
    use sqlx::any::AnyPoolOptions;
    use sqlx::{Executor, Row};
    use tenancy_sql::TenantPool;
    use tenancy_sql::ddl::Ddl;
    use tenancy_sql::sea_query::ColumnDef;

    pub(super) struct Setup {
        pub(super) rt: tokio::runtime::Runtime,
        pub(super) app: TenantPool,
        pub(super) owner: sqlx::AnyPool,
        root: sqlx::AnyPool,
        name: String,
        role: String,
    }

    fn with_user_and_db(url: &str, user: Option<&str>, db: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap();
        let (auth, hostpath) = rest
            .split_once('@')
            .map_or((None, rest), |(a, h)| (Some(a), h));
        let host = hostpath.split(['/', '?']).next().unwrap();
        let auth = user.or(auth).map(|u| format!("{u}@")).unwrap_or_default();
        format!("{scheme}://{auth}{host}/{db}")
    }

    pub(super) fn setup() -> Option<Setup> {
        let url = std::env::var("TENANCY_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let name = format!("tenancy_bench_{}", std::process::id());
        let role = format!("tenancy_bench_app_{}", std::process::id());
        let schema = Schema::builder()
            .tenant("leases")
            .columns(["lessee"])
            .build()
            .unwrap();
        let (app, owner, root) = rt.block_on(async {
            sqlx::any::install_default_drivers();
            let root = AnyPoolOptions::new().max_connections(1).connect(&url).await.unwrap();
            root.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).await.unwrap();
            let owner = AnyPoolOptions::new()
                .max_connections(4)
                .connect(&with_user_and_db(&url, None, &name))
                .await
                .unwrap();
            let ddl = Ddl::new(&schema, Backend::Postgres);
            let mut sql = ddl
                .create_table("leases", |t| {
                    t.col(ColumnDef::new("id").big_integer().not_null())
                        .col(ColumnDef::new("lessee").text().not_null());
                })
                .unwrap();
            sql.extend(ddl.app_role(&role, None, "public"));
            sql.push(format!("GRANT CONNECT ON DATABASE \"{name}\" TO \"{role}\""));
            for s in sql {
                owner.execute(sqlx::AssertSqlSafe(s.as_str())).await.unwrap();
            }
            for t in 1..=20u128 {
                let tenant = TenantId::from_u128(t);
                for id in 1..=10 {
                    owner
                        .execute(sqlx::AssertSqlSafe(format!("INSERT INTO leases (tenant_id, id, lessee) VALUES ('{tenant}', {id}, 'l{id}')")))
                        .await
                        .unwrap();
                }
            }
            let app = TenantPool::connect_with(
                &with_user_and_db(&url, Some(&role), &name),
                schema,
                &tenancy_sql::PoolSettings::default().max_connections(4),
            )
            .await
            .unwrap();
            (app, owner, root)
        });
        Some(Setup {
            rt,
            app,
            owner,
            root,
            name,
            role,
        })
    }

    impl Setup {
        pub(super) fn teardown(self) {
            let Setup {
                rt,
                app,
                owner,
                root,
                name,
                role,
            } = self;
            rt.block_on(async {
                app.close().await;
                owner.close().await;
                root.execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE \"{name}\" WITH (FORCE)"
                )))
                .await
                .unwrap();
                root.execute(sqlx::AssertSqlSafe(format!("DROP ROLE \"{role}\"")))
                    .await
                    .unwrap();
            });
        }
    }

    pub(super) fn bench(c: &mut Criterion) {
        if counted_spec().is_some() {
            return;
        }
        let Some(s) = setup() else {
            println!("skipped: TENANCY_TEST_POSTGRES_URL is not set");
            return;
        };
        let acme = ctx(3);
        let tenant = TenantId::from_u128(3).to_string();
        let literal =
            format!("SELECT id, lessee FROM leases WHERE tenant_id = '{tenant}' AND id = $1");
        let q = Select::from("leases")
            .column("id")
            .column("lessee")
            .filter(col("leases", "id").eq(5_i64));
        let mut literal_no_transaction = || {
            s.rt.block_on(async {
                let rows = sqlx::query(sqlx::AssertSqlSafe(literal.as_str()))
                    .bind(5_i64)
                    .fetch_all(&s.owner)
                    .await
                    .unwrap();
                assert_eq!(rows[0].try_get::<i64, _>(0).unwrap(), 5);
            })
        };
        let mut bound_commit = || {
            s.rt.block_on(async {
                let mut tx = s.app.begin(&acme).await.unwrap();
                let rows = tx.fetch_all(&q).await.unwrap();
                assert_eq!(rows[0].try_get::<i64, _>(0).unwrap(), 5);
                tx.commit().await.unwrap();
            })
        };
        let mut bound_read_then_drop = || {
            s.rt.block_on(async {
                let mut tx = s.app.begin(&acme).await.unwrap();
                let rows = tx.fetch_all(&q).await.unwrap();
                assert_eq!(rows[0].try_get::<i64, _>(0).unwrap(), 5);
            })
        };
        let mut g = c.benchmark_group("sql_postgres_one_query");
        g.bench_function("literal_tenant_no_transaction", |b| {
            b.iter(&mut literal_no_transaction)
        });
        g.bench_function("tenant_bound_transaction_commit", |b| {
            b.iter(&mut bound_commit)
        });
        g.bench_function("tenant_bound_transaction_read_then_drop", |b| {
            b.iter(&mut bound_read_then_drop)
        });
        g.finish();
        interleaved(
            "sql_postgres_one_query",
            500,
            &mut [
                ("literal_tenant_no_transaction", &mut literal_no_transaction),
                ("tenant_bound_transaction_commit", &mut bound_commit),
                (
                    "tenant_bound_transaction_read_then_drop",
                    &mut bound_read_then_drop,
                ),
            ],
        );
        wire_floor(c, &s);
        s.teardown();
    }

    /// The same request in raw protocol messages, so that no driver's cost
    /// hides what binding the tenant per transaction costs the server.
    fn wire_floor(c: &mut Criterion, s: &Setup) {
        use super::pg_wire::{Shape, WireConn};
        use sqlx::postgres::PgConnectOptions;

        let url = std::env::var("TENANCY_TEST_POSTGRES_URL").unwrap();
        let options: PgConnectOptions = url.parse().unwrap();
        let (host, port) = (options.get_host(), options.get_port());
        let tenant = TenantId::from_u128(3).to_string();
        let connect = |user: &str| WireConn::connect(host, port, user, &s.name);
        let (mut owner, mut app) = match (connect(options.get_username()), connect(&s.role)) {
            (Ok(owner), Ok(app)) => (owner, app),
            (Err(e), _) | (_, Err(e)) => {
                println!("skipped sql_postgres_wire_floor: {e}");
                return;
            }
        };
        let literal =
            format!("SELECT id, lessee FROM leases WHERE tenant_id = '{tenant}' AND id = $1");
        owner.prepare(&[("literal", literal.as_str())]).unwrap();
        let set_tenant = format!("SELECT set_config('{}', $1, true)", s.app.tenant_setting());
        app.prepare(&[
            ("set_tenant", set_tenant.as_str()),
            (
                "scoped",
                "SELECT id, lessee FROM leases WHERE tenant_id = $1 AND id = $2",
            ),
            ("begin", "BEGIN"),
            ("commit", "COMMIT"),
        ])
        .unwrap();

        // The shapes are sound before they are timed: the binding reaches
        // the query (RLS shows the row) and is gone after the Sync.
        let key = "5";
        assert_eq!(
            owner
                .request(Shape::Literal, &tenant, key)
                .unwrap()
                .first_columns,
            [key]
        );
        for (_, shape) in BOUND_SHAPES {
            let reply = app.request(shape, &tenant, key).unwrap();
            assert_eq!(reply.first_columns, [tenant.as_str(), key], "{shape:?}");
            let after = app.simple("SELECT count(*) FROM leases").unwrap();
            assert_eq!(
                after.first_columns,
                ["0"],
                "{shape:?} left the tenant bound"
            );
        }

        let app = std::cell::RefCell::new(app);
        let mut g = c.benchmark_group("sql_postgres_wire_floor");
        g.bench_function("literal_tenant_no_transaction", |b| {
            b.iter(|| black_box(owner.request(Shape::Literal, &tenant, key).unwrap()))
        });
        for (name, shape) in BOUND_SHAPES {
            g.bench_function(name, |b| {
                b.iter(|| black_box(app.borrow_mut().request(shape, &tenant, key).unwrap()))
            });
        }
        g.finish();

        let mut literal = || {
            drop(black_box(
                owner.request(Shape::Literal, &tenant, key).unwrap(),
            ))
        };
        let mut bound: Vec<_> = BOUND_SHAPES
            .iter()
            .map(|&(_, shape)| {
                let app = &app;
                let tenant = &tenant;
                move || {
                    drop(black_box(
                        app.borrow_mut().request(shape, tenant, key).unwrap(),
                    ))
                }
            })
            .collect();
        let mut contenders: Vec<(&str, &mut dyn FnMut())> =
            vec![("literal_tenant_no_transaction", &mut literal)];
        for ((name, _), run) in BOUND_SHAPES.iter().zip(bound.iter_mut()) {
            contenders.push((name, run));
        }
        interleaved("sql_postgres_wire_floor", 2_000, &mut contenders);
    }

    const BOUND_SHAPES: [(&str, super::pg_wire::Shape); 3] = [
        (
            "set_config_and_query_one_sync",
            super::pg_wire::Shape::ImplicitTransaction,
        ),
        (
            "begin_set_config_query_commit_one_sync",
            super::pg_wire::Shape::BeginCommitOneSync,
        ),
        (
            "begin_set_config_query_commit_sync_each",
            super::pg_wire::Shape::BeginCommitSyncEach,
        ),
    ];
}

criterion_group!(benches, building, postgres::bench);
criterion_main!(benches);
