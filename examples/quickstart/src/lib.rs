//! The tenancy SDK in one small app: notes that belong to a tenant, three
//! routes, and neither tenant sees, changes or can name the other's notes.
//! `cargo run -p quickstart` runs it for two tenants; `tests/leaks.rs`
//! proves it with the SDK's leak-test kit.
use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use axum::{Json, Router, extract::State, routing::get};
use sea_query::ColumnDef;
use serde_json::{Value, json};
use tenancy_auth::{CachedValidator, Validator};
use tenancy_axum::fallback::ProblemFallbacks;
use tenancy_axum::{MemoryDirectory, Problem, Require, TenancyLayer, Tenant, TenantRecord, input};
use tenancy_core::*;
use tenancy_sql::{Backend, Insert, OwnerPool, Schema, Select, TenantPool, TenantTx, col, ddl::Ddl, val};

tenancy_axum::permission!(pub NotesRead = "notes:read");
tenancy_axum::permission!(pub NotesWrite = "notes:write");

/// One tenant-owned table; statements may name only declared columns.
pub fn schema() -> tenancy_sql::Result<Schema> {
    Schema::builder().tenant("notes").columns(["body"]).build()
}

/// The DDL adds the tenant column, the composite key and, on PostgreSQL, Row-Level Security.
pub fn migration(backend: Backend) -> Vec<String> {
    let columns = |t: &mut sea_query::TableCreateStatement| {
        t.col(ColumnDef::new("id").big_integer().not_null()).col(ColumnDef::new("body").text().not_null());
    };
    schema().and_then(|s| Ddl::new(&s, backend).create_table("notes", columns)).unwrap_or_default()
}

/// A note as a row decodes into it, with the driver's native types.
#[derive(sqlx::FromRow, serde::Serialize)]
pub struct Note {
    /// The note's id, unique within its tenant.
    pub id: i64,
    /// What it says.
    pub body: String,
}

/// This tenant's note `id`, if it has one: the only query the app has.
pub async fn note(tx: &mut TenantTx, id: i64) -> tenancy_sql::Result<Option<String>> {
    let row = tx
        .fetch_optional(Select::from("notes").column("body").filter(col("notes", "id").eq(val(id))))
        .await?;
    row.map(|r| r.try_get("body")).transpose()
}

async fn list(
    State(db): State<TenantPool>,
    t: Tenant,
    _: Require<NotesRead>,
) -> Result<Json<Value>, Problem> {
    let mut tx = db.begin(&t).await.map_err(|_| Problem::internal())?;
    let rows =
        tx.fetch_all(Select::from("notes").columns(["id", "body"])).await.map_err(|_| Problem::internal())?;
    let notes: Vec<Note> =
        rows.iter().map(|r| r.decode()).collect::<Result<_, _>>().map_err(|_| Problem::internal())?;
    Ok(Json(json!({ "notes": notes })))
}

async fn read(
    State(db): State<TenantPool>,
    t: Tenant,
    _: Require<NotesRead>,
    input::Path(id): input::Path<i64>,
) -> Result<Json<Value>, Problem> {
    let mut tx = db.begin(&t).await.map_err(|_| Problem::internal())?;
    let body = note(&mut tx, id).await.map_err(|_| Problem::internal())?;
    body.map(|body| Json(json!({ "id": id, "body": body }))).ok_or_else(|| Problem::not_found("no such note"))
}

async fn create(
    State(db): State<TenantPool>,
    t: Tenant,
    _: Require<NotesWrite>,
    input::Json(new): input::Json<Value>,
) -> Result<Json<Value>, Problem> {
    static NEXT: AtomicI64 = AtomicI64::new(1);
    let body = new["body"].as_str().ok_or_else(|| Problem::bad_request("`body` must be text"))?;
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut tx = db.begin(&t).await.map_err(|_| Problem::internal())?;
    tx.execute(Insert::into("notes").columns(["id", "body"]).exprs([val(id), val(body)]))
        .await
        .map_err(|_| Problem::internal())?;
    tx.commit().await.map_err(|_| Problem::internal())?;
    Ok(Json(json!({ "id": id })))
}

/// The app on in-memory SQLite: its router, and the directory tenants are added to.
#[derive(Clone)]
pub struct App {
    /// One layer (token -> tenant -> status and limits) in front of three routes.
    pub router: Router,
    directory: Arc<MemoryDirectory>,
}

impl App {
    /// Creates the table (as the owner) and the app, trusting tokens `validator` accepts.
    pub async fn start(validator: Validator) -> Result<App, Box<dyn std::error::Error>> {
        let owner = OwnerPool::connect("sqlite::memory:").await?;
        owner.apply("create notes", migration(Backend::Sqlite)).await?;
        let directory = Arc::new(MemoryDirectory::new());
        let validator = Arc::new(CachedValidator::new(Arc::new(validator), 1_000));
        let layer = TenancyLayer::builder().validator(validator).directory(directory.clone()).build()?;
        let notes = axum::routing::get(list).post(create);
        let router = Router::new().route("/notes", notes).route("/notes/{id}", get(read)).problem_fallbacks();
        Ok(App { router: router.layer(layer).with_state(owner.tenant_pool(schema()?)), directory })
    }

    /// Adds an active tenant on the free plan.
    pub fn add_tenant(&self, id: TenantId, slug: TenantSlug) -> TenantId {
        let plan =
            Plan::new("free", RateQuota::per_second(100, 200), 4).entitlements(&PlanOverrides::default());
        self.directory.insert(TenantRecord::new(id, slug, TenantStatus::Active, plan));
        id
    }
}
