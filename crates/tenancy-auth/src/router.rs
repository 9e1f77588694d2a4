//! Several issuers, each bound to its own keys (and possibly its own tenant).

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{AuthError, Claim, ConfigError, Malformed};
use crate::json::{Members, ObjectError};
use crate::token;
use crate::validator::Validator;
use crate::verified::VerifiedToken;

/// Picks the validator for a token by its `iss`, then verifies the token
/// with that validator only.
///
/// Each validator has its own keys, so a token signed by one issuer's key
/// but naming another issuer fails that other issuer's signature check. With
/// [`ValidatorBuilder::for_tenant`](crate::ValidatorBuilder::for_tenant), a
/// tenant's own identity provider can only speak for that tenant.
///
/// ```
/// use std::sync::Arc;
/// use tenancy_auth::{IssuerRouter, Validator};
/// use tenancy_core::TenantId;
///
/// let platform = Validator::builder().issuer("https://id.example.com").audience("api")
///     .hs256_secret(&[1u8; 32]).build()?;
/// let acme_idp = Validator::builder().issuer("https://sso.acme.example").audience("api")
///     .hs256_secret(&[2u8; 32]).for_tenant(TenantId::from_u128(1)).build()?;
/// let mut router = IssuerRouter::new();
/// router.add(Arc::new(platform))?;
/// router.add(Arc::new(acme_idp))?;
/// assert!(router.verify("a.b.c").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct IssuerRouter {
    by_issuer: HashMap<Box<str>, Arc<Validator>>,
    max_token_bytes: usize,
}

impl IssuerRouter {
    /// A router without issuers.
    pub fn new() -> Self {
        IssuerRouter::default()
    }

    /// Adds a validator under its issuer; refused when the issuer is taken.
    ///
    /// The router reads `iss` under that default name, whatever claim names
    /// the validators use for the other claims.
    pub fn add(&mut self, validator: Arc<Validator>) -> Result<(), AuthError> {
        if self.by_issuer.contains_key(validator.issuer()) {
            return Err(ConfigError::DuplicateIssuer.into());
        }
        self.max_token_bytes = self.max_token_bytes.max(validator.max_token_bytes());
        self.by_issuer.insert(validator.issuer().into(), validator);
        Ok(())
    }

    /// The validator for `issuer`, if any.
    pub fn get(&self, issuer: &str) -> Option<&Arc<Validator>> {
        self.by_issuer.get(issuer)
    }

    /// Verifies `token` with the validator of its (not yet trusted) `iss`.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        self.route(token)?.verify(token)
    }

    /// Like [`verify`](IssuerRouter::verify), refreshing the chosen
    /// validator's key source on an unknown `kid`.
    pub async fn verify_async(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        self.route(token)?.verify_async(token).await
    }

    fn route(&self, token: &str) -> Result<&Arc<Validator>, AuthError> {
        let parts = token::split(token, self.max_token_bytes.max(64))?;
        // The claims are read unverified only to choose a validator; that
        // validator then checks everything, `iss` included.
        let json = token::b64url(parts.claims)?;
        let members = Members::parse(&json).map_err(|e| match e {
            ObjectError::Duplicate => Malformed::DuplicateKey,
            ObjectError::NotAnObject => Malformed::Claims,
        })?;
        match members.text(Claim::Issuer.default_name()) {
            Ok(Some(iss)) => self.by_issuer.get(&*iss).ok_or(AuthError::WrongIssuer),
            Ok(None) => Err(AuthError::MissingClaim(Claim::Issuer)),
            Err(()) => Err(AuthError::InvalidClaim(Claim::Issuer)),
        }
    }
}
