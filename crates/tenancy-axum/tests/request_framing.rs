//! Request framing against the layer (issue 12, items 6 and 7): an
//! absolute-form target naming another tenant than `Host`, and bodies
//! without a length past the layer's limit. Each test is named after the
//! attack it tries.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "helpers fail the test loudly"
)]

mod common;

use std::net::SocketAddr;

use axum::body::Body;
use common::*;
use tenancy_axum::ACT_REASON_HEADER;
use tenancy_axum::problem::types;
use tenancy_core::RoleName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---- raw HTTP/1.1, for request shapes a client library will not send ----

async fn serve(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    addr
}

/// Sends `head` (request line and headers, without the blank line) and
/// `body` as written, and returns the status and the body of the answer.
async fn raw(addr: SocketAddr, head: &str, body: &[u8]) -> (u16, String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(format!("{head}\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    // The server may answer (and close) before the whole body is written.
    let _ = stream.write_all(body).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"));
    (status, head.to_ascii_lowercase(), body.to_owned())
}

// ---- item 6: the absolute-form target against Host ----

#[tokio::test]
async fn absolute_target_of_another_tenant_under_the_own_host_is_refused() {
    let w = World::with(|b| b.resolver(tenancy_axum::TenantResolver::host("example.com")));
    let token = w.token(1, RoleName::member());
    let app = w.app();
    let check = |uri: &'static str, host: Option<&'static str>| {
        let mut b = request("GET", uri, Some(&token));
        if let Some(h) = host {
            b = b.header("host", h);
        }
        send(&app, b.body(Body::empty()).unwrap())
    };
    // The attack: tenant 2 in the target, tenant 1 in Host, tenant 1's token.
    let r = check(
        "http://tenant-2.example.com/me",
        Some("tenant-1.example.com"),
    )
    .await;
    r.problem(400, types::CONFLICTING_HOST);
    // The reverse disagreement, and one that names no tenant in Host.
    check(
        "http://tenant-1.example.com/me",
        Some("tenant-2.example.com"),
    )
    .await
    .problem(400, types::CONFLICTING_HOST);
    check("http://tenant-1.example.com/me", Some("example.com"))
        .await
        .problem(400, types::CONFLICTING_HOST);
    // The target's authority is the one that names the tenant.
    check("http://tenant-2.example.com/me", None)
        .await
        .problem(403, types::TENANT_MISMATCH);
    // Agreement, up to case, a final dot and the scheme's default port.
    for (uri, host) in [
        ("http://tenant-1.example.com/me", "tenant-1.example.com"),
        ("http://Tenant-1.Example.com/me", "tenant-1.example.com."),
        ("http://tenant-1.example.com:80/me", "tenant-1.example.com"),
        (
            "https://tenant-1.example.com/me",
            "TENANT-1.example.com:443",
        ),
    ] {
        let r = check(uri, Some(host)).await;
        assert_eq!(r.status, 200, "{uri} {host}: {}", r.text);
        assert_eq!(r.json()["slug"], "tenant-1");
    }
    check(
        "http://tenant-1.example.com:8080/me",
        Some("tenant-1.example.com"),
    )
    .await
    .problem(400, types::CONFLICTING_HOST);
    let r = check("http://tenant-1.example.com/me", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let refused = w
        .audit
        .events()
        .into_iter()
        .filter(|e| e.action == "request.host")
        .count();
    assert_eq!(refused, 4);

    // Over a real connection, as the attack was run.
    let addr = serve(w.app()).await;
    let (status, head, body) = raw(
        addr,
        &format!(
            "GET http://tenant-2.example.com/me HTTP/1.1\r\nHost: tenant-1.example.com\r\nAuthorization: Bearer {token}"
        ),
        b"",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(head.contains("application/problem+json"), "{head}");
    assert!(body.contains(types::CONFLICTING_HOST), "{body}");
    let (status, _, body) = raw(
        addr,
        &format!(
            "GET http://tenant-1.example.com/me HTTP/1.1\r\nHost: tenant-1.example.com\r\nAuthorization: Bearer {token}"
        ),
        b"",
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn absolute_target_disagreeing_with_host_is_refused_without_a_resolver() {
    // Handlers may read Host themselves: the disagreement is refused
    // whatever the layer resolves.
    let w = World::new();
    let token = w.token(1, RoleName::member());
    let r = send(
        &w.app(),
        request("GET", "http://tenant-2.example.com/me", Some(&token))
            .header("host", "tenant-1.example.com")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    r.problem(400, types::CONFLICTING_HOST);
}

#[tokio::test]
async fn absolute_target_of_another_tenant_for_an_acting_operator_is_refused() {
    let w = World::with(|b| b.resolver(tenancy_axum::TenantResolver::host("example.com")));
    let r = send(
        &w.app(),
        request(
            "GET",
            "http://tenant-3.example.com/support/me",
            Some(&w.system_token()),
        )
        .header("host", "tenant-2.example.com")
        .header(ACT_REASON_HEADER, "ticket 11")
        .body(Body::empty())
        .unwrap(),
    )
    .await;
    r.problem(400, types::CONFLICTING_HOST);
    assert!(w.audit.for_tenant(tenant_id(2)).is_empty());
    assert!(w.audit.for_tenant(tenant_id(3)).is_empty());
}
