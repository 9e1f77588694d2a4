//! The validator: a bearer token in, a [`VerifiedToken`] or a typed refusal
//! out.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use jsonwebtoken::{Algorithm, AlgorithmFamily};
use tenancy_core::{Scope, TenantId, UnixClock, WallClock};

use crate::claims::{ClaimNames, Reader};
use crate::crypto;
use crate::error::{AuthError, ConfigError, KeyProblem, Malformed};
use crate::hooks::ValidationHooks;
use crate::json::{Members, ObjectError};
use crate::key::{KeySet, VerificationKey};
use crate::token::{self, Parts};
use crate::verified::VerifiedToken;

/// The default size limit, checked before any decoding: 8 KiB.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The default leeway for `exp`, `nbf` and `iat`: 30 seconds.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// The default maximum lifetime (`exp - iat`): 24 hours.
pub const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// The largest leeway a validator accepts: 5 minutes.
pub const MAX_LEEWAY: Duration = Duration::from_secs(5 * 60);

/// Keys shared between a validator and whatever rotates them.
pub(crate) type SharedKeys = Arc<RwLock<Arc<KeySet>>>;

pub(crate) fn read_keys(keys: &SharedKeys) -> Arc<KeySet> {
    // A writer only ever swaps the Arc: a poisoned lock still holds a
    // complete key set.
    Arc::clone(&keys.read().unwrap_or_else(|p| p.into_inner()))
}

/// Asked for fresh keys when a token names a `kid` the validator does not
/// know (see [`Validator::verify_async`]).
#[async_trait::async_trait]
pub(crate) trait Refresh: Send + Sync {
    /// Refreshes the shared keys if the source allows it now; true when the
    /// keys may have changed.
    async fn refresh_for_unknown_kid(&self) -> Result<bool, AuthError>;
}

/// Turns bearer tokens into [`VerifiedToken`]s. Build once, share in an
/// [`Arc`]: it is `Send + Sync` and never blocks on I/O.
///
/// In order, [`verify`](Validator::verify) checks: the size (before any
/// decoding), three non-empty canonical base64url segments, the header
/// (algorithm by exact name, never `none`; no `crit`, `jku`, `x5u`, `jwk`,
/// `x5c`; a plain `kid`), the key (exact `kid` lookup; the key must be pinned
/// to the header's algorithm), the signature, then the claims (no repeated
/// member; `iss` and `aud` as configured; `exp`, `iat` required and of
/// numeric type, `nbf` if present; the maximum lifetime; subject, scope,
/// tenant, role and permissions typed), then the hooks.
///
/// ```
/// use std::time::Duration;
/// use tenancy_auth::Validator;
///
/// let validator = Validator::builder()
///     .issuer("https://id.example.com")
///     .audience("leases-api")
///     .leeway(Duration::from_secs(10))
///     .max_lifetime(Duration::from_secs(3600))
///     .hs256_secret(b"an HS256 secret of at least 32 bytes!")
///     .build()?;
/// assert!(validator.verify("not.a.token").unwrap_err().is_invalid_token());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Validator {
    issuer: Arc<str>,
    audience: Box<str>,
    leeway: u64,
    max_lifetime: u64,
    max_token_bytes: usize,
    names: ClaimNames,
    keys: SharedKeys,
    clock: Arc<dyn WallClock>,
    hooks: Vec<Arc<dyn ValidationHooks>>,
    tenant: Option<TenantId>,
    refresh: Option<Arc<dyn Refresh>>,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway", &self.leeway)
            .field("max_lifetime", &self.max_lifetime)
            .field("max_token_bytes", &self.max_token_bytes)
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Validator`]. Issuer, audience and at least one key are
/// required.
pub struct ValidatorBuilder {
    issuer: Option<String>,
    audience: Option<String>,
    leeway: Duration,
    max_lifetime: Duration,
    max_token_bytes: usize,
    names: ClaimNames,
    keys: KeySet,
    shared: Option<SharedKeys>,
    clock: Arc<dyn WallClock>,
    hooks: Vec<Arc<dyn ValidationHooks>>,
    tenant: Option<TenantId>,
    refresh: Option<Arc<dyn Refresh>>,
    error: Option<AuthError>,
}

impl ValidatorBuilder {
    fn new() -> Self {
        ValidatorBuilder {
            issuer: None,
            audience: None,
            leeway: DEFAULT_LEEWAY,
            max_lifetime: DEFAULT_MAX_LIFETIME,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            names: ClaimNames::default(),
            keys: KeySet::new(),
            shared: None,
            clock: Arc::new(UnixClock),
            hooks: Vec::new(),
            tenant: None,
            refresh: None,
            error: None,
        }
    }

    fn fail(mut self, error: AuthError) -> Self {
        self.error.get_or_insert(error);
        self
    }

    /// The only accepted `iss` (exact match). Required.
    pub fn issuer(mut self, issuer: &str) -> Self {
        self.issuer = Some(issuer.to_owned());
        self
    }

    /// The audience `aud` must name (a string, or one of an array). Required.
    pub fn audience(mut self, audience: &str) -> Self {
        self.audience = Some(audience.to_owned());
        self
    }

    /// Tolerance for clock skew on `exp`, `nbf` and `iat` (default 30 s, at
    /// most 5 minutes).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The longest `exp - iat` accepted (default 24 hours).
    pub fn max_lifetime(mut self, max_lifetime: Duration) -> Self {
        self.max_lifetime = max_lifetime;
        self
    }

    /// The longest token accepted, in bytes (default 8 KiB), checked before
    /// any decoding.
    pub fn max_token_bytes(mut self, max_token_bytes: usize) -> Self {
        self.max_token_bytes = max_token_bytes;
        self
    }

    /// How claims are named in tokens (default: `sub`, `tenant_id`, ...).
    pub fn claim_names(mut self, names: ClaimNames) -> Self {
        self.names = names;
        self
    }

    /// Adds a key. With `kid: Some(..)` the key is selected by that exact
    /// `kid` (overriding any `kid` the key has); with `None` it keeps its own
    /// `kid`, or verifies tokens without one.
    pub fn key(self, kid: Option<&str>, key: VerificationKey) -> Self {
        let key = match kid {
            Some(kid) => key.with_kid(kid),
            None => Ok(key),
        };
        match key {
            Ok(key) => {
                let mut this = self;
                match this.keys.insert(key) {
                    Ok(()) => this,
                    Err(e) => this.fail(e),
                }
            }
            Err(e) => self.fail(e),
        }
    }

    /// Adds every key of `keys`.
    pub fn keys(self, keys: KeySet) -> Self {
        keys.keys()
            .cloned()
            .fold(self, |this, key| this.key(None, key))
    }

    /// Adds an HS256 secret for tokens without a `kid`. A secret shorter
    /// than 32 bytes makes [`build`](ValidatorBuilder::build) fail.
    pub fn hs256_secret(self, secret: &[u8]) -> Self {
        match VerificationKey::hs256(secret) {
            Ok(key) => self.key(None, key),
            Err(e) => self.fail(e),
        }
    }

    /// Takes its keys from a [`CachingKeySource`](crate::CachingKeySource):
    /// rotations the source sees are used at once, and
    /// [`Validator::verify_async`] refreshes it on an unknown `kid`.
    pub fn key_source<S: crate::KeySource + 'static>(
        mut self,
        source: Arc<crate::CachingKeySource<S>>,
    ) -> Self {
        self.shared = Some(source.shared());
        self.refresh = Some(source);
        self
    }

    /// Reads unix time from `clock` instead of the system clock.
    ///
    /// A wall clock: a monotonic one (a limiter's [`SystemClock`](tenancy_core::SystemClock))
    /// does not compile here, since as unix time it would make every token
    /// look issued in the future.
    ///
    /// ```compile_fail,E0277
    /// use std::sync::Arc;
    /// use tenancy_auth::Validator;
    /// use tenancy_core::SystemClock;
    ///
    /// let builder = Validator::builder().clock(Arc::new(SystemClock::new()));
    /// ```
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use tenancy_auth::Validator;
    /// use tenancy_core::ManualWallClock;
    ///
    /// let builder = Validator::builder().clock(Arc::new(ManualWallClock::at(Duration::from_secs(1_800_000_000))));
    /// # let _ = builder;
    /// ```
    pub fn clock(mut self, clock: Arc<dyn WallClock>) -> Self {
        self.clock = clock;
        self
    }

    /// Adds a hook run on every validation, after the token verified.
    pub fn hook(mut self, hook: Arc<dyn ValidationHooks>) -> Self {
        self.hooks.push(hook);
        self
    }

    /// Binds this issuer to one tenant: only tenant tokens for `tenant` are
    /// accepted (a per-tenant issuer can never speak for another tenant or
    /// for the platform).
    pub fn for_tenant(mut self, tenant: TenantId) -> Self {
        self.tenant = Some(tenant);
        self
    }

    /// Checks the configuration and builds the validator.
    pub fn build(self) -> Result<Validator, AuthError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let issuer = self
            .issuer
            .filter(|s| !s.is_empty())
            .ok_or(ConfigError::MissingIssuer)?;
        let audience = self
            .audience
            .filter(|s| !s.is_empty())
            .ok_or(ConfigError::MissingAudience)?;
        if self.leeway > MAX_LEEWAY {
            return Err(ConfigError::Limit { setting: "leeway" }.into());
        }
        if self.max_lifetime.as_secs() == 0 {
            return Err(ConfigError::Limit {
                setting: "max_lifetime",
            }
            .into());
        }
        if self.max_token_bytes < 64 {
            return Err(ConfigError::Limit {
                setting: "max_token_bytes",
            }
            .into());
        }
        self.names.check()?;
        let keys = match self.shared {
            Some(shared) => {
                if !self.keys.is_empty() {
                    return Err(ConfigError::KeysAndKeySource.into());
                }
                shared
            }
            None => {
                if self.keys.is_empty() {
                    return Err(ConfigError::NoKeys.into());
                }
                Arc::new(RwLock::new(Arc::new(self.keys)))
            }
        };
        Ok(Validator {
            issuer: issuer.into(),
            audience: audience.into(),
            leeway: self.leeway.as_secs(),
            max_lifetime: self.max_lifetime.as_secs(),
            max_token_bytes: self.max_token_bytes,
            names: self.names,
            keys,
            clock: self.clock,
            hooks: self.hooks,
            tenant: self.tenant,
            refresh: self.refresh,
        })
    }
}

/// ECDSA signatures are `r || s`; a zero half verifies against anything in
/// some broken implementations ("psychic signatures").
fn ecdsa_shape_is_sound(algorithm: Algorithm, signature: &[u8]) -> bool {
    let size = match algorithm {
        Algorithm::ES256 => 64,
        Algorithm::ES384 => 96,
        _ => return true,
    };
    if signature.len() != size {
        return false;
    }
    let (r, s) = signature.split_at(size / 2);
    r.iter().any(|&b| b != 0) && s.iter().any(|&b| b != 0)
}

impl Validator {
    /// Starts a configuration.
    pub fn builder() -> ValidatorBuilder {
        ValidatorBuilder::new()
    }

    /// The configured issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The configured audience.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The keys in use now.
    pub fn keys(&self) -> Arc<KeySet> {
        read_keys(&self.keys)
    }

    /// Replaces the keys (a rotation). Tokens being verified keep the keys
    /// they started with.
    pub fn set_keys(&self, keys: KeySet) {
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(keys);
    }

    pub(crate) fn now(&self) -> u64 {
        self.clock.unix_time().as_secs()
    }

    /// Size limit, structure, header (algorithm pinned per key, exact
    /// `kid`), signature, `iss`/`aud`/`exp`/`nbf`/`iat`/lifetime, claim
    /// mapping and types, then the hooks. No tenant lookups besides what the
    /// hooks do.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        self.verify_with_keys(token, &read_keys(&self.keys))
    }

    pub(crate) fn verify_with_keys(
        &self,
        token: &str,
        keys: &KeySet,
    ) -> Result<VerifiedToken, AuthError> {
        let parts = token::split(token, self.max_token_bytes)?;
        let verified = self.verify_parts(parts, keys)?;
        self.run_hooks(&verified)?;
        Ok(verified)
    }

    pub(crate) fn shared_keys(&self) -> &SharedKeys {
        &self.keys
    }

    /// The size limit, in bytes.
    pub fn max_token_bytes(&self) -> usize {
        self.max_token_bytes
    }

    /// Like [`verify`](Validator::verify), but when the token names a `kid`
    /// the keys do not hold, asks the key source for fresh keys first (at
    /// most once per its refresh interval) and tries again.
    pub async fn verify_async(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        match self.verify(token) {
            Err(AuthError::UnknownKey) => {}
            other => return other,
        }
        let Some(refresh) = &self.refresh else {
            return Err(AuthError::UnknownKey);
        };
        // Only a well-formed token with a `kid` may trigger a fetch.
        let parts = token::split(token, self.max_token_bytes)?;
        if parts.header.kid.is_none() {
            return Err(AuthError::UnknownKey);
        }
        // Verify again even when this call did not fetch: another caller may
        // have replaced the keys between the first attempt and now.
        refresh.refresh_for_unknown_kid().await?;
        self.verify(token)
    }

    /// Runs the hooks on an already verified token.
    pub fn run_hooks(&self, token: &VerifiedToken) -> Result<(), AuthError> {
        self.hooks[..].check(token)
    }

    fn verify_parts(&self, parts: Parts<'_>, keys: &KeySet) -> Result<VerifiedToken, AuthError> {
        let now = self.now();
        let header = parts.header;
        let key = keys.select(header.kid.as_deref(), now)?;
        if !key.allows(header.alg) {
            return Err(AuthError::AlgorithmNotAllowed);
        }
        if header.alg.family() == AlgorithmFamily::Ec
            && !ecdsa_shape_is_sound(header.alg, &parts.signature)
        {
            return Err(AuthError::BadSignature);
        }
        // The key's material was checked against this algorithm when it was
        // configured; a failure here is a broken key, not a bad token.
        let verifier = crypto::verifier(header.alg, key.decoding_key())
            .map_err(|_| ConfigError::InvalidKey(KeyProblem::AlgorithmMisfit))?;
        if verifier
            .verify(parts.signing_input, &parts.signature)
            .is_err()
        {
            return Err(AuthError::BadSignature);
        }

        let json = token::b64url(parts.claims)?;
        let members = Members::parse(&json).map_err(|e| match e {
            ObjectError::Duplicate => Malformed::DuplicateKey,
            ObjectError::NotAnObject => Malformed::Claims,
        })?;
        let reader = Reader::new(&members, &self.names);
        if *reader.issuer()? != *self.issuer {
            return Err(AuthError::WrongIssuer);
        }
        if !reader.has_audience(&self.audience)? {
            return Err(AuthError::WrongAudience);
        }
        let claims = reader.read()?;
        if claims.expires_at.saturating_add(self.leeway) < now {
            return Err(AuthError::Expired);
        }
        if claims
            .not_before
            .is_some_and(|nbf| nbf > now.saturating_add(self.leeway))
        {
            return Err(AuthError::NotYetValid);
        }
        if claims.issued_at > now.saturating_add(self.leeway) {
            return Err(AuthError::IssuedInFuture);
        }
        let Some(lifetime) = claims.expires_at.checked_sub(claims.issued_at) else {
            return Err(AuthError::InvalidClaim(crate::Claim::ExpiresAt));
        };
        if lifetime > self.max_lifetime {
            return Err(AuthError::LifetimeTooLong);
        }
        if let Some(bound) = self.tenant
            && (claims.scope != Scope::Tenant || claims.tenant != Some(bound))
        {
            return Err(AuthError::ScopeMismatch);
        }
        Ok(VerifiedToken::new(
            claims,
            Arc::clone(&self.issuer),
            header.kid,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_signature_with_a_zero_half_is_unsound() {
        let mut sig = [1u8; 64];
        assert!(ecdsa_shape_is_sound(Algorithm::ES256, &sig));
        sig[..32].fill(0);
        assert!(!ecdsa_shape_is_sound(Algorithm::ES256, &sig));
        let mut sig = [1u8; 64];
        sig[32..].fill(0);
        assert!(!ecdsa_shape_is_sound(Algorithm::ES256, &sig));
        assert!(!ecdsa_shape_is_sound(Algorithm::ES256, &[0u8; 64]));
        assert!(!ecdsa_shape_is_sound(Algorithm::ES256, &[1u8; 63]));
        assert!(!ecdsa_shape_is_sound(Algorithm::ES384, &[1u8; 64]));
        assert!(ecdsa_shape_is_sound(Algorithm::ES384, &[1u8; 96]));
        assert!(ecdsa_shape_is_sound(Algorithm::EdDSA, &[0u8; 64]));
    }
}
