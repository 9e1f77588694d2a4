//! Checks that run on every validation, cached or not: tenant status,
//! revocation by `jti`, per-tenant session policy.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tenancy_core::{TenantId, TenantStatus, UnixClock, WallClock};

use crate::error::AuthError;
use crate::verified::VerifiedToken;

/// A check run on every validation, after the token itself verified, and on
/// every hit of a [`CachedValidator`](crate::CachedValidator).
///
/// Closures `Fn(&VerifiedToken) -> Result<(), AuthError>` are hooks too.
pub trait ValidationHooks: Send + Sync {
    /// `Ok` to accept the token, or the refusal.
    fn check(&self, token: &VerifiedToken) -> Result<(), AuthError>;
}

impl<F> ValidationHooks for F
where
    F: Fn(&VerifiedToken) -> Result<(), AuthError> + Send + Sync,
{
    fn check(&self, token: &VerifiedToken) -> Result<(), AuthError> {
        self(token)
    }
}

/// Runs several hooks in order; the first refusal wins.
impl ValidationHooks for [Arc<dyn ValidationHooks>] {
    fn check(&self, token: &VerifiedToken) -> Result<(), AuthError> {
        self.iter().try_for_each(|h| h.check(token))
    }
}

/// Refuses tokens of tenants that do not serve requests.
///
/// `lookup` returns a tenant's status, or `None` for a tenant it does not
/// know (refused as unavailable). System tokens are not checked.
///
/// ```
/// use tenancy_auth::TenantStatusHook;
/// use tenancy_core::{TenantId, TenantStatus};
///
/// let hook = TenantStatusHook::new(|tenant: TenantId| {
///     (tenant == TenantId::from_u128(1)).then_some(TenantStatus::Active)
/// });
/// # let _ = hook;
/// ```
pub struct TenantStatusHook<F> {
    lookup: F,
}

impl<F> TenantStatusHook<F>
where
    F: Fn(TenantId) -> Option<TenantStatus> + Send + Sync,
{
    /// A hook asking `lookup` for each tenant's status.
    pub fn new(lookup: F) -> Self {
        TenantStatusHook { lookup }
    }
}

impl<F> ValidationHooks for TenantStatusHook<F>
where
    F: Fn(TenantId) -> Option<TenantStatus> + Send + Sync,
{
    fn check(&self, token: &VerifiedToken) -> Result<(), AuthError> {
        let Some(tenant) = token.tenant_id() else {
            return Ok(());
        };
        match (self.lookup)(tenant) {
            Some(status) if status.serves_requests() => Ok(()),
            Some(TenantStatus::Suspended) => Err(AuthError::TenantSuspended),
            _ => Err(AuthError::TenantUnavailable),
        }
    }
}

/// Revoked token ids. A token whose `jti` is listed is refused; a token
/// without a `jti` cannot be revoked this way and passes.
#[derive(Debug, Default)]
pub struct RevocationList {
    revoked: RwLock<HashSet<Box<str>>>,
}

impl RevocationList {
    /// An empty list.
    pub fn new() -> Self {
        RevocationList::default()
    }

    /// Revokes `jti`.
    pub fn revoke(&self, jti: &str) {
        self.revoked
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(jti.into());
    }

    /// True when `jti` is revoked.
    pub fn is_revoked(&self, jti: &str) -> bool {
        self.revoked
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(jti)
    }
}

impl ValidationHooks for RevocationList {
    fn check(&self, token: &VerifiedToken) -> Result<(), AuthError> {
        match token.jti() {
            Some(jti) if self.is_revoked(jti) => Err(AuthError::Revoked),
            _ => Ok(()),
        }
    }
}

/// A per-tenant maximum token age: tokens issued longer ago than the
/// tenant's limit are refused, however late they expire.
pub struct SessionPolicy<F> {
    max_age: F,
    clock: Arc<dyn WallClock>,
}

impl<F> SessionPolicy<F>
where
    F: Fn(TenantId) -> Option<Duration> + Send + Sync,
{
    /// `max_age` gives a tenant's limit, or `None` for no limit.
    pub fn new(max_age: F) -> Self {
        SessionPolicy {
            max_age,
            clock: Arc::new(UnixClock),
        }
    }

    /// Reads the time from `clock` (unix time) instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn WallClock>) -> Self {
        self.clock = clock;
        self
    }
}

impl<F> ValidationHooks for SessionPolicy<F>
where
    F: Fn(TenantId) -> Option<Duration> + Send + Sync,
{
    fn check(&self, token: &VerifiedToken) -> Result<(), AuthError> {
        let Some(tenant) = token.tenant_id() else {
            return Ok(());
        };
        let Some(max_age) = (self.max_age)(tenant) else {
            return Ok(());
        };
        let now = self.clock.unix_time().as_secs();
        if now.saturating_sub(token.issued_at()) > max_age.as_secs() {
            return Err(AuthError::SessionTooOld);
        }
        Ok(())
    }
}
