//! The errors of tenancy-auth.
//!
//! No message quotes a token, a secret, a key or a claim value: a refusal
//! names the check that failed and, at most, the name of a claim. A
//! message says what failed here; the cause (a configuration mistake, a
//! key source's failure) is its [`source`](std::error::Error::source),
//! never repeated in the message.

use std::fmt;
use std::sync::Arc;

/// A convenient alias for results whose error is [`AuthError`].
pub type Result<T, E = AuthError> = std::result::Result<T, E>;

/// Why a token was refused, or why validation could not run.
///
/// [`AuthError::kind`] sorts the variants for a transport: the token is not
/// acceptable (HTTP 401), the tenant may not be served (403), the
/// configuration is wrong (500) or a key source failed (503).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token is longer than the configured limit; nothing was decoded.
    #[error("token is larger than {limit} bytes")]
    TooLarge {
        /// The configured limit, in bytes.
        limit: usize,
    },
    /// The token is not a well-formed compact JWS.
    #[error("malformed token: {0}")]
    Malformed(Malformed),
    /// The header names an algorithm this crate never accepts (`none`, or an
    /// unknown name).
    #[error("unsupported token algorithm")]
    UnsupportedAlgorithm,
    /// The key selected by `kid` is not pinned to the header's algorithm.
    #[error("token algorithm is not allowed for its key")]
    AlgorithmNotAllowed,
    /// The header carries a parameter that is never honoured (`crit`, `jku`,
    /// `x5u`, `jwk`, `x5c`, `enc`, `zip`, `b64`).
    #[error("token header parameter `{parameter}` is not accepted")]
    ForbiddenHeader {
        /// The parameter's name.
        parameter: &'static str,
    },
    /// The `kid` header is not a plain key identifier.
    #[error("token key id is not valid")]
    InvalidKeyId,
    /// No configured key matches the token's `kid` (or its absence).
    #[error("no key matches the token")]
    UnknownKey,
    /// The signature does not verify with the selected key.
    #[error("token signature does not verify")]
    BadSignature,
    /// `exp` is in the past, beyond the leeway.
    #[error("token has expired")]
    Expired,
    /// `nbf` is in the future, beyond the leeway.
    #[error("token is not valid yet")]
    NotYetValid,
    /// `iat` is in the future, beyond the leeway.
    #[error("token was issued in the future")]
    IssuedInFuture,
    /// `exp - iat` exceeds the configured maximum lifetime.
    #[error("token lifetime exceeds the maximum")]
    LifetimeTooLong,
    /// `iss` is not the configured issuer.
    #[error("token issuer is not accepted")]
    WrongIssuer,
    /// `aud` does not name the configured audience.
    #[error("token audience is not accepted")]
    WrongAudience,
    /// A required claim is absent.
    #[error("token claim `{0}` is missing")]
    MissingClaim(Claim),
    /// A claim has the wrong JSON type or an invalid value.
    #[error("token claim `{0}` is invalid")]
    InvalidClaim(Claim),
    /// The scope disagrees with the rest of the token: a system token with a
    /// tenant, or a role of the other scope.
    #[error("token scope does not match its claims")]
    ScopeMismatch,
    /// The role is not defined in the registry the token was checked against.
    #[error("token role is not defined")]
    UnknownRole,
    /// A tenant token asked for a permission that touches the platform.
    #[error("tenant token carries a platform permission")]
    PlatformPermission,
    /// The token's `jti` has been revoked.
    #[error("token has been revoked")]
    Revoked,
    /// The token is older than the tenant's session policy allows.
    #[error("token is older than the session policy allows")]
    SessionTooOld,
    /// The tenant is suspended.
    #[error("tenant is suspended")]
    TenantSuspended,
    /// The tenant does not serve requests (unknown, provisioning,
    /// decommissioning or deleted).
    #[error("tenant is unavailable")]
    TenantUnavailable,
    /// The validator, issuer or key set was configured wrongly; the source
    /// says how.
    #[error("auth configuration error")]
    Config(#[source] ConfigError),
    /// A key source could not provide keys; the source says why.
    #[error("key source failed")]
    KeySource(#[source] Arc<dyn std::error::Error + Send + Sync>),
}

/// What an [`AuthError`] means for the request, as [`AuthError::kind`]
/// sorts it. Every variant belongs to exactly one kind, and a new variant
/// must be given one: the sorting is a `match` without a catch-all.
///
/// Exhaustive on purpose, like tenancy-admission's `Refusal`: a transport
/// renders every kind, so a new kind is a breaking change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthErrorKind {
    /// The token is not acceptable (HTTP 401): malformed, unsigned, expired,
    /// of another issuer or audience, revoked, with claims that do not fit.
    InvalidToken,
    /// The token is acceptable, but its tenant may not be served (403).
    TenantRefused,
    /// The validator, issuer or key set is configured wrongly (500): the
    /// operator's to fix, nothing the client can change.
    Misconfigured,
    /// A key source could not provide keys (503): retrying may succeed.
    Unavailable,
}

impl AuthError {
    /// What this error means for the request.
    pub fn kind(&self) -> AuthErrorKind {
        match self {
            AuthError::TooLarge { .. }
            | AuthError::Malformed(_)
            | AuthError::UnsupportedAlgorithm
            | AuthError::AlgorithmNotAllowed
            | AuthError::ForbiddenHeader { .. }
            | AuthError::InvalidKeyId
            | AuthError::UnknownKey
            | AuthError::BadSignature
            | AuthError::Expired
            | AuthError::NotYetValid
            | AuthError::IssuedInFuture
            | AuthError::LifetimeTooLong
            | AuthError::WrongIssuer
            | AuthError::WrongAudience
            | AuthError::MissingClaim(_)
            | AuthError::InvalidClaim(_)
            | AuthError::ScopeMismatch
            | AuthError::UnknownRole
            | AuthError::PlatformPermission
            | AuthError::Revoked
            | AuthError::SessionTooOld => AuthErrorKind::InvalidToken,
            AuthError::TenantSuspended | AuthError::TenantUnavailable => {
                AuthErrorKind::TenantRefused
            }
            AuthError::Config(_) => AuthErrorKind::Misconfigured,
            AuthError::KeySource(_) => AuthErrorKind::Unavailable,
        }
    }

    /// True when the token is not acceptable (answer 401): the kind is
    /// [`AuthErrorKind::InvalidToken`].
    pub fn is_invalid_token(&self) -> bool {
        self.kind() == AuthErrorKind::InvalidToken
    }

    /// Wraps a key source's failure.
    pub fn key_source(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        AuthError::KeySource(Arc::new(error))
    }
}

/// What is wrong with the shape of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Malformed {
    /// Not exactly three dot-separated segments.
    SegmentCount,
    /// A segment is empty.
    EmptySegment,
    /// A segment is not unpadded, canonical base64url (padding, whitespace
    /// and other characters included).
    Encoding,
    /// The header is not a JSON object of the expected shape.
    Header,
    /// The claims are not a JSON object.
    Claims,
    /// The header or the claims name the same member twice.
    DuplicateKey,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Malformed::SegmentCount => "expected three segments",
            Malformed::EmptySegment => "empty segment",
            Malformed::Encoding => "segment is not base64url",
            Malformed::Header => "header is not a valid JSON object",
            Malformed::Claims => "claims are not a JSON object",
            Malformed::DuplicateKey => "duplicate JSON member",
        })
    }
}

/// A claim, by its role (its name in a token depends on the
/// [`ClaimNames`](crate::ClaimNames)). Displays as the default name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Claim {
    /// `sub`: the subject (a UUID).
    Subject,
    /// `tenant_id`: the tenant (a UUID), in tenant scope only.
    TenantId,
    /// `scope`: `tenant` or `system`.
    Scope,
    /// `role`: a role name.
    Role,
    /// `permissions`: an optional array of `resource:action` strings.
    Permissions,
    /// `iat`: when the token was issued.
    IssuedAt,
    /// `exp`: when the token expires.
    ExpiresAt,
    /// `nbf`: when the token becomes valid.
    NotBefore,
    /// `iss`: who issued the token.
    Issuer,
    /// `aud`: who the token is for.
    Audience,
    /// `jti`: the token's unique id.
    TokenId,
}

impl Claim {
    /// Every claim, in declaration order.
    pub const ALL: [Claim; 11] = [
        Claim::Subject,
        Claim::TenantId,
        Claim::Scope,
        Claim::Role,
        Claim::Permissions,
        Claim::IssuedAt,
        Claim::ExpiresAt,
        Claim::NotBefore,
        Claim::Issuer,
        Claim::Audience,
        Claim::TokenId,
    ];

    /// The default claim name.
    pub fn default_name(self) -> &'static str {
        match self {
            Claim::Subject => "sub",
            Claim::TenantId => "tenant_id",
            Claim::Scope => "scope",
            Claim::Role => "role",
            Claim::Permissions => "permissions",
            Claim::IssuedAt => "iat",
            Claim::ExpiresAt => "exp",
            Claim::NotBefore => "nbf",
            Claim::Issuer => "iss",
            Claim::Audience => "aud",
            Claim::TokenId => "jti",
        }
    }
}

impl fmt::Display for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.default_name())
    }
}

/// What is wrong with a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// An HMAC secret shorter than 256 bits.
    #[error("hmac secret has {bits} bits, at least 256 are required")]
    WeakSecret {
        /// The secret's length in bits.
        bits: usize,
    },
    /// No issuer was configured.
    #[error("an issuer is required")]
    MissingIssuer,
    /// No audience was configured.
    #[error("an audience is required")]
    MissingAudience,
    /// Both fixed keys and a key source were configured.
    #[error("configure either keys or a key source, not both")]
    KeysAndKeySource,
    /// Two validators of one router share an issuer.
    #[error("issuer is configured twice")]
    DuplicateIssuer,
    /// No key was configured.
    #[error("at least one key is required")]
    NoKeys,
    /// Two keys share a `kid` (or two keys have none).
    #[error("two keys share a key id")]
    DuplicateKeyId,
    /// A `kid` that a token could never carry.
    #[error("key id is not valid")]
    InvalidKeyId,
    /// Key material that cannot be used for its algorithm.
    #[error("key cannot be used: {0}")]
    InvalidKey(KeyProblem),
    /// An algorithm outside the key's family.
    #[error("algorithm does not fit the key")]
    AlgorithmMismatch,
    /// Two claims mapped to the same name, or an empty name.
    #[error("claim names must be distinct and non-empty")]
    ClaimNames,
    /// A limit that makes no sense (zero size, zero lifetime, huge leeway).
    #[error("limit `{setting}` is out of range")]
    Limit {
        /// The setting's name (`leeway`, `max_lifetime`, `max_token_bytes`).
        setting: &'static str,
    },
    /// Narrowing asked for permissions a `permissions` claim cannot state
    /// exactly (a set with exceptions, or a tenant set whose patterns reach
    /// the platform).
    #[error("permissions cannot be written as a claim")]
    PermissionsNotExpressible,
    /// Signing failed.
    #[error("signing failed")]
    Signing,
    /// A JWKS document could not be read.
    #[error("key set document is not valid")]
    Jwks,
    /// A JWKS document (or one JWK) holds a symmetric (`oct`) key. A JWKS is
    /// public, so such a key is a published shared secret: the whole
    /// document is refused. Shared secrets come only from local
    /// configuration ([`VerificationKey::hmac`](crate::VerificationKey::hmac)).
    #[error("key set document holds a shared secret (an `oct` key)")]
    SymmetricKeyInJwks,
    /// A key source URL that is not `https` (or `http` to a loopback
    /// address).
    #[error("key source url must be https")]
    InvalidUrl,
}

/// What is wrong with key material ([`ConfigError::InvalidKey`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyProblem {
    /// PEM text that is not an RSA public key.
    NotRsaPublicKeyPem,
    /// DER bytes that are not an RSA public key.
    NotRsaPublicKey,
    /// An RSA modulus that is not base64url.
    RsaModulusEncoding,
    /// An RSA exponent that is not base64url.
    RsaExponentEncoding,
    /// An RSA modulus shorter than 2048 bits.
    RsaTooShort,
    /// PEM text that is not an EC public key.
    NotEcPublicKeyPem,
    /// An EC coordinate that is not base64url.
    EcCoordinateEncoding,
    /// EC coordinates that are not a point of the curve.
    EcPointOffCurve,
    /// PEM text that is not an Ed25519 public key.
    NotEd25519PublicKeyPem,
    /// An Ed25519 key that is not base64url.
    Ed25519Encoding,
    /// An Ed25519 key that is not 32 bytes long.
    Ed25519Length,
    /// PEM text that is not a private key.
    NotPrivateKeyPem,
    /// A key that does not fit its algorithm.
    AlgorithmMisfit,
    /// A private key that cannot sign with its algorithm.
    CannotSign,
}

impl fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyProblem::NotRsaPublicKeyPem => "not an rsa public key in pem",
            KeyProblem::NotRsaPublicKey => "not an rsa public key",
            KeyProblem::RsaModulusEncoding => "rsa modulus is not base64url",
            KeyProblem::RsaExponentEncoding => "rsa exponent is not base64url",
            KeyProblem::RsaTooShort => "rsa modulus is shorter than 2048 bits",
            KeyProblem::NotEcPublicKeyPem => "not an ec public key in pem",
            KeyProblem::EcCoordinateEncoding => "ec coordinate is not base64url",
            KeyProblem::EcPointOffCurve => "ec coordinates do not fit the curve",
            KeyProblem::NotEd25519PublicKeyPem => "not an ed25519 public key in pem",
            KeyProblem::Ed25519Encoding => "ed25519 key is not base64url",
            KeyProblem::Ed25519Length => "ed25519 key is not 32 bytes",
            KeyProblem::NotPrivateKeyPem => "not a private key in pem",
            KeyProblem::AlgorithmMisfit => "key does not fit its algorithm",
            KeyProblem::CannotSign => "key cannot sign with its algorithm",
        })
    }
}

impl From<ConfigError> for AuthError {
    fn from(e: ConfigError) -> Self {
        AuthError::Config(e)
    }
}

impl From<Malformed> for AuthError {
    fn from(e: Malformed) -> Self {
        AuthError::Malformed(e)
    }
}

#[cfg(test)]
mod tests {
    use tenancy_core::Report;

    use super::*;

    #[test]
    fn only_config_source_and_tenant_status_are_not_token_faults() {
        assert!(AuthError::Expired.is_invalid_token());
        assert!(AuthError::Malformed(Malformed::Encoding).is_invalid_token());
        assert!(AuthError::Revoked.is_invalid_token());
        assert!(!AuthError::Config(ConfigError::NoKeys).is_invalid_token());
        assert!(!AuthError::TenantSuspended.is_invalid_token());
        assert!(!AuthError::TenantUnavailable.is_invalid_token());
        let io = std::io::Error::other("down");
        assert!(!AuthError::key_source(io).is_invalid_token());
    }

    #[test]
    fn each_failure_outside_the_token_has_its_own_kind() {
        assert_eq!(AuthError::BadSignature.kind(), AuthErrorKind::InvalidToken);
        assert_eq!(
            AuthError::TenantSuspended.kind(),
            AuthErrorKind::TenantRefused
        );
        assert_eq!(
            AuthError::TenantUnavailable.kind(),
            AuthErrorKind::TenantRefused
        );
        assert_eq!(
            AuthError::Config(ConfigError::NoKeys).kind(),
            AuthErrorKind::Misconfigured
        );
        let io = std::io::Error::other("down");
        assert_eq!(AuthError::key_source(io).kind(), AuthErrorKind::Unavailable);
    }

    #[test]
    fn no_message_repeats_its_source() {
        let errors = [
            AuthError::Malformed(Malformed::Encoding),
            AuthError::MissingClaim(Claim::TenantId),
            AuthError::Config(ConfigError::InvalidKey(KeyProblem::RsaTooShort)),
            AuthError::key_source(std::io::Error::other("connection refused")),
            AuthError::key_source(AuthError::Config(ConfigError::Jwks)),
        ];
        for error in errors {
            assert!(Report::new(&error).repeated().is_none(), "{error:?}");
        }
        let key_source = AuthError::key_source(std::io::Error::other("connection refused"));
        assert_eq!(
            Report::new(&key_source).to_string(),
            "key source failed: connection refused"
        );
    }

    #[test]
    fn messages_are_lowercase_and_name_claims_by_default_name() {
        assert_eq!(
            AuthError::MissingClaim(Claim::TenantId).to_string(),
            "token claim `tenant_id` is missing"
        );
        let weak = AuthError::Config(ConfigError::WeakSecret { bits: 64 });
        assert_eq!(weak.to_string(), "auth configuration error");
        assert_eq!(
            Report::new(&weak).to_string(),
            "auth configuration error: hmac secret has 64 bits, at least 256 are required"
        );
    }
}
