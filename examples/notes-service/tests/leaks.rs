//! The service's routes under the SDK's HTTP leak check: tenant `a` calls
//! each route with `b`'s note ids, ids that never existed, narrowed tokens
//! and every token attack of the kit, and must learn nothing of `b`.
use notes_service::App;
use serde_json::json;
use tenancy_auth::testing::TokenKit;
use tenancy_axum::testing::{HttpLeakCheck, Route};

#[tokio::test]
async fn no_route_lets_one_tenant_reach_another() -> Result<(), Box<dyn std::error::Error>> {
    let kit = TokenKit::hs256(b"a leak-check secret, at least 32 bytes", "notes", "notes")?;
    let app = App::start("sqlite::memory:", kit.validator()).await?;
    let add = async |t: tenancy_axum::testing::NewTenant| {
        app.add_tenant(t.id, &t.slug).await.expect("tenant added")
    };
    let note = json!({"title": "plan", "body": "launch on Monday"});
    HttpLeakCheck::new(app.router.clone(), &kit, add)
        .resources(async |c| [("note", c.post("/notes", note.clone()).await.json["id"].clone())])
        .routes([
            Route::get("/notes").requires("notes:read"),
            Route::get("/notes/{note}").requires("notes:read"),
            Route::patch("/notes/{note}").json(json!({"title": "mine now"})).requires("notes:write"),
            Route::delete("/notes/{note}").requires("notes:write"),
            Route::post("/notes").json(note.clone()).requires("notes:write"),
        ])
        .run()
        .await;
    Ok(())
}
