//! `RemoteJwks` against a tiny HTTP server on the loopback address.

#![cfg(feature = "remote-jwks")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use tenancy_auth::{AuthError, CachingKeySource, KeySource, RemoteJwks, RemoteJwksError};

const JWKS: &str = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"ed-1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;

/// Serves `responses` (one per connection, in order) on a loopback port.
fn serve(responses: Vec<String>) -> String {
    serve_on(TcpListener::bind("127.0.0.1:0").unwrap(), responses)
}

/// Serves `responses` on `listener`.
fn serve_on(listener: TcpListener, responses: Vec<String>) -> String {
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for response in responses {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(response.as_bytes());
        }
    });
    format!("http://{address}/jwks.json")
}

fn ok(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn fetches_and_parses_the_document() {
    let url = serve(vec![ok(JWKS)]);
    let keys = RemoteJwks::new(&url).unwrap().fetch().await.unwrap();
    assert!(keys.contains("ed-1"));
}

#[tokio::test]
async fn a_failing_endpoint_keeps_the_last_good_keys() {
    let url = serve(vec![
        ok(JWKS),
        "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            .to_owned(),
        "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:1/evil\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            .to_owned(),
        ok("not json"),
        ok(&format!("{{\"keys\":[],\"pad\":\"{}\"}}", "x".repeat(300 * 1024))),
    ]);
    let cache = CachingKeySource::new(RemoteJwks::new(&url).unwrap(), Duration::from_secs(60));
    cache.refresh().await.unwrap();
    for _ in 0..4 {
        let err = cache.refresh().await.unwrap_err();
        assert!(matches!(err, AuthError::KeySource(_)), "{err:?}");
        assert!(!err.is_invalid_token());
        assert!(cache.current().contains("ed-1"));
    }
    let cache = Arc::new(cache);
    assert_eq!(cache.generation(), 1);
}

#[test]
fn plain_http_to_another_host_is_refused() {
    assert!(matches!(
        RemoteJwks::new("http://id.example.com/jwks.json"),
        Err(AuthError::Config(_))
    ));
}

/// Another host: a second loopback address where the system has one (Linux
/// routes all of 127.0.0.0/8 to the loopback interface), else another port.
fn other_host() -> TcpListener {
    TcpListener::bind("127.0.0.2:0")
        .or_else(|_| TcpListener::bind("127.0.0.1:0"))
        .unwrap()
}

fn redirect_to(location: &str) -> String {
    format!(
        "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    )
}

fn remote_error(err: &AuthError) -> Option<&RemoteJwksError> {
    match err {
        AuthError::KeySource(source) => source.downcast_ref(),
        _ => None,
    }
}

#[tokio::test]
async fn a_redirect_to_another_host_loads_none_of_its_keys_whatever_the_client_does() {
    // The other host serves keys of its own.
    const OTHER_JWKS: &str = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"evil","x":"hl3UF6mftNK_k2_B_BzG0dByxvARkEfswcryF8r8bgc"}]}"#;
    let other = serve_on(other_host(), vec![ok(OTHER_JWKS)]);
    let url = serve(vec![redirect_to(&other), redirect_to(&other)]);

    // The service's own client follows redirects (reqwest's default).
    let following = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .unwrap();
    let keys = CachingKeySource::new(
        RemoteJwks::with_client(following, &url).unwrap(),
        Duration::from_secs(60),
    );
    let err = keys.refresh().await.unwrap_err();
    assert!(
        matches!(remote_error(&err), Some(RemoteJwksError::Redirected)),
        "{err:?}"
    );
    assert!(!err.is_invalid_token());
    assert!(keys.current().is_empty());
    assert_eq!(keys.generation(), 0);

    // A client that does not follow sees the 302 itself: refused as such.
    let err = RemoteJwks::new(&url).unwrap().fetch().await.unwrap_err();
    assert!(
        matches!(
            remote_error(&err),
            Some(RemoteJwksError::Redirect { status: 302 })
        ),
        "{err:?}"
    );
}
