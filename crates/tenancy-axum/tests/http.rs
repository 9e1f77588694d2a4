//! The same guarantees over real HTTP on 127.0.0.1, with a real client.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "helpers fail the test loudly"
)]

mod common;

use std::net::SocketAddr;

use common::*;
use tenancy_axum::TenantResolver;
use tenancy_axum::problem::types;
use tenancy_core::*;

async fn serve(w: &World) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = w.app();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    addr
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn problem(
    response: reqwest::Response,
    status: u16,
    type_uri: &str,
) -> reqwest::header::HeaderMap {
    assert_eq!(response.status().as_u16(), status);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/problem+json");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["type"], type_uri, "{body}");
    assert_eq!(body["status"], status);
    headers
}

#[tokio::test]
async fn rejections_over_http() {
    let w = World::new();
    w.add_tenant(8, TenantStatus::Active, plan(1, 1, 10));
    w.add_tenant(9, TenantStatus::Suspended, plan(100, 100, 10));
    let addr = serve(&w).await;
    let c = client();
    let url = |p: &str| format!("http://{addr}{p}");

    let h = problem(
        c.get(url("/me")).send().await.unwrap(),
        401,
        types::MISSING_TOKEN,
    )
    .await;
    assert_eq!(h["www-authenticate"], "Bearer");
    let h = problem(
        c.get(url("/me")).bearer_auth("x.y.z").send().await.unwrap(),
        401,
        types::INVALID_TOKEN,
    )
    .await;
    assert_eq!(h["www-authenticate"], r#"Bearer error="invalid_token""#);
    problem(
        c.get(url("/me"))
            .bearer_auth(w.token(9, RoleName::admin()))
            .send()
            .await
            .unwrap(),
        403,
        types::TENANT_UNAVAILABLE,
    )
    .await;
    problem(
        c.get(url("/audit"))
            .bearer_auth(w.token(1, RoleName::viewer()))
            .send()
            .await
            .unwrap(),
        403,
        types::MISSING_PERMISSION,
    )
    .await;
    problem(
        c.get(url("/me"))
            .bearer_auth(w.system_token())
            .send()
            .await
            .unwrap(),
        403,
        types::WRONG_SCOPE,
    )
    .await;
    problem(
        c.get(url("/system/tenants"))
            .bearer_auth(w.token(1, RoleName::admin()))
            .send()
            .await
            .unwrap(),
        403,
        types::WRONG_SCOPE,
    )
    .await;
    let ok = c
        .get(url("/system/tenants"))
        .bearer_auth(w.system_token())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    problem(
        c.get(url("/scoped/2"))
            .bearer_auth(w.token(1, RoleName::viewer()))
            .send()
            .await
            .unwrap(),
        404,
        types::NOT_FOUND,
    )
    .await;
    let v = problem(
        c.post(url("/leases"))
            .bearer_auth(w.token(1, RoleName::member()))
            .json(&serde_json::json!({ "unit": 4, "rent": 1 }))
            .send()
            .await
            .unwrap(),
        422,
        types::UNPROCESSABLE,
    )
    .await;
    drop(v);
    let limited = w.token(8, RoleName::viewer());
    assert_eq!(
        c.get(url("/me"))
            .bearer_auth(&limited)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let h = problem(
        c.get(url("/me"))
            .bearer_auth(&limited)
            .send()
            .await
            .unwrap(),
        429,
        types::RATE_LIMITED,
    )
    .await;
    assert_eq!(h["retry-after"], "1");
}

#[tokio::test]
async fn payload_too_large_over_http() {
    let w = World::with(|b| b.max_body_bytes(1024));
    let addr = serve(&w).await;
    let body = format!(r#"{{"unit":"{}","rent":1}}"#, "x".repeat(4096));
    let r = client()
        .post(format!("http://{addr}/leases"))
        .bearer_auth(w.token(1, RoleName::member()))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    problem(r, 413, types::PAYLOAD_TOO_LARGE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_tenants_over_http_each_see_only_their_own_context() {
    let w = World::new();
    for i in 30..50 {
        w.add_tenant(i, TenantStatus::Active, plan(100_000, 100_000, 1_000));
    }
    let addr = serve(&w).await;
    let c = client();
    let tasks: Vec<_> = (30..50u128)
        .map(|i| {
            let (c, token) = (c.clone(), w.token(i, RoleName::member()));
            tokio::spawn(async move {
                for _ in 0..20 {
                    let r = c
                        .get(format!("http://{addr}/me"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                    let text = r.text().await.unwrap();
                    assert!(!text.contains(&tenant_id(i).to_string()), "{text}");
                    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(v["slug"], slug(i).as_str());
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test]
async fn host_mismatch_over_http() {
    let w = World::with(|b| b.resolver(TenantResolver::host("leases.test")));
    let addr = serve(&w).await;
    let c = client();
    let token = w.token(1, RoleName::member());
    let r = c
        .get(format!("http://{addr}/me"))
        .header("host", "tenant-1.leases.test")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .get(format!("http://{addr}/me"))
        .header("host", "tenant-2.leases.test")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    problem(r, 403, types::TENANT_MISMATCH).await;
}
