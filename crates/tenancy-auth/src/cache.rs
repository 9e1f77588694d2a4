//! A bounded cache of verified tokens.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, RwLock};

use crate::error::AuthError;
use crate::hooks::ValidationHooks;
use crate::key::KeySet;
use crate::validator::{Validator, read_keys};
use crate::verified::VerifiedToken;

const SHARDS: usize = 16;

struct Entry {
    // INVARIANT: a hit requires these exact bytes; the hash only finds the
    // slot, so no other token, however close, can be answered from it.
    token: Box<str>,
    verified: Arc<VerifiedToken>,
    // The keys the token was verified with: a rotation (a key removed or
    // retired) sends every cached token back through full verification.
    keys: Arc<KeySet>,
}

#[derive(Default)]
struct Shard {
    entries: HashMap<u64, Entry>,
}

/// A [`Validator`] with a bounded cache of verified tokens in front.
///
/// Entries are found by a keyed hash (SipHash with a per-cache random key) of
/// the whole token and then compared byte for byte, so a token that differs
/// from a cached one by a single byte is verified from scratch. Entries are
/// dropped at `exp` (without leeway) and whenever the validator's keys change.
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
    shards: Box<[RwLock<Shard>]>,
    per_shard: usize,
    hasher: RandomState,
    hooks: Vec<Arc<dyn ValidationHooks>>,
}

impl std::fmt::Debug for CachedValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedValidator")
            .field("validator", &self.validator)
            .field("capacity", &(self.per_shard * SHARDS))
            .finish_non_exhaustive()
    }
}

impl CachedValidator {
    /// A cache of about `capacity` tokens (rounded up to a multiple of 16)
    /// in front of `validator`.
    pub fn new(validator: Arc<Validator>, capacity: usize) -> Self {
        CachedValidator {
            validator,
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            hasher: RandomState::new(),
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
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(|p| p.into_inner()).entries.len())
            .sum()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every cached token.
    pub fn clear(&self) {
        for shard in self.shards.iter() {
            shard
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .entries
                .clear();
        }
    }

    fn shard(&self, hash: u64) -> &RwLock<Shard> {
        &self.shards[(hash % SHARDS as u64) as usize]
    }

    fn lookup(&self, token: &str, hash: u64, now: u64) -> Option<Arc<VerifiedToken>> {
        let keys = read_keys(self.validator_keys());
        let shard = self.shard(hash).read().unwrap_or_else(|p| p.into_inner());
        let entry = shard.entries.get(&hash)?;
        let fresh = now < entry.verified.expires_at() && Arc::ptr_eq(&entry.keys, &keys);
        (fresh && *entry.token == *token).then(|| Arc::clone(&entry.verified))
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
        let mut shard = self.shard(hash).write().unwrap_or_else(|p| p.into_inner());
        if shard.entries.len() >= self.per_shard && !shard.entries.contains_key(&hash) {
            shard.entries.retain(|_, e| now < e.verified.expires_at());
            if shard.entries.len() >= self.per_shard {
                // Full of live tokens: drop one (the map's order is keyed
                // by the random hash, so the choice is not predictable).
                if let Some(victim) = shard.entries.keys().next().copied() {
                    shard.entries.remove(&victim);
                }
            }
        }
        shard.entries.insert(
            hash,
            Entry {
                token: token.into(),
                verified,
                keys,
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
        let hash = self.hasher.hash_one(token);
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
