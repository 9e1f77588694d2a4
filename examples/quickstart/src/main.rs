//! Two tenants each write a note through the app, then read the list:
//! each sees only its own. Run it with `cargo run -p quickstart`.
use std::time::Duration;

use axum::{body::Body, http::Request};
use quickstart::App;
use tenancy_auth::{Issuer, Validator};
use tenancy_core::*;
use tower::ServiceExt;

type Error = Box<dyn std::error::Error>;

/// Sends `body` to `method path` with `token`; the answer's body as text.
async fn call(app: &App, token: &str, method: &str, path: &str, body: String) -> Result<String, Error> {
    let request =
        Request::builder().method(method).uri(path).header("authorization", format!("Bearer {token}"));
    let request = request.header("content-type", "application/json").body(Body::from(body))?;
    let response = app.router.clone().oneshot(request).await?;
    Ok(String::from_utf8_lossy(&axum::body::to_bytes(response.into_body(), 4096).await?).into_owned())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let secret = b"quickstart secret, at least 32 bytes long";
    let app =
        App::start(Validator::builder().issuer("qs").audience("qs").hs256_secret(secret).build()?).await?;
    let editor = RoleRegistry::with_builtins().permissions(&RoleName::admin())?.clone();
    for (n, slug, note) in [(1, "acme", "acme's launch plan"), (2, "globex", "globex's secret")] {
        let tenant = app.add_tenant(TenantId::from_u128(n), slug.parse()?);
        let ctx = TenantContext::tenant(tenant, SubjectId::from_u128(7), RoleName::admin(), editor.clone());
        let token = Issuer::hs256(secret, "qs", "qs")?.issue(&ctx, Duration::from_secs(300))?;
        call(&app, &token, "POST", "/notes", format!(r#"{{"body": "{note}"}}"#)).await?;
        println!("{slug} sees: {}", call(&app, &token, "GET", "/notes", String::new()).await?); // only its own
    }
    Ok(())
}
