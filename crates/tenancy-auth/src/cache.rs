//! A bounded cache of verified tokens.

use std::sync::Arc;

use std::sync::atomic::{AtomicBool, Ordering};

use tenancy_core::shard::ShardedMap;

use crate::error::AuthError;
use crate::hooks::ValidationHooks;
use crate::key::KeySet;
use crate::validator::{Validator, read_keys};
use crate::verified::VerifiedToken;

struct Entry {
    // INVARIANT: a hit requires these exact bytes; the hash (the map's key)
    // only finds the slot, so no other token, however close, can be
    // answered from it.
    token: Box<str>,
    verified: Arc<VerifiedToken>,
    // The keys the token was verified with: a rotation (a key removed or
    // retired) sends every cached token back through full verification.
    keys: Arc<KeySet>,
    // When the key that verified the token retires, copied from `keys` at
    // verification. INVARIANT: a key set never changes behind its `Arc` (a
    // rotation swaps the `Arc`, which the `ptr_eq` in `lookup` catches), so
    // this copy stays the key's retirement for as long as the entry can hit.
    key_retires_at: Option<u64>,
    // Presented since the last sweep of its shard (see `store`).
    used: AtomicBool,
}

/// A [`Validator`] with a bounded cache of verified tokens in front.
///
/// Entries are found by a keyed 64-bit hash (per-cache random keys) of
/// the whole token and then compared byte for byte, so a token that differs
/// from a cached one by a single byte is verified from scratch. Entries are
/// dropped at `exp` (without leeway), when the key that verified the token
/// retires (see [`VerificationKey::retire_at`](crate::VerificationKey::retire_at);
/// checked on every hit, on the validator's clock) and whenever the
/// validator's keys change, so a cached token is refused exactly when the
/// validator would refuse it for its key.
/// When the cache is full, a new token takes the place of one that has
/// expired or has not been presented since the last sweep; a token
/// presented in between is never dropped to make room, and when every
/// cached token is in use the new one is verified but not cached.
/// The validator's hooks, and those added with
/// [`with_hooks`](CachedValidator::with_hooks), run on every hit: tenant
/// status, revocation and session policy are never cached.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tenancy_auth::{CachedValidator, Issuer, Validator};
/// use tenancy_core::*;
///
/// let secret = [3u8; 32];
/// let validator = Validator::builder().issuer("iss").audience("aud").hs256_secret(&secret).build()?;
/// let cache = CachedValidator::new(Arc::new(validator), 10_000);
/// let ctx = TenantContext::tenant(TenantId::from_u128(1), SubjectId::from_u128(2), RoleName::member(), PermissionSet::all());
/// let token = Issuer::hs256(&secret, "iss", "aud")?.issue(&ctx, Duration::from_secs(60))?;
/// let first = cache.verify(&token)?;
/// let again = cache.verify(&token)?;
/// assert!(Arc::ptr_eq(&first, &again));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CachedValidator {
    validator: Arc<Validator>,
    // Keyed by the token's keyed hash (the map's own).
    entries: ShardedMap<u64, Entry>,
    hooks: Vec<Arc<dyn ValidationHooks>>,
}

impl std::fmt::Debug for CachedValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedValidator")
            .field("validator", &self.validator)
            .field("capacity", &self.entries.capacity())
            .finish_non_exhaustive()
    }
}

impl CachedValidator {
    /// A cache of at most `capacity` tokens in front of `validator`.
    pub fn new(validator: Arc<Validator>, capacity: usize) -> Self {
        CachedValidator {
            validator,
            entries: ShardedMap::with_capacity(capacity),
            hooks: Vec::new(),
        }
    }

    /// Adds hooks run on every verification, hit or miss.
    pub fn with_hooks(mut self, hooks: Arc<dyn ValidationHooks>) -> Self {
        self.hooks.push(hooks);
        self
    }

    /// The validator behind the cache.
    pub fn validator(&self) -> &Arc<Validator> {
        &self.validator
    }

    /// How many tokens are cached now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every cached token.
    pub fn clear(&self) {
        self.entries.clear();
    }

    fn lookup(&self, token: &str, hash: u64, now: u64) -> Option<Arc<VerifiedToken>> {
        let shard = self.entries.read(&hash);
        let entry = shard.get(&hash)?;
        // A key retired since the token was verified ends the entry as
        // surely as `exp` does: a cached token never outlives its key.
        if now >= entry.verified.expires_at()
            || entry.key_retires_at.is_some_and(|at| now >= at)
            || *entry.token != *token
        {
            return None;
        }
        // A writer only ever swaps the Arc: a poisoned lock still holds a
        // complete key set. Comparing under the read lock avoids a clone.
        let keys = self
            .validator_keys()
            .read()
            .unwrap_or_else(|p| p.into_inner());
        if !Arc::ptr_eq(&entry.keys, &keys) {
            return None;
        }
        // Read first: a token presented again and again does not write.
        if !entry.used.load(Ordering::Relaxed) {
            entry.used.store(true, Ordering::Relaxed);
        }
        Some(Arc::clone(&entry.verified))
    }

    fn validator_keys(&self) -> &crate::validator::SharedKeys {
        self.validator.shared_keys()
    }

    fn store(
        &self,
        token: &str,
        hash: u64,
        now: u64,
        verified: Arc<VerifiedToken>,
        keys: Arc<KeySet>,
    ) {
        // The key that just verified the token. Verification read the clock
        // after `now`, so the key is live at `now`; were it not, the token
        // would not be worth keeping.
        let Ok(key) = keys.select(verified.key_id(), now) else {
            return;
        };
        let key_retires_at = key.retires_at();
        let mut shard = self.entries.write(&hash);
        // Expired tokens go, and those not presented since the last sweep;
        // the others are kept and must be presented again to stay.
        let keep = |_: &u64, e: &mut Entry| {
            now < e.verified.expires_at() && std::mem::take(e.used.get_mut())
        };
        if !self.entries.may_cache(&mut shard, &hash, keep) {
            // Full of tokens in use: verified, not cached.
            return;
        }
        shard.insert(
            hash,
            Entry {
                token: token.into(),
                verified,
                keys,
                key_retires_at,
                used: AtomicBool::new(true),
            },
        );
    }

    fn hit(&self, verified: Arc<VerifiedToken>) -> Result<Arc<VerifiedToken>, AuthError> {
        self.validator.run_hooks(&verified)?;
        self.hooks[..].check(&verified)?;
        Ok(verified)
    }

    /// Verifies `token`, from the cache when the same token verified before
    /// and has not expired; the hooks run either way.
    pub fn verify(&self, token: &str) -> Result<Arc<VerifiedToken>, AuthError> {
        if token.len() > self.validator.max_token_bytes() {
            return Err(AuthError::TooLarge {
                limit: self.validator.max_token_bytes(),
            });
        }
        let hash = self.entries.hashing().hash_bytes(token.as_bytes());
        let now = self.validator.now();
        if let Some(verified) = self.lookup(token, hash, now) {
            return self.hit(verified);
        }
        let keys = read_keys(self.validator_keys());
        let verified = Arc::new(self.validator.verify_with_keys(token, &keys)?);
        self.hooks[..].check(&verified)?;
        self.store(token, hash, now, Arc::clone(&verified), keys);
        Ok(verified)
    }

    /// Like [`verify`](CachedValidator::verify), refreshing the validator's
    /// key source on an unknown `kid` (see [`Validator::verify_async`]).
    pub async fn verify_async(&self, token: &str) -> Result<Arc<VerifiedToken>, AuthError> {
        match self.verify(token) {
            Err(AuthError::UnknownKey) => {}
            other => return other,
        }
        let verified = Arc::new(self.validator.verify_async(token).await?);
        self.hooks[..].check(&verified)?;
        Ok(verified)
    }
}
