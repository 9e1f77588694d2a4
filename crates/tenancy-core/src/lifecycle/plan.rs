//! Plans, their entitlements, and per-tenant overrides.

use std::collections::{BTreeMap, BTreeSet};

use crate::limits::RateQuota;

/// What a plan entitles a tenant to: a rate, a concurrency ceiling, feature
/// flags and named quotas (storage bytes, AI tokens, seats…).
///
/// ```
/// use tenancy_core::{Plan, PlanOverrides, RateQuota};
///
/// let free = Plan::new("free", RateQuota::per_second(10, 20), 4).with_quota("storage_bytes", 1 << 30);
/// let big_customer = PlanOverrides::default().max_concurrent(16).enable("beta-reports");
/// let e = free.entitlements(&big_customer);
/// assert_eq!(e.max_concurrent(), 16);
/// assert_eq!(e.rate(), RateQuota::per_second(10, 20));
/// assert!(e.has_feature("beta-reports"));
/// assert_eq!(e.quota("storage_bytes"), Some(1 << 30));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    name: String,
    rate: RateQuota,
    max_concurrent: u32,
    features: BTreeSet<String>,
    quotas: BTreeMap<String, u64>,
}

impl Plan {
    /// A plan with a rate and a concurrency ceiling.
    pub fn new(name: impl Into<String>, rate: RateQuota, max_concurrent: u32) -> Self {
        Plan {
            name: name.into(),
            rate,
            max_concurrent,
            features: BTreeSet::new(),
            quotas: BTreeMap::new(),
        }
    }

    /// Turns a feature flag on.
    #[must_use]
    pub fn with_feature(mut self, feature: impl Into<String>) -> Self {
        self.features.insert(feature.into());
        self
    }

    /// Sets a named quota.
    #[must_use]
    pub fn with_quota(mut self, name: impl Into<String>, limit: u64) -> Self {
        self.quotas.insert(name.into(), limit);
        self
    }

    /// The plan's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What a tenant on this plan gets, after its overrides.
    pub fn entitlements(&self, overrides: &PlanOverrides) -> Entitlements {
        let mut features = self.features.clone();
        features.extend(overrides.enable.iter().cloned());
        for f in &overrides.disable {
            features.remove(f);
        }
        let mut quotas = self.quotas.clone();
        quotas.extend(overrides.quotas.iter().map(|(k, v)| (k.clone(), *v)));
        Entitlements {
            plan: self.name.clone(),
            rate: overrides.rate.unwrap_or(self.rate),
            max_concurrent: overrides.max_concurrent.unwrap_or(self.max_concurrent),
            features,
            quotas,
        }
    }
}

/// One tenant's deviations from its plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanOverrides {
    rate: Option<RateQuota>,
    max_concurrent: Option<u32>,
    enable: BTreeSet<String>,
    disable: BTreeSet<String>,
    quotas: BTreeMap<String, u64>,
}

impl PlanOverrides {
    /// Overrides the rate.
    #[must_use]
    pub fn rate(mut self, rate: RateQuota) -> Self {
        self.rate = Some(rate);
        self
    }

    /// Overrides the concurrency ceiling.
    #[must_use]
    pub fn max_concurrent(mut self, max: u32) -> Self {
        self.max_concurrent = Some(max);
        self
    }

    /// Turns a feature on for this tenant.
    #[must_use]
    pub fn enable(mut self, feature: impl Into<String>) -> Self {
        let feature = feature.into();
        self.disable.remove(&feature);
        self.enable.insert(feature);
        self
    }

    /// Turns a feature off for this tenant.
    #[must_use]
    pub fn disable(mut self, feature: impl Into<String>) -> Self {
        let feature = feature.into();
        self.enable.remove(&feature);
        self.disable.insert(feature);
        self
    }

    /// Overrides a named quota.
    #[must_use]
    pub fn quota(mut self, name: impl Into<String>, limit: u64) -> Self {
        self.quotas.insert(name.into(), limit);
        self
    }
}

/// The limits and features in force for one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entitlements {
    plan: String,
    rate: RateQuota,
    max_concurrent: u32,
    features: BTreeSet<String>,
    quotas: BTreeMap<String, u64>,
}

impl Entitlements {
    /// The plan these come from.
    pub fn plan(&self) -> &str {
        &self.plan
    }

    /// The request rate.
    pub fn rate(&self) -> RateQuota {
        self.rate
    }

    /// The most requests in flight at once.
    pub fn max_concurrent(&self) -> u32 {
        self.max_concurrent
    }

    /// True when the feature flag is on.
    pub fn has_feature(&self, feature: &str) -> bool {
        self.features.contains(feature)
    }

    /// A named quota's ceiling, if the plan sets one.
    pub fn quota(&self, name: &str) -> Option<u64> {
        self.quotas.get(name).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_win_and_disable_removes_plan_features() {
        let pro = Plan::new("pro", RateQuota::per_second(100, 200), 32)
            .with_feature("exports")
            .with_quota("seats", 50);
        let e = pro.entitlements(
            &PlanOverrides::default()
                .disable("exports")
                .quota("seats", 80)
                .rate(RateQuota::per_second(5, 5)),
        );
        assert!(!e.has_feature("exports"));
        assert_eq!(e.quota("seats"), Some(80));
        assert_eq!(e.rate(), RateQuota::per_second(5, 5));
        assert_eq!(e.max_concurrent(), 32);
        assert_eq!(e.plan(), "pro");
        assert!(
            pro.entitlements(&PlanOverrides::default())
                .has_feature("exports")
        );
    }
}
