//! The Redis-backed rate limit, against the real server named by
//! `TENANCY_TEST_REDIS_URL` (run with `--features redis`).

#![cfg(feature = "redis")]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "helpers fail the test loudly"
)]

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use tenancy_axum::problem::types;
use tenancy_axum::{FailMode, RateStore, RedisRateStore, TenantLimits};
use tenancy_core::*;

/// The server's URL, or `None` (reported as skipped) when the variable is
/// unset; a failure instead when `TENANCY_TEST_REQUIRE_SERVICES=1`.
fn redis_url() -> Option<String> {
    service_url("TENANCY_TEST_REDIS_URL")
}

fn unique_prefix(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("tenancy-test:{test}:{}:{nanos}", std::process::id())
}

async fn reachable(store: &RedisRateStore) {
    // A fresh tenant with a huge budget: any error means the server is down.
    let probe = TenantId::from_u128(u128::MAX);
    if let Err(e) = store
        .check(probe, &RateQuota::per_second(1000, 1000), Duration::ZERO)
        .await
    {
        panic!("redis at TENANCY_TEST_REDIS_URL is unreachable: {e}");
    }
}

async fn cleanup(url: &str, keys: &[String]) {
    let client = redis::Client::open(url).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("DEL")
        .arg(keys)
        .query_async(&mut c)
        .await
        .unwrap();
}

fn instance(url: &str, prefix: &str) -> (World, Arc<RedisRateStore>) {
    let store = Arc::new(
        RedisRateStore::new(url)
            .unwrap()
            .with_prefix(prefix)
            .with_timeout(Duration::from_secs(2)),
    );
    let limits = Arc::new(TenantLimits::shared(store.clone(), FailMode::Closed));
    let w = World::with(|b| b.limits(limits));
    w.add_tenant(4, TenantStatus::Active, plan(1, 4, 100));
    w.add_tenant(5, TenantStatus::Active, plan(1, 2, 100));
    (w, store)
}

#[tokio::test]
async fn two_instances_share_one_limit() {
    let Some(url) = redis_url() else { return };
    let prefix = unique_prefix("shared");
    let (a, store) = instance(&url, &prefix);
    let (b, _) = instance(&url, &prefix);
    reachable(&store).await;
    let (app_a, app_b) = (a.app(), b.app());
    let token = a.token(4, RoleName::viewer());
    let mut statuses = Vec::new();
    for i in 0..8 {
        let app = if i % 2 == 0 { &app_a } else { &app_b };
        let r = get_as(app, "/me", Some(&token)).await;
        if r.status == 429 {
            r.problem(429, types::RATE_LIMITED);
            assert!(r.headers.contains_key("retry-after"));
        }
        statuses.push(r.status.as_u16());
    }
    // Burst 4 across both instances, not 4 each.
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429, 429, 429]);
    // Another tenant's budget is its own.
    let other = get_as(&app_b, "/me", Some(&a.token(5, RoleName::viewer()))).await;
    assert_eq!(other.status, 200);
    cleanup(
        &url,
        &[
            store.key(tenant_id(4)),
            store.key(tenant_id(5)),
            store.key(TenantId::from_u128(u128::MAX)),
        ],
    )
    .await;
}

#[tokio::test]
async fn keys_expire_once_a_tenant_is_back_at_full_burst() {
    let Some(url) = redis_url() else { return };
    let prefix = unique_prefix("expiry");
    let store = RedisRateStore::new(&url).unwrap().with_prefix(&prefix);
    reachable(&store).await;
    let t = TenantId::from_u128(77);
    // 20 per second: the key lives about 50 ms after one request.
    assert_eq!(
        store
            .check(t, &RateQuota::per_second(20, 1), Duration::ZERO)
            .await
            .unwrap(),
        RateDecision::Allowed
    );
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg(store.key(t))
        .query_async(&mut c)
        .await
        .unwrap();
    assert!((0..=60).contains(&ttl), "pttl {ttl}");
    tokio::time::sleep(Duration::from_millis(120)).await;
    let exists: i64 = redis::cmd("EXISTS")
        .arg(store.key(t))
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(exists, 0);
    cleanup(&url, &[store.key(TenantId::from_u128(u128::MAX))]).await;
}

#[tokio::test]
async fn store_down_fails_open_or_closed_as_the_caller_chose() {
    // Nothing listens on port 1; no server is needed for this test.
    let down = || {
        Arc::new(
            RedisRateStore::new("redis://127.0.0.1:1")
                .unwrap()
                .with_timeout(Duration::from_millis(200)),
        )
    };
    let open = World::with(|b| b.limits(Arc::new(TenantLimits::shared(down(), FailMode::Open))));
    let r = get_as(&open.app(), "/me", Some(&open.token(1, RoleName::viewer()))).await;
    assert_eq!(r.status, 200);
    let closed =
        World::with(|b| b.limits(Arc::new(TenantLimits::shared(down(), FailMode::Closed))));
    let r = get_as(
        &closed.app(),
        "/me",
        Some(&closed.token(1, RoleName::viewer())),
    )
    .await;
    r.problem(503, types::UNAVAILABLE);
    assert!(r.headers.contains_key("retry-after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_racing_for_one_tenant_never_admit_past_its_burst() {
    let Some(url) = redis_url() else { return };
    let prefix = unique_prefix("race");
    // Four instances, each its own connection, all on one tenant's key.
    let stores: Vec<Arc<RedisRateStore>> = (0..4)
        .map(|_| {
            let store = RedisRateStore::new(&url).unwrap().with_prefix(&prefix);
            Arc::new(store.with_timeout(Duration::from_secs(5)))
        })
        .collect();
    let tenant = TenantId::from_u128(42);
    // A burst of 5, then one a minute: nothing refills during the test.
    let quota = RateQuota::every(Duration::from_secs(60), 5);
    let checks: Vec<_> = (0..20)
        .map(|i| {
            let store = Arc::clone(&stores[i % stores.len()]);
            tokio::spawn(async move { store.check(tenant, &quota, Duration::ZERO).await })
        })
        .collect();
    let (mut allowed, mut failed) = (0, 0);
    for check in checks {
        match check.await.unwrap() {
            Ok(RateDecision::Allowed) => allowed += 1,
            Ok(RateDecision::Limited { retry_after }) => {
                assert!(retry_after > Duration::from_secs(50), "{retry_after:?}");
            }
            // Contention past the retries is a store failure, never an
            // admission beyond the burst.
            Err(e) => {
                println!("store failure under contention: {e}");
                failed += 1;
            }
        }
    }
    assert!(allowed <= 5, "{allowed} admitted");
    assert!(allowed == 5 || failed > 0, "{allowed} admitted");
    cleanup(&url, &[stores[0].key(tenant)]).await;
}
