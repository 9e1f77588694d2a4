//! Shared fixtures: a fixed clock, a validator, and raw token builders that
//! can express what no well-behaved issuer would.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a module shared by test binaries that each use a subset"
)]

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use tenancy_auth::{AuthError, Validator, ValidatorBuilder, VerificationKey};
use tenancy_core::ManualWallClock;

pub const NOW: u64 = 1_800_000_000;
pub const ISS: &str = "https://id.example.com";
pub const AUD: &str = "leases-api";
pub const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
pub const LEEWAY: u64 = 30;
pub const MAX_LIFETIME: u64 = 3600;
pub const TENANT: &str = "0b6d2f4e-8c1a-4b7e-9f3d-2a5c6e7f8a9b";
pub const OTHER_TENANT: &str = "6f9619ff-8b86-d011-b42d-00c04fc964ff";
pub const SUBJECT: &str = "00000000-0000-0000-0000-00000000002a";

pub const RSA_PUBLIC: &[u8] = include_bytes!("../keys/rsa-public.pem");
pub const RSA_PRIVATE: &[u8] = include_bytes!("../keys/rsa-private.pem");
pub const RSA2_PRIVATE: &[u8] = include_bytes!("../keys/rsa2-private.pem");
pub const EC_PUBLIC: &[u8] = include_bytes!("../keys/ec-public.pem");
pub const EC_PRIVATE: &[u8] = include_bytes!("../keys/ec-private.pem");
pub const ED_PUBLIC: &[u8] = include_bytes!("../keys/ed-public.pem");
pub const ED_PRIVATE: &[u8] = include_bytes!("../keys/ed-private.pem");

pub fn clock() -> Arc<ManualWallClock> {
    Arc::new(ManualWallClock::at(Duration::from_secs(NOW)))
}

/// Issuer, audience, leeway, lifetime and clock; no keys.
pub fn builder_at(clock: Arc<ManualWallClock>) -> ValidatorBuilder {
    Validator::builder()
        .issuer(ISS)
        .audience(AUD)
        .leeway(Duration::from_secs(LEEWAY))
        .max_lifetime(Duration::from_secs(MAX_LIFETIME))
        .clock(clock)
}

pub fn builder() -> ValidatorBuilder {
    builder_at(clock())
}

/// The HS256 validator most tests attack.
pub fn validator() -> Validator {
    builder().hs256_secret(SECRET).build().unwrap()
}

/// A validator for every asymmetric test key, by `kid`.
pub fn asymmetric_validator() -> Validator {
    builder()
        .key(
            Some("rsa"),
            VerificationKey::rsa_pem(Algorithm::RS256, RSA_PUBLIC).unwrap(),
        )
        .key(
            Some("ec"),
            VerificationKey::ec_pem(Algorithm::ES256, EC_PUBLIC).unwrap(),
        )
        .key(Some("ed"), VerificationKey::ed_pem(ED_PUBLIC).unwrap())
        .build()
        .unwrap()
}

/// The claims of a valid tenant token.
pub fn claims() -> Value {
    json!({
        "sub": SUBJECT,
        "tenant_id": TENANT,
        "scope": "tenant",
        "role": "member",
        "iat": NOW - 10,
        "exp": NOW + 600,
        "iss": ISS,
        "aud": AUD,
        "jti": "token-1",
    })
}

/// `claims()` with `edit` applied.
pub fn claims_with(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut claims = claims();
    if let Value::Object(map) = &mut claims {
        edit(map);
    }
    claims
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Signs `header.claims` (both raw JSON text) with `algorithm` and `key`.
pub fn sign_raw(header: &str, claims: &str, algorithm: Algorithm, key: &EncodingKey) -> String {
    tenancy_auth::install_default_crypto_provider();
    let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), key, algorithm).unwrap();
    format!("{input}.{signature}")
}

pub fn secret_key() -> EncodingKey {
    EncodingKey::from_secret(SECRET)
}

/// An HS256 token over `claims` with the test secret.
pub fn hs256(claims: &Value) -> String {
    sign_raw(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &claims.to_string(),
        Algorithm::HS256,
        &secret_key(),
    )
}

/// An HS256 token with a raw header.
pub fn hs256_with_header(header: &str) -> String {
    sign_raw(
        header,
        &claims().to_string(),
        Algorithm::HS256,
        &secret_key(),
    )
}

pub fn rs256(claims: &Value, kid: &str) -> String {
    sign_raw(
        &format!(r#"{{"alg":"RS256","kid":"{kid}"}}"#),
        &claims.to_string(),
        Algorithm::RS256,
        &EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap(),
    )
}

pub fn es256(claims: &Value, kid: &str) -> String {
    sign_raw(
        &format!(r#"{{"alg":"ES256","kid":"{kid}"}}"#),
        &claims.to_string(),
        Algorithm::ES256,
        &EncodingKey::from_ec_pem(EC_PRIVATE).unwrap(),
    )
}

pub fn eddsa(claims: &Value, kid: &str) -> String {
    sign_raw(
        &format!(r#"{{"alg":"EdDSA","kid":"{kid}"}}"#),
        &claims.to_string(),
        Algorithm::EdDSA,
        &EncodingKey::from_ed_pem(ED_PRIVATE).unwrap(),
    )
}

/// The refusal of `token` by `validator`, which must count as a bad token.
pub fn refusal(validator: &Validator, token: &str) -> AuthError {
    let err = validator
        .verify(token)
        .expect_err("the token must be refused");
    assert!(err.is_invalid_token(), "{err:?} must be a token fault");
    err
}
