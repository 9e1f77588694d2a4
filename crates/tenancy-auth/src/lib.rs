//! Bearer tokens (JWTs) into a [`TenantContext`](tenancy_core::TenantContext),
//! or into a clear, typed refusal.
//!
//! The token is the only thing that says which tenant a request belongs to,
//! so this crate refuses every malformed, forged or misdirected token before
//! anything else sees it: the size is checked before decoding, the base64url
//! and JSON are read strictly (a repeated claim is refused), the algorithm is
//! pinned per key (never `none`, never an RSA key as an HMAC secret), keys
//! are chosen by exact `kid` and never by the token (`jku`, `x5u`, `jwk`,
//! `crit` are refused), issuer and audience are required, and a tenant token
//! can neither act for another tenant nor carry platform permissions.
//! Each of these parsers is fuzzed; see [`fuzzing`].
//!
//! ```
//! use std::time::Duration;
//! use tenancy_auth::{Issuer, Validator};
//! use tenancy_core::*;
//!
//! let secret = b"a shared HS256 secret of 32 bytes or more";
//! let validator = Validator::builder()
//!     .issuer("https://id.example.com")
//!     .audience("leases-api")
//!     .hs256_secret(secret)
//!     .build()?;
//!
//! // What an identity service mints (any standard JWT library does the same).
//! let acme = TenantId::from_u128(1);
//! let ctx = TenantContext::tenant(acme, SubjectId::from_u128(7), RoleName::member(), PermissionSet::all());
//! let token = Issuer::hs256(secret, "https://id.example.com", "leases-api")?
//!     .issue(&ctx, Duration::from_secs(900))?;
//!
//! // What a service does with each request.
//! let verified = validator.verify(&token)?;
//! let ctx = verified.to_context(&RoleRegistry::with_builtins())?;
//! assert_eq!(ctx.tenant_id(), Some(acme));
//! ctx.require(&"leases:write".parse()?)?;
//!
//! // A single changed byte is a typed refusal (401 material).
//! let mut forged = token.clone().into_bytes();
//! let last = forged.len() - 2;
//! forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
//! let err = validator.verify(std::str::from_utf8(&forged)?).unwrap_err();
//! assert!(err.is_invalid_token());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Configuring keys
//!
//! The [`configuring`] guide has a runnable example for each case.
//!
//! - **A shared secret**: [`ValidatorBuilder::hs256_secret`] (at least 256
//!   bits), or [`VerificationKey::hmac`] for HS384/HS512.
//! - **Public keys**: [`VerificationKey::rsa_pem`], [`ec_pem`],
//!   [`ed_pem`], each pinned to its algorithm, added with
//!   [`ValidatorBuilder::key`] under a `kid`.
//! - **A JWKS**: [`parse_jwks`] for a document you hold, or a
//!   [`CachingKeySource`] over a [`KeySource`] (`RemoteJwks` with the
//!   `remote-jwks` feature, or your own), given to
//!   [`ValidatorBuilder::key_source`]; [`Validator::verify_async`] refreshes
//!   it on an unknown `kid`, at most once per interval. A JWKS is public,
//!   so it holds public keys only: a document with a symmetric (`oct`) key
//!   is refused whole ([`ConfigError::SymmetricKeyInJwks`]). Shared secrets
//!   come only from local configuration, through the HMAC constructors
//!   above.
//! - **Rotation**: add the new key, then [`KeySet::retire`] the old one at
//!   the end of the grace period and [`Validator::set_keys`]. From its
//!   retirement on, a key verifies nothing: neither new tokens nor tokens a
//!   [`CachedValidator`] verified with it before.
//! - **Per-tenant issuers**: one validator per issuer, bound to its tenant
//!   with [`ValidatorBuilder::for_tenant`], collected in [`IssuerRouter`],
//!   which picks the validator by the token's `iss`.
//!
//! Each of [`Validator`], [`CachedValidator`] and [`IssuerRouter`] is a
//! [`TokenVerifier`], what an admission (and tenancy-axum's layer) takes.
//!
//! [`ec_pem`]: VerificationKey::ec_pem
//! [`ed_pem`]: VerificationKey::ed_pem
//!
//! # Hooks and the cache
//!
//! [`ValidationHooks`] run after every successful verification, cached or
//! not: [`TenantStatusHook`] (suspended or gone tenants), [`RevocationList`]
//! (by `jti`) and [`SessionPolicy`] (a per-tenant maximum token age), or any
//! closure. [`CachedValidator`] keeps verified tokens (exact bytes only,
//! dropped at `exp`, when their key retires, and on key changes) so a
//! repeated token costs a hash and a comparison instead of a signature
//! check; it never accepts a token the validator would refuse for its key.
//!
//! # What this crate does not do
//!
//! - It speaks no HTTP to clients: no status codes, no headers;
//!   `tenancy-axum` maps each [`AuthError::kind`] to a status (an invalid
//!   token to 401). The only
//!   request it ever makes is `RemoteJwks` fetching a configured JWKS URL
//!   (feature `remote-jwks`).
//! - It never fetches a key a token points to (`jku`, `x5u`) or trusts a key
//!   a token carries (`jwk`, `x5c`).
//! - It does not look tenants up: tenant status, revocation and session
//!   policy are [`ValidationHooks`] the service provides data for.
//! - It does not decrypt tokens (JWE) or accept unsigned ones.
//!
//! # Features
//!
//! | feature | what it adds |
//! |---------|--------------|
//! | `remote-jwks` | `RemoteJwks`: a [`KeySource`] fetching a JWKS over HTTPS with reqwest (rustls); https (or loopback http) only, any redirect refused whatever the client, public keys only, 10 s timeout, 256 KiB limit |
//! | `testing` | the `testing` module: `TokenKit` (valid tokens for contexts, the validator that accepts exactly them, and an attack catalogue of tokens it must refuse) and proptest strategies over them, for a service's own tests |
//! | `aws-lc-rs` | verify and sign with aws-lc-rs instead of the RustCrypto crates: RS256 about 9x and ES256 about 5x faster to verify, at the cost of a C build (a few minutes on a clean build) |
//!
//! # Choosing the crypto backend
//!
//! jsonwebtoken 11 needs exactly one crypto backend and panics on first use
//! when a build enables both or neither. tenancy-auth never relies on that
//! process default: every signature goes through a provider it names itself
//! (RustCrypto, or aws-lc-rs with the `aws-lc-rs` feature), so no feature
//! combination in a downstream build can reach that panic through this
//! crate. Enabling `aws-lc-rs` turns on both of jsonwebtoken's backends;
//! when other code in the same program calls `jsonwebtoken::decode` or
//! `encode` itself, call [`install_default_crypto_provider`] at start-up so
//! that code has a default too.

#![forbid(unsafe_code)]

mod cache;
mod claims;
mod crypto;
mod error;
mod hooks;
mod issuer;
mod json;
mod key;
mod router;
#[cfg(feature = "testing")]
pub mod testing;
mod token;
mod validator;
mod verified;
mod verifier;

#[doc = include_str!("../docs/configuring.md")]
pub mod configuring {}

#[doc = include_str!("../docs/fuzzing.md")]
pub mod fuzzing {}

pub use cache::CachedValidator;
pub use claims::ClaimNames;
pub use crypto::install_default_crypto_provider;
pub use error::{AuthError, AuthErrorKind, Claim, ConfigError, KeyProblem, Malformed, Result};
pub use hooks::{RevocationList, SessionPolicy, TenantStatusHook, ValidationHooks};
pub use issuer::{IssueOptions, Issuer};
pub use jsonwebtoken::Algorithm;
pub use key::{
    CachingKeySource, KeySet, KeySource, MAX_KID_LEN, MIN_RSA_BITS, StaticKeySource,
    VerificationKey, is_valid_kid, parse_jwks,
};
#[cfg(feature = "remote-jwks")]
pub use key::{DEFAULT_MAX_JWKS_BYTES, RemoteJwks, RemoteJwksError};
pub use router::IssuerRouter;
/// The system's wall clock, which validators, issuers and hooks read by
/// default: tenancy-core's, named here too.
pub use tenancy_core::UnixClock;
pub use validator::{
    DEFAULT_LEEWAY, DEFAULT_MAX_LIFETIME, DEFAULT_MAX_TOKEN_BYTES, MAX_LEEWAY, Validator,
    ValidatorBuilder,
};
pub use verified::VerifiedToken;
pub use verifier::TokenVerifier;

#[cfg(test)]
mod tests {
    use super::*;

    fn shared_across_threads<T: Send + Sync>() {}

    #[test]
    fn the_public_types_can_be_shared_across_threads() {
        shared_across_threads::<Validator>();
        shared_across_threads::<CachedValidator>();
        shared_across_threads::<IssuerRouter>();
        shared_across_threads::<std::sync::Arc<dyn TokenVerifier>>();
        shared_across_threads::<Issuer>();
        shared_across_threads::<VerifiedToken>();
        shared_across_threads::<AuthError>();
        shared_across_threads::<KeySet>();
        shared_across_threads::<CachingKeySource<StaticKeySource>>();
    }
}
