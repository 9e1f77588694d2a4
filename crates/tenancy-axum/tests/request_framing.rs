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

// ---- item 7: the layer's body limit holds on the bytes read ----

fn chunked(body: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for part in body.chunks(chunk) {
        out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// A handler that reads the raw body and says how much it got.
async fn count(_t: tenancy_axum::Tenant, body: Body) -> String {
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => format!("read {}", bytes.len()),
        Err(_) => "refused".to_owned(),
    }
}

/// A handler taking axum's own `String` body extractor.
async fn text(_t: tenancy_axum::Tenant, body: String) -> String {
    format!("read {}", body.len())
}

#[tokio::test]
async fn chunked_body_over_the_layer_limit_is_413() {
    let w = World::with(|b| b.max_body_bytes(100));
    let app = routes()
        .route("/count", axum::routing::post(count))
        .route("/text", axum::routing::post(text))
        .layer(w.layer.clone());
    let addr = serve(app).await;
    let token = w.token(1, RoleName::member());
    // 5,002 bytes of JSON, without Content-Length.
    let json = format!(r#"{{"unit":"{}","rent":1}}"#, "x".repeat(4982));
    assert_eq!(json.len(), 5002);

    let (status, head, body) = raw(
        addr,
        &format!(
            "POST /leases HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked"
        ),
        &chunked(json.as_bytes(), 64),
    )
    .await;
    assert_eq!(status, 413, "{body}");
    assert!(head.contains("application/problem+json"), "{head}");
    assert!(body.contains(types::PAYLOAD_TOO_LARGE), "{body}");

    // A handler reading the raw body gets no byte past the limit.
    let (status, _, body) = raw(
        addr,
        &format!(
            "POST /count HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nTransfer-Encoding: chunked"
        ),
        &chunked(json.as_bytes(), 64),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, "refused");

    // axum's own extractors refuse it with their 413 as well.
    let (status, _, body) = raw(
        addr,
        &format!(
            "POST /text HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nTransfer-Encoding: chunked"
        ),
        &chunked(json.as_bytes(), 64),
    )
    .await;
    assert_eq!(status, 413, "{body}");

    // Within the limit, chunked or not, the body is read whole.
    let small = r#"{"unit":"4B","rent":1}"#;
    let (status, _, body) = raw(
        addr,
        &format!(
            "POST /leases HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked"
        ),
        &chunked(small.as_bytes(), 5),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, _, body) = raw(
        addr,
        &format!(
            "POST /count HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Length: 100"
        ),
        &[b'a'; 100],
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "read 100"));
}

#[tokio::test]
async fn a_smaller_default_body_limit_still_holds_for_axums_extractors() {
    // The layer's limit does not widen a route's own `DefaultBodyLimit`
    // for axum's extractors.
    let w = World::with(|b| b.max_body_bytes(1000));
    let app = axum::Router::new()
        .route("/text", axum::routing::post(text))
        .layer(axum::extract::DefaultBodyLimit::max(10))
        .layer(w.layer.clone());
    let token = w.token(1, RoleName::member());
    let post = |body: Body| {
        send(
            &app,
            request("POST", "/text", Some(&token)).body(body).unwrap(),
        )
    };
    assert_eq!(post(stream_of(vec![b'a'; 11], 4)).await.status, 413);
    assert_eq!(post(stream_of(vec![b'a'; 1001], 100)).await.status, 413);
    let r = post(stream_of(vec![b'a'; 10], 4)).await;
    assert_eq!((r.status.as_u16(), r.text.as_str()), (200, "read 10"));
}

#[tokio::test]
async fn body_without_a_length_over_the_layer_limit_is_413_in_process() {
    // A body whose size is unknown until read (a stream), through the
    // router directly.
    let w = World::with(|b| b.max_body_bytes(100));
    let json = format!(r#"{{"unit":"{}","rent":1}}"#, "x".repeat(4982));
    let body = stream_of(json.into_bytes(), 64);
    let r = send(
        &w.app(),
        request("POST", "/leases", Some(&w.token(1, RoleName::member())))
            .header("content-type", "application/json")
            .body(body)
            .unwrap(),
    )
    .await;
    r.problem(413, types::PAYLOAD_TOO_LARGE);
}

/// `bytes` in `chunk`-byte frames, with no size hint: a body whose size is
/// known only once read.
fn stream_of(bytes: Vec<u8>, chunk: usize) -> Body {
    Body::new(Frames {
        rest: bytes.into(),
        chunk,
    })
}

struct Frames {
    rest: axum::body::Bytes,
    chunk: usize,
}

impl axum::body::HttpBody for Frames {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if self.rest.is_empty() {
            return std::task::Poll::Ready(None);
        }
        let n = self.chunk.min(self.rest.len());
        let frame = self.rest.split_to(n);
        std::task::Poll::Ready(Some(Ok(http_body::Frame::data(frame))))
    }
}

#[tokio::test]
async fn input_json_uses_the_layers_limit_not_axums_default() {
    // A layer admitting 3 MB: a 2.5 MB JSON body is the layer's to refuse,
    // not axum's 2 MB default.
    let w = World::with(|b| b.max_body_bytes(3 * 1024 * 1024));
    let json = format!(r#"{{"unit":"{}","rent":1}}"#, "x".repeat(2_500_000));
    let r = send(
        &w.app(),
        request("POST", "/leases", Some(&w.token(1, RoleName::member())))
            .header("content-type", "application/json")
            .body(Body::from(json))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", &r.text[..r.text.len().min(300)]);
    // And a smaller layer limit is input::Json's too, without Content-Length.
    let w = World::with(|b| b.max_body_bytes(100));
    let json = format!(r#"{{"unit":"{}","rent":1}}"#, "x".repeat(200));
    let r = send(
        &w.app(),
        request("POST", "/leases", Some(&w.token(1, RoleName::member())))
            .header("content-type", "application/json")
            .body(stream_of(json.into_bytes(), 16))
            .unwrap(),
    )
    .await;
    r.problem(413, types::PAYLOAD_TOO_LARGE);
}
