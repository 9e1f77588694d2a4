//! Property tests against an in-memory model, on SQLite and, when configured,
//! PostgreSQL and MySQL/MariaDB: random data across 3–8 tenants, random
//! scoped statement shapes. Every result equals the model of the context's
//! tenant, and after every write the whole database equals the model, so
//! other tenants' rows are unchanged.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions"
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{TestDb, ctx};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sqlx::{Executor, Row};
use tenancy_core::TenantId;
use tenancy_sql::sea_query::Value;
use tenancy_sql::{Delete, Insert, Order, Select, Update, col, column};

const NAMES: [&str; 3] = ["alpha", "beta", "gamma"];

#[derive(Debug, Clone)]
struct TenantData {
    props: Vec<usize>,
    leases: Vec<(usize, i64)>,
    payments: Vec<(usize, i64)>,
}

#[derive(Debug, Clone)]
enum Op {
    Filter(i64),
    Either(i64, i64),
    Join,
    LeftJoin,
    InSubquery(usize),
    Cte(i64),
    Union,
    GroupBy,
    Page(u64, u64),
    Update(i64),
    Delete(i64),
    InsertSelect(i64),
}

fn tenant_data() -> impl Strategy<Value = TenantData> {
    (
        prop::collection::vec(0..3usize, 1..4),
        prop::collection::vec((0..4usize, 0..50i64), 0..5),
        prop::collection::vec((0..5usize, 0..50i64), 0..4),
    )
        .prop_map(|(props, leases, payments)| TenantData {
            props,
            leases,
            payments,
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..50i64).prop_map(Op::Filter),
        (0..50i64, 0..50i64).prop_map(|(a, b)| Op::Either(a, b)),
        Just(Op::Join),
        Just(Op::LeftJoin),
        (0..3usize).prop_map(Op::InSubquery),
        (0..50i64).prop_map(Op::Cte),
        Just(Op::Union),
        Just(Op::GroupBy),
        (1..4u64, 0..3u64).prop_map(|(l, o)| Op::Page(l, o)),
        (1..5i64).prop_map(Op::Update),
        (0..50i64).prop_map(Op::Delete),
        (0..50i64).prop_map(Op::InsertSelect),
    ]
}

fn case() -> impl Strategy<Value = (Vec<TenantData>, Vec<(usize, Op)>)> {
    (
        prop::collection::vec(tenant_data(), 3..=8),
        prop::collection::vec((0..8usize, op()), 1..8),
    )
}

type Key = (String, i64);

/// The database as the model sees it.
#[derive(Debug, Default, PartialEq, Eq, Clone)]
struct Model {
    props: BTreeMap<Key, String>,
    leases: BTreeMap<Key, (i64, i64)>,
    payments: BTreeMap<Key, (i64, i64)>,
}

fn tid(t: usize) -> String {
    TenantId::from_u128(t as u128 + 1).to_string()
}

impl Model {
    fn of<'a, V>(map: &'a BTreeMap<Key, V>, t: &'a str) -> impl Iterator<Item = (i64, &'a V)> + 'a {
        map.iter()
            .filter(move |((tt, _), _)| tt == t)
            .map(|((_, id), v)| (*id, v))
    }
}

async fn snapshot(db: &TestDb) -> Model {
    let mut m = Model::default();
    for r in db
        .admin
        .fetch_all("SELECT tenant_id, id, name FROM properties")
        .await
        .unwrap()
    {
        m.props.insert(
            (r.try_get(0).unwrap(), r.try_get(1).unwrap()),
            r.try_get(2).unwrap(),
        );
    }
    for r in db
        .admin
        .fetch_all("SELECT tenant_id, id, property_id, rent_cents FROM leases")
        .await
        .unwrap()
    {
        m.leases.insert(
            (r.try_get(0).unwrap(), r.try_get(1).unwrap()),
            (r.try_get(2).unwrap(), r.try_get(3).unwrap()),
        );
    }
    for r in db
        .admin
        .fetch_all("SELECT tenant_id, id, lease_id, amount_cents FROM payments")
        .await
        .unwrap()
    {
        m.payments.insert(
            (r.try_get(0).unwrap(), r.try_get(1).unwrap()),
            (r.try_get(2).unwrap(), r.try_get(3).unwrap()),
        );
    }
    m
}

async fn load(db: &TestDb, tenants: &[TenantData]) -> Model {
    for table in ["payments", "leases", "properties"] {
        db.admin
            .execute(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
            .await
            .unwrap();
    }
    let mut m = Model::default();
    for (t, data) in tenants.iter().enumerate() {
        let mut tx = db.pool.begin(&ctx(t as u128 + 1)).await.unwrap();
        for (i, name) in data.props.iter().enumerate() {
            let id = i as i64 + 1;
            tx.execute(
                Insert::into("properties")
                    .columns(["id", "name", "address"])
                    .values([
                        Value::from(id),
                        format!("{}-{id}", NAMES[*name]).into(),
                        "x".into(),
                    ]),
            )
            .await
            .unwrap();
            m.props
                .insert((tid(t), id), format!("{}-{id}", NAMES[*name]));
        }
        for (i, (pick, rent)) in data.leases.iter().enumerate() {
            let id = i as i64 + 1;
            let property = (*pick % data.props.len()) as i64 + 1;
            tx.execute(
                Insert::into("leases")
                    .columns(["id", "property_id", "lessee", "rent_cents"])
                    .values([
                        Value::from(id),
                        Value::from(property),
                        "l".into(),
                        Value::from(*rent),
                    ]),
            )
            .await
            .unwrap();
            m.leases.insert((tid(t), id), (property, *rent));
        }
        if !data.leases.is_empty() {
            for (i, (pick, amount)) in data.payments.iter().enumerate() {
                let id = i as i64 + 1;
                let lease = (*pick % data.leases.len()) as i64 + 1;
                tx.execute(
                    Insert::into("payments")
                        .columns(["id", "lease_id", "amount_cents"])
                        .values([Value::from(id), Value::from(lease), Value::from(*amount)]),
                )
                .await
                .unwrap();
                m.payments.insert((tid(t), id), (lease, *amount));
            }
        }
        tx.commit().await.unwrap();
    }
    m
}

fn ints(rows: &[tenancy_sql::DbRow], n: usize) -> Vec<Vec<i64>> {
    rows.iter()
        .map(|r| (0..n).map(|i| r.try_get::<i64, _>(i).unwrap()).collect())
        .collect()
}

async fn apply(db: &TestDb, m: &mut Model, t: usize, op: &Op, step: i64) {
    let tt = tid(t);
    let mut tx = db.pool.begin(&ctx(t as u128 + 1)).await.unwrap();
    match op {
        Op::Filter(k) => {
            let rows = tx
                .fetch_all(
                    Select::from("leases")
                        .column("id")
                        .column("rent_cents")
                        .filter(col("leases", "rent_cents").gt(*k))
                        .order_by(col("leases", "id"), Order::Asc),
                )
                .await
                .unwrap();
            let want: Vec<Vec<i64>> = Model::of(&m.leases, &tt)
                .filter(|(_, (_, r))| r > k)
                .map(|(id, (_, r))| vec![id, *r])
                .collect();
            assert_eq!(ints(&rows, 2), want);
        }
        Op::Either(a, b) => {
            // OR and NOT stay inside the tenant predicate.
            let rows = tx
                .fetch_all(
                    Select::from("leases")
                        .column("id")
                        .filter(
                            col("leases", "rent_cents")
                                .lt(*a)
                                .or(col("leases", "rent_cents").lte(*b).not()),
                        )
                        .order_by(col("leases", "id"), Order::Asc),
                )
                .await
                .unwrap();
            let want: Vec<Vec<i64>> = Model::of(&m.leases, &tt)
                .filter(|(_, (_, r))| r < a || r > b)
                .map(|(id, _)| vec![id])
                .collect();
            assert_eq!(ints(&rows, 1), want);
        }
        Op::Join => {
            let rows = tx
                .fetch_all(
                    Select::from("leases")
                        .column_of("leases", "id")
                        .column_of("properties", "name")
                        .inner_join(
                            "properties",
                            col("properties", "id").eq(col("leases", "property_id")),
                        )
                        .order_by(col("leases", "id"), Order::Asc),
                )
                .await
                .unwrap();
            let got: Vec<(i64, String)> = rows
                .iter()
                .map(|r| (r.try_get(0).unwrap(), r.try_get(1).unwrap()))
                .collect();
            let want: Vec<(i64, String)> = Model::of(&m.leases, &tt)
                .map(|(id, (p, _))| (id, m.props[&(tt.clone(), *p)].clone()))
                .collect();
            assert_eq!(got, want);
        }
        Op::LeftJoin => {
            let rows = tx
                .fetch_all(
                    Select::from("properties")
                        .column_of("properties", "id")
                        .column_of("leases", "id")
                        .left_join(
                            "leases",
                            col("leases", "property_id").eq(col("properties", "id")),
                        )
                        .order_by(col("properties", "id"), Order::Asc)
                        .order_by(col("leases", "id"), Order::Asc),
                )
                .await
                .unwrap();
            let mut got: Vec<(i64, Option<i64>)> = rows
                .iter()
                .map(|r| (r.try_get(0).unwrap(), r.try_get(1).unwrap()))
                .collect();
            got.sort();
            let mut want = Vec::new();
            for (pid, _) in Model::of(&m.props, &tt) {
                let ls: Vec<i64> = Model::of(&m.leases, &tt)
                    .filter(|(_, (p, _))| *p == pid)
                    .map(|(id, _)| id)
                    .collect();
                if ls.is_empty() {
                    want.push((pid, None));
                }
                want.extend(ls.into_iter().map(|l| (pid, Some(l))));
            }
            want.sort();
            assert_eq!(got, want);
        }
        Op::InSubquery(name) => {
            let rows = tx
                .fetch_all(
                    Select::from("leases")
                        .column("id")
                        .filter_in(
                            col("leases", "property_id"),
                            Select::from("properties").column("id").filter(
                                col("properties", "name").like(format!("{}-%", NAMES[*name])),
                            ),
                        )
                        .order_by(col("leases", "id"), Order::Asc),
                )
                .await
                .unwrap();
            let want: Vec<Vec<i64>> = Model::of(&m.leases, &tt)
                .filter(|(_, (p, _))| m.props[&(tt.clone(), *p)].starts_with(NAMES[*name]))
                .map(|(id, _)| vec![id])
                .collect();
            assert_eq!(ints(&rows, 1), want);
        }
        Op::Cte(k) => {
            let rows = tx
                .fetch_all(
                    Select::from("big")
                        .column("id")
                        .with_cte(
                            "big",
                            Select::from("leases")
                                .column("id")
                                .filter(col("leases", "rent_cents").gte(*k)),
                        )
                        .order_by(column("id"), Order::Asc),
                )
                .await
                .unwrap();
            let want: Vec<Vec<i64>> = Model::of(&m.leases, &tt)
                .filter(|(_, (_, r))| r >= k)
                .map(|(id, _)| vec![id])
                .collect();
            assert_eq!(ints(&rows, 1), want);
        }
        Op::Union => {
            let rows = tx
                .fetch_all(
                    Select::from("properties")
                        .column("id")
                        .union(Select::from("payments").column("id")),
                )
                .await
                .unwrap();
            let got: BTreeSet<i64> = ints(&rows, 1).into_iter().map(|v| v[0]).collect();
            assert_eq!(got.len(), rows.len(), "UNION returns distinct rows");
            let want: BTreeSet<i64> = Model::of(&m.props, &tt)
                .map(|(id, _)| id)
                .chain(Model::of(&m.payments, &tt).map(|(id, _)| id))
                .collect();
            assert_eq!(got, want);
        }
        Op::GroupBy => {
            let rows = tx
                .fetch_all(
                    Select::from("leases")
                        .column("property_id")
                        .expr(column("id").count())
                        .group_by(col("leases", "property_id"))
                        .order_by(col("leases", "property_id"), Order::Asc),
                )
                .await
                .unwrap();
            let mut want: BTreeMap<i64, i64> = BTreeMap::new();
            for (_, (p, _)) in Model::of(&m.leases, &tt) {
                *want.entry(*p).or_default() += 1;
            }
            let want: Vec<Vec<i64>> = want.into_iter().map(|(p, n)| vec![p, n]).collect();
            assert_eq!(ints(&rows, 2), want);
        }
        Op::Page(limit, offset) => {
            let rows = tx
                .fetch_all(
                    Select::from("leases")
                        .column("id")
                        .order_by(col("leases", "id"), Order::Asc)
                        .limit(*limit)
                        .offset(*offset),
                )
                .await
                .unwrap();
            let want: Vec<Vec<i64>> = Model::of(&m.leases, &tt)
                .skip(*offset as usize)
                .take(*limit as usize)
                .map(|(id, _)| vec![id])
                .collect();
            assert_eq!(ints(&rows, 1), want);
        }
        Op::Update(id) => {
            let n = tx
                .execute(
                    Update::table("leases")
                        .set("rent_cents", col("leases", "rent_cents").add(1))
                        .filter(col("leases", "id").eq(*id)),
                )
                .await
                .unwrap();
            let hit = m.leases.get_mut(&(tt.clone(), *id));
            assert_eq!(n, u64::from(hit.is_some()));
            if let Some((_, r)) = hit {
                *r += 1;
            }
        }
        Op::Delete(k) => {
            let n = tx
                .execute(Delete::from("payments").filter(col("payments", "amount_cents").lt(*k)))
                .await
                .unwrap();
            let before = m.payments.len();
            m.payments.retain(|(t2, _), (_, a)| !(t2 == &tt && *a < *k));
            assert_eq!(n as usize, before - m.payments.len());
        }
        Op::InsertSelect(k) => {
            let offset = 1000 * step;
            let n = tx
                .execute(
                    Insert::into("payments")
                        .columns(["id", "lease_id", "amount_cents"])
                        .select_from(
                            Select::from("leases")
                                .expr(col("leases", "id").add(offset))
                                .column("id")
                                .column("rent_cents")
                                .filter(col("leases", "rent_cents").gt(*k)),
                        ),
                )
                .await
                .unwrap();
            let new: Vec<(i64, i64, i64)> = Model::of(&m.leases, &tt)
                .filter(|(_, (_, r))| r > k)
                .map(|(id, (_, r))| (id + offset, id, *r))
                .collect();
            assert_eq!(n as usize, new.len());
            for (id, lease, amount) in new {
                m.payments.insert((tt.clone(), id), (lease, amount));
            }
        }
    }
    tx.commit().await.unwrap();
}

async fn run_case(db: &TestDb, tenants: &[TenantData], ops: &[(usize, Op)]) {
    let mut model = load(db, tenants).await;
    assert_eq!(snapshot(db).await, model);
    for (step, (t, op)) in ops.iter().enumerate() {
        apply(db, &mut model, t % tenants.len(), op, step as i64 + 1).await;
        // Every tenant's rows, the acting one's and all others', match the model.
        assert_eq!(snapshot(db).await, model, "after {op:?}");
    }
}

fn check_backend(db: TestDb, cases: u32, rt: &tokio::runtime::Runtime) {
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&case(), |(tenants, ops)| {
        rt.block_on(run_case(&db, &tenants, &ops));
        Ok(())
    });
    rt.block_on(db.cleanup());
    if let Err(e) = result {
        panic!("{e}");
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn scoped_statements_match_the_model_on_sqlite() {
    let rt = runtime();
    let db = rt.block_on(common::sqlite(&common::schema()));
    check_backend(db, 24, &rt);
}

#[test]
fn scoped_statements_match_the_model_on_postgres() {
    let rt = runtime();
    let Some(db) = rt.block_on(common::postgres(&common::schema())) else {
        return;
    };
    check_backend(db, 12, &rt);
}

#[test]
fn scoped_statements_match_the_model_on_mysql() {
    let rt = runtime();
    let Some(db) = rt.block_on(common::mysql(&common::schema())) else {
        return;
    };
    check_backend(db, 12, &rt);
}
