//! A keep-alive connection after a refusal (issue 14, "HTTP behaviour"): a
//! request refused before its body is read leaves the connection usable, or
//! says `Connection: close`. Over a real socket, as a client writing the
//! headers and the body separately (Python `requests`) does.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "helpers fail the test loudly"
)]

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use tenancy_core::{RoleName, TenantStatus};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One answer read off a keep-alive connection.
struct Answer {
    status: u16,
    /// Lowercase.
    head: String,
}

impl Answer {
    fn closes(&self) -> bool {
        self.head.contains("\r\nconnection: close")
    }
}

/// Reads one response (headers and a `Content-Length` body); `None` when
/// the server closed the connection without one.
async fn read_answer(stream: &mut TcpStream) -> Option<Answer> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte)).await {
            Ok(Ok(1)) => buf.push(byte[0]),
            Ok(_) => return None,
            Err(_) => panic!("no answer within 5 s"),
        }
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map_or(0, |n| n.trim().parse().unwrap());
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(Answer { status, head })
}

/// Writes a POST of `body_len` bytes with `token`, the headers and the body
/// in separate writes, `pause` apart.
async fn post(stream: &mut TcpStream, token: &str, body_len: usize, pause: Duration) {
    let head = format!(
        "POST /leases HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {body_len}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    if !pause.is_zero() {
        tokio::time::sleep(pause).await;
    }
    // The server may have closed already; the answer tells.
    let _ = stream.write_all(&vec![b'x'; body_len]).await;
}

async fn get_me(stream: &mut TcpStream, token: &str) -> Option<Answer> {
    let head =
        format!("GET /me HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\r\n");
    stream.write_all(head.as_bytes()).await.ok()?;
    read_answer(stream).await
}

/// `rounds` refused POSTs, each on a fresh connection followed by a second
/// request on it: each refusal has `status` and either says
/// `Connection: close` or leaves a connection that answers the next request.
async fn check_keep_alive(addr: SocketAddr, refused_token: &str, status: u16, good_token: &str) {
    let mut kept = 0;
    for round in 0..300u32 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        // As urllib3 does; else Nagle holds the next request for the ACK.
        stream.set_nodelay(true).unwrap();
        // Every other round the body comes a little after the headers, as
        // from a client that writes them separately on a busy network.
        let pause = Duration::from_millis(u64::from(round % 2) * 2);
        post(&mut stream, refused_token, 4 * 1024, pause).await;
        let refusal = read_answer(&mut stream)
            .await
            .unwrap_or_else(|| panic!("round {round}: no answer to the POST"));
        assert_eq!(refusal.status, status, "round {round}: {}", refusal.head);
        if refusal.closes() {
            continue;
        }
        let next = get_me(&mut stream, good_token).await.unwrap_or_else(|| {
            panic!("round {round}: connection closed after a keep-alive refusal")
        });
        assert_eq!(next.status, 200, "round {round}: {}", next.head);
        kept += 1;
    }
    // A 4 KiB body is cheap to drain: the connection is kept, not closed.
    assert_eq!(kept, 300, "refusals that kept the connection");
}

#[tokio::test]
async fn connection_survives_a_401_before_the_body_is_read() {
    let w = World::with(|b| b.max_body_bytes(64 * 1024));
    let addr = serve(w.app()).await;
    let good = w.token(1, RoleName::member());
    check_keep_alive(addr, "not-a-token", 401, &good).await;
}

#[tokio::test]
async fn connection_survives_a_403_before_the_body_is_read() {
    let w = World::new();
    w.add_tenant(4, TenantStatus::Suspended, plan(100, 100, 10));
    let addr = serve(w.app()).await;
    let suspended = w.token(4, RoleName::member());
    let good = w.token(1, RoleName::member());
    check_keep_alive(addr, &suspended, 403, &good).await;
}

#[tokio::test]
async fn body_that_never_comes_does_not_hold_the_refusal() {
    let w = World::new();
    let addr = serve(w.app()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = "POST /leases HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer nope\r\nContent-Length: 1000\r\n\r\nonly this";
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let refusal = read_answer(&mut stream).await.unwrap();
    assert_eq!(refusal.status, 401);
    assert!(refusal.closes(), "{}", refusal.head);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn huge_declared_body_is_not_read_by_a_refusal() {
    let w = World::new();
    let addr = serve(w.app()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = "POST /leases HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer nope\r\nContent-Length: 1073741824\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let refusal = read_answer(&mut stream).await.unwrap();
    assert_eq!(refusal.status, 401);
    assert!(refusal.closes(), "{}", refusal.head);
    assert!(started.elapsed() < Duration::from_millis(900));
}

#[tokio::test]
async fn body_past_the_layer_limit_is_not_drained_by_a_refusal() {
    let w = World::with(|b| b.max_body_bytes(1000));
    let addr = serve(w.app()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // Chunked, so no length says it up front.
    let mut body = Vec::new();
    for _ in 0..4 {
        body.extend_from_slice(b"200\r\n");
        body.extend_from_slice(&[b'x'; 512]);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let head = "POST /leases HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer nope\r\nTransfer-Encoding: chunked\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let _ = stream.write_all(&body).await;
    let refusal = read_answer(&mut stream).await.unwrap();
    assert_eq!(refusal.status, 401);
    assert!(refusal.closes(), "{}", refusal.head);
}

#[tokio::test]
async fn client_waiting_for_100_continue_is_told_the_connection_closes() {
    let w = World::new();
    let addr = serve(w.app()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = "POST /leases HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer nope\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let refusal = read_answer(&mut stream).await.unwrap();
    assert_eq!(refusal.status, 401, "{}", refusal.head);
    assert!(refusal.closes(), "{}", refusal.head);
}

#[tokio::test]
async fn connection_survives_a_handler_403_before_the_body_is_read() {
    // `Require` refuses a viewer's POST before `Json` reads the body: past
    // the layer, which drains what the handler dropped.
    let w = World::new();
    let addr = serve(w.app()).await;
    let viewer = w.token(1, RoleName::viewer());
    let good = w.token(1, RoleName::member());
    check_keep_alive(addr, &viewer, 403, &good).await;
}
