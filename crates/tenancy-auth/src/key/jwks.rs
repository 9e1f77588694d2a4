//! RFC 7517 JSON Web Key Sets: RSA, EC (P-256, P-384) and OKP (Ed25519)
//! public keys. A JWKS is a public document, so a symmetric (`oct`) key in
//! it is a published shared secret, and refused.

use jsonwebtoken::Algorithm;
use std::borrow::Cow;

use serde_json::Value;
use serde_json::value::RawValue;

use super::{KeySet, VerificationKey};
use crate::error::{AuthError, ConfigError};
use crate::json::Members;

fn text<'a>(members: &Members<'a>, name: &str) -> Result<Option<Cow<'a, str>>, AuthError> {
    members
        .text(name)
        .map_err(|()| AuthError::Config(ConfigError::Jwks))
}

fn required<'a>(members: &Members<'a>, name: &str) -> Result<Cow<'a, str>, AuthError> {
    text(members, name)?.ok_or(ConfigError::Jwks.into())
}

fn algorithm(name: &str) -> Option<Algorithm> {
    Some(match name {
        "HS256" => Algorithm::HS256,
        "HS384" => Algorithm::HS384,
        "HS512" => Algorithm::HS512,
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        _ => return None,
    })
}

impl VerificationKey {
    /// One JWK (RFC 7517) as a verification key. Returns `Ok(None)` for a
    /// key this crate does not verify with (`use` other than `sig`, no
    /// `verify` in `key_ops`, an unknown `kty`, `crv` or `alg`).
    ///
    /// The key is pinned to its `alg`; without one, to RS256 for RSA, to the
    /// curve's algorithm for EC and OKP. Private members (`d`, `p`, ...) are
    /// ignored: only the public part is kept.
    ///
    /// Only public keys are read: a symmetric (`oct`) key, whatever its
    /// `use`, `key_ops` or `alg`, is an error
    /// ([`ConfigError::SymmetricKeyInJwks`]). A shared secret comes only
    /// from local configuration, through [`VerificationKey::hmac`].
    pub fn from_jwk(jwk: &str) -> Result<Option<Self>, AuthError> {
        let members = Members::parse(jwk.as_bytes()).map_err(|_| ConfigError::Jwks)?;
        VerificationKey::from_members(&members)
    }

    fn from_members(jwk: &Members<'_>) -> Result<Option<Self>, AuthError> {
        // INVARIANT: checked before anything that could skip the key, so a
        // published secret is refused, never quietly passed over or used.
        // Without it, an `oct` key with an `alg` verified HMAC tokens signed
        // with the published `k`, and one without a `kid` became the key for
        // every token that names none.
        if text(jwk, "kty")?.is_some_and(|kty| kty == "oct") {
            return Err(ConfigError::SymmetricKeyInJwks.into());
        }
        if text(jwk, "use")?.is_some_and(|u| u != "sig") {
            return Ok(None);
        }
        match jwk.value("key_ops") {
            None => {}
            Some(Value::Array(ops)) if ops.iter().any(|op| op.as_str() == Some("verify")) => {}
            Some(Value::Array(_)) => return Ok(None),
            Some(_) => return Err(ConfigError::Jwks.into()),
        }
        let alg = match text(jwk, "alg")? {
            None => None,
            Some(name) => match algorithm(&name) {
                Some(alg) => Some(alg),
                None => return Ok(None),
            },
        };
        let key = match &*required(jwk, "kty")? {
            "RSA" => VerificationKey::rsa_components(
                alg.unwrap_or(Algorithm::RS256),
                &required(jwk, "n")?,
                &required(jwk, "e")?,
            )?,
            "EC" => {
                let curve_alg = match &*required(jwk, "crv")? {
                    "P-256" => Algorithm::ES256,
                    "P-384" => Algorithm::ES384,
                    _ => return Ok(None),
                };
                if alg.is_some_and(|a| a != curve_alg) {
                    return Err(ConfigError::AlgorithmMismatch.into());
                }
                VerificationKey::ec_components(
                    curve_alg,
                    &required(jwk, "x")?,
                    &required(jwk, "y")?,
                )?
            }
            "OKP" => {
                if required(jwk, "crv")? != "Ed25519" {
                    return Ok(None);
                }
                if alg.is_some_and(|a| a != Algorithm::EdDSA) {
                    return Err(ConfigError::AlgorithmMismatch.into());
                }
                VerificationKey::ed_components(&required(jwk, "x")?)?
            }
            _ => return Ok(None),
        };
        match text(jwk, "kid")? {
            // A token can never carry such a `kid`, so the key is unusable.
            Some(kid) if !super::is_valid_kid(&kid) => Ok(None),
            Some(kid) => key.with_kid(&kid).map(Some),
            None => Ok(Some(key)),
        }
    }
}

/// Parses a JWKS document (`{"keys": [...]}`) into a [`KeySet`].
///
/// Keys this crate does not verify with are skipped (see
/// [`VerificationKey::from_jwk`]); a key it should use but cannot (bad
/// material, an RSA modulus under 2048 bits) fails the whole
/// document, as do two keys with the same `kid`.
///
/// A JWKS is public, so every key in it must be asymmetric: a document
/// holding any symmetric (`oct`) key is refused whole
/// ([`ConfigError::SymmetricKeyInJwks`]), rather than skipping the key, so
/// the leaked secret is reported instead of hidden, and no key of the
/// document is used until its publisher removes it. A
/// [`CachingKeySource`](crate::CachingKeySource) keeps its last good keys
/// meanwhile. Shared secrets come only from local configuration
/// ([`VerificationKey::hmac`], [`ValidatorBuilder::hs256_secret`](crate::ValidatorBuilder::hs256_secret)).
///
/// ```
/// use tenancy_auth::parse_jwks;
///
/// // The Ed25519 public key of RFC 8037, appendix A.2.
/// let keys = parse_jwks(r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"ed",
///     "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#)?;
/// assert!(keys.contains("ed"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_jwks(document: &str) -> Result<KeySet, AuthError> {
    let members = Members::parse(document.as_bytes()).map_err(|_| ConfigError::Jwks)?;
    let keys = members.get("keys").ok_or(ConfigError::Jwks)?;
    let keys: Vec<&RawValue> = serde_json::from_str(keys.get()).map_err(|_| ConfigError::Jwks)?;
    let mut set = KeySet::new();
    for key in keys {
        let jwk = Members::parse(key.get().as_bytes()).map_err(|_| ConfigError::Jwks)?;
        if let Some(key) = VerificationKey::from_members(&jwk)? {
            set.insert(key)?;
        }
    }
    Ok(set)
}
