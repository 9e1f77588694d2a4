//! Memoised contexts: building one from a token and a role registry costs
//! more than the rest of the request path, and both inputs are immutable.

use std::sync::Arc;

use tenancy_auth::{AuthError, VerifiedToken};
use tenancy_core::shard::ShardedMap;
use tenancy_core::{AuditSink, RoleRegistry};

use super::Pass;
use crate::directory::TenantRecord;

struct Entry {
    // INVARIANT: the entry holds both inputs alive, so their addresses (the
    // key) cannot be reused by other values while the entry exists; equal
    // addresses therefore mean the very same token and record.
    // The pass holds the record.
    _token: Arc<VerifiedToken>,
    pass: Arc<Pass>,
}

type Key = (usize, usize);

/// Contexts keyed by the identity of the verified token (shared by the token
/// cache) and of the tenant record (replaced whenever the directory is read
/// again), so a role change takes effect with the next record.
pub(crate) struct ContextCache {
    entries: ShardedMap<Key, Entry>,
}

impl ContextCache {
    pub(crate) fn new(capacity: usize) -> Self {
        ContextCache {
            entries: ShardedMap::with_capacity(capacity),
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
        if let Some(entry) = self.entries.read(&key).get(&key) {
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
        let mut shard = self.entries.write(&key);
        // Entries are cheap to rebuild; dropping them all keeps this simple
        // and bounded.
        self.entries.has_room(&mut shard, &key, |_, _| false);
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
