//! `POST /auth/redeem` is public and writes, so it is rate-limited per
//! client address (issue 12, item 9): the attempt past the limit from one
//! address gets 429 with `Retry-After`; another address is unaffected.

#![expect(
    clippy::unwrap_used,
    reason = "scenarios are tests: any failure should stop them"
)]

mod support;

use std::net::IpAddr;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Db, Service, operator};
use tenancy_core::RateQuota;

/// A client whose connections come from `from` (any 127.0.0.0/8 address
/// is this host's loopback).
fn client_from(from: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(from.parse::<IpAddr>().unwrap())
        .no_proxy()
        .build()
        .unwrap()
}

async fn redeem(
    s: &Service,
    client: &reqwest::Client,
    code: &str,
    slug: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let r = client
        .post(format!("{}/auth/redeem", s.base))
        .json(&json!({"code": code, "slug": slug, "name": "Initech"}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let body = r.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

const UNKNOWN: &str = "0123456789abcdef";

/// The documented problem for an attempt past the limit.
fn assert_limited(status: StatusCode, headers: &reqwest::header::HeaderMap, body: &Value) {
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(body["type"], "urn:tenancy:problem:rate-limited", "{body}");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeem_attempts_past_the_limit_from_one_address_get_429() {
    // Three attempts an hour per address, to see the fourth refused.
    let Some(s) = Service::start_with(Db::Sqlite, |c| {
        c.redeem_limit = RateQuota::every(Duration::from_secs(3600), 3);
    })
    .await
    else {
        return;
    };
    let a = client_from("127.0.0.1");
    for i in 0..3 {
        let (status, _, body) = redeem(&s, &a, UNKNOWN, &format!("guess-{i}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "attempt {i}: {body}");
    }
    let (status, headers, body) = redeem(&s, &a, UNKNOWN, "guess-3").await;
    assert_limited(status, &headers, &body);
    // Naming another address in a header changes nothing: the service
    // trusts no proxy, so the client is the connection's peer.
    let r = a
        .post(format!("{}/auth/redeem", s.base))
        .header("x-forwarded-for", "198.51.100.7")
        .json(&json!({"code": UNKNOWN, "slug": "guess-4", "name": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);

    // A valid code from the limited address is refused before it is spent,
    // and works from another address, which is unaffected.
    let code = s
        .post("/system/redeem-codes", &operator(), json!({"plan": "free"}))
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, headers, body) = redeem(&s, &a, &code, "initech").await;
    assert_limited(status, &headers, &body);
    let b = client_from("127.0.0.2");
    let (status, _, body) = redeem(&s, &b, &code, "initech").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["tenant"]["slug"], "initech");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_limit_is_per_forwarded_client() {
    let Some(s) = Service::start_with(Db::Sqlite, |c| {
        c.redeem_limit = RateQuota::every(Duration::from_secs(3600), 2);
        c.trusted_proxies = vec!["127.0.0.3".parse().unwrap()];
    })
    .await
    else {
        return;
    };
    let proxy = client_from("127.0.0.3");
    let via_proxy = |client: &'static str, slug: &'static str| {
        proxy
            .post(format!("{}/auth/redeem", s.base))
            .header("x-forwarded-for", format!("{client}, 127.0.0.3"))
            .json(&json!({"code": UNKNOWN, "slug": slug, "name": "X"}))
            .send()
    };
    for slug in ["p-1", "p-2"] {
        let r = via_proxy("203.0.113.1", slug).await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    let r = via_proxy("203.0.113.1", "p-3").await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    // Another client behind the same proxy is unaffected.
    let r = via_proxy("203.0.113.2", "p-4").await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    s.stop().await;
}
