//! `cargo run -p notes-service`: the notes API on `NOTES_ADDR` (default
//! `127.0.0.1:8081`) over `notes.db`, with tenants `acme` and `globex` and
//! a member's token for each printed.
use std::time::Duration;

use notes_service::App;
use tenancy_auth::{Issuer, Validator};
use tenancy_core::{RoleName, RoleRegistry, SubjectId, TenantContext, TenantId};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret =
        std::env::var("NOTES_JWT_SECRET").unwrap_or_else(|_| "notes-service development secret!".into());
    let addr = std::env::var("NOTES_ADDR").unwrap_or_else(|_| "127.0.0.1:8081".into());
    let validator = Validator::builder().issuer("notes").audience("notes").hs256_secret(secret.as_bytes());
    let app = App::start("sqlite://notes.db?mode=rwc", validator.build()?).await?;
    let issuer = Issuer::hs256(secret.as_bytes(), "notes", "notes")?;
    let member = RoleRegistry::with_builtins().permissions(&RoleName::member())?.clone();
    for (n, slug) in [(1, "acme"), (2, "globex")] {
        let tenant = app.add_tenant(TenantId::from_u128(n), &slug.parse()?).await?;
        let ctx = TenantContext::tenant(tenant, SubjectId::from_u128(n), RoleName::member(), member.clone());
        let token = issuer.issue(&ctx, Duration::from_secs(3600))?;
        println!("export {}_TOKEN={token}", slug.to_uppercase());
    }
    println!("notes-service on http://{addr}; try:");
    println!("  curl -s http://{addr}/notes -H \"Authorization: Bearer $ACME_TOKEN\"");
    axum::serve(tokio::net::TcpListener::bind(&addr).await?, app.router).await?;
    Ok(())
}
