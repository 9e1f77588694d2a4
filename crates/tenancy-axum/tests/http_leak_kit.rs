//! The HTTP leak check (feature `testing`) against a small leases service on
//! SQLite: the correct service passes with every case of every route tried,
//! and each leak planted on purpose is caught, named by its route and id.

#![cfg(all(feature = "testing", feature = "sql"))]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "helpers fail the test loudly"
)]

mod common;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::{AnyPool, Row};
use tenancy_auth::testing::TokenKit;
use tenancy_auth::{CachedValidator, Validator};
use tenancy_axum::input::{Json, Path, Query};
use tenancy_axum::problem::types;
use tenancy_axum::sql::{Tx, TxLayer};
use tenancy_axum::testing::{Case, Finding, HttpLeakCheck, LeakFailures, Part, Report, Route};
use tenancy_axum::{
    MemoryDirectory, Problem, Require, TenancyLayer, Tenant, TenantRecord, permission,
};
use tenancy_core::*;
use tenancy_sql::DbRow;
use tenancy_sql::sea_query::{ColumnDef, Value as SqlValue};
use tenancy_sql::{Backend, Insert, OwnerPool, Schema, Select, Update, column, ddl::Ddl};

permission! {
    PropertiesRead = "properties:read";
    PropertiesWrite = "properties:write";
    LeasesRead = "leases:read";
    LeasesWrite = "leases:write";
    LeasesDelete = "leases:delete";
}

/// The leak planted in the service, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plant {
    Nothing,
    /// `GET /properties/{property}` reads through a pool of its own, by id
    /// alone.
    RawRead,
    /// `GET /leases/{lease}` answers 403 for another tenant's lease, 404 for
    /// no lease at all.
    ForbiddenForeign,
    /// `GET /leases?property=…` names every tenant that has a lease.
    NamesTenants,
    /// `PATCH /leases/{lease}` updates through a pool of its own, by id
    /// alone.
    RawPatch,
    /// `DELETE /leases/{lease}` does not require `leases:delete`.
    NoPermission,
    /// `GET /properties/{property}` answers 200 `{}` for an id it does not
    /// find, whether it exists elsewhere or nowhere.
    EmptyOk,
    /// The validator accepts tokens living two days and of 64 KiB.
    LaxValidator,
}

#[derive(Clone)]
struct App {
    /// A pool the test builds from the database URL, outside the SDK; only
    /// the planted handlers use it.
    raw: AnyPool,
    backend: Backend,
    next_property: Arc<AtomicU64>,
    /// Lease ids count per tenant, so `a` and `b` both have lease 1.
    next_lease: Arc<Mutex<HashMap<TenantId, i64>>>,
}

impl App {
    /// `sql` with `?` parameters in the backend's own spelling.
    fn sql(&self, sql: &str) -> String {
        raw_sql(self.backend, sql)
    }
}

fn raw_sql(backend: Backend, sql: &str) -> String {
    if backend != Backend::Postgres {
        return sql.to_owned();
    }
    let mut n = 0;
    sql.chars()
        .map(|c| match c {
            '?' => {
                n += 1;
                format!("${n}")
            }
            c => c.to_string(),
        })
        .collect()
}

#[derive(Deserialize)]
struct NewProperty {
    name: String,
}

#[derive(Deserialize)]
struct NewLease {
    property_id: String,
    rent: i64,
}

#[derive(Deserialize)]
struct RentChange {
    rent: i64,
}

#[derive(Deserialize)]
struct ByProperty {
    property: String,
}

type Reply = Result<axum::Json<Value>, Problem>;

fn property_json(row: &DbRow) -> Value {
    json!({
        "id": row.try_get::<String, _>("id").unwrap(),
        "name": row.try_get::<String, _>("name").unwrap(),
    })
}

fn lease_json(row: &DbRow) -> Value {
    json!({
        "id": row.try_get::<i64, _>("id").unwrap(),
        "property_id": row.try_get::<String, _>("property_id").unwrap(),
        "rent": row.try_get::<i64, _>("rent").unwrap(),
    })
}

fn lease_select() -> Select {
    Select::from("leases").columns(["id", "property_id", "rent"])
}

async fn create_property(
    State(app): State<App>,
    mut tx: Tx,
    _: Require<PropertiesWrite>,
    Json(new): Json<NewProperty>,
) -> Result<(StatusCode, axum::Json<Value>), Problem> {
    let n = app.next_property.fetch_add(1, Ordering::Relaxed) + 1;
    let id = format!("00000000-0000-4000-8000-{n:012x}");
    let row = [SqlValue::from(id.clone()), SqlValue::from(new.name.clone())];
    tx.execute(
        Insert::into("properties")
            .columns(["id", "name"])
            .values(row),
    )
    .await?;
    let body = json!({ "id": id, "name": new.name });
    Ok((StatusCode::CREATED, axum::Json(body)))
}

async fn get_property(mut tx: Tx, _: Require<PropertiesRead>, Path(id): Path<String>) -> Reply {
    let select = Select::from("properties")
        .columns(["id", "name"])
        .filter(column("id").eq(id));
    let row = tx.fetch_optional(select).await?;
    let row = row.ok_or_else(|| Problem::not_found("no such property"))?;
    Ok(axum::Json(property_json(&row)))
}

/// PLANTED: answers 200 `{}` for an id it does not find.
async fn get_property_or_empty(
    tx: Tx,
    permission: Require<PropertiesRead>,
    id: Path<String>,
) -> Reply {
    match get_property(tx, permission, id).await {
        Err(problem) if problem.status() == StatusCode::NOT_FOUND => Ok(axum::Json(json!({}))),
        other => other,
    }
}

/// PLANTED: reads by id through the raw pool, whoever owns the row.
async fn get_property_raw(
    State(app): State<App>,
    _: Require<PropertiesRead>,
    Path(id): Path<String>,
) -> Reply {
    let row = sqlx::query(sqlx::AssertSqlSafe(
        app.sql("SELECT id, name FROM properties WHERE id = ?"),
    ))
    .bind(id)
    .fetch_optional(&app.raw)
    .await
    .map_err(|_| Problem::internal())?;
    let row = row.ok_or_else(|| Problem::not_found("no such property"))?;
    Ok(axum::Json(json!({
        "id": row.get::<String, _>("id"),
        "name": row.get::<String, _>("name"),
    })))
}

async fn create_lease(
    State(app): State<App>,
    t: Tenant,
    mut tx: Tx,
    _: Require<LeasesWrite>,
    Json(new): Json<NewLease>,
) -> Result<(StatusCode, axum::Json<Value>), Problem> {
    let property = Select::from("properties")
        .column("id")
        .filter(column("id").eq(new.property_id.clone()));
    if tx.fetch_optional(property).await?.is_none() {
        return Err(Problem::not_found("no such property"));
    }
    let id = {
        let mut next = app.next_lease.lock().unwrap();
        let n = next.entry(t.id()).or_insert(0);
        *n += 1;
        *n
    };
    let row = [
        SqlValue::from(id),
        SqlValue::from(new.property_id.clone()),
        SqlValue::from(new.rent),
    ];
    let insert = Insert::into("leases")
        .columns(["id", "property_id", "rent"])
        .values(row);
    tx.execute(insert).await?;
    let body = json!({ "id": id, "property_id": new.property_id, "rent": new.rent });
    Ok((StatusCode::CREATED, axum::Json(body)))
}

async fn get_lease(mut tx: Tx, _: Require<LeasesRead>, Path(id): Path<i64>) -> Reply {
    let row = tx
        .fetch_optional(lease_select().filter(column("id").eq(id)))
        .await?;
    let row = row.ok_or_else(|| Problem::not_found("no such lease"))?;
    Ok(axum::Json(lease_json(&row)))
}

/// PLANTED: tells another tenant's lease (403) from no lease at all (404).
async fn get_lease_forbidding(
    State(app): State<App>,
    t: Tenant,
    tx: Tx,
    permission: Require<LeasesRead>,
    Path(id): Path<i64>,
) -> Reply {
    let owners: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(
        app.sql("SELECT tenant_id FROM leases WHERE id = ?"),
    ))
    .bind(id)
    .fetch_all(&app.raw)
    .await
    .map_err(|_| Problem::internal())?;
    if !owners.is_empty() && !owners.contains(&t.id().to_string()) {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            types::MISSING_PERMISSION,
            "forbidden",
        ));
    }
    get_lease(tx, permission, Path(id)).await
}

async fn list_leases(mut tx: Tx, _: Require<LeasesRead>, Query(q): Query<ByProperty>) -> Reply {
    let rows = tx
        .fetch_all(lease_select().filter(column("property_id").eq(q.property)))
        .await?;
    let leases: Vec<Value> = rows.iter().map(lease_json).collect();
    Ok(axum::Json(json!({ "leases": leases })))
}

/// PLANTED: names every tenant with a lease, read through the raw pool.
async fn list_leases_naming_tenants(
    State(app): State<App>,
    tx: Tx,
    permission: Require<LeasesRead>,
    query: Query<ByProperty>,
) -> Reply {
    let axum::Json(mut body) = list_leases(tx, permission, query).await?;
    let tenants: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(
        app.sql("SELECT DISTINCT tenant_id FROM leases"),
    ))
    .fetch_all(&app.raw)
    .await
    .map_err(|_| Problem::internal())?;
    body["tenants"] = json!(tenants);
    Ok(axum::Json(body))
}

async fn patch_lease(
    mut tx: Tx,
    _: Require<LeasesWrite>,
    Path(id): Path<i64>,
    Json(change): Json<RentChange>,
) -> Reply {
    let update = Update::table("leases")
        .set("rent", change.rent)
        .filter(column("id").eq(id));
    if tx.execute(update).await? == 0 {
        return Err(Problem::not_found("no such lease"));
    }
    let row = tx
        .fetch_optional(lease_select().filter(column("id").eq(id)))
        .await?;
    let row = row.ok_or_else(|| Problem::not_found("no such lease"))?;
    Ok(axum::Json(lease_json(&row)))
}

/// PLANTED: updates by id through the raw pool, whoever owns the row.
async fn patch_lease_raw(
    State(app): State<App>,
    _: Require<LeasesWrite>,
    Path(id): Path<i64>,
    Json(change): Json<RentChange>,
) -> Reply {
    let done = sqlx::query(sqlx::AssertSqlSafe(
        app.sql("UPDATE leases SET rent = ? WHERE id = ?"),
    ))
    .bind(change.rent)
    .bind(id)
    .execute(&app.raw)
    .await
    .map_err(|_| Problem::internal())?;
    if done.rows_affected() == 0 {
        return Err(Problem::not_found("no such lease"));
    }
    Ok(axum::Json(json!({ "id": id, "rent": change.rent })))
}

async fn delete_lease(
    mut tx: Tx,
    _: Require<LeasesDelete>,
    Path(id): Path<i64>,
) -> Result<StatusCode, Problem> {
    let delete = tenancy_sql::Delete::from("leases").filter(column("id").eq(id));
    match tx.execute(delete).await? {
        0 => Err(Problem::not_found("no such lease")),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

/// PLANTED: deletes without requiring `leases:delete`.
async fn delete_lease_unguarded(mut tx: Tx, Path(id): Path<i64>) -> Result<StatusCode, Problem> {
    let delete = tenancy_sql::Delete::from("leases").filter(column("id").eq(id));
    match tx.execute(delete).await? {
        0 => Err(Problem::not_found("no such lease")),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

fn routes(plant: Plant) -> Router<App> {
    let pick = |planted: Plant, leaky, sound| if plant == planted { leaky } else { sound };
    let property = match plant {
        Plant::RawRead => get(get_property_raw),
        Plant::EmptyOk => get(get_property_or_empty),
        _ => get(get_property),
    };
    let lease = pick(
        Plant::ForbiddenForeign,
        get(get_lease_forbidding),
        get(get_lease),
    );
    let lease = if plant == Plant::RawPatch {
        lease.patch(patch_lease_raw)
    } else {
        lease.patch(patch_lease)
    };
    let lease = if plant == Plant::NoPermission {
        lease.delete(delete_lease_unguarded)
    } else {
        lease.delete(delete_lease)
    };
    let leases = pick(
        Plant::NamesTenants,
        get(list_leases_naming_tenants),
        get(list_leases),
    );
    Router::new()
        .route("/properties", post(create_property))
        .route("/properties/{property}", property)
        .route("/leases", leases.post(create_lease))
        .route("/leases/{lease}", lease)
}

/// The backends to run on: SQLite always, PostgreSQL when
/// `TENANCY_TEST_POSTGRES_URL` is set (a failure when it is not but
/// `TENANCY_TEST_REQUIRE_SERVICES=1`).
fn backends() -> Vec<Backend> {
    match common::service_url("TENANCY_TEST_POSTGRES_URL") {
        Some(_) => vec![Backend::Sqlite, Backend::Postgres],
        None => vec![Backend::Sqlite],
    }
}

fn unique(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}_{}_{nanos}", std::process::id())
}

/// A database of its own on `backend`: its URL, and how to drop it.
enum Scratch {
    Sqlite(std::path::PathBuf),
    Postgres { admin: sqlx::PgPool, name: String },
}

async fn scratch(backend: Backend) -> (String, Scratch) {
    match backend {
        Backend::Postgres => {
            let base = std::env::var("TENANCY_TEST_POSTGRES_URL").unwrap();
            let name = unique("tenancy_leak");
            let admin = sqlx::PgPool::connect(&base)
                .await
                .unwrap_or_else(|e| panic!("postgres unreachable: {e}"));
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&admin)
                .await
                .unwrap();
            let Some((server, _)) = base.rsplit_once('/') else {
                panic!("TENANCY_TEST_POSTGRES_URL has no database");
            };
            (
                format!("{server}/{name}"),
                Scratch::Postgres { admin, name },
            )
        }
        _ => {
            let path = std::env::temp_dir().join(format!("{}.db", unique("tenancy_leak")));
            let url = format!("sqlite://{}?mode=rwc", path.display());
            (url, Scratch::Sqlite(path))
        }
    }
}

/// The service on a database of its own, the raw pool on the same
/// database, and the directory its tenants go in.
struct Service {
    app: Router,
    owner: OwnerPool,
    raw: AnyPool,
    backend: Backend,
    directory: Arc<MemoryDirectory>,
    scratch: Scratch,
}

impl Service {
    async fn close(self) {
        self.raw.close().await;
        self.owner.close().await;
        match self.scratch {
            Scratch::Sqlite(path) => {
                let _ = std::fs::remove_file(path);
            }
            Scratch::Postgres { admin, name } => {
                let drop = format!("DROP DATABASE {name} WITH (FORCE)");
                sqlx::query(sqlx::AssertSqlSafe(drop.as_str()))
                    .execute(&admin)
                    .await
                    .unwrap();
            }
        }
    }
}

async fn service(kit: &TokenKit, plant: Plant, backend: Backend) -> Service {
    let (url, scratch) = scratch(backend).await;
    let schema = Schema::builder()
        .tenant("properties")
        .columns(["name"])
        .tenant("leases")
        .columns(["property_id", "rent"])
        .build()
        .unwrap();
    let owner = OwnerPool::connect(&url).await.unwrap();
    let ddl = Ddl::new(&schema, backend);
    let mut statements = ddl
        .create_table("properties", |t| {
            t.col(ColumnDef::new("id").string().not_null())
                .col(ColumnDef::new("name").text().not_null());
        })
        .unwrap();
    statements.extend(
        ddl.create_table("leases", |t| {
            t.col(ColumnDef::new("id").big_integer().not_null())
                .col(ColumnDef::new("property_id").string().not_null())
                .col(ColumnDef::new("rent").big_integer().not_null());
        })
        .unwrap(),
    );
    owner
        .apply("create the leases tables", statements)
        .await
        .unwrap();
    let pool = owner.tenant_pool(schema);
    sqlx::any::install_default_drivers();
    let raw = AnyPool::connect(&url).await.unwrap();
    let directory = Arc::new(MemoryDirectory::new());
    let validator = if plant == Plant::LaxValidator {
        let lax = Validator::builder()
            .issuer(kit.issuer())
            .audience(kit.audience())
            .key(None, kit.verification_key())
            .max_lifetime(Duration::from_secs(48 * 3600))
            .max_token_bytes(64 * 1024);
        lax.build().unwrap()
    } else {
        kit.validator()
    };
    let layer = TenancyLayer::builder()
        .validator(Arc::new(CachedValidator::new(Arc::new(validator), 10_000)))
        .directory(directory.clone())
        .build()
        .unwrap();
    let state = App {
        raw: raw.clone(),
        backend,
        next_property: Arc::default(),
        next_lease: Arc::default(),
    };
    let app = routes(plant)
        .layer(TxLayer::new(pool))
        .layer(layer)
        .with_state(state);
    Service {
        app,
        owner,
        raw,
        backend,
        directory,
        scratch,
    }
}

fn kit() -> TokenKit {
    TokenKit::hs256(
        b"the leak check's own test secret, 32+ bytes",
        "https://id.test",
        "leases",
    )
    .unwrap()
}

fn leases_routes() -> Vec<Route> {
    vec![
        Route::post("/properties")
            .json(json!({ "name": "Elm St 4" }))
            .requires("properties:write"),
        Route::get("/properties/{property}").requires("properties:read"),
        Route::post("/leases")
            .json(json!({ "property_id": "{property}", "rent": 1200 }))
            .requires("leases:write"),
        Route::get("/leases/{lease}").requires("leases:read"),
        Route::get("/leases?property={property}").requires("leases:read"),
        Route::patch("/leases/{lease}")
            .json(json!({ "rent": 1300 }))
            .requires("leases:write"),
        Route::delete("/leases/{lease}").requires("leases:delete"),
    ]
}

/// Runs the check on the service with `plant`; the outcome and the ids of
/// tenants `a` and `b` (in the order the check created them).
async fn check(
    plant: Plant,
    backend: Backend,
) -> (Result<Report, LeakFailures>, Service, Vec<TenantId>) {
    check_routes(plant, backend, leases_routes()).await
}

async fn check_routes(
    plant: Plant,
    backend: Backend,
    routes: Vec<Route>,
) -> (Result<Report, LeakFailures>, Service, Vec<TenantId>) {
    let kit = kit();
    let service = service(&kit, plant, backend).await;
    let plan = Plan::new("test", RateQuota::per_second(10_000, 10_000), 100)
        .entitlements(&PlanOverrides::default());
    let created = RefCell::new(Vec::new());
    let outcome = HttpLeakCheck::new(service.app.clone(), &kit, async |t| {
        let record = TenantRecord::new(t.id, t.slug, TenantStatus::Active, plan.clone());
        service.directory.insert(record);
        created.borrow_mut().push(t.id);
        t.id
    })
    .resources(async |c| {
        let property = c
            .post("/properties", json!({ "name": c.marker() }))
            .await
            .json["id"]
            .clone();
        let lease = json!({ "property_id": property, "rent": 1000 });
        let lease = c.post("/leases", lease).await.json["id"].clone();
        [("property", property), ("lease", lease)]
    })
    .routes(routes)
    .try_run()
    .await;
    (outcome, service, created.into_inner())
}

/// The ids `b` owns in `table`, read through the raw pool.
async fn owned_by(service: &Service, table: &str, tenant: TenantId) -> Vec<String> {
    let sql = format!("SELECT CAST(id AS TEXT) FROM {table} WHERE tenant_id = ?");
    sqlx::query_scalar(sqlx::AssertSqlSafe(raw_sql(service.backend, &sql)))
        .bind(tenant.to_string())
        .fetch_all(&service.raw)
        .await
        .unwrap()
}

/// The failures of a run that must have failed, and the whole message.
fn failed(outcome: Result<Report, LeakFailures>) -> (LeakFailures, String) {
    match outcome {
        Ok(report) => panic!("the check passed a leaky service:\n{report}"),
        Err(failures) => {
            let message = failures.to_string();
            println!("{message}");
            (failures, message)
        }
    }
}

#[tokio::test]
async fn sound_service_passes_with_every_case_tried() {
    for backend in backends() {
        sound_service_passes_with_every_case_tried_on(backend).await;
    }
}

async fn sound_service_passes_with_every_case_tried_on(backend: Backend) {
    let (outcome, service, _) = check(Plant::Nothing, backend).await;
    let report = outcome.unwrap_or_else(|failures| panic!("{failures}"));
    println!("{report}");
    let attacks = kit().attacks(&TenantContext::tenant(
        TenantId::from_u128(1),
        SubjectId::from_u128(1),
        RoleName::admin(),
        PermissionSet::empty(),
    ));
    assert!(attacks.len() > 10, "the kit has a catalogue of attacks");
    let tried = |route: &Route, case: &dyn Fn(&Case) -> bool| {
        let route = route.to_string();
        assert!(
            report
                .attempts()
                .iter()
                .any(|a| a.route == route && case(&a.case) && !a.leak),
            "`{route}` was not tried in some case:\n{report}"
        );
    };
    for route in leases_routes() {
        let name = route.to_string();
        tried(&route, &|c| *c == Case::Own);
        tried(&route, &|c| *c == Case::NoPermission);
        let permission = name_of_requirement(&name);
        tried(
            &route,
            &|c| matches!(c, Case::Without { permission: p } if *p == permission),
        );
        for attack in &attacks {
            tried(&route, &|c| *c == Case::Attack { name: attack.name });
        }
        for resource in ["property", "lease"] {
            if name.contains(&format!("{{{resource}}}")) {
                tried(
                    &route,
                    &|c| matches!(c, Case::Foreign { resource: r, .. } if r == resource),
                );
                tried(
                    &route,
                    &|c| matches!(c, Case::Missing { resource: r, .. } if r == resource),
                );
            }
        }
    }
    for (route, resource) in [
        ("GET /properties/{property}", "property"),
        ("GET /leases/{lease}", "lease"),
    ] {
        for reread in [false, true] {
            assert!(
                report.attempts().iter().any(|a| a.route == route
                    && match &a.case {
                        Case::Snapshot { resource: r, .. } => !reread && r == resource,
                        Case::Reread { resource: r, .. } => reread && r == resource,
                        _ => false,
                    }),
                "{resource} was not read back through `{route}`:\n{report}"
            );
        }
    }
    // The table has a header, a row per attempt, a count and the notes:
    // here that b's lease id is too short to search bodies for, and a
    // lease shows no marker (its property's name does).
    let table = report.to_string();
    assert_eq!(report.notes().len(), 1, "{table}");
    assert!(
        report.notes()[0].contains("b's lease")
            && report.notes()[0].contains("read-backs do not show b's marker"),
        "{table}"
    );
    assert_eq!(
        table.lines().count(),
        1 + report.attempts().len() + 1 + report.notes().len(),
        "{table}"
    );
    assert!(table.contains("GET /leases?property={property}"), "{table}");
    service.close().await;
}

/// The permission each route of [`leases_routes`] requires.
fn name_of_requirement(route: &str) -> String {
    let resource = if route.contains("propert") && !route.contains("lease") {
        "properties"
    } else {
        "leases"
    };
    let action = match route.split(' ').next() {
        Some("GET") => "read",
        Some("DELETE") => "delete",
        _ => "write",
    };
    format!("{resource}:{action}")
}

#[tokio::test]
async fn raw_pool_read_by_id_is_caught() {
    for backend in backends() {
        raw_pool_read_by_id_is_caught_on(backend).await;
    }
}

async fn raw_pool_read_by_id_is_caught_on(backend: Backend) {
    let (outcome, service, tenants) = check(Plant::RawRead, backend).await;
    let (failures, message) = failed(outcome);
    let b_properties = owned_by(&service, "properties", tenants[1]).await;
    let caught = failures.failures().iter().find(|f| {
        f.route == "GET /properties/{property}"
            && matches!(&f.case, Case::Foreign { id, .. } if b_properties.contains(&id.to_string()))
            && matches!(
                f.finding,
                Finding::UnlikeMissing {
                    foreign: (StatusCode::OK, _),
                    ..
                }
            )
    });
    let caught = caught.unwrap_or_else(|| panic!("not caught:\n{message}"));
    let Case::Foreign { id, .. } = &caught.case else {
        unreachable!()
    };
    assert!(
        message.contains(&format!(
            "LEAK GET /properties/{{property}}: GET /properties/{id} with b's property `{id}`: answered 200 where a missing id gets 404"
        )),
        "{message}"
    );
    service.close().await;
}

#[tokio::test]
async fn forbidden_foreign_id_is_caught() {
    for backend in backends() {
        forbidden_foreign_id_is_caught_on(backend).await;
    }
}

async fn forbidden_foreign_id_is_caught_on(backend: Backend) {
    let (outcome, service, tenants) = check(Plant::ForbiddenForeign, backend).await;
    let (failures, message) = failed(outcome);
    let b_leases = owned_by(&service, "leases", tenants[1]).await;
    let caught = failures.failures().iter().find(|f| {
        f.route == "GET /leases/{lease}"
            && matches!(&f.case, Case::Foreign { id, .. } if b_leases.contains(&id.to_string()))
    });
    let caught = caught.unwrap_or_else(|| panic!("not caught:\n{message}"));
    let Case::Foreign { id, .. } = &caught.case else {
        unreachable!()
    };
    assert!(
        message.contains(&format!(
            "LEAK GET /leases/{{lease}}: GET /leases/{id} with b's lease `{id}`: answered 403 where a missing id gets 404"
        )),
        "{message}"
    );
    service.close().await;
}

#[tokio::test]
async fn other_tenants_id_in_a_body_is_caught() {
    for backend in backends() {
        other_tenants_id_in_a_body_is_caught_on(backend).await;
    }
}

async fn other_tenants_id_in_a_body_is_caught_on(backend: Backend) {
    let (outcome, service, tenants) = check(Plant::NamesTenants, backend).await;
    let (failures, message) = failed(outcome);
    let b = tenants[1];
    assert!(
        failures.failures().iter().any(|f| {
            f.route == "GET /leases?property={property}"
                && f.finding
                    == Finding::NamesTenant {
                        id: b,
                        part: Part::Body,
                    }
        }),
        "{message}"
    );
    assert!(
        message.contains("LEAK GET /leases?property={property}: GET /leases?property=")
            && message.contains(&format!("the body names tenant b's id `{b}`")),
        "{message}"
    );
    // a's own tenant id, in the same bodies, is not a finding.
    assert!(
        failures
            .failures()
            .iter()
            .all(|f| !matches!(f.finding, Finding::NamesTenant { id, .. } if id == tenants[0])),
        "{message}"
    );
    // Only that route leaks.
    assert!(
        failures
            .failures()
            .iter()
            .all(|f| f.route == "GET /leases?property={property}"),
        "{message}"
    );
    service.close().await;
}

#[tokio::test]
async fn write_to_another_tenants_row_is_caught_by_the_reread() {
    for backend in backends() {
        write_to_another_tenants_row_is_caught_by_the_reread_on(backend).await;
    }
}

async fn write_to_another_tenants_row_is_caught_by_the_reread_on(backend: Backend) {
    let (outcome, service, tenants) = check(Plant::RawPatch, backend).await;
    let (failures, message) = failed(outcome);
    let b_leases = owned_by(&service, "leases", tenants[1]).await;
    let reread = failures.failures().iter().find(|f| {
        f.route == "GET /leases/{lease}"
            && matches!(&f.case, Case::Reread { id, .. } if b_leases.contains(&id.to_string()))
            && matches!(f.finding, Finding::Changed { .. })
    });
    let reread = reread.unwrap_or_else(|| panic!("the re-read missed the write:\n{message}"));
    let Case::Reread { id, .. } = &reread.case else {
        unreachable!()
    };
    assert!(
        message.contains(&format!("LEAK GET /leases/{{lease}}: GET /leases/{id} with b reading its lease `{id}` again: changed: before 200"))
            && message.contains(r#""rent":1300"#),
        "{message}"
    );
    // The write itself is caught too, on the route that made it.
    assert!(
        failures
            .failures()
            .iter()
            .any(|f| f.route == "PATCH /leases/{lease}"
                && matches!(&f.case, Case::Foreign { id: foreign, .. } if foreign == id)),
        "{message}"
    );
    service.close().await;
}

#[tokio::test]
async fn route_without_its_permission_is_caught() {
    for backend in backends() {
        route_without_its_permission_is_caught_on(backend).await;
    }
}

async fn route_without_its_permission_is_caught_on(backend: Backend) {
    let (outcome, service, _) = check(Plant::NoPermission, backend).await;
    let (failures, message) = failed(outcome);
    for case in [
        Case::NoPermission,
        Case::Without {
            permission: "leases:delete".to_owned(),
        },
    ] {
        let caught = failures.failures().iter().find(|f| {
            f.route == "DELETE /leases/{lease}"
                && f.case == case
                && f.finding
                    == Finding::Status {
                        expected: tenancy_axum::testing::Expected::Status(StatusCode::FORBIDDEN),
                        got: StatusCode::NO_CONTENT,
                    }
        });
        let caught = caught.unwrap_or_else(|| panic!("{case} not caught:\n{message}"));
        assert!(
            message.contains(&format!(
                "LEAK DELETE /leases/{{lease}}: {} with {case}: expected 403, got 204",
                caught.request
            )),
            "{message}"
        );
    }
    assert!(
        failures
            .failures()
            .iter()
            .all(|f| f.route == "DELETE /leases/{lease}"),
        "{message}"
    );
    service.close().await;
}

#[tokio::test]
async fn path_id_answered_other_than_404_is_caught() {
    for backend in backends() {
        path_id_answered_other_than_404_is_caught_on(backend).await;
    }
}

async fn path_id_answered_other_than_404_is_caught_on(backend: Backend) {
    let (outcome, service, tenants) = check(Plant::EmptyOk, backend).await;
    let (failures, message) = failed(outcome);
    let b_properties = owned_by(&service, "properties", tenants[1]).await;
    let caught = failures.failures().iter().find(|f| {
        f.route == "GET /properties/{property}"
            && matches!(&f.case, Case::Foreign { id, .. } if b_properties.contains(&id.to_string()))
    });
    let caught = caught.unwrap_or_else(|| panic!("not caught:\n{message}"));
    let Case::Foreign { id, .. } = &caught.case else {
        unreachable!()
    };
    assert!(
        message.contains(&format!(
            "LEAK GET /properties/{{property}}: GET /properties/{id} with b's property `{id}`: expected 404, got 200"
        )),
        "{message}"
    );
    service.close().await;
}

#[tokio::test]
async fn token_attack_let_through_is_caught() {
    for backend in backends() {
        token_attack_let_through_is_caught_on(backend).await;
    }
}

async fn token_attack_let_through_is_caught_on(backend: Backend) {
    let (outcome, service, _) = check(Plant::LaxValidator, backend).await;
    let (failures, message) = failed(outcome);
    for route in leases_routes() {
        for attack in ["lifetime-too-long", "oversized"] {
            let caught = failures
                .failures()
                .iter()
                .find(|f| f.route == route.to_string() && f.case == Case::Attack { name: attack });
            let caught =
                caught.unwrap_or_else(|| panic!("`{attack}` on `{route}` not caught:\n{message}"));
            assert!(
                message.contains(&format!(
                    "LEAK {route}: {} with token attack `{attack}`: expected 401, got 2",
                    caught.request
                )),
                "{message}"
            );
        }
    }
    let attacks = |f: &&tenancy_axum::testing::Failure| matches!(f.case, Case::Attack { .. });
    assert_eq!(
        failures.failures().iter().filter(attacks).count(),
        2 * leases_routes().len(),
        "{message}"
    );
    service.close().await;
}

/// A check that cannot prove anything fails rather than passes: a route
/// the service does not have answers every case alike, but not `a`'s own
/// ids; a placeholder no resource fills stops the check before any call.
#[tokio::test]
async fn misconfigured_check_fails_instead_of_passing() {
    let typo = Route::post("/lease").json(json!({ "property_id": "{property}", "rent": 1 }));
    let read_backs = [
        Route::get("/properties/{property}"),
        Route::get("/leases/{lease}"),
    ];
    let routes = [vec![typo], read_backs.to_vec()].concat();
    let (outcome, service, _) = check_routes(Plant::Nothing, Backend::Sqlite, routes).await;
    let (failures, message) = failed(outcome);
    assert_eq!(failures.failures().len(), 1, "{message}");
    assert!(
        message.contains("LEAK POST /lease: POST /lease with a's own ids: expected 2xx, got 404"),
        "{message}"
    );
    service.close().await;

    let unknown = Route::get("/leases/{contract}");
    let (outcome, service, _) = check_routes(Plant::Nothing, Backend::Sqlite, vec![unknown]).await;
    let (failures, message) = failed(outcome);
    assert!(failures.report().attempts().is_empty(), "{message}");
    assert!(
        message.contains("SET-UP `GET /leases/{contract}` names `{contract}`, which the resources closure does not return"),
        "{message}"
    );
    service.close().await;
}

// A notes service in memory, for the leaks (and the correct answers the
// check once flagged) that need no database.

permission! {
    NotesRead = "notes:read";
    NotesWrite = "notes:write";
}

/// The leak planted in the notes service, or the correct but unusual
/// answer it gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NotesPlant {
    Nothing,
    /// `GET /notes` lists every tenant's notes.
    ListsAll,
    /// `GET /notes/{note}` answers 404 alike, but adds `x-exists: 1` for
    /// another tenant's note.
    ExistsHeader,
    /// `GET /notes/{note}` answers 404 alike, but adds a `link` header
    /// naming another tenant's note's tenant.
    OwnerLink,
    /// Correct, but every JSON body and an `x-request-id` header carry a
    /// request counter.
    RequestIds,
    /// Correct: `DELETE /notes/{note}` answers 204 whatever the id.
    IdempotentDelete,
    /// `DELETE /notes/{note}` answers 204 for another tenant's note
    /// (deleting nothing), 404 for no note at all.
    DeleteTellsForeign,
    /// Correct: `GET /notes` names the caller's own tenant.
    NamesCaller,
    /// `PATCH /notes/{note}` rewrites any tenant's note, then answers 404
    /// for another's as for none.
    PatchesAny,
}

#[derive(Clone)]
struct Notes {
    plant: NotesPlant,
    rows: Arc<Mutex<std::collections::BTreeMap<u64, (TenantId, String)>>>,
    next: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
}

impl Notes {
    fn owner(&self, id: u64) -> Option<TenantId> {
        self.rows.lock().unwrap().get(&id).map(|(owner, _)| *owner)
    }

    /// `body` as JSON with `status`, and the request counter when planted.
    fn answer(&self, status: StatusCode, mut body: Value) -> Response {
        if self.plant != NotesPlant::RequestIds {
            return (status, axum::Json(body)).into_response();
        }
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        body["request_id"] = json!(n);
        let mut response = (status, axum::Json(body)).into_response();
        response
            .headers_mut()
            .insert("x-request-id", HeaderValue::from(n));
        response
    }

    fn not_found(&self) -> Response {
        self.answer(StatusCode::NOT_FOUND, json!({ "title": "no such note" }))
    }
}

async fn note_create(
    State(notes): State<Notes>,
    t: Tenant,
    _: Require<NotesWrite>,
    axum::Json(new): axum::Json<Value>,
) -> Response {
    let id = notes.next.fetch_add(1, Ordering::Relaxed);
    let text = new["body"].as_str().unwrap_or_default().to_owned();
    notes.rows.lock().unwrap().insert(id, (t.id(), text));
    notes.answer(StatusCode::CREATED, json!({ "id": id }))
}

async fn note_read(
    State(notes): State<Notes>,
    t: Tenant,
    _: Require<NotesRead>,
    Path(id): Path<u64>,
) -> Response {
    let row = notes.rows.lock().unwrap().get(&id).cloned();
    match row {
        Some((owner, text)) if owner == t.id() => {
            notes.answer(StatusCode::OK, json!({ "id": id, "body": text }))
        }
        Some((owner, _)) => {
            let mut response = notes.not_found();
            let headers = response.headers_mut();
            match notes.plant {
                NotesPlant::ExistsHeader => {
                    headers.insert("x-exists", HeaderValue::from_static("1"));
                }
                NotesPlant::OwnerLink => {
                    let link = format!("</tenants/{owner}>; rel=\"owner\"");
                    headers.insert("link", HeaderValue::from_str(&link).unwrap());
                }
                _ => {}
            }
            response
        }
        None => notes.not_found(),
    }
}

async fn note_list(State(notes): State<Notes>, t: Tenant, _: Require<NotesRead>) -> Response {
    let listed: Vec<Value> = (notes.rows.lock().unwrap().iter())
        .filter(|(_, (owner, _))| notes.plant == NotesPlant::ListsAll || *owner == t.id())
        .map(|(id, (_, text))| json!({ "id": id, "body": text }))
        .collect();
    let mut body = json!({ "notes": listed });
    if notes.plant == NotesPlant::NamesCaller {
        body["tenant"] = json!(t.id().to_string());
    }
    notes.answer(StatusCode::OK, body)
}

async fn note_patch(
    State(notes): State<Notes>,
    t: Tenant,
    _: Require<NotesWrite>,
    Path(id): Path<u64>,
    axum::Json(change): axum::Json<Value>,
) -> Response {
    let text = change["body"].as_str().unwrap_or_default().to_owned();
    let mine = {
        let mut rows = notes.rows.lock().unwrap();
        let row = rows.get_mut(&id);
        let mine = row.as_ref().is_some_and(|(owner, _)| *owner == t.id());
        if let Some((_, old)) = row.filter(|_| mine || notes.plant == NotesPlant::PatchesAny) {
            *old = text;
        }
        mine
    };
    if mine {
        notes.answer(StatusCode::OK, json!({ "id": id }))
    } else {
        notes.not_found()
    }
}

async fn note_delete(
    State(notes): State<Notes>,
    t: Tenant,
    _: Require<NotesWrite>,
    Path(id): Path<u64>,
) -> Response {
    let owner = notes.owner(id);
    if owner == Some(t.id()) {
        notes.rows.lock().unwrap().remove(&id);
        return StatusCode::NO_CONTENT.into_response();
    }
    match (notes.plant, owner) {
        (NotesPlant::IdempotentDelete, _) | (NotesPlant::DeleteTellsForeign, Some(_)) => {
            StatusCode::NO_CONTENT.into_response()
        }
        _ => notes.not_found(),
    }
}

fn read_note() -> Route {
    Route::get("/notes/{note}").requires("notes:read")
}

fn list_notes() -> Route {
    Route::get("/notes").requires("notes:read")
}

fn patch_note() -> Route {
    Route::patch("/notes/{note}")
        .json(json!({ "body": "Mine now" }))
        .requires("notes:write")
}

fn delete_note() -> Route {
    Route::delete("/notes/{note}").requires("notes:write")
}

/// What a notes check adds to the defaults.
#[derive(Default)]
struct Extra {
    /// The resources closure leaves the marker out of the notes.
    unmarked: bool,
    ignore_fields: &'static [&'static str],
    ignore_headers: &'static [&'static str],
    unchecked: Option<&'static str>,
}

/// A tenant the check created: its id and slug (its marker).
type Made = (TenantId, String);

/// Runs the check on the notes service with `plant`, whose note ids count
/// from `first`: the outcome, the notes, and tenants `a` and `b`.
async fn check_notes(
    plant: NotesPlant,
    first: u64,
    routes: Vec<Route>,
    extra: Extra,
) -> (Result<Report, LeakFailures>, Notes, Vec<Made>) {
    let kit = kit();
    let directory = Arc::new(MemoryDirectory::new());
    let layer = TenancyLayer::builder()
        .validator(Arc::new(CachedValidator::new(
            Arc::new(kit.validator()),
            10_000,
        )))
        .directory(directory.clone())
        .build()
        .unwrap();
    let notes = Notes {
        plant,
        rows: Arc::default(),
        next: Arc::new(AtomicU64::new(first)),
        requests: Arc::default(),
    };
    let app = Router::new()
        .route("/notes", get(note_list).post(note_create))
        .route(
            "/notes/{note}",
            get(note_read).patch(note_patch).delete(note_delete),
        )
        .layer(layer)
        .with_state(notes.clone());
    let plan = Plan::new("test", RateQuota::per_second(10_000, 10_000), 100)
        .entitlements(&PlanOverrides::default());
    let made = RefCell::new(Vec::new());
    let mut check = HttpLeakCheck::new(app, &kit, async |t| {
        made.borrow_mut().push((t.id, t.slug.as_str().to_owned()));
        let record = TenantRecord::new(t.id, t.slug, TenantStatus::Active, plan.clone());
        directory.insert(record);
        t.id
    })
    .resources(async |c| {
        let text = if extra.unmarked { "a note" } else { c.marker() };
        let note = c.post("/notes", json!({ "body": text })).await;
        [("note", note.json["id"].clone())]
    })
    .routes(routes)
    .ignore_fields(extra.ignore_fields.iter().copied())
    .ignore_headers(extra.ignore_headers.iter().copied());
    if let Some(reason) = extra.unchecked {
        check = check.unchecked_writes("note", reason);
    }
    let outcome = check.try_run().await;
    (outcome, notes, made.into_inner())
}

/// The one failure of `route` with `b`'s note in `case`, and that note's id.
fn failure_on_bs_note<'f>(
    failures: &'f LeakFailures,
    notes: &Notes,
    b: TenantId,
    route: &str,
    finding: &dyn Fn(&Finding) -> bool,
) -> (&'f tenancy_axum::testing::Failure, String) {
    let found = failures.failures().iter().find_map(|f| {
        let id = match &f.case {
            Case::Foreign { id, .. } | Case::Reread { id, .. } => id,
            _ => return None,
        };
        let bs = notes.owner(id.as_str().parse().ok()?) == Some(b);
        (f.route == route && bs && finding(&f.finding)).then(|| (f, id.to_string()))
    });
    found.unwrap_or_else(|| panic!("not caught on `{route}`:\n{failures}"))
}

#[tokio::test]
async fn sound_notes_service_passes_with_short_ids() {
    let routes = vec![
        read_note(),
        list_notes(),
        Route::post("/notes")
            .json(json!({ "body": "another" }))
            .requires("notes:write"),
        patch_note(),
        delete_note(),
    ];
    let (outcome, _, _) = check_notes(NotesPlant::Nothing, 1, routes, Extra::default()).await;
    let report = outcome.unwrap_or_else(|failures| panic!("{failures}"));
    println!("{report}");
    // b's marker shows in its read-backs, so short ids need no note.
    assert!(report.notes().is_empty(), "{report}");
}

#[tokio::test]
async fn header_only_a_foreign_id_gets_is_caught() {
    let plant = NotesPlant::ExistsHeader;
    let (outcome, notes, made) =
        check_notes(plant, 100_001, vec![read_note()], Extra::default()).await;
    let (failures, message) = failed(outcome);
    let (_, id) = failure_on_bs_note(&failures, &notes, made[1].0, "GET /notes/{note}", &|f| {
        *f == Finding::UnlikeMissingHeader {
            header: "x-exists".to_owned(),
            foreign: Some("1".to_owned()),
            missing: None,
        }
    });
    assert!(
        message.contains(&format!(
            "LEAK GET /notes/{{note}}: GET /notes/{id} with b's note `{id}`: answered like a missing id, but with another `x-exists` header (`1` against none)"
        )),
        "{message}"
    );
}

#[tokio::test]
async fn header_naming_the_other_tenant_is_caught() {
    let plant = NotesPlant::OwnerLink;
    let (outcome, notes, made) =
        check_notes(plant, 100_001, vec![read_note()], Extra::default()).await;
    let (failures, message) = failed(outcome);
    let b = made[1].0;
    let link = Part::Header("link".to_owned());
    let (_, id) = failure_on_bs_note(&failures, &notes, b, "GET /notes/{note}", &|f| {
        *f == Finding::NamesTenant {
            id: b,
            part: link.clone(),
        }
    });
    assert!(
        message.contains(&format!(
            "LEAK GET /notes/{{note}}: GET /notes/{id} with b's note `{id}`: the `link` header names tenant b's id `{b}`"
        )),
        "{message}"
    );
}

#[tokio::test]
async fn list_of_every_tenants_notes_is_caught_by_the_marker() {
    let routes = vec![read_note(), list_notes()];
    let (outcome, notes, made) =
        check_notes(NotesPlant::ListsAll, 1, routes, Extra::default()).await;
    let (failures, message) = failed(outcome);
    let (b, marker) = &made[1];
    // b's note has an id far too short to search for: only the marker
    // tells it is b's.
    let bs: Vec<u64> = (notes.rows.lock().unwrap().iter())
        .filter(|(_, (owner, _))| owner == b)
        .map(|(id, _)| *id)
        .collect();
    assert!(bs.iter().all(|id| *id < 10), "{bs:?}");
    assert!(
        failures.failures().iter().any(|f| f.route == "GET /notes"
            && f.case == Case::Own
            && f.finding
                == Finding::NamesMarker {
                    marker: marker.clone(),
                    part: Part::Body,
                }),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "LEAK GET /notes: GET /notes with a's own ids: the body holds b's marker `{marker}`"
        )),
        "{message}"
    );
    assert!(
        failures.failures().iter().all(|f| f.route == "GET /notes"),
        "{message}"
    );
}

/// Without the marker in b's notes, the same leak with short ids goes
/// unseen; the report's notes say why.
#[tokio::test]
async fn list_leak_with_short_ids_and_no_marker_is_a_known_gap() {
    let routes = vec![read_note(), list_notes()];
    let extra = Extra {
        unmarked: true,
        ..Extra::default()
    };
    let (outcome, _, made) = check_notes(NotesPlant::ListsAll, 1, routes, extra).await;
    let report = outcome.unwrap_or_else(|failures| panic!("the gap closed:\n{failures}"));
    let notes = report.notes().join("\n");
    assert!(
        notes.contains(&format!(
            "b's marker `{}` shows in none of b's read-backs",
            made[1].1
        )) && notes.contains("put `c.marker()` into the content")
            && notes.contains("is too short to search bodies for, and its read-backs do not show"),
        "{report}"
    );
}

#[tokio::test]
async fn request_ids_pass_once_declared_volatile() {
    let plant = NotesPlant::RequestIds;
    let check = |extra| check_notes(plant, 100_001, vec![read_note()], extra);

    // Strict by default: the counter differs between any two answers.
    let (outcome, notes, made) = check(Extra::default()).await;
    let (failures, _) = failed(outcome);
    let b = made[1].0;
    failure_on_bs_note(&failures, &notes, b, "GET /notes/{note}", &|f| {
        matches!(f, Finding::UnlikeMissing { .. })
    });
    failure_on_bs_note(&failures, &notes, b, "GET /notes/{note}", &|f| {
        matches!(f, Finding::Changed { .. })
    });

    // The field masked, the header still differs.
    let fields = Extra {
        ignore_fields: &["request_id"],
        ..Extra::default()
    };
    let (outcome, notes, made) = check(fields).await;
    let (failures, message) = failed(outcome);
    failure_on_bs_note(
        &failures,
        &notes,
        made[1].0,
        "GET /notes/{note}",
        &|f| matches!(f, Finding::UnlikeMissingHeader { header, .. } if header == "x-request-id"),
    );
    assert!(
        failures
            .failures()
            .iter()
            .all(|f| matches!(f.finding, Finding::UnlikeMissingHeader { .. })),
        "{message}"
    );

    // Both declared, the correct service passes.
    let both = Extra {
        ignore_fields: &["request_id"],
        ignore_headers: &["X-Request-Id"],
        ..Extra::default()
    };
    let (outcome, _, _) = check(both).await;
    outcome.unwrap_or_else(|failures| panic!("{failures}"));
}

#[tokio::test]
async fn idempotent_delete_passes_when_the_route_says_so() {
    let plant = NotesPlant::IdempotentDelete;
    let (outcome, _, _) = check_notes(
        plant,
        100_001,
        vec![read_note(), delete_note()],
        Extra::default(),
    )
    .await;
    let (failures, message) = failed(outcome);
    assert!(
        failures
            .failures()
            .iter()
            .any(|f| f.route == "DELETE /notes/{note}"
                && matches!(f.case, Case::Missing { .. })
                && f.finding.to_string() == "expected 404, got 204"),
        "{message}"
    );

    let delete = delete_note().missing_status(StatusCode::NO_CONTENT);
    let (outcome, _, _) =
        check_notes(plant, 100_001, vec![read_note(), delete], Extra::default()).await;
    outcome.unwrap_or_else(|failures| panic!("{failures}"));
}

#[tokio::test]
async fn delete_answering_foreign_ids_unlike_missing_ones_is_still_caught() {
    let delete = delete_note().missing_status(StatusCode::NO_CONTENT);
    let routes = vec![read_note(), delete];
    let plant = NotesPlant::DeleteTellsForeign;
    let (outcome, notes, made) = check_notes(plant, 100_001, routes, Extra::default()).await;
    let (failures, message) = failed(outcome);
    let (_, id) = failure_on_bs_note(&failures, &notes, made[1].0, "DELETE /notes/{note}", &|f| {
        matches!(
            f,
            Finding::UnlikeMissing {
                foreign: (StatusCode::NO_CONTENT, _),
                missing: (StatusCode::NOT_FOUND, _),
            }
        )
    });
    assert!(
        message.contains(&format!(
            "LEAK DELETE /notes/{{note}}: DELETE /notes/{id} with b's note `{id}`: answered 204 where a missing id gets 404"
        )),
        "{message}"
    );
}

#[tokio::test]
async fn callers_own_tenant_id_is_not_a_leak() {
    let routes = vec![read_note(), list_notes()];
    let plant = NotesPlant::NamesCaller;
    let (outcome, _, _) = check_notes(plant, 100_001, routes, Extra::default()).await;
    outcome.unwrap_or_else(|failures| panic!("{failures}"));
}

#[tokio::test]
async fn write_seen_only_through_a_list_is_caught() {
    let routes = vec![list_notes().reads("note"), patch_note()];
    let plant = NotesPlant::PatchesAny;
    let (outcome, notes, made) = check_notes(plant, 100_001, routes, Extra::default()).await;
    let (failures, message) = failed(outcome);
    let (_, id) = failure_on_bs_note(&failures, &notes, made[1].0, "GET /notes", &|f| {
        matches!(f, Finding::Changed { .. })
    });
    assert!(
        message.contains(&format!(
            "LEAK GET /notes: GET /notes with b reading its note `{id}` again: changed: before 200"
        )) && message.contains("Mine now"),
        "{message}"
    );
}

#[tokio::test]
async fn write_without_a_read_back_fails_set_up() {
    let routes = || vec![list_notes(), patch_note()];
    let plant = NotesPlant::PatchesAny;
    let (outcome, _, _) = check_notes(plant, 100_001, routes(), Extra::default()).await;
    let (failures, message) = failed(outcome);
    assert!(failures.report().attempts().is_empty(), "{message}");
    assert!(
        message.contains(
            "SET-UP no route reads b's note back, so a write to it by `PATCH /notes/{note}` or any other writing route would go unseen"
        ) && message.contains(r#".reads("note")"#)
            && message.contains(r#".unchecked_writes("note", reason)"#),
        "{message}"
    );

    // Left out knowingly, the same leak passes: the gap the opt-out buys,
    // named in the notes.
    let extra = Extra {
        unchecked: Some("notes are write-only here"),
        ..Extra::default()
    };
    let (outcome, _, _) = check_notes(plant, 100_001, routes(), extra).await;
    let report = outcome.unwrap_or_else(|failures| panic!("{failures}"));
    assert!(
        report
            .notes()
            .iter()
            .any(|n| n.contains("no route reads b's note back")
                && n.contains("notes are write-only here")),
        "{report}"
    );
}
