//! The app under the SDK's leak-test kit: its query, then its routes.
use quickstart::{App, migration, note, schema};
use serde_json::json;
use tenancy_auth::testing::TokenKit;
use tenancy_axum::testing::{Client, HttpLeakCheck, Route};
use tenancy_sql::testing::LeakCheck;

#[tokio::test]
async fn no_tenant_reaches_another() -> Result<(), Box<dyn std::error::Error>> {
    let check = LeakCheck::new(&schema()?).migration(migration);
    check.run(async |probe, tx| note(tx, probe.id("notes").as_i64().unwrap_or(0)).await).await;
    let kit = TokenKit::hs256(b"a test secret, at least 32 bytes long", "qs", "qs")?;
    let app = App::start(kit.validator()).await?;
    let routes = ["/notes/{note}", "/notes"].map(|path| Route::get(path).requires("notes:read"));
    // Each note holds its tenant's marker: a body that hands b's notes to a fails the test.
    let create = async |c: Client| c.post("/notes", json!({"body": c.marker()})).await.json["id"].clone();
    let http = HttpLeakCheck::new(app.router.clone(), &kit, async |t| app.add_tenant(t.id, t.slug));
    http.resources(async |c| [("note", create(c).await)]).routes(routes).run().await;
    Ok(())
}
