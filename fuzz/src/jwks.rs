//! Target `jwks`: JSON Web Key Sets and single JWKs, as fetched from an
//! identity provider (or from whatever answers at its URL).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::value::RawValue;
use tenancy_auth::{Algorithm, KeySet, Validator, VerificationKey, is_valid_kid, parse_jwks};
use tenancy_core::ManualWallClock;

use crate::fixtures::{AUD, ISS, NOW};

/// Any bytes, as a JWKS document and as a single JWK.
///
/// An accepted set has at most one key per entry of `keys`, each with a
/// plain `kid` or none, the same keys a per-entry parse gives; and every
/// accepted key is usable: a token naming it fails as a bad token (401),
/// never as a broken key.
pub fn jwks(data: &[u8]) {
    let text = String::from_utf8_lossy(data);

    match parse_jwks(&text) {
        Ok(set) => {
            check_set(&set, &text);
            for key in set.keys() {
                check_usable(key);
            }
        }
        Err(e) => assert!(
            !e.is_invalid_token(),
            "a JWKS refusal is a configuration error: {e:?}"
        ),
    }

    match VerificationKey::from_jwk(&text) {
        Ok(Some(key)) => {
            if let Some(kid) = key.kid() {
                assert!(is_valid_kid(kid), "a JWK kept the kid {kid:?}");
            }
            check_usable(&key);
        }
        Ok(None) => {}
        Err(e) => assert!(
            !e.is_invalid_token(),
            "a JWK refusal is a configuration error: {e:?}"
        ),
    }
}

/// The set agrees with a second read of the document (a map where a
/// repeated member keeps its last value), entry by entry.
fn check_set(set: &KeySet, text: &str) {
    let document: BTreeMap<String, Box<RawValue>> = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("an accepted JWKS is not a JSON object: {e}"));
    let keys = document
        .get("keys")
        .unwrap_or_else(|| panic!("an accepted JWKS has no `keys`"));
    let entries: Vec<Box<RawValue>> = serde_json::from_str(keys.get())
        .unwrap_or_else(|e| panic!("an accepted JWKS has `keys` that is not an array: {e}"));
    assert!(set.len() <= entries.len());

    let mut kept = 0;
    for entry in &entries {
        match VerificationKey::from_jwk(entry.get()) {
            Ok(Some(key)) => {
                kept += 1;
                if let Some(kid) = key.kid() {
                    assert!(set.contains(kid), "the set lost the key {kid:?}");
                }
            }
            Ok(None) => {}
            Err(e) => panic!("the set was accepted but its entry {entry} is refused: {e:?}"),
        }
    }
    assert_eq!(kept, set.len(), "the set and its entries disagree");

    for key in set.keys() {
        assert!(!key.algorithms().is_empty());
        if let Some(kid) = key.kid() {
            assert!(is_valid_kid(kid), "the set kept the kid {kid:?}");
        }
    }
}

/// A validator holding only `key` refuses a probe token for each of the
/// key's algorithms as a bad token.
fn check_usable(key: &VerificationKey) {
    let validator = Validator::builder()
        .issuer(ISS)
        .audience(AUD)
        .clock(Arc::new(ManualWallClock::at(Duration::from_secs(NOW))))
        .key(None, key.clone())
        .build()
        .unwrap_or_else(|e| panic!("an accepted key does not build a validator: {e:?}"));
    for &algorithm in key.algorithms() {
        let token = probe(algorithm, key.kid());
        match validator.verify(&token) {
            Err(e) => assert!(e.is_invalid_token(), "{algorithm:?} key is broken: {e:?}"),
            Ok(v) => panic!("a probe token with a made-up signature verified: {v:?}"),
        }
    }
}

/// A token for `algorithm` whose signature has the right shape and is wrong.
fn probe(algorithm: Algorithm, kid: Option<&str>) -> String {
    let (name, signature_len) = match algorithm {
        Algorithm::HS256 => ("HS256", 32),
        Algorithm::HS384 => ("HS384", 48),
        Algorithm::HS512 => ("HS512", 64),
        Algorithm::RS256 => ("RS256", 256),
        Algorithm::RS384 => ("RS384", 256),
        Algorithm::RS512 => ("RS512", 256),
        Algorithm::PS256 => ("PS256", 256),
        Algorithm::PS384 => ("PS384", 256),
        Algorithm::PS512 => ("PS512", 256),
        Algorithm::ES256 => ("ES256", 64),
        Algorithm::ES384 => ("ES384", 96),
        Algorithm::EdDSA => ("EdDSA", 64),
        other => panic!("a key pinned to {other:?}"),
    };
    let header = match kid {
        Some(kid) => serde_json::json!({ "alg": name, "kid": kid }),
        None => serde_json::json!({ "alg": name }),
    };
    let claims = serde_json::json!({ "iss": ISS, "aud": AUD, "exp": NOW + 60, "iat": NOW });
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(vec![1u8; signature_len])
    )
}
