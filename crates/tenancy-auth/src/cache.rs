//! A bounded cache of verified tokens.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
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
    // When the key that verified the token retires, copied from `keys` at
    // verification. INVARIANT: a key set never changes behind its `Arc` (a
    // rotation swaps the `Arc`, which the `ptr_eq` in `lookup` catches), so
    // this copy stays the key's retirement for as long as the entry can hit.
    key_retires_at: Option<u64>,
}

#[derive(Default)]
struct Shard {
    // The keys are already keyed hashes: hashing them again buys nothing.
    entries: HashMap<u64, Entry, BuildHasherDefault<PassThrough>>,
}

/// A [`Hasher`] for keys that are keyed hashes already.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A keyed 64-bit hash of a token: folded 64×64→128-bit multiplies of each
/// 8-byte word with per-cache random keys. It only picks a slot; a hit still
/// compares the whole token byte for byte.
struct TokenHasher {
    k0: u64,
    k1: u64,
    k2: u64,
}

const fn fold_mul(a: u64, b: u64) -> u64 {
    let full = (a as u128).wrapping_mul(b as u128);
    (full as u64) ^ ((full >> 64) as u64)
}

impl TokenHasher {
    fn new() -> Self {
        let seed = RandomState::new();
        TokenHasher {
            k0: seed.hash_one(0x243f_6a88_85a3_08d3_u64),
            k1: seed.hash_one(0x1319_8a2e_0370_7344_u64) | 1,
            k2: seed.hash_one(0xa409_3822_299f_31d0_u64) | 1,
        }
    }

    fn hash(&self, token: &str) -> u64 {
        let bytes = token.as_bytes();
        let mut h = self.k0 ^ (bytes.len() as u64);
        // Two independent lanes over 32-byte blocks, so the multiplies of
        // one block do not wait for each other.
        let mut g = self.k2.rotate_left(32) ^ h;
        let mut blocks = bytes.chunks_exact(32);
        for block in &mut blocks {
            let (a, b) = block.split_at(16);
            h = fold_mul(h ^ word(&a[..8]) ^ self.k1, word(&a[8..]) ^ self.k2);
            g = fold_mul(g ^ word(&b[..8]) ^ self.k2, word(&b[8..]) ^ self.k1);
        }
        for chunk in blocks.remainder().chunks(16) {
            let (a, b) = chunk.split_at(chunk.len().min(8));
            h = fold_mul(h ^ word(a) ^ self.k1, word(b) ^ self.k2);
        }
        fold_mul(h ^ g.rotate_left(29) ^ self.k2, self.k1)
    }
}

/// Up to 8 bytes as a little-endian word (shorter slices zero-padded).
fn word(bytes: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    let n = bytes.len().min(8);
    buf[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(buf)
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
    hasher: TokenHasher,
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
            hasher: TokenHasher::new(),
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
        // Bits the maps do not use for buckets (low) or tags (high).
        &self.shards[(hash >> 32) as usize % SHARDS]
    }

    fn lookup(&self, token: &str, hash: u64, now: u64) -> Option<Arc<VerifiedToken>> {
        let shard = self.shard(hash).read().unwrap_or_else(|p| p.into_inner());
        let entry = shard.entries.get(&hash)?;
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
        Arc::ptr_eq(&entry.keys, &keys).then(|| Arc::clone(&entry.verified))
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
                key_retires_at,
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
        let hash = self.hasher.hash(token);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_byte_change_anywhere_changes_the_hash() {
        let hasher = TokenHasher::new();
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWJ5dGVzLWhlcmU";
        let base = hasher.hash(token);
        for i in 0..token.len() {
            let mut bytes = token.as_bytes().to_vec();
            bytes[i] ^= 0x01;
            let changed = String::from_utf8(bytes).unwrap();
            assert_ne!(hasher.hash(&changed), base, "byte {i}");
        }
        // Trailing zero-padding must not make a longer token collide.
        assert_ne!(hasher.hash("abc"), hasher.hash("abc\0"));
    }

    #[test]
    fn each_cache_keys_its_hash_differently() {
        let token = "header.payload.signature";
        let hashes: std::collections::HashSet<u64> =
            (0..8).map(|_| TokenHasher::new().hash(token)).collect();
        assert_eq!(hashes.len(), 8);
    }
}
