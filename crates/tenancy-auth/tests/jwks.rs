//! JWKS documents are public: they may hold public keys only, never a
//! shared secret.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use tenancy_auth::{
    AuthError, CachingKeySource, ConfigError, KeySet, KeySource, VerificationKey, parse_jwks,
};

/// The secret an identity provider published by mistake.
const PUBLISHED: &[u8] = b"published shared secret, 32 byte";

/// The public half of `tests/keys/ed-private.pem`, as a JWK `x`.
const ED_X: &str = "hl3UF6mftNK_k2_B_BzG0dByxvARkEfswcryF8r8bgc";

fn ed_jwk() -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": ED_X})
}

fn oct_jwk(kid: Option<&str>) -> Value {
    let mut jwk = json!({"kty": "oct", "alg": "HS256", "k": b64(PUBLISHED)});
    if let Some(kid) = kid {
        jwk["kid"] = json!(kid);
    }
    jwk
}

fn jwks(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

fn is_symmetric_refusal(err: &AuthError) -> bool {
    matches!(err, AuthError::Config(ConfigError::SymmetricKeyInJwks))
}

/// A key source fed by a document the test rewrites, as an identity
/// provider's JWKS endpoint would be.
struct Document(Mutex<String>);

#[async_trait::async_trait]
impl KeySource for Document {
    async fn fetch(&self) -> Result<KeySet, AuthError> {
        parse_jwks(&self.0.lock().unwrap())
    }
}

#[tokio::test]
async fn a_shared_secret_published_in_a_jwks_never_verifies_an_admin_token() {
    // With a `kid`, and without one (which would make it the key for every
    // token that names none).
    for (kid, header) in [
        (Some("hs"), r#"{"alg":"HS256","kid":"hs"}"#),
        (None, r#"{"alg":"HS256"}"#),
    ] {
        let source = Arc::new(Document(Mutex::new(jwks(&[ed_jwk()]))));
        let keys = Arc::new(CachingKeySource::new(
            Arc::clone(&source),
            Duration::from_secs(60),
        ));
        keys.refresh().await.unwrap();
        let validator = builder().key_source(Arc::clone(&keys)).build().unwrap();

        // The provider now publishes an HMAC secret next to its public key;
        // anyone who reads the document signs an admin token with it.
        *source.0.lock().unwrap() = jwks(&[ed_jwk(), oct_jwk(kid)]);
        let admin = sign_raw(
            header,
            &claims_with(|c| {
                c.insert("role".into(), json!("admin"));
            })
            .to_string(),
            Algorithm::HS256,
            &EncodingKey::from_secret(PUBLISHED),
        );
        let refused = validator.verify_async(&admin).await;
        assert!(refused.is_err(), "kid {kid:?}: {refused:?}");
        assert!(validator.verify(&admin).is_err(), "kid {kid:?}");

        // The whole document is refused, with a typed error; the last good
        // keys stay, so the provider's public key still verifies.
        let err = keys.refresh().await.unwrap_err();
        assert!(is_symmetric_refusal(&err), "{err:?}");
        assert!(keys.current().keys().all(|k| k.kid() == Some("ed")));
        assert!(validator.verify(&eddsa(&claims(), "ed")).is_ok());
        assert!(validator.verify(&admin).is_err());
    }
}

#[test]
fn a_jwks_holding_any_symmetric_key_is_refused_whole() {
    for oct in [
        oct_jwk(Some("hs")),
        oct_jwk(None),
        // Without `alg`, for encryption, or unusable for verification: a
        // published secret is a leaked secret all the same.
        json!({"kty": "oct", "kid": "a", "k": b64(PUBLISHED)}),
        json!({"kty": "oct", "kid": "b", "use": "enc", "k": b64(PUBLISHED)}),
        json!({"kty": "oct", "kid": "c", "key_ops": ["encrypt"], "k": b64(PUBLISHED)}),
    ] {
        let err = parse_jwks(&jwks(&[ed_jwk(), oct.clone()])).unwrap_err();
        assert!(is_symmetric_refusal(&err), "{oct}: {err:?}");
        assert!(!err.is_invalid_token());
        // Nothing of the secret in the message.
        assert!(!err.to_string().contains(&b64(PUBLISHED)));
        let err = VerificationKey::from_jwk(&oct.to_string()).unwrap_err();
        assert!(is_symmetric_refusal(&err), "{oct}: {err:?}");
    }
    // A public-key document is unaffected.
    assert!(parse_jwks(&jwks(&[ed_jwk()])).unwrap().contains("ed"));
}

#[test]
fn shared_secrets_still_come_from_local_configuration() {
    let validator = builder()
        .key(Some("local"), VerificationKey::hs256(PUBLISHED).unwrap())
        .build()
        .unwrap();
    let token = sign_raw(
        r#"{"alg":"HS256","kid":"local"}"#,
        &claims().to_string(),
        Algorithm::HS256,
        &EncodingKey::from_secret(PUBLISHED),
    );
    assert!(validator.verify(&token).is_ok());
}
