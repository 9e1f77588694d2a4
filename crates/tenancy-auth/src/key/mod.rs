//! Verification keys, each pinned to its algorithms, and key sets selected by
//! `kid`.

mod jwks;
#[cfg(feature = "remote-jwks")]
mod remote;
mod source;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind};

pub use jwks::parse_jwks;
#[cfg(feature = "remote-jwks")]
pub use remote::{DEFAULT_MAX_JWKS_BYTES, RemoteJwks, RemoteJwksError};
pub use source::{CachingKeySource, KeySource, StaticKeySource};

use crate::crypto;
use crate::error::{AuthError, ConfigError, KeyProblem};

/// The longest `kid` accepted, in bytes.
pub const MAX_KID_LEN: usize = 128;

/// True when `kid` is a plain key identifier: 1 to [`MAX_KID_LEN`] bytes of
/// ASCII letters, digits and `-_.:+=`, without `..`.
///
/// Path separators, quotes, spaces, `;`, `%` and control characters are all
/// refused, so a `kid` can never become a path or a query fragment in a key
/// source that looks keys up elsewhere.
pub fn is_valid_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= MAX_KID_LEN
        && !kid.contains("..")
        && kid.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'+' | b'=')
        })
}

/// A public key (or HMAC secret) and the algorithms it may verify.
///
/// A key is pinned: a token whose header names any other algorithm is refused
/// before its signature is looked at, so an RSA public key can never be used
/// as an HMAC secret. Every constructor checks the key material once.
///
/// ```
/// use tenancy_auth::{Algorithm, VerificationKey};
///
/// let key = VerificationKey::hmac(Algorithm::HS256, &[7u8; 32])?.with_kid("2026-01")?;
/// assert_eq!(key.kid(), Some("2026-01"));
/// assert_eq!(key.algorithms(), &[Algorithm::HS256]);
/// assert!(VerificationKey::hmac(Algorithm::HS256, b"too short").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct VerificationKey {
    kid: Option<Arc<str>>,
    // INVARIANT: non-empty, all of `key.family()`, each accepted by the
    // provider for `key`.
    algorithms: Vec<Algorithm>,
    key: DecodingKey,
    retire_at: Option<u64>,
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .field("algorithms", &self.algorithms)
            .field("retire_at", &self.retire_at)
            .finish_non_exhaustive()
    }
}

/// The shortest HMAC secret allowed for `algorithm`, in bytes: the hash
/// size (RFC 7518, section 3.2), never less than 256 bits.
fn min_secret_len(algorithm: Algorithm) -> usize {
    match algorithm {
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        _ => 32,
    }
}

/// The smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

fn significant_bits(bytes: &[u8]) -> usize {
    let trimmed: &[u8] = match bytes.iter().position(|&b| b != 0) {
        Some(i) => &bytes[i..],
        None => &[],
    };
    match trimmed.first() {
        Some(first) => trimmed.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}

impl VerificationKey {
    /// Wraps a jsonwebtoken key after checking that it suits `algorithm`.
    pub fn new(algorithm: Algorithm, key: DecodingKey) -> Result<Self, AuthError> {
        if algorithm.family() != key.family() {
            return Err(ConfigError::AlgorithmMismatch.into());
        }
        check_material(algorithm, &key)?;
        Ok(VerificationKey {
            kid: None,
            algorithms: vec![algorithm],
            key,
            retire_at: None,
        })
    }

    /// An HMAC secret for `HS256`, `HS384` or `HS512`; at least as long as
    /// the hash (32, 48 or 64 bytes), so never under 256 bits.
    pub fn hmac(algorithm: Algorithm, secret: &[u8]) -> Result<Self, AuthError> {
        VerificationKey::new(algorithm, DecodingKey::from_secret(secret))
    }

    /// An HMAC secret for `HS256`.
    pub fn hs256(secret: &[u8]) -> Result<Self, AuthError> {
        VerificationKey::hmac(Algorithm::HS256, secret)
    }

    /// An RSA public key in PEM (PKCS#1 or SPKI) for an `RS*` or `PS*`
    /// algorithm; the modulus has at least 2048 bits.
    pub fn rsa_pem(algorithm: Algorithm, pem: &[u8]) -> Result<Self, AuthError> {
        let key = DecodingKey::from_rsa_pem(pem)
            .map_err(|_| ConfigError::InvalidKey(KeyProblem::NotRsaPublicKeyPem))?;
        VerificationKey::new(algorithm, key)
    }

    /// An RSA public key from its base64url modulus and exponent (as in a JWK).
    pub fn rsa_components(algorithm: Algorithm, n: &str, e: &str) -> Result<Self, AuthError> {
        let n = crate::token::b64url(n.as_bytes())
            .map_err(|_| ConfigError::InvalidKey(KeyProblem::RsaModulusEncoding))?;
        let e = crate::token::b64url(e.as_bytes())
            .map_err(|_| ConfigError::InvalidKey(KeyProblem::RsaExponentEncoding))?;
        VerificationKey::new(algorithm, DecodingKey::from_rsa_raw_components(&n, &e))
    }

    /// An ECDSA public key in PEM (SPKI) for `ES256` (P-256) or `ES384`
    /// (P-384).
    pub fn ec_pem(algorithm: Algorithm, pem: &[u8]) -> Result<Self, AuthError> {
        let key = DecodingKey::from_ec_pem(pem)
            .map_err(|_| ConfigError::InvalidKey(KeyProblem::NotEcPublicKeyPem))?;
        VerificationKey::new(algorithm, key)
    }

    /// An ECDSA public key from its base64url coordinates (as in a JWK).
    pub fn ec_components(algorithm: Algorithm, x: &str, y: &str) -> Result<Self, AuthError> {
        let x = crate::token::b64url(x.as_bytes())
            .map_err(|_| ConfigError::InvalidKey(KeyProblem::EcCoordinateEncoding))?;
        let y = crate::token::b64url(y.as_bytes())
            .map_err(|_| ConfigError::InvalidKey(KeyProblem::EcCoordinateEncoding))?;
        let size = match algorithm {
            Algorithm::ES256 => 32,
            Algorithm::ES384 => 48,
            _ => return Err(ConfigError::AlgorithmMismatch.into()),
        };
        if x.len() != size || y.len() != size {
            return Err(ConfigError::InvalidKey(KeyProblem::EcPointOffCurve).into());
        }
        let mut point = Vec::with_capacity(1 + 2 * size);
        point.push(0x04);
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        VerificationKey::new(algorithm, DecodingKey::from_ec_der(&point))
    }

    /// An Ed25519 public key in PEM (SPKI) for `EdDSA`.
    pub fn ed_pem(pem: &[u8]) -> Result<Self, AuthError> {
        let key = DecodingKey::from_ed_pem(pem)
            .map_err(|_| ConfigError::InvalidKey(KeyProblem::NotEd25519PublicKeyPem))?;
        VerificationKey::new(Algorithm::EdDSA, key)
    }

    /// An Ed25519 public key from its base64url `x` (as in a JWK).
    pub fn ed_components(x: &str) -> Result<Self, AuthError> {
        let x = crate::token::b64url(x.as_bytes())
            .map_err(|_| ConfigError::InvalidKey(KeyProblem::Ed25519Encoding))?;
        VerificationKey::new(Algorithm::EdDSA, DecodingKey::from_ed_der(&x))
    }

    /// Names the key; tokens select it by this exact `kid`.
    pub fn with_kid(mut self, kid: &str) -> Result<Self, AuthError> {
        if !is_valid_kid(kid) {
            return Err(ConfigError::InvalidKeyId.into());
        }
        self.kid = Some(kid.into());
        Ok(self)
    }

    /// Also accepts `algorithm`, which must be of the same family (an RSA key
    /// for `RS256` and `PS256`, say).
    pub fn also_allow(mut self, algorithm: Algorithm) -> Result<Self, AuthError> {
        if algorithm.family() != self.key.family() {
            return Err(ConfigError::AlgorithmMismatch.into());
        }
        check_material(algorithm, &self.key)?;
        if !self.algorithms.contains(&algorithm) {
            self.algorithms.push(algorithm);
        }
        Ok(self)
    }

    /// Stops accepting tokens with this key from `unix_seconds` on: the end
    /// of a rotation's grace period. That includes tokens a
    /// [`CachedValidator`](crate::CachedValidator) verified with the key
    /// before: the cache re-checks the key's retirement on every hit.
    pub fn retire_at(mut self, unix_seconds: u64) -> Self {
        self.retire_at = Some(unix_seconds);
        self
    }

    /// The key's id, if it has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The algorithms this key verifies.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    /// When the key stops being accepted, if ever.
    pub fn retires_at(&self) -> Option<u64> {
        self.retire_at
    }

    /// True when the key verifies `algorithm`.
    pub fn allows(&self, algorithm: Algorithm) -> bool {
        self.algorithms.contains(&algorithm)
    }

    /// True when the key is still accepted at `now` (unix seconds).
    pub fn is_live(&self, now: u64) -> bool {
        self.retire_at.is_none_or(|at| now < at)
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.key
    }
}

/// Checks key material once, at configuration time, so that verification
/// never meets a key the backend cannot use.
fn check_material(algorithm: Algorithm, key: &DecodingKey) -> Result<(), AuthError> {
    match algorithm.family() {
        AlgorithmFamily::Hmac => {
            let len = key.try_get_as_bytes().map(<[u8]>::len).unwrap_or(0);
            if len < min_secret_len(algorithm) {
                return Err(ConfigError::WeakSecret { bits: len * 8 }.into());
            }
        }
        AlgorithmFamily::Rsa => {
            let bits = match key.kind() {
                DecodingKeyKind::RsaModulusExponent { n, .. } => significant_bits(n),
                DecodingKeyKind::SecretOrDer(der) => {
                    let (n, _) = (crypto::provider()
                        .key_utils
                        .rsa_pub_components_from_public_key)(der)
                    .map_err(|_| ConfigError::InvalidKey(KeyProblem::NotRsaPublicKey))?;
                    significant_bits(&n)
                }
            };
            if bits < MIN_RSA_BITS {
                return Err(ConfigError::InvalidKey(KeyProblem::RsaTooShort).into());
            }
        }
        AlgorithmFamily::Ed => {
            // The backend slices the first 32 bytes without checking: a
            // shorter key must never reach it.
            if key.try_get_as_bytes().map(<[u8]>::len).ok() != Some(32) {
                return Err(ConfigError::InvalidKey(KeyProblem::Ed25519Length).into());
            }
        }
        AlgorithmFamily::Ec => {}
    }
    crypto::verifier(algorithm, key)
        .map(drop)
        .map_err(|_| ConfigError::InvalidKey(KeyProblem::AlgorithmMisfit).into())
}

/// Keys selected by `kid`, by exact lookup only.
///
/// At most one key may have no `kid`; it verifies tokens whose header has no
/// `kid`. A token with a `kid` never falls back to it. Rotation: add the new
/// key, then mark the old one with [`VerificationKey::retire_at`] (or
/// [`KeySet::retire`]) at the end of the grace period.
///
/// ```
/// use tenancy_auth::{KeySet, VerificationKey};
///
/// let mut keys = KeySet::new();
/// keys.insert(VerificationKey::hs256(&[1u8; 32])?.with_kid("old")?)?;
/// keys.insert(VerificationKey::hs256(&[2u8; 32])?.with_kid("new")?)?;
/// keys.retire("old", 1_900_000_000);
/// assert!(keys.select(Some("old"), 1_800_000_000).is_ok());
/// assert!(keys.select(Some("old"), 1_900_000_000).is_err());
/// assert!(keys.select(Some("OLD"), 1_800_000_000).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    by_kid: HashMap<Arc<str>, VerificationKey>,
    unnamed: Option<VerificationKey>,
}

impl KeySet {
    /// An empty key set.
    pub fn new() -> Self {
        KeySet::default()
    }

    /// Adds a key; refused when its `kid` (or its lack of one) is taken.
    pub fn insert(&mut self, key: VerificationKey) -> Result<(), AuthError> {
        match key.kid.clone() {
            Some(kid) => {
                if self.by_kid.contains_key(&kid) {
                    return Err(ConfigError::DuplicateKeyId.into());
                }
                self.by_kid.insert(kid, key);
            }
            None => {
                if self.unnamed.is_some() {
                    return Err(ConfigError::DuplicateKeyId.into());
                }
                self.unnamed = Some(key);
            }
        }
        Ok(())
    }

    /// Adds a key, replacing any key with the same `kid`.
    pub fn upsert(&mut self, key: VerificationKey) {
        match key.kid.clone() {
            Some(kid) => {
                self.by_kid.insert(kid, key);
            }
            None => self.unnamed = Some(key),
        }
    }

    /// Marks the key named `kid` to stop being accepted at `unix_seconds`.
    /// Returns false when there is no such key.
    pub fn retire(&mut self, kid: &str, unix_seconds: u64) -> bool {
        match self.by_kid.get_mut(kid) {
            Some(key) => {
                key.retire_at = Some(unix_seconds);
                true
            }
            None => false,
        }
    }

    /// Removes the key named `kid`, returning it.
    pub fn remove(&mut self, kid: &str) -> Option<VerificationKey> {
        self.by_kid.remove(kid)
    }

    /// Drops every key retired at or before `now`.
    pub fn purge_retired(&mut self, now: u64) {
        self.by_kid.retain(|_, k| k.is_live(now));
        if self.unnamed.as_ref().is_some_and(|k| !k.is_live(now)) {
            self.unnamed = None;
        }
    }

    /// The key for a token's `kid` (or for a token without one), if it is
    /// still live at `now`.
    pub fn select(&self, kid: Option<&str>, now: u64) -> Result<&VerificationKey, AuthError> {
        let key = match kid {
            Some(kid) => self.by_kid.get(kid),
            None => self.unnamed.as_ref(),
        };
        key.filter(|k| k.is_live(now)).ok_or(AuthError::UnknownKey)
    }

    /// True when a key is named `kid`.
    pub fn contains(&self, kid: &str) -> bool {
        self.by_kid.contains_key(kid)
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.by_kid.len() + usize::from(self.unnamed.is_some())
    }

    /// True when the set holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every key.
    pub fn keys(&self) -> impl Iterator<Item = &VerificationKey> {
        self.by_kid.values().chain(self.unnamed.as_ref())
    }
}

impl FromIterator<VerificationKey> for KeySet {
    /// Collects keys; a later key replaces an earlier one with the same `kid`.
    fn from_iter<I: IntoIterator<Item = VerificationKey>>(iter: I) -> Self {
        let mut set = KeySet::new();
        for key in iter {
            set.upsert(key);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kid_with_path_or_sql_characters_is_not_a_kid() {
        for bad in [
            "",
            "../keys/admin",
            "a/b",
            "a\\b",
            "k'; drop table keys; --",
            "k\"",
            "k id",
            "k%2f",
            "k\n",
            "..",
            &"k".repeat(MAX_KID_LEN + 1),
        ] {
            assert!(!is_valid_kid(bad), "{bad:?}");
        }
        for good in [
            "2026-01",
            "nOo3ZDrODXEK1jKWhXslHR_KXEg",
            "key:1",
            "a.b",
            "abc+d=",
        ] {
            assert!(is_valid_kid(good), "{good:?}");
        }
    }

    #[test]
    fn hmac_secrets_shorter_than_the_hash_are_refused() {
        let err = VerificationKey::hs256(&[0u8; 31]).unwrap_err();
        assert!(matches!(
            err,
            AuthError::Config(ConfigError::WeakSecret { bits: 248 })
        ));
        assert!(VerificationKey::hs256(&[0u8; 32]).is_ok());
        assert!(VerificationKey::hmac(Algorithm::HS512, &[0u8; 48]).is_err());
        assert!(VerificationKey::hmac(Algorithm::HS512, &[0u8; 64]).is_ok());
    }

    #[test]
    fn an_algorithm_of_another_family_does_not_fit_a_key() {
        let err = VerificationKey::hmac(Algorithm::RS256, &[0u8; 32]).unwrap_err();
        assert!(matches!(
            err,
            AuthError::Config(ConfigError::AlgorithmMismatch)
        ));
        let key = VerificationKey::hs256(&[0u8; 64]).unwrap();
        assert!(key.clone().also_allow(Algorithm::ES256).is_err());
        let key = key.also_allow(Algorithm::HS512).unwrap();
        assert!(key.allows(Algorithm::HS512));
        assert!(!key.allows(Algorithm::HS384));
    }

    #[test]
    fn a_short_ed25519_key_is_refused_before_the_backend_sees_it() {
        let err = VerificationKey::ed_components("AAAA").unwrap_err();
        assert!(matches!(err, AuthError::Config(ConfigError::InvalidKey(_))));
    }

    #[test]
    fn a_small_rsa_modulus_is_refused() {
        // 1024-bit modulus of all ones, exponent 65537.
        let n = crate::token::b64url_encode(&[0xff; 128]);
        let err = VerificationKey::rsa_components(Algorithm::RS256, &n, "AQAB").unwrap_err();
        assert!(matches!(err, AuthError::Config(ConfigError::InvalidKey(_))));
    }

    #[test]
    fn select_is_exact_and_never_falls_back() {
        let mut keys = KeySet::new();
        keys.insert(VerificationKey::hs256(&[1u8; 32]).unwrap())
            .unwrap();
        keys.insert(
            VerificationKey::hs256(&[2u8; 32])
                .unwrap()
                .with_kid("a")
                .unwrap(),
        )
        .unwrap();
        assert!(keys.select(None, 0).is_ok());
        assert!(keys.select(Some("a"), 0).is_ok());
        assert!(matches!(
            keys.select(Some("b"), 0),
            Err(AuthError::UnknownKey)
        ));
        assert!(matches!(
            keys.select(Some("A"), 0),
            Err(AuthError::UnknownKey)
        ));
        assert!(matches!(
            keys.insert(VerificationKey::hs256(&[3u8; 32]).unwrap()),
            Err(AuthError::Config(ConfigError::DuplicateKeyId))
        ));
    }

    #[test]
    fn retired_keys_stop_at_their_time() {
        let mut keys = KeySet::new();
        keys.insert(
            VerificationKey::hs256(&[1u8; 32])
                .unwrap()
                .with_kid("old")
                .unwrap()
                .retire_at(100),
        )
        .unwrap();
        assert!(keys.select(Some("old"), 99).is_ok());
        assert!(keys.select(Some("old"), 100).is_err());
        keys.purge_retired(100);
        assert!(keys.is_empty());
    }
}
