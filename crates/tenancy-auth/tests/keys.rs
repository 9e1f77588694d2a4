//! Key sets, rotation, and key sources that refresh without stampedes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use jsonwebtoken::EncodingKey;
use tenancy_auth::{AuthError, CachingKeySource, KeySet, KeySource, Validator, VerificationKey};
use tenancy_core::{ManualClock, MonotonicClock};

fn hs_key(byte: u8, kid: &str) -> VerificationKey {
    VerificationKey::hs256(&[byte; 32])
        .unwrap()
        .with_kid(kid)
        .unwrap()
}

fn token_for(byte: u8, kid: &str) -> String {
    sign_raw(
        &format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#),
        &claims().to_string(),
        jsonwebtoken::Algorithm::HS256,
        &EncodingKey::from_secret(&[byte; 32]),
    )
}

/// A key source whose keys the test changes, counting fetches.
struct TestSource {
    keys: Mutex<KeySet>,
    fetches: AtomicUsize,
    failing: AtomicBool,
}

impl TestSource {
    fn new(keys: KeySet) -> Self {
        TestSource {
            keys: Mutex::new(keys),
            fetches: AtomicUsize::new(0),
            failing: AtomicBool::new(false),
        }
    }
}

#[async_trait::async_trait]
impl KeySource for TestSource {
    async fn fetch(&self) -> Result<KeySet, AuthError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        // Long enough for every concurrent caller to queue up behind us.
        tokio::time::sleep(Duration::from_millis(20)).await;
        if self.failing.load(Ordering::SeqCst) {
            return Err(AuthError::key_source(std::io::Error::other(
                "jwks endpoint unreachable",
            )));
        }
        Ok(self.keys.lock().unwrap().clone())
    }
}

struct Fixture {
    source: Arc<TestSource>,
    caching: Arc<CachingKeySource<Arc<TestSource>>>,
    refresh_clock: Arc<ManualClock>,
    validator: Arc<Validator>,
}

async fn fixture() -> Fixture {
    let source = Arc::new(TestSource::new([hs_key(1, "k1")].into_iter().collect()));
    let refresh_clock = Arc::new(ManualClock::at(Duration::from_secs(1000)));
    let caching = Arc::new(
        CachingKeySource::new(Arc::clone(&source), Duration::from_secs(60))
            .with_clock(Arc::clone(&refresh_clock) as Arc<dyn MonotonicClock>),
    );
    caching.refresh().await.unwrap();
    let validator = Arc::new(builder().key_source(Arc::clone(&caching)).build().unwrap());
    Fixture {
        source,
        caching,
        refresh_clock,
        validator,
    }
}

#[tokio::test]
async fn unknown_kid_stampede_fetches_once() {
    let f = fixture().await;
    assert_eq!(f.source.fetches.load(Ordering::SeqCst), 1);
    assert!(f.validator.verify(&token_for(1, "k1")).is_ok());
    // The issuer rotates in k2; fifty requests carrying it arrive at once.
    f.source
        .keys
        .lock()
        .unwrap()
        .insert(hs_key(2, "k2"))
        .unwrap();
    let token = token_for(2, "k2");
    assert!(matches!(
        f.validator.verify(&token),
        Err(AuthError::UnknownKey)
    ));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let v = Arc::clone(&f.validator);
            let t = token.clone();
            tokio::spawn(async move { v.verify_async(&t).await.map(|_| ()) })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(f.source.fetches.load(Ordering::SeqCst), 2);
    assert_eq!(f.caching.generation(), 2);
    // Now known without any fetch.
    assert!(f.validator.verify(&token).is_ok());
}

#[tokio::test]
async fn unknown_kid_refreshes_at_most_once_per_interval() {
    let f = fixture().await;
    let stranger = token_for(3, "k3");
    assert!(matches!(
        f.validator.verify_async(&stranger).await,
        Err(AuthError::UnknownKey)
    ));
    assert_eq!(f.source.fetches.load(Ordering::SeqCst), 2);
    for _ in 0..10 {
        assert!(matches!(
            f.validator.verify_async(&stranger).await,
            Err(AuthError::UnknownKey)
        ));
    }
    assert_eq!(f.source.fetches.load(Ordering::SeqCst), 2);
    f.refresh_clock.advance(Duration::from_secs(61));
    assert!(f.validator.verify_async(&stranger).await.is_err());
    assert_eq!(f.source.fetches.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn tokens_without_kid_or_malformed_never_trigger_a_fetch() {
    let f = fixture().await;
    let no_kid = hs256(&claims());
    assert!(matches!(
        f.validator.verify_async(&no_kid).await,
        Err(AuthError::UnknownKey)
    ));
    assert!(f.validator.verify_async("garbage").await.is_err());
    assert_eq!(f.source.fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn failed_refresh_keeps_the_last_good_keys() {
    let f = fixture().await;
    f.source.failing.store(true, Ordering::SeqCst);
    let err = f
        .validator
        .verify_async(&token_for(2, "k2"))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::KeySource(_)));
    assert!(!err.is_invalid_token());
    assert!(!err.to_string().contains("k2"));
    assert!(f.validator.verify(&token_for(1, "k1")).is_ok());
    assert!(f.caching.refresh().await.is_err());
    assert!(f.caching.current().contains("k1"));
    assert!(f.validator.verify_async(&token_for(1, "k1")).await.is_ok());
}

#[test]
fn rotation_accepts_old_tokens_until_the_grace_period_ends() {
    let clock = clock();
    let v = builder_at(Arc::clone(&clock))
        .key(None, hs_key(1, "old"))
        .build()
        .unwrap();
    let old_token = token_for(1, "old");
    assert!(v.verify(&old_token).is_ok());
    // Add the new key; retire the old one in five minutes.
    let mut keys = (*v.keys()).clone();
    keys.insert(hs_key(2, "new")).unwrap();
    assert!(keys.retire("old", NOW + 300));
    v.set_keys(keys);
    assert!(v.verify(&old_token).is_ok());
    assert!(v.verify(&token_for(2, "new")).is_ok());
    clock.advance(Duration::from_secs(300));
    assert!(matches!(v.verify(&old_token), Err(AuthError::UnknownKey)));
    // The new key's tokens are signed for a fresh clock.
    let fresh = sign_raw(
        r#"{"alg":"HS256","kid":"new"}"#,
        &claims_with(|c| {
            c.insert("iat".into(), serde_json::json!(NOW + 290));
            c.insert("exp".into(), serde_json::json!(NOW + 900));
        })
        .to_string(),
        jsonwebtoken::Algorithm::HS256,
        &EncodingKey::from_secret(&[2u8; 32]),
    );
    assert!(v.verify(&fresh).is_ok());
}

#[test]
fn a_key_of_one_issuer_does_not_verify_for_another() {
    let a = builder()
        .key(None, hs_key(1, "shared-kid"))
        .build()
        .unwrap();
    let b = builder()
        .key(None, hs_key(2, "shared-kid"))
        .build()
        .unwrap();
    let token = token_for(1, "shared-kid");
    assert!(a.verify(&token).is_ok());
    assert!(matches!(b.verify(&token), Err(AuthError::BadSignature)));
}
