//! A multi-tenant notes API on SQLite, the size of a first real service.
//! Tenants live in a `tenants` table that the SDK's [`SqlDirectory`] reads
//! (status and plan, behind the layer's cache); each request gets one
//! tenant-bound transaction from [`TxLayer`], committed when the handler
//! answers 2xx and rolled back otherwise; bodies are read field by field
//! with [`Valid`]. `cargo run -p notes-service` serves it; `tests/leaks.rs`
//! proves that no tenant reaches another's notes.

use std::error::Error;
use std::sync::Arc;

use axum::{Json, Router, http::StatusCode, routing::get};
use sea_query::ColumnDef;
use serde::Serialize;
use tenancy_auth::{CachedValidator, Validator};
use tenancy_axum::fallback::ProblemFallbacks;
use tenancy_axum::input::{Fields, FromFields, PathId, Valid, text};
use tenancy_axum::sql::{SqlDirectory, Tx, TxLayer};
use tenancy_axum::{Problem, Require, TenancyLayer, Tenant};
use tenancy_core::{
    PermissionSet, Plan, RateQuota, RoleName, SubjectId, TenantContext, TenantId, TenantSlug,
};
use tenancy_sql::{Backend, Delete, Insert, Order, OwnerPool, Schema, Select, TenantPool, TenantTx, Update};
use tenancy_sql::{col, column, ddl::Ddl, val};

tenancy_axum::permission! {
    pub NotesRead = "notes:read";
    pub NotesWrite = "notes:write";
}

/// The tables: `tenants` (the platform's, read by the directory) and
/// `notes` (each row a tenant's). Statements may name only these columns.
pub fn schema() -> tenancy_sql::Result<Schema> {
    Schema::builder()
        .system("tenants")
        .columns(SqlDirectory::COLUMNS)
        .tenant("notes")
        .columns(["author", "title", "body"])
        .build()
}

/// Creates what is missing of both tables; safe to run at every start.
pub fn migration(backend: Backend) -> tenancy_sql::Result<Vec<String>> {
    let schema = schema()?;
    let ddl = Ddl::new(&schema, backend).repeatable();
    let text = |name: &str| ColumnDef::new(name.to_owned()).text().not_null().take();
    let count = |name: &str| ColumnDef::new(name.to_owned()).big_integer().null().take();
    let mut out = ddl.create_table("tenants", |t| {
        t.col(ColumnDef::new("id").string_len(36).not_null().primary_key())
            .col(ColumnDef::new("slug").string_len(63).not_null().unique_key())
            .col(text("status"))
            .col(text("plan"))
            .col(count("rate_per_second"))
            .col(count("rate_burst"))
            .col(count("max_concurrent"));
    })?;
    out.extend(ddl.create_table("notes", |t| {
        t.col(ColumnDef::new("id").big_integer().not_null())
            .col(text("author"))
            .col(text("title"))
            .col(text("body"));
    })?);
    Ok(out)
}

/// A note, as stored and as answered (no tenant id).
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Note {
    id: i64,
    author: String,
    title: String,
    body: String,
}

/// `POST /notes {title, body}`: every field at fault is named in one 422.
struct NewNote {
    title: String,
    body: String,
}

impl FromFields for NewNote {
    fn from_fields(fields: &mut Fields) -> Option<Self> {
        let title = fields.required("title", text(200));
        let body = fields.required("body", text(10_000));
        Some(NewNote { title: title?, body: body? })
    }
}

/// `PATCH /notes/{id}`: the fields to change (`null` is not a value).
struct NoteChange {
    title: Option<String>,
    body: Option<String>,
}

impl FromFields for NoteChange {
    fn from_fields(fields: &mut Fields) -> Option<Self> {
        let title = fields.optional("title", text(200));
        let body = fields.optional("body", text(10_000));
        Some(NoteChange { title: title?, body: body? })
    }
}

/// This tenant's note `id`, if it has one.
pub async fn note(tx: &mut TenantTx, id: i64) -> tenancy_sql::Result<Option<Note>> {
    let select = Select::from("notes").columns(["id", "author", "title", "body"]);
    tx.fetch_optional_as(select.filter(col("notes", "id").eq(val(id)))).await
}

fn missing() -> Problem {
    Problem::not_found("no such note")
}

async fn list(_: Require<NotesRead>, mut tx: Tx) -> Result<Json<Vec<Note>>, Problem> {
    let select = Select::from("notes").columns(["id", "author", "title", "body"]);
    Ok(Json(tx.fetch_all_as(select.order_by(col("notes", "title"), Order::Asc)).await?))
}

async fn read(_: Require<NotesRead>, mut tx: Tx, PathId(id): PathId<i64>) -> Result<Json<Note>, Problem> {
    note(&mut tx, id).await?.map(Json).ok_or_else(missing)
}

async fn create(
    t: Tenant,
    _: Require<NotesWrite>,
    mut tx: Tx,
    Valid(new): Valid<NewNote>,
) -> Result<(StatusCode, Json<Note>), Problem> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|_| Problem::internal())?;
    // Random ids, within the integers a JavaScript client reads exactly.
    let id = i64::from_le_bytes(bytes) & ((1 << 53) - 1);
    let note = Note { id, author: t.subject().to_string(), title: new.title, body: new.body };
    let insert = Insert::into("notes").columns(["id", "author", "title", "body"]);
    let values = [val(id), val(note.author.as_str()), val(note.title.as_str()), val(note.body.as_str())];
    tx.execute(insert.exprs(values)).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

async fn update(
    _: Require<NotesWrite>,
    mut tx: Tx,
    PathId(id): PathId<i64>,
    Valid(change): Valid<NoteChange>,
) -> Result<Json<Note>, Problem> {
    let mut update = Update::table("notes").filter(col("notes", "id").eq(val(id)));
    for (column, value) in [("title", change.title), ("body", change.body)] {
        if let Some(value) = value {
            update = update.set(column, value);
        }
    }
    tx.execute(update).await?;
    note(&mut tx, id).await?.map(Json).ok_or_else(missing)
}

async fn remove(_: Require<NotesWrite>, mut tx: Tx, PathId(id): PathId<i64>) -> Result<StatusCode, Problem> {
    match tx.execute(Delete::from("notes").filter(col("notes", "id").eq(val(id)))).await? {
        0 => Err(missing()),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

/// The service: its router, and the pool tenants are added through.
#[derive(Clone)]
pub struct App {
    /// `/notes` and `/notes/{id}`, behind the tenancy and transaction layers.
    pub router: Router,
    pool: TenantPool,
}

impl App {
    /// Migrates `url` (an SQLite URL) as its owner, checks it, and builds
    /// the router, trusting the tokens `validator` accepts.
    pub async fn start(url: &str, validator: Validator) -> Result<App, Box<dyn Error>> {
        let owner = OwnerPool::connect(url).await?;
        owner.apply("create the notes schema", migration(owner.backend())?).await?;
        let pool = owner.tenant_pool(schema()?);
        pool.verify_isolation().await?;
        let plans = [Plan::new("free", RateQuota::per_second(50, 100), 8)];
        // A table or column the schema lacks fails here, named, not as a 503 per request.
        let directory = SqlDirectory::new(pool.clone(), plans);
        directory.check()?;
        let layer = TenancyLayer::builder()
            .validator(Arc::new(CachedValidator::new(Arc::new(validator), 10_000)))
            .directory(Arc::new(directory))
            .max_body_bytes(64 * 1024)
            .build()?;
        let router = Router::new()
            .route("/notes", get(list).post(create))
            .route("/notes/{id}", get(read).patch(update).delete(remove))
            .problem_fallbacks()
            // The transaction layer inside the tenancy layer: it needs the context.
            .layer(TxLayer::new(pool.clone()))
            .layer(layer);
        Ok(App { router, pool })
    }

    /// Adds an active tenant on the free plan, unless it exists; returns its id.
    pub async fn add_tenant(&self, id: TenantId, slug: &TenantSlug) -> tenancy_sql::Result<TenantId> {
        let tenants = PermissionSet::parse(["system:tenants"]).unwrap_or_default();
        let operator = TenantContext::system(SubjectId::from_u128(1), RoleName::platform_admin(), tenants);
        let mut sys = self.pool.unscoped_for_system("add a tenant", &operator).await?;
        let same = column("id").eq(id.to_string());
        if sys.fetch_all(Select::from("tenants").column("id").filter(same)).await?.is_empty() {
            let insert = Insert::into("tenants").columns(["id", "slug", "status", "plan"]);
            sys.execute(insert.values([id.to_string(), slug.to_string(), "active".into(), "free".into()]))
                .await?;
        }
        sys.commit().await?;
        Ok(id)
    }
}
