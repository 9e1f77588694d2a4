//! The app under the SDK's leak-test kit: its query, then its routes.
use quickstart::{App, migration, note, schema};
use serde_json::json;
use tenancy_auth::testing::TokenKit;
use tenancy_axum::testing::{HttpLeakCheck, Route};
use tenancy_sql::testing::LeakCheck;

#[tokio::test]
async fn no_tenant_reaches_another() -> Result<(), Box<dyn std::error::Error>> {
    let check = LeakCheck::new(&schema()?).migration(migration);
    check.run(async |probe, tx| note(tx, probe.id("notes").as_i64().unwrap_or(0)).await).await;
    let kit = TokenKit::hs256(b"a test secret, at least 32 bytes long", "qs", "qs")?;
    let app = App::start(kit.validator()).await?;
    HttpLeakCheck::new(app.router.clone(), &kit, async |t| app.add_tenant(t.id, t.slug))
        .resources(async |c| [("note", c.post("/notes", json!({"body": "hi"})).await.json["id"].clone())])
        .routes([
            Route::get("/notes/{note}").requires("notes:read"),
            Route::get("/notes").requires("notes:read"),
        ])
        .run()
        .await;
    Ok(())
}
