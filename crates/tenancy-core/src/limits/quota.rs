//! Counters with ceilings: storage bytes, AI tokens, seats.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::error::LimitError;
use crate::id::TenantId;

/// Per-tenant usage counters, each checked against a ceiling on use.
///
/// ```
/// use tenancy_core::{QuotaCounter, TenantId};
///
/// let usage = QuotaCounter::default();
/// let t = TenantId::from_u128(1);
/// assert_eq!(usage.try_consume(t, "ai_tokens", 700, 1000)?, 300);
/// assert!(usage.try_consume(t, "ai_tokens", 301, 1000).is_err()); // nothing consumed
/// usage.release(t, "ai_tokens", 200);
/// assert_eq!(usage.used(t, "ai_tokens"), 500);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct QuotaCounter {
    used: Mutex<HashMap<(TenantId, String), u64>>,
}

impl QuotaCounter {
    /// Adds `amount` to the counter if it stays within `limit`; returns what
    /// remains. Over the limit, nothing is added.
    pub fn try_consume(
        &self,
        tenant: TenantId,
        metric: &str,
        amount: u64,
        limit: u64,
    ) -> Result<u64, LimitError> {
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = used.entry((tenant, metric.to_owned())).or_insert(0);
        let next = entry.checked_add(amount).filter(|n| *n <= limit);
        match next {
            Some(n) => {
                *entry = n;
                Ok(limit - n)
            }
            None => Err(LimitError::QuotaExceeded { limit }),
        }
    }

    /// Gives `amount` back (a file deleted, a reservation cancelled).
    pub fn release(&self, tenant: TenantId, metric: &str, amount: u64) {
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = used.get_mut(&(tenant, metric.to_owned())) {
            *n = n.saturating_sub(amount);
        }
    }

    /// What `tenant` has used of `metric`.
    pub fn used(&self, tenant: TenantId, metric: &str) -> u64 {
        let used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        used.get(&(tenant, metric.to_owned())).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_count_separately_and_overflow_is_refused() {
        let q = QuotaCounter::default();
        let (a, b) = (TenantId::from_u128(1), TenantId::from_u128(2));
        q.try_consume(a, "storage", 10, 10).unwrap();
        assert_eq!(q.try_consume(b, "storage", 10, 10), Ok(0));
        assert!(q.try_consume(a, "storage", u64::MAX, u64::MAX).is_err());
        assert_eq!(q.used(a, "storage"), 10);
    }
}
