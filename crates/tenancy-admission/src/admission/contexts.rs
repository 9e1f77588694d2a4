//! Memoised contexts: building one from a token and a role registry costs
//! more than the rest of the request path, and both inputs are immutable.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, PoisonError, RwLock};

use tenancy_auth::{AuthError, VerifiedToken};
use tenancy_core::{AuditSink, RoleRegistry};

use super::Pass;
use crate::directory::TenantRecord;

const SHARDS: usize = 16;

struct Entry {
    // INVARIANT: the entry holds both inputs alive, so their addresses (the
    // key) cannot be reused by other values while the entry exists; equal
    // addresses therefore mean the very same token and record.
    // The pass holds the record.
    _token: Arc<VerifiedToken>,
    pass: Arc<Pass>,
}

type Key = (usize, usize);

/// Hashes the two addresses of a [`Key`]: they are not chosen by clients,
/// so a multiply-rotate mix is enough.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

type Shard = RwLock<HashMap<Key, Entry, BuildHasherDefault<AddressHasher>>>;

/// Contexts keyed by the identity of the verified token (shared by the token
/// cache) and of the tenant record (replaced whenever the directory is read
/// again), so a role change takes effect with the next record.
pub(crate) struct ContextCache {
    shards: [Shard; SHARDS],
    shard_capacity: usize,
}

impl ContextCache {
    pub(crate) fn new(capacity: usize) -> Self {
        ContextCache {
            shards: std::array::from_fn(|_| RwLock::default()),
            shard_capacity: capacity.div_ceil(SHARDS).max(1),
        }
    }

    /// The pass of `token` under `roles` (the record's, or the platform's
    /// when `record` is `None`), shared by every request that presents the
    /// same token while the record is current.
    pub(crate) fn pass(
        &self,
        token: &Arc<VerifiedToken>,
        record: Option<&Arc<TenantRecord>>,
        roles: &RoleRegistry,
        audit: &Arc<dyn AuditSink>,
    ) -> Result<Arc<Pass>, AuthError> {
        let key = (
            Arc::as_ptr(token) as usize,
            record.map_or(0, |r| Arc::as_ptr(r) as usize),
        );
        let shard = &self.shards[(key.0 >> 4 ^ key.1 >> 4) % SHARDS];
        if let Some(entry) = shard
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(Arc::clone(&entry.pass));
        }
        let pass = Arc::new(Pass {
            ctx: token.to_context(roles)?,
            record: record.cloned(),
            audit: Arc::clone(audit),
        });
        // A token no verifier cache holds (a plain `Validator`, an
        // `IssuerRouter`) is a new value on every request: its address would
        // never hit again.
        if Arc::strong_count(token) == 1 {
            return Ok(pass);
        }
        let mut shard = shard.write().unwrap_or_else(PoisonError::into_inner);
        if shard.len() >= self.shard_capacity {
            // Entries are cheap to rebuild; dropping them all keeps this simple
            // and bounded.
            shard.clear();
        }
        shard.insert(
            key,
            Entry {
                _token: Arc::clone(token),
                pass: Arc::clone(&pass),
            },
        );
        Ok(pass)
    }
}
