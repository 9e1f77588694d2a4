//! Bearer tokens: HS256 JWTs with the documented claims (`sub`, `tenant_id`,
//! `scope`, `role`, `permissions`, `iat`, `exp`, `iss`, `aud`, `jti`),
//! verified by `tenancy-auth` and issued for redeemed tenants and the demo.

use std::sync::Arc;
use std::time::Duration;

use tenancy_auth::{CachedValidator, Issuer, Validator};
use tenancy_core::TenantContext;

use super::config::Config;
use crate::error::ServiceError;

/// How many verified tokens the cache keeps.
const CACHE_CAPACITY: usize = 10_000;

/// Verifies and issues tokens with one HS256 secret.
pub(crate) struct Tokens {
    validator: Arc<CachedValidator>,
    issuer: Issuer,
    max_lifetime: Duration,
}

impl Tokens {
    /// From the configured secret (at least 32 bytes), issuer and audience.
    pub(crate) fn new(secret: &[u8], config: &Config) -> Result<Self, ServiceError> {
        let validator = Validator::builder()
            .issuer(&config.issuer)
            .audience(&config.audience)
            .max_lifetime(config.max_token_lifetime)
            .hs256_secret(secret)
            .build()?;
        Ok(Tokens {
            validator: Arc::new(CachedValidator::new(Arc::new(validator), CACHE_CAPACITY)),
            issuer: Issuer::hs256(secret, &config.issuer, &config.audience)?,
            max_lifetime: config.max_token_lifetime,
        })
    }

    /// The validator, for the tenancy layer.
    pub(crate) fn validator(&self) -> Arc<CachedValidator> {
        Arc::clone(&self.validator)
    }

    /// A token for `ctx` (its role's full permissions), valid for `lifetime`.
    pub(crate) fn issue(
        &self,
        ctx: &TenantContext,
        lifetime: Duration,
    ) -> Result<String, ServiceError> {
        Ok(self.issuer.issue(ctx, lifetime.min(self.max_lifetime))?)
    }
}
