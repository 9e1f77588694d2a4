//! Memoised contexts: building one from a token and a role registry costs
//! more than the rest of the request path, and both inputs are immutable.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
    token: Arc<VerifiedToken>,
    pass: Arc<Pass>,
    // Asked for since the last sweep of its shard (see `pass`).
    used: AtomicBool,
}

impl Entry {
    /// Whether the entry can still be asked for: the token cache and the
    /// tenant cache (or directory) still hand out its token and record.
    /// Once only the entry holds one of them, no request can present that
    /// address again.
    fn reachable(&self) -> bool {
        Arc::strong_count(&self.token) > 1
            && self
                .pass
                .record
                .as_ref()
                .is_none_or(|record| Arc::strong_count(record) > 1)
    }
}

type Key = (usize, usize);

/// Contexts keyed by the identity of the verified token (shared by the token
/// cache) and of the tenant record (replaced whenever the directory is read
/// again), so a role change takes effect with the next record.
///
/// Holds at most `capacity` contexts. When full, a new context takes the
/// place of one that can no longer be asked for or was not asked for since
/// the last sweep; one asked for in between is never dropped to make room,
/// and when every cached context is in use the new one is not cached.
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
            // Read first: a context asked for again and again does not write.
            if !entry.used.load(Ordering::Relaxed) {
                entry.used.store(true, Ordering::Relaxed);
            }
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
        let keep = |_: &Key, e: &mut Entry| e.reachable() && std::mem::take(e.used.get_mut());
        if self.entries.may_cache(&mut shard, &key, keep) {
            shard.insert(
                key,
                Entry {
                    token: Arc::clone(token),
                    pass: Arc::clone(&pass),
                    used: AtomicBool::new(true),
                },
            );
        }
        Ok(pass)
    }

    /// How many contexts are cached.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use tenancy_auth::{CachedValidator, Issuer, Validator};
    use tenancy_core::{
        DiscardAuditSink, PermissionSet, Plan, PlanOverrides, RateQuota, RoleName, SubjectId,
        TenantContext, TenantId, TenantStatus,
    };

    const SECRET: &[u8] = b"an hs256 secret of at least 32 bytes!";

    /// Tenants with a record each and a member's token verified through a
    /// token cache, as the admission sees them.
    struct Tenants {
        tokens: CachedValidator,
        issued: Vec<String>,
        records: Vec<Arc<TenantRecord>>,
        audit: Arc<dyn AuditSink>,
    }

    impl Tenants {
        fn new(n: u128) -> Tenants {
            let validator = Validator::builder()
                .issuer("iss")
                .audience("aud")
                .hs256_secret(SECRET)
                .build()
                .unwrap();
            let issuer = Issuer::hs256(SECRET, "iss", "aud").unwrap();
            let plan = Plan::new("free", RateQuota::per_second(10, 10), 2)
                .entitlements(&PlanOverrides::default());
            let (issued, records) = (0..n)
                .map(|i| {
                    let tenant = TenantId::from_u128(i + 1);
                    let member = TenantContext::tenant(
                        tenant,
                        SubjectId::from_u128(i + 1),
                        RoleName::member(),
                        PermissionSet::all(),
                    );
                    let token = issuer.issue(&member, Duration::from_secs(300)).unwrap();
                    let slug = format!("tenant-{i}").parse().unwrap();
                    let record =
                        TenantRecord::new(tenant, slug, TenantStatus::Active, plan.clone());
                    (token, Arc::new(record))
                })
                .unzip();
            Tenants {
                tokens: CachedValidator::new(Arc::new(validator), 100_000),
                issued,
                records,
                audit: Arc::new(DiscardAuditSink),
            }
        }

        fn pass(&self, contexts: &ContextCache, i: usize) -> Arc<Pass> {
            let token = self.tokens.verify(&self.issued[i]).unwrap();
            let record = &self.records[i];
            contexts
                .pass(&token, Some(record), &record.roles, &self.audit)
                .unwrap()
        }
    }

    #[test]
    fn idle_contexts_make_room_and_an_active_one_is_never_evicted() {
        const CAPACITY: usize = 32;
        const IDLE: usize = 10 * CAPACITY;
        let tenants = Tenants::new(IDLE as u128 + 1);
        let contexts = ContextCache::new(CAPACITY);
        let active = tenants.pass(&contexts, 0);
        let first: Vec<Arc<Pass>> = (1..=IDLE)
            .map(|i| {
                // An idle tenant, asked for once, and the active one, asked
                // for between any two others.
                let idle = tenants.pass(&contexts, i);
                let again = tenants.pass(&contexts, 0);
                assert!(
                    Arc::ptr_eq(&active, &again),
                    "the active context was evicted"
                );
                assert!(contexts.len() <= CAPACITY, "{} cached", contexts.len());
                idle
            })
            .collect();
        let kept = |range: std::ops::RangeInclusive<usize>| {
            range
                .filter(|&i| Arc::ptr_eq(&first[i - 1], &tenants.pass(&contexts, i)))
                .count()
        };
        assert!(
            kept(IDLE - CAPACITY + 1..=IDLE) > 0,
            "no recent context was cached"
        );
        assert_eq!(kept(1..=CAPACITY), 0, "the first idle contexts stayed");
    }

    #[test]
    fn contexts_no_request_can_reach_make_room_first() {
        let tenants = Tenants::new(10);
        let contexts = ContextCache::new(1);
        for i in 0..10 {
            let pass = tenants.pass(&contexts, i);
            assert!(
                Arc::ptr_eq(&pass, &tenants.pass(&contexts, i)),
                "{i} not cached"
            );
            assert_eq!(contexts.len(), 1);
            // The token cache lets the token go: no request can present it
            // again, so its context, just used, gives way to the next.
            tenants.tokens.clear();
        }
    }
}
