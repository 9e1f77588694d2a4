//! The one sharded, bounded map and the one hasher behind every per-tenant
//! table of the SDK: the rate and concurrency limiters here, the token
//! cache of tenancy-auth, the tenant and context caches of
//! tenancy-admission.
//!
//! A building block, public so those crates share it rather than each
//! writing its own; its API may change in any release.
//!
//! ```
//! use tenancy_core::TenantId;
//! use tenancy_core::shard::ShardedMap;
//!
//! let seen: ShardedMap<TenantId, u32> = ShardedMap::with_capacity(1_000);
//! let acme = TenantId::from_u128(1);
//! *seen.write(&acme).entry(acme).or_default() += 1;
//! assert_eq!(seen.read(&acme).get(&acme), Some(&1));
//! assert_eq!(seen.retain(|_, n| *n > 1), 1);
//! assert!(seen.is_empty());
//! ```

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// How many shards a map has: enough that two busy tenants rarely wait
/// for one lock.
pub const SHARDS: usize = 16;

/// A keyed hash for keys a client may choose (tokens) and for keys that
/// are already random (tenant ids, addresses): folded 64×64→128-bit
/// multiplies with random keys drawn per map, so neither the slot nor the
/// shard of a key can be predicted from outside.
#[derive(Clone)]
pub struct Hashing {
    k0: u64,
    k1: u64,
    k2: u64,
}

impl std::fmt::Debug for Hashing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The keys are the hash's secret.
        f.debug_struct("Hashing").finish_non_exhaustive()
    }
}

impl Hashing {
    /// Fresh random keys.
    pub fn new() -> Self {
        let seed = RandomState::new();
        Hashing {
            k0: seed.hash_one(0x243f_6a88_85a3_08d3_u64),
            k1: seed.hash_one(0x1319_8a2e_0370_7344_u64) | 1,
            k2: seed.hash_one(0xa409_3822_299f_31d0_u64) | 1,
        }
    }
}

impl Default for Hashing {
    fn default() -> Self {
        Hashing::new()
    }
}

impl BuildHasher for Hashing {
    type Hasher = FoldHasher;

    fn build_hasher(&self) -> FoldHasher {
        FoldHasher {
            h: self.k0,
            keys: self.clone(),
        }
    }
}

/// The [`Hasher`] of [`Hashing`].
#[derive(Clone)]
pub struct FoldHasher {
    h: u64,
    keys: Hashing,
}

impl std::fmt::Debug for FoldHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FoldHasher").finish_non_exhaustive()
    }
}

const fn fold_mul(a: u64, b: u64) -> u64 {
    let full = (a as u128).wrapping_mul(b as u128);
    (full as u64) ^ ((full >> 64) as u64)
}

/// Up to 8 bytes as a little-endian word (shorter slices zero-padded).
fn word(bytes: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    let n = bytes.len().min(8);
    buf[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(buf)
}

impl Hashing {
    /// The keyed hash of `bytes` (a token), in one pass: two independent
    /// lanes over 32-byte blocks, so the multiplies of one block do not
    /// wait for each other.
    pub fn hash_bytes(&self, bytes: &[u8]) -> u64 {
        let Hashing { k0, k1, k2 } = *self;
        let mut h = k0 ^ (bytes.len() as u64);
        let mut g = k2.rotate_left(32) ^ h;
        let mut blocks = bytes.chunks_exact(32);
        for block in &mut blocks {
            let (a, b) = block.split_at(16);
            h = fold_mul(h ^ word(&a[..8]) ^ k1, word(&a[8..]) ^ k2);
            g = fold_mul(g ^ word(&b[..8]) ^ k2, word(&b[8..]) ^ k1);
        }
        for chunk in blocks.remainder().chunks(16) {
            let (a, b) = chunk.split_at(chunk.len().min(8));
            h = fold_mul(h ^ word(a) ^ k1, word(b) ^ k2);
        }
        fold_mul(h ^ g.rotate_left(29) ^ k2, k1)
    }
}

impl Hasher for FoldHasher {
    fn finish(&self) -> u64 {
        self.h
    }

    fn write(&mut self, bytes: &[u8]) {
        self.h ^= self.keys.hash_bytes(bytes);
        self.h = fold_mul(self.h, self.keys.k1);
    }

    fn write_u64(&mut self, n: u64) {
        self.h = fold_mul(self.h ^ n, self.keys.k1);
    }

    fn write_u128(&mut self, n: u128) {
        self.h = fold_mul(self.h ^ (n as u64), self.keys.k1 ^ ((n >> 64) as u64));
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// One shard: a map under its own lock.
pub type Shard<K, V> = HashMap<K, V, Hashing>;

/// A map split in [`SHARDS`] maps, each under its own lock and holding at
/// most a share of the capacity; what to drop when a shard is full is the
/// caller's decision ([`ShardedMap::has_room`]).
///
/// A poisoned lock is taken anyway: every write leaves its shard whole.
pub struct ShardedMap<K, V> {
    shards: [RwLock<Shard<K, V>>; SHARDS],
    hashing: Hashing,
    shard_capacity: usize,
}

impl<K, V> std::fmt::Debug for ShardedMap<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardedMap")
            .field("shard_capacity", &self.shard_capacity)
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq, V> Default for ShardedMap<K, V> {
    /// Without a bound.
    fn default() -> Self {
        ShardedMap::with_capacity(usize::MAX)
    }
}

impl<K: Hash + Eq, V> ShardedMap<K, V> {
    /// A map of about `capacity` entries: `capacity / 16`, rounded up, in
    /// each shard.
    pub fn with_capacity(capacity: usize) -> Self {
        let hashing = Hashing::new();
        ShardedMap {
            shards: std::array::from_fn(|_| RwLock::new(HashMap::with_hasher(hashing.clone()))),
            hashing,
            shard_capacity: capacity.div_ceil(SHARDS).max(1),
        }
    }

    /// The map's keyed hash, for keys derived from longer values (a token's
    /// hash standing for the token).
    pub fn hashing(&self) -> &Hashing {
        &self.hashing
    }

    /// How many entries a shard may hold.
    pub fn shard_capacity(&self) -> usize {
        self.shard_capacity
    }

    /// The index (below [`SHARDS`]) of the shard holding `key`.
    pub fn index<Q: Hash + ?Sized>(&self, key: &Q) -> usize {
        // Bits the shard's own map does not use for buckets (low) or
        // tags (high).
        (self.hashing.hash_one(key) >> 32) as usize % SHARDS
    }

    /// The shard holding `key`, to read.
    pub fn read<Q: Hash + ?Sized>(&self, key: &Q) -> RwLockReadGuard<'_, Shard<K, V>> {
        self.shards[self.index(key)]
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The shard holding `key`, to write.
    pub fn write<Q: Hash + ?Sized>(&self, key: &Q) -> RwLockWriteGuard<'_, Shard<K, V>> {
        self.shards[self.index(key)]
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `shard` (one of this map's) may take `key`: it holds it
    /// already or is below capacity; else the entries `keep` refuses are
    /// dropped first.
    pub fn has_room(
        &self,
        shard: &mut Shard<K, V>,
        key: &K,
        keep: impl FnMut(&K, &mut V) -> bool,
    ) -> bool {
        if shard.len() < self.shard_capacity || shard.contains_key(key) {
            return true;
        }
        shard.retain(keep);
        shard.len() < self.shard_capacity
    }

    /// How many entries the map holds.
    pub fn len(&self) -> usize {
        let mut len = 0;
        self.for_each_shard(|_, shard| len += shard.len());
        len
    }

    /// True when the map holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps the entries `keep` accepts; returns how many were dropped.
    pub fn retain(&self, mut keep: impl FnMut(&K, &mut V) -> bool) -> usize {
        let mut dropped = 0;
        self.for_each_shard(|_, shard| {
            let before = shard.len();
            shard.retain(&mut keep);
            dropped += before - shard.len();
        });
        dropped
    }

    /// Drops every entry.
    pub fn clear(&self) {
        self.for_each_shard(|_, shard| shard.clear());
    }

    /// `f` on each shard in turn, with its index, under its write lock.
    pub fn for_each_shard(&self, mut f: impl FnMut(usize, &mut Shard<K, V>)) {
        for (i, shard) in self.shards.iter().enumerate() {
            f(
                i,
                &mut shard.write().unwrap_or_else(PoisonError::into_inner),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_byte_change_anywhere_changes_the_hash() {
        let hashing = Hashing::new();
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWJ5dGVzLWhlcmU";
        let base = hashing.hash_bytes(token.as_bytes());
        for i in 0..token.len() {
            let mut bytes = token.as_bytes().to_vec();
            bytes[i] ^= 0x01;
            assert_ne!(hashing.hash_bytes(&bytes), base, "byte {i}");
        }
        // Trailing zero-padding must not make a longer token collide.
        assert_ne!(hashing.hash_bytes(b"abc"), hashing.hash_bytes(b"abc\0"));
    }

    #[test]
    fn each_map_keys_its_hash_differently() {
        let token = b"header.payload.signature";
        let hashes: std::collections::HashSet<u64> =
            (0..8).map(|_| Hashing::new().hash_bytes(token)).collect();
        assert_eq!(hashes.len(), 8);
    }

    #[test]
    fn a_full_shard_makes_room_only_by_what_the_caller_drops() {
        let map: ShardedMap<u64, u64> = ShardedMap::with_capacity(16);
        let mut shard = map.write(&0);
        shard.insert(0, 0);
        assert!(!map.has_room(&mut shard, &1, |_, _| true));
        assert!(map.has_room(&mut shard, &0, |_, _| true));
        assert!(map.has_room(&mut shard, &1, |_, _| false));
        assert!(shard.is_empty());
    }
}
