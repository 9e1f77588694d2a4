//! The verified-token cache: exact hits only, dropped at `exp`, hooks on
//! every hit.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use common::*;
use proptest::prelude::*;
use serde_json::json;
use tenancy_auth::{
    AuthError, CachedValidator, RevocationList, SessionPolicy, TenantStatusHook, ValidationHooks,
    VerificationKey,
};
use tenancy_core::{ManualWallClock, TenantId, TenantStatus, WallClock};

fn cache_at(clock: Arc<ManualWallClock>) -> CachedValidator {
    let validator = builder_at(clock).hs256_secret(SECRET).build().unwrap();
    CachedValidator::new(Arc::new(validator), 1000)
}

#[test]
fn a_repeated_token_is_answered_from_the_cache() {
    let cache = cache_at(clock());
    let token = hs256(&claims());
    let first = cache.verify(&token).unwrap();
    let second = cache.verify(&token).unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(cache.len(), 1);
}

#[test]
fn refusals_are_not_cached() {
    let cache = cache_at(clock());
    let bad = hs256(&claims_with(|c| {
        c.insert("aud".into(), json!("other"));
    }));
    assert!(cache.verify(&bad).is_err());
    assert!(cache.verify(&bad).is_err());
    assert!(cache.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_token_one_byte_away_from_a_cached_one_is_never_answered_from_it(
        index in 0usize..1000,
        byte in any::<u8>(),
    ) {
        let cache = cache_at(clock());
        let token = hs256(&claims());
        cache.verify(&token).unwrap();
        let mut bytes = token.clone().into_bytes();
        let index = index % bytes.len();
        prop_assume!(bytes[index] != byte);
        bytes[index] = byte;
        if let Ok(mutated) = String::from_utf8(bytes) {
            prop_assert!(cache.verify(&mutated).is_err());
            // Appending or dropping a byte is no better.
            let longer = format!("{token}A");
            prop_assert!(cache.verify(&longer).is_err());
            prop_assert!(cache.verify(&token[..token.len() - 1]).is_err());
        }
        // And the cached entry still answers its own token.
        prop_assert!(cache.verify(&token).is_ok());
    }
}

#[test]
fn entries_are_dropped_at_exp() {
    let clock = clock();
    let cache = cache_at(Arc::clone(&clock));
    let token = hs256(&claims());
    let first = cache.verify(&token).unwrap();
    clock.advance(Duration::from_secs(600));
    // At `exp` the cache no longer answers; the validator's leeway decides.
    let second = cache.verify(&token).unwrap();
    assert!(!Arc::ptr_eq(&first, &second));
    clock.advance(Duration::from_secs(LEEWAY + 1));
    assert!(matches!(cache.verify(&token), Err(AuthError::Expired)));
}

#[test]
fn the_cache_is_bounded() {
    let validator = builder().hs256_secret(SECRET).build().unwrap();
    let cache = CachedValidator::new(Arc::new(validator), 32);
    for i in 0..500 {
        let token = hs256(&claims_with(|c| {
            c.insert("jti".into(), json!(format!("t-{i}")));
        }));
        cache.verify(&token).unwrap();
    }
    assert!(cache.len() <= 32, "{}", cache.len());
    assert!(cache.len() >= 16);
}

#[test]
fn idle_tokens_make_room_and_an_active_one_is_never_evicted() {
    const CAPACITY: usize = 32;
    const IDLE: usize = 10 * CAPACITY;
    let validator = builder().hs256_secret(SECRET).build().unwrap();
    let cache = CachedValidator::new(Arc::new(validator), CAPACITY);
    let token = |i: usize| {
        hs256(&claims_with(|c| {
            c.insert("jti".into(), json!(format!("t-{i}")));
        }))
    };
    let active_token = token(0);
    let active = cache.verify(&active_token).unwrap();
    let idle: Vec<String> = (1..=IDLE).map(token).collect();
    let first: Vec<_> = idle
        .iter()
        .map(|idle| {
            // An idle token, presented once, and the active one, presented
            // between any two others.
            let verified = cache.verify(idle).unwrap();
            let again = cache.verify(&active_token).unwrap();
            assert!(Arc::ptr_eq(&active, &again), "the active token was evicted");
            assert!(cache.len() <= CAPACITY, "{} cached", cache.len());
            verified
        })
        .collect();
    let kept = |range: std::ops::Range<usize>| {
        range
            .filter(|&i| Arc::ptr_eq(&first[i], &cache.verify(&idle[i]).unwrap()))
            .count()
    };
    assert!(
        kept(IDLE - CAPACITY..IDLE) > 0,
        "no recent token was cached"
    );
    assert_eq!(kept(0..CAPACITY), 0, "the first idle tokens stayed");
}

#[test]
fn revocation_is_checked_on_every_hit() {
    let revoked = Arc::new(RevocationList::new());
    let validator = builder()
        .hs256_secret(SECRET)
        .hook(Arc::clone(&revoked) as Arc<dyn ValidationHooks>)
        .build()
        .unwrap();
    let cache = CachedValidator::new(Arc::new(validator), 100);
    let token = hs256(&claims());
    cache.verify(&token).unwrap();
    cache.verify(&token).unwrap();
    revoked.revoke("token-1");
    let err = cache.verify(&token).unwrap_err();
    assert!(matches!(err, AuthError::Revoked));
    assert!(err.is_invalid_token());
    // Tokens with other ids are unaffected.
    let other = hs256(&claims_with(|c| {
        c.insert("jti".into(), json!("token-2"));
    }));
    assert!(cache.verify(&other).is_ok());
}

#[test]
fn tenant_status_is_checked_on_every_hit() {
    let tenant: TenantId = TENANT.parse().unwrap();
    let statuses = Arc::new(RwLock::new(HashMap::from([(tenant, TenantStatus::Active)])));
    let lookup = Arc::clone(&statuses);
    let hook = TenantStatusHook::new(move |t| lookup.read().unwrap().get(&t).copied());
    let validator = builder().hs256_secret(SECRET).build().unwrap();
    let cache = CachedValidator::new(Arc::new(validator), 100).with_hooks(Arc::new(hook));
    let token = hs256(&claims());
    cache.verify(&token).unwrap();
    statuses
        .write()
        .unwrap()
        .insert(tenant, TenantStatus::Suspended);
    let err = cache.verify(&token).unwrap_err();
    assert!(matches!(err, AuthError::TenantSuspended));
    assert!(!err.is_invalid_token());
    for status in [
        TenantStatus::Decommissioning,
        TenantStatus::Deleted,
        TenantStatus::Provisioning,
    ] {
        statuses.write().unwrap().insert(tenant, status);
        assert!(matches!(
            cache.verify(&token),
            Err(AuthError::TenantUnavailable)
        ));
    }
    statuses.write().unwrap().clear();
    assert!(matches!(
        cache.verify(&token),
        Err(AuthError::TenantUnavailable)
    ));
    statuses
        .write()
        .unwrap()
        .insert(tenant, TenantStatus::Active);
    assert!(cache.verify(&token).is_ok());
}

#[test]
fn session_policy_is_checked_on_every_hit() {
    let unix = clock();
    let policy = SessionPolicy::new(|_tenant| Some(Duration::from_secs(120)))
        .with_clock(Arc::clone(&unix) as Arc<dyn WallClock>);
    let validator = builder_at(Arc::clone(&unix))
        .hs256_secret(SECRET)
        .hook(Arc::new(policy))
        .build()
        .unwrap();
    let cache = CachedValidator::new(Arc::new(validator), 100);
    let token = hs256(&claims()); // issued 10 s ago
    cache.verify(&token).unwrap();
    unix.advance(Duration::from_secs(110));
    cache.verify(&token).unwrap();
    unix.advance(Duration::from_secs(1));
    assert!(matches!(
        cache.verify(&token),
        Err(AuthError::SessionTooOld)
    ));
}

#[test]
fn a_key_rotation_empties_the_cache_of_its_tokens() {
    let validator = Arc::new(
        builder()
            .key(None, VerificationKey::hs256(SECRET).unwrap())
            .build()
            .unwrap(),
    );
    let cache = CachedValidator::new(Arc::clone(&validator), 100);
    let token = hs256(&claims());
    cache.verify(&token).unwrap();
    // The key leaked: the operator removes it.
    validator.set_keys(
        [VerificationKey::hs256(&[8u8; 32]).unwrap()]
            .into_iter()
            .collect(),
    );
    assert!(matches!(cache.verify(&token), Err(AuthError::BadSignature)));
}

#[test]
fn oversized_tokens_are_refused_before_hashing() {
    let cache = cache_at(clock());
    assert!(matches!(
        cache.verify(&"a".repeat(9000)),
        Err(AuthError::TooLarge { limit: 8192 })
    ));
}

#[test]
fn a_cached_token_does_not_outlive_its_keys_retirement() {
    // The operator answers a compromise by retiring key `k` in 100 s; a
    // token signed with it lives for 600 s and was seen once already.
    let clock = clock();
    let validator = builder_at(Arc::clone(&clock))
        .key(
            Some("k"),
            VerificationKey::hs256(SECRET).unwrap().retire_at(NOW + 100),
        )
        .build()
        .unwrap();
    let cache = CachedValidator::new(Arc::new(validator), 100);
    let token = sign_raw(
        r#"{"alg":"HS256","kid":"k"}"#,
        &claims().to_string(),
        jsonwebtoken::Algorithm::HS256,
        &secret_key(),
    );
    cache.verify(&token).unwrap();
    clock.advance(Duration::from_secs(99));
    cache.verify(&token).unwrap();
    clock.advance(Duration::from_secs(101));
    // The validator refuses the token, and so must its cache.
    assert!(matches!(
        cache.validator().verify(&token),
        Err(AuthError::UnknownKey)
    ));
    let err = cache.verify(&token).unwrap_err();
    assert!(matches!(err, AuthError::UnknownKey), "{err:?}");
    assert!(err.is_invalid_token());
}
