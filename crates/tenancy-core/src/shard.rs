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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LockResult, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError};

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

/// Keeps what it holds on a cache line of its own, so that writes to one
/// shard's lock do not slow down readers of its neighbours.
#[repr(align(128))]
struct Padded<T>(T);

/// One shard under its lock, with its count of refused insertions.
struct Slot<K, V> {
    map: RwLock<Shard<K, V>>,
    // Insertions refused since the shard was last swept (see
    // `ShardedMap::may_cache`); changed only under the shard's write lock.
    refused: AtomicUsize,
}

/// A map split in [`SHARDS`] maps, each under its own lock, holding at
/// most `capacity` entries in all; what to drop when it is full is the
/// caller's decision ([`has_room`](ShardedMap::has_room),
/// [`may_cache`](ShardedMap::may_cache)).
///
/// The bound is on the whole map, not on each shard: keys do not spread
/// evenly over the shards, and a map sized for `n` keys holds all of them.
/// A lookup, an insertion into a map with room and an update cost the same
/// whatever the map holds; only a full map sweeps (a shard at a time).
///
/// A poisoned lock is taken anyway: every write leaves its shard whole.
pub struct ShardedMap<K, V> {
    shards: [Padded<Slot<K, V>>; SHARDS],
    // INVARIANT: the sum of the shards' lengths, plus the room granted by
    // `has_room` or `may_cache` to a write guard not yet dropped, minus the
    // entries such a guard removed (the guard settles the difference when
    // it is dropped). Never above `capacity` through the room it grants.
    len: Padded<AtomicUsize>,
    hashing: Hashing,
    capacity: usize,
}

impl<K, V> std::fmt::Debug for ShardedMap<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardedMap")
            .field("len", &self.len.0.load(Ordering::Relaxed))
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq, V> Default for ShardedMap<K, V> {
    /// Without a bound.
    fn default() -> Self {
        ShardedMap::with_capacity(usize::MAX)
    }
}

/// A shard held for writing: the map of [`ShardedMap::write`], which keeps
/// the map's count of entries as the shard changes.
pub struct ShardWriteGuard<'a, K, V> {
    shard: RwLockWriteGuard<'a, Shard<K, V>>,
    index: usize,
    len: &'a AtomicUsize,
    // How many of the shard's entries the map's `len` counts.
    counted: usize,
}

impl<K, V> ShardWriteGuard<'_, K, V> {
    /// Brings the map's count up to date with the shard.
    fn settle(&mut self) {
        let now = self.shard.len();
        if now > self.counted {
            self.len.fetch_add(now - self.counted, Ordering::AcqRel);
        } else if now < self.counted {
            self.len.fetch_sub(self.counted - now, Ordering::AcqRel);
        }
        self.counted = now;
    }
}

impl<K, V> Drop for ShardWriteGuard<'_, K, V> {
    fn drop(&mut self) {
        self.settle();
    }
}

impl<K, V> std::ops::Deref for ShardWriteGuard<'_, K, V> {
    type Target = Shard<K, V>;

    fn deref(&self) -> &Shard<K, V> {
        &self.shard
    }
}

impl<K, V> std::ops::DerefMut for ShardWriteGuard<'_, K, V> {
    fn deref_mut(&mut self) -> &mut Shard<K, V> {
        &mut self.shard
    }
}

impl<K, V> std::fmt::Debug for ShardWriteGuard<'_, K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardWriteGuard")
            .field("index", &self.index)
            .field("len", &self.shard.len())
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq, V> ShardedMap<K, V> {
    /// A map of at most `capacity` entries (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        let hashing = Hashing::new();
        ShardedMap {
            shards: std::array::from_fn(|_| {
                Padded(Slot {
                    map: RwLock::new(HashMap::with_hasher(hashing.clone())),
                    refused: AtomicUsize::new(0),
                })
            }),
            len: Padded(AtomicUsize::new(0)),
            hashing,
            capacity: capacity.max(1),
        }
    }

    /// The map's keyed hash, for keys derived from longer values (a token's
    /// hash standing for the token).
    pub fn hashing(&self) -> &Hashing {
        &self.hashing
    }

    /// How many entries the map may hold.
    pub fn capacity(&self) -> usize {
        self.capacity
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
            .0
            .map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The shard holding `key`, to write. Insert a key the shard does not
    /// hold only after [`has_room`](Self::has_room) or
    /// [`may_cache`](Self::may_cache) said yes, or the map may outgrow its
    /// capacity.
    pub fn write<Q: Hash + ?Sized>(&self, key: &Q) -> ShardWriteGuard<'_, K, V> {
        let index = self.index(key);
        self.guard(index, self.shards[index].0.map.write())
    }

    fn guard<'a>(
        &'a self,
        index: usize,
        locked: LockResult<RwLockWriteGuard<'a, Shard<K, V>>>,
    ) -> ShardWriteGuard<'a, K, V> {
        let shard = locked.unwrap_or_else(PoisonError::into_inner);
        ShardWriteGuard {
            counted: shard.len(),
            shard,
            index,
            len: &self.len.0,
        }
    }

    /// Counts one more entry if the map has room for it.
    fn reserve(&self, shard: &mut ShardWriteGuard<'_, K, V>) -> bool {
        let capacity = self.capacity;
        let granted = self
            .len
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < capacity).then_some(n + 1)
            })
            .is_ok();
        if granted {
            shard.counted += 1;
        }
        granted
    }

    /// Drops the entries of `shard` that `keep` refuses.
    fn sweep(
        &self,
        shard: &mut ShardWriteGuard<'_, K, V>,
        keep: &mut impl FnMut(&K, &mut V) -> bool,
    ) {
        shard.retain(|k, v| keep(k, v));
        shard.settle();
    }

    /// Whether `shard` (one of this map's) may take `key`: it holds it
    /// already or the map is below capacity; else the entries `keep`
    /// refuses are dropped first, from `shard`, then, as long as there is
    /// no room, from the other shards (those not locked at the moment), for
    /// about one shard's share of entries in all.
    ///
    /// For a store whose entries may go only when `keep` says so (rate
    /// state): a full map sweeps on every new key. A cache uses
    /// [`may_cache`](Self::may_cache).
    pub fn has_room(
        &self,
        shard: &mut ShardWriteGuard<'_, K, V>,
        key: &K,
        mut keep: impl FnMut(&K, &mut V) -> bool,
    ) -> bool {
        // Entries added through this guard count before room is granted.
        shard.settle();
        if shard.contains_key(key) || self.reserve(shard) {
            return true;
        }
        self.make_room(shard, &mut keep)
    }

    /// Whether a cache may take `key` into `shard` (one of this map's): it
    /// holds it already or the map is below capacity; else, once the shard
    /// has refused about an eighth of a shard's share of keys since its
    /// last sweep, the entries `keep` refuses are dropped as
    /// [`has_room`](Self::has_room) drops them.
    ///
    /// `keep` should refuse the entries not used since the last sweep (and
    /// forget the use, so the next sweep asks again): an entry in use then
    /// never makes room for a newcomer, which is instead not cached. Sweeps
    /// are spaced out so that a map full of entries in use costs a constant
    /// amount of work per refused key, not a scan of a shard.
    pub fn may_cache(
        &self,
        shard: &mut ShardWriteGuard<'_, K, V>,
        key: &K,
        mut keep: impl FnMut(&K, &mut V) -> bool,
    ) -> bool {
        shard.settle();
        if shard.contains_key(key) || self.reserve(shard) {
            return true;
        }
        let refused = &self.shards[shard.index].0.refused;
        let since = refused.load(Ordering::Relaxed) + 1;
        let sweep = shard.len().max(self.share());
        if since.saturating_mul(8) < sweep {
            refused.store(since, Ordering::Relaxed);
            return false;
        }
        refused.store(0, Ordering::Relaxed);
        self.make_room(shard, &mut keep)
    }

    /// A shard's share of the capacity.
    fn share(&self) -> usize {
        self.capacity.div_ceil(SHARDS)
    }

    /// Drops the entries `keep` refuses from `shard`, then from the other
    /// shards not locked at the moment, until the map has room or about a
    /// shard's share of entries were looked at; reserves the room found.
    fn make_room(
        &self,
        shard: &mut ShardWriteGuard<'_, K, V>,
        keep: &mut impl FnMut(&K, &mut V) -> bool,
    ) -> bool {
        let mut visited = shard.len();
        self.sweep(shard, keep);
        if self.reserve(shard) {
            return true;
        }
        // This shard is empty or holds only what must stay, while others
        // may hold entries that can go. Never waits for a lock: two callers
        // each holding a shard cannot wait for each other.
        for step in 1..SHARDS {
            if visited >= self.share() {
                break;
            }
            let index = (shard.index + step) % SHARDS;
            let other = match self.shards[index].0.map.try_write() {
                Ok(other) => Ok(other),
                Err(TryLockError::Poisoned(p)) => Err(p),
                Err(TryLockError::WouldBlock) => continue,
            };
            let mut other = self.guard(index, other);
            visited += other.len();
            self.sweep(&mut other, keep);
            drop(other);
            if self.reserve(shard) {
                return true;
            }
        }
        false
    }

    /// How many entries the map holds.
    pub fn len(&self) -> usize {
        self.len.0.load(Ordering::Acquire)
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
        for (i, slot) in self.shards.iter().enumerate() {
            let mut shard = self.guard(i, slot.0.map.write());
            f(i, &mut shard);
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

    /// Inserts `key` if the map has room (keeping every entry).
    fn add(map: &ShardedMap<u64, u64>, key: u64) -> bool {
        let mut shard = map.write(&key);
        let room = map.has_room(&mut shard, &key, |_, _| true);
        if room {
            shard.insert(key, 0);
        }
        room
    }

    #[test]
    fn a_full_map_makes_room_only_by_what_the_caller_drops() {
        let map: ShardedMap<u64, u64> = ShardedMap::with_capacity(1);
        let mut shard = map.write(&0);
        shard.insert(0, 0);
        assert!(!map.has_room(&mut shard, &1, |_, _| true));
        assert!(map.has_room(&mut shard, &0, |_, _| true));
        assert!(map.has_room(&mut shard, &1, |_, _| false));
        assert!(shard.is_empty());
    }

    #[test]
    fn a_map_sized_for_n_keys_holds_all_of_them() {
        // With a bound per shard, the fullest shards refused keys of a map
        // sized for exactly its keys (964 of 1,000 fitted).
        for n in [16, 1_000, 10_000] {
            let map = ShardedMap::with_capacity(n);
            assert!((0..n as u64).all(|k| add(&map, k)), "{n}");
            assert_eq!(map.len(), n);
            assert!(!add(&map, n as u64), "{n}: one more than the bound");
            assert_eq!(map.len(), n);
        }
    }

    #[test]
    fn the_count_follows_every_change() {
        let map: ShardedMap<u64, u64> = ShardedMap::default();
        for k in 0..100 {
            map.write(&k).insert(k, k);
        }
        assert_eq!(map.len(), 100);
        map.write(&7u64).remove(&7);
        map.write(&7u64).remove(&7);
        assert_eq!(map.len(), 99);
        assert_eq!(map.retain(|_, v| *v % 2 == 0), 49);
        assert_eq!(map.len(), 50);
        map.clear();
        assert!(map.is_empty());
        // Room granted but not used is given back.
        let bounded: ShardedMap<u64, u64> = ShardedMap::with_capacity(1);
        assert!(bounded.has_room(&mut bounded.write(&1u64), &1, |_, _| true));
        assert!(add(&bounded, 2));
        assert_eq!(bounded.len(), 1);
    }

    #[test]
    fn a_full_map_finds_room_in_other_shards() {
        // One entry in one shard fills the map; a key of any other shard
        // gets room once the caller lets that entry go.
        let map: ShardedMap<u64, u64> = ShardedMap::with_capacity(1);
        assert!(add(&map, 0));
        let other = (1..).find(|k| map.index(k) != map.index(&0)).unwrap_or(1);
        let mut shard = map.write(&other);
        assert!(!map.has_room(&mut shard, &other, |_, _| true));
        assert!(map.has_room(&mut shard, &other, |_, _| false));
        shard.insert(other, 0);
        drop(shard);
        assert_eq!(map.len(), 1);
        assert!(map.read(&0).get(&0).is_none());
    }

    #[test]
    fn a_full_cache_spaces_out_its_sweeps() {
        // A sweep looks at its own shard and about a share of the others,
        // and comes once per eighth of a share (or of its shard) of
        // refusals: a few dozen entries looked at per refusal, whatever the
        // size of the map.
        let map: ShardedMap<u64, u64> = ShardedMap::with_capacity(1_600);
        assert!((0..1_600).all(|k| add(&map, k)));
        let newcomer = 1_600;
        let refusals = 1_000;
        let mut visits = 0;
        for _ in 0..refusals {
            let mut shard = map.write(&newcomer);
            let cached = map.may_cache(&mut shard, &newcomer, |_, _| {
                visits += 1;
                true
            });
            assert!(!cached, "every entry is kept");
        }
        assert!(visits >= 1_600 / 16, "no sweep");
        assert!(
            visits <= 32 * refusals,
            "{visits} entries looked at for {refusals} refusals"
        );
        // Once the entries may go, room is made at the next sweep.
        let made =
            (0..100).any(|_| map.may_cache(&mut map.write(&newcomer), &newcomer, |_, _| false));
        assert!(made);
    }
}
