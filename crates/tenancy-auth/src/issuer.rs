//! Minting tokens for a context: for services that issue their own tokens
//! (redeeming an onboarding code, say) and for tests.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, AlgorithmFamily, EncodingKey};
use serde_json::{Map, Value};
use tenancy_core::{PermissionSet, Scope, TenantContext, UnixClock, WallClock};

use crate::claims::ClaimNames;
use crate::crypto;
use crate::error::{AuthError, Claim, ConfigError, KeyProblem};
use crate::key::is_valid_kid;
use crate::token::{algorithm_name, b64url_encode};

/// What a single token should say beyond the context.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct IssueOptions {
    /// Write the context's permissions into the `permissions` claim, so the
    /// token is narrowed to them (by default the claim is absent and the
    /// token grants whatever the role grants when it is verified). Only a
    /// plain list of grants can be written: a set with exceptions (such as
    /// a role's `*:read` minus `audit:*`) is refused rather than widened.
    pub narrow: bool,
    /// A `jti` to include (for revocation).
    pub jti: Option<String>,
    /// An `nbf` to include, in unix seconds.
    pub not_before: Option<u64>,
}

impl IssueOptions {
    /// No narrowing, no `jti`, no `nbf`.
    pub fn new() -> Self {
        IssueOptions::default()
    }

    /// Narrows the token to the context's permissions.
    pub fn narrow(mut self) -> Self {
        self.narrow = true;
        self
    }

    /// Sets the `jti`.
    pub fn jti(mut self, jti: &str) -> Self {
        self.jti = Some(jti.to_owned());
        self
    }

    /// Sets the `nbf`.
    pub fn not_before(mut self, unix_seconds: u64) -> Self {
        self.not_before = Some(unix_seconds);
        self
    }
}

/// Signs tokens for contexts with one key, algorithm, issuer and audience.
///
/// A tenant context becomes `scope: tenant` with its `tenant_id`; a system
/// context becomes `scope: system` without one. A system context acting for
/// a tenant is refused: acting is a reasoned, audited step inside one
/// request, never something to hand out as a token.
///
/// ```
/// use std::time::Duration;
/// use tenancy_auth::Issuer;
/// use tenancy_core::*;
///
/// let issuer = Issuer::hs256(&[9u8; 32], "https://id.example.com", "leases")?.with_kid("k1")?;
/// let ctx = TenantContext::tenant(TenantId::from_u128(1), SubjectId::from_u128(2), RoleName::member(), PermissionSet::all());
/// let token = issuer.issue(&ctx, Duration::from_secs(600))?;
/// assert_eq!(token.split('.').count(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Issuer {
    algorithm: Algorithm,
    key: EncodingKey,
    kid: Option<String>,
    issuer: String,
    audience: String,
    names: ClaimNames,
    clock: Arc<dyn WallClock>,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl Issuer {
    /// An issuer signing with `key` under `algorithm`. The key is tried once
    /// so that a wrong key fails here, not at the first token.
    pub fn new(
        algorithm: Algorithm,
        key: EncodingKey,
        issuer: &str,
        audience: &str,
    ) -> Result<Self, AuthError> {
        if algorithm.family() != key.family() || algorithm_name(algorithm).is_none() {
            return Err(ConfigError::AlgorithmMismatch.into());
        }
        if issuer.is_empty() {
            return Err(ConfigError::MissingIssuer.into());
        }
        if audience.is_empty() {
            return Err(ConfigError::MissingAudience.into());
        }
        if algorithm.family() == AlgorithmFamily::Hmac {
            let min = match algorithm {
                Algorithm::HS384 => 48,
                Algorithm::HS512 => 64,
                _ => 32,
            };
            if key.as_bytes().len() < min {
                return Err(ConfigError::WeakSecret {
                    bits: key.as_bytes().len() * 8,
                }
                .into());
            }
        }
        crypto::signer(algorithm, &key)
            .and_then(|s| s.try_sign(b"probe").map_err(Into::into))
            .map_err(|_| ConfigError::InvalidKey(KeyProblem::CannotSign))?;
        Ok(Issuer {
            algorithm,
            key,
            kid: None,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            names: ClaimNames::default(),
            clock: Arc::new(UnixClock),
        })
    }

    /// An HS256 issuer; the secret has at least 32 bytes.
    pub fn hs256(secret: &[u8], issuer: &str, audience: &str) -> Result<Self, AuthError> {
        Issuer::new(
            Algorithm::HS256,
            EncodingKey::from_secret(secret),
            issuer,
            audience,
        )
    }

    /// An issuer with a private key in PEM: PKCS#1 or PKCS#8 RSA for `RS*`
    /// and `PS*`, PKCS#8 for `ES*` and `EdDSA`.
    pub fn from_pem(
        algorithm: Algorithm,
        pem: &[u8],
        issuer: &str,
        audience: &str,
    ) -> Result<Self, AuthError> {
        let key = match algorithm.family() {
            AlgorithmFamily::Rsa => EncodingKey::from_rsa_pem(pem),
            AlgorithmFamily::Ec => EncodingKey::from_ec_pem(pem),
            AlgorithmFamily::Ed => EncodingKey::from_ed_pem(pem),
            AlgorithmFamily::Hmac => return Err(ConfigError::AlgorithmMismatch.into()),
        }
        .map_err(|_| ConfigError::InvalidKey(KeyProblem::NotPrivateKeyPem))?;
        Issuer::new(algorithm, key, issuer, audience)
    }

    /// Puts `kid` in every header.
    pub fn with_kid(mut self, kid: &str) -> Result<Self, AuthError> {
        if !is_valid_kid(kid) {
            return Err(ConfigError::InvalidKeyId.into());
        }
        self.kid = Some(kid.to_owned());
        Ok(self)
    }

    /// Names claims as `names` says (they must match the validator's).
    pub fn with_claim_names(mut self, names: ClaimNames) -> Result<Self, AuthError> {
        names.check()?;
        self.names = names;
        Ok(self)
    }

    /// Reads unix time from `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn WallClock>) -> Self {
        self.clock = clock;
        self
    }

    /// A token for `ctx`, valid for `lifetime` from now, granting whatever
    /// the role grants when verified.
    pub fn issue(&self, ctx: &TenantContext, lifetime: Duration) -> Result<String, AuthError> {
        self.issue_with(ctx, lifetime, &IssueOptions::default())
    }

    /// A token for `ctx`, valid for `lifetime` from now, shaped by `options`.
    pub fn issue_with(
        &self,
        ctx: &TenantContext,
        lifetime: Duration,
        options: &IssueOptions,
    ) -> Result<String, AuthError> {
        let now = self.clock.unix_time().as_secs();
        let mut claims = Map::new();
        let mut put = |claim: Claim, value: Value| {
            claims.insert(self.names.name(claim).to_owned(), value);
        };
        put(Claim::Subject, ctx.subject().to_string().into());
        match (ctx.scope(), ctx.acting_reason()) {
            (Scope::Tenant, _) => {
                let tenant = ctx.require_tenant().map_err(|_| AuthError::ScopeMismatch)?;
                put(Claim::Scope, "tenant".into());
                put(Claim::TenantId, tenant.to_string().into());
            }
            (Scope::System, None) => put(Claim::Scope, "system".into()),
            (Scope::System, Some(_)) => return Err(AuthError::ScopeMismatch),
        }
        put(Claim::Role, ctx.role().as_str().into());
        if options.narrow {
            let permissions = ctx.permissions();
            // INVARIANT: the claim states exactly the context's permissions;
            // listing grants without their exceptions would widen them.
            let listed = PermissionSet::from_grants(permissions.grants().cloned());
            let tenant = ctx.scope() == Scope::Tenant;
            if listed != *permissions
                || (tenant && permissions.grants().any(|g| g.touches_platform()))
            {
                return Err(ConfigError::PermissionsNotExpressible.into());
            }
            let grants: Vec<Value> = permissions.grants().map(|p| p.to_string().into()).collect();
            put(Claim::Permissions, grants.into());
        }
        put(Claim::IssuedAt, now.into());
        put(
            Claim::ExpiresAt,
            now.saturating_add(lifetime.as_secs()).into(),
        );
        if let Some(nbf) = options.not_before {
            put(Claim::NotBefore, nbf.into());
        }
        put(Claim::Issuer, self.issuer.as_str().into());
        put(Claim::Audience, self.audience.as_str().into());
        if let Some(jti) = &options.jti {
            put(Claim::TokenId, jti.as_str().into());
        }
        self.sign(&Value::Object(claims))
    }

    /// Signs arbitrary claims with this issuer's key and header. No check is
    /// made on them: for tests that need a token a context cannot describe.
    pub fn sign(&self, claims: &Value) -> Result<String, AuthError> {
        let mut header = Map::new();
        let alg = algorithm_name(self.algorithm).ok_or(ConfigError::AlgorithmMismatch)?;
        header.insert("alg".into(), alg.into());
        header.insert("typ".into(), "JWT".into());
        if let Some(kid) = &self.kid {
            header.insert("kid".into(), kid.as_str().into());
        }
        let header =
            serde_json::to_vec(&Value::Object(header)).map_err(|_| ConfigError::Signing)?;
        let claims = serde_json::to_vec(claims).map_err(|_| ConfigError::Signing)?;
        let mut token = b64url_encode(&header);
        token.push('.');
        token.push_str(&b64url_encode(&claims));
        let signature = crypto::signer(self.algorithm, &self.key)
            .and_then(|s| s.try_sign(token.as_bytes()).map_err(Into::into))
            .map_err(|_| ConfigError::Signing)?;
        token.push('.');
        token.push_str(&b64url_encode(&signature));
        Ok(token)
    }
}
