//! What turns a bearer token into a [`VerifiedToken`]: one validator, a
//! cache in front of one, or a router over several issuers.

use std::sync::Arc;

use crate::cache::CachedValidator;
use crate::error::AuthError;
use crate::router::IssuerRouter;
use crate::validator::Validator;
use crate::verified::VerifiedToken;

/// Verifies bearer tokens; what an admission (tenancy-admission, and
/// through it tenancy-axum's layer) is given.
///
/// Implemented by [`Validator`], [`CachedValidator`] (a repeated token costs
/// a hash and a comparison) and [`IssuerRouter`] (per-tenant issuers, each
/// with its own keys).
///
/// ```
/// use std::sync::Arc;
/// use tenancy_auth::{IssuerRouter, TokenVerifier, Validator};
///
/// let platform = Validator::builder().issuer("https://id.example.com").audience("api")
///     .hs256_secret(&[1u8; 32]).build()?;
/// let mut router = IssuerRouter::new();
/// router.add(Arc::new(platform))?;
/// let verifier: Arc<dyn TokenVerifier> = Arc::new(router);
/// assert!(verifier.verify("a.b.c").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[async_trait::async_trait]
pub trait TokenVerifier: Send + Sync {
    /// Verifies `token` with the keys at hand, without waiting;
    /// [`AuthError::UnknownKey`] when its key is not known yet (then
    /// [`verify_async`](Self::verify_async) may refresh the key source).
    fn verify(&self, token: &str) -> Result<Arc<VerifiedToken>, AuthError>;

    /// Verifies `token`, refreshing the key source on an unknown `kid`.
    async fn verify_async(&self, token: &str) -> Result<Arc<VerifiedToken>, AuthError>;
}

#[async_trait::async_trait]
impl TokenVerifier for Validator {
    fn verify(&self, token: &str) -> Result<Arc<VerifiedToken>, AuthError> {
        Validator::verify(self, token).map(Arc::new)
    }

    async fn verify_async(&self, token: &str) -> Result<Arc<VerifiedToken>, AuthError> {
        Validator::verify_async(self, token).await.map(Arc::new)
    }
}

#[async_trait::async_trait]
impl TokenVerifier for CachedValidator {
    fn verify(&self, token: &str) -> Result<Arc<VerifiedToken>, AuthError> {
        CachedValidator::verify(self, token)
    }

    async fn verify_async(&self, token: &str) -> Result<Arc<VerifiedToken>, AuthError> {
        CachedValidator::verify_async(self, token).await
    }
}

#[async_trait::async_trait]
impl TokenVerifier for IssuerRouter {
    fn verify(&self, token: &str) -> Result<Arc<VerifiedToken>, AuthError> {
        IssuerRouter::verify(self, token).map(Arc::new)
    }

    async fn verify_async(&self, token: &str) -> Result<Arc<VerifiedToken>, AuthError> {
        IssuerRouter::verify_async(self, token).await.map(Arc::new)
    }
}
