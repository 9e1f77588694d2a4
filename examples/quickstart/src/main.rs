//! The tenancy SDK in one file: two tenants, one table, one route, and neither
//! tenant sees the other's note. Run it with `cargo run -p quickstart`.
use std::{sync::Arc, time::Duration};

use axum::{Router, body::Body, extract::State, http::Request, routing::get};
use sea_query::{ColumnDef, Value};
use tenancy_auth::{CachedValidator, Issuer, Validator};
use tenancy_axum::{MemoryDirectory, Problem, Require, TenancyLayer, Tenant, TenantRecord};
use tenancy_core::*;
use tenancy_sql::{Backend, Insert, OwnerPool, Schema, Select, TenantPool, ddl::Ddl};
use tower::ServiceExt;

tenancy_axum::permission!(pub NotesRead = "notes:read");

// The route names what it needs; the tenant comes from the token, and the query is scoped to it.
async fn notes(State(db): State<TenantPool>, t: Tenant, _: Require<NotesRead>) -> Result<String, Problem> {
    let mut tx = db.begin(&t).await.map_err(|_| Problem::internal())?;
    let rows = tx.fetch_all(Select::from("notes").column("body")).await.map_err(|_| Problem::internal())?;
    Ok(rows.iter().map(|r| sqlx::Row::get::<String, _>(r, "body")).collect::<Vec<_>>().join(", "))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. One tenant-owned table on in-memory SQLite: the DDL adds the tenant column and keys.
    //    Statements may name only declared columns; the owner pool runs the DDL, the tenant pool the requests.
    let schema = Schema::builder().tenant("notes").columns(["body"]).build()?;
    let owner = OwnerPool::connect("sqlite::memory:").await?;
    let columns = |t: &mut sea_query::TableCreateStatement| {
        t.col(ColumnDef::new("id").integer().not_null()).col(ColumnDef::new("body").text().not_null());
    };
    owner.apply("create notes", Ddl::new(&schema, Backend::Sqlite).create_table("notes", columns)?).await?;
    let db = owner.tenant_pool(schema);
    // 2. The app: one layer (token -> tenant -> status and limits) in front of one route.
    let secret = b"quickstart secret, at least 32 bytes long";
    let validator = Validator::builder().issuer("qs").audience("qs").hs256_secret(secret).build()?;
    let directory = Arc::new(MemoryDirectory::new());
    let layer = TenancyLayer::builder()
        .validator(Arc::new(CachedValidator::new(Arc::new(validator), 1_000)))
        .directory(directory.clone())
        .build()?;
    let app = Router::new().route("/notes", get(notes)).layer(layer).with_state(db.clone());
    // 3. Two tenants: each writes a note in a transaction bound to it, then reads the route.
    let plan = Plan::new("free", RateQuota::per_second(10, 20), 4).entitlements(&PlanOverrides::default());
    let viewer = RoleRegistry::with_builtins().permissions(&RoleName::viewer())?.clone();
    for (n, slug, note) in [(1, "acme", "acme's launch plan"), (2, "globex", "globex's secret")] {
        let tenant = TenantId::from_u128(n);
        directory.insert(TenantRecord::new(tenant, slug.parse()?, TenantStatus::Active, plan.clone()));
        let ctx = TenantContext::tenant(tenant, SubjectId::from_u128(7), RoleName::viewer(), viewer.clone());
        let mut tx = db.begin(&ctx).await?;
        tx.execute(Insert::into("notes").columns(["id", "body"]).values([Value::from(1), note.into()]))
            .await?;
        tx.commit().await?;
        let token = Issuer::hs256(secret, "qs", "qs")?.issue(&ctx, Duration::from_secs(300))?;
        let get = Request::get("/notes").header("authorization", format!("Bearer {token}"));
        let response = app.clone().oneshot(get.body(Body::empty())?).await?;
        let body = axum::body::to_bytes(response.into_body(), 4096).await?;
        println!("{slug} sees: {}", String::from_utf8_lossy(&body)); // only its own note
    }
    Ok(())
}
