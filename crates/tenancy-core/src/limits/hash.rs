//! A fast hasher for tenant ids, which are already uniformly random.

use std::hash::{BuildHasherDefault, Hasher};

/// Folds the id's bits and spreads them with one multiplication.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u128(&mut self, value: u128) {
        let folded = (value as u64) ^ ((value >> 64) as u64);
        self.0 = (self.0 ^ folded).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 ^= self.0 >> 29;
    }
}

pub(crate) type IdBuildHasher = BuildHasherDefault<IdHasher>;

/// The shard an id falls in, for `shards` a power of two.
pub(crate) fn shard_of(id: crate::TenantId, shards: usize) -> usize {
    let v = id.as_u128();
    let folded = (v as u64) ^ ((v >> 64) as u64);
    (folded.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58) as usize & (shards - 1)
}
