//! Memoised contexts: building one from a token and a role registry costs
//! more than the rest of the request path, and both inputs are immutable.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tenancy_auth::{AuthError, VerifiedToken};
use tenancy_core::{RoleRegistry, TenantContext};

use crate::directory::TenantRecord;

const SHARDS: usize = 16;

struct Entry {
    // INVARIANT: the entry holds both inputs alive, so their addresses (the
    // key) cannot be reused by other values while the entry exists; equal
    // addresses therefore mean the very same token and record.
    _token: Arc<VerifiedToken>,
    _record: Option<Arc<TenantRecord>>,
    ctx: TenantContext,
}

type Key = (usize, usize);

/// Contexts keyed by the identity of the verified token (shared by the token
/// cache) and of the tenant record (replaced whenever the directory is read
/// again), so a role change takes effect with the next record.
pub(crate) struct ContextCache {
    shards: [Mutex<HashMap<Key, Entry>>; SHARDS],
    shard_capacity: usize,
}

impl ContextCache {
    pub(crate) fn new(capacity: usize) -> Self {
        ContextCache {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
            shard_capacity: capacity.div_ceil(SHARDS).max(1),
        }
    }

    /// The context of `token` under `roles` (the record's, or the platform's
    /// when `record` is `None`).
    pub(crate) fn context(
        &self,
        token: &Arc<VerifiedToken>,
        record: Option<&Arc<TenantRecord>>,
        roles: &RoleRegistry,
    ) -> Result<TenantContext, AuthError> {
        let key = (
            Arc::as_ptr(token) as usize,
            record.map_or(0, |r| Arc::as_ptr(r) as usize),
        );
        let shard = &self.shards[(key.0 >> 4 ^ key.1 >> 4) % SHARDS];
        if let Some(entry) = shard
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(entry.ctx.clone());
        }
        let ctx = token.to_context(roles)?;
        let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
        if shard.len() >= self.shard_capacity {
            // Entries are cheap to rebuild; dropping them all keeps this simple
            // and bounded.
            shard.clear();
        }
        shard.insert(
            key,
            Entry {
                _token: Arc::clone(token),
                _record: record.cloned(),
                ctx: ctx.clone(),
            },
        );
        Ok(ctx)
    }
}
