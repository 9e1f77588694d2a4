//! The plans a tenant can be on, and what each allows.

use serde::{Deserialize, Serialize};
use tenancy_core::{Plan, RateQuota};

/// The plans a tenant can be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PlanName {
    /// 10 requests/s, burst 20, 4 concurrent.
    Free,
    /// 100 requests/s, burst 200, 32 concurrent.
    Pro,
}

impl PlanName {
    /// `free` or `pro`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PlanName::Free => "free",
            PlanName::Pro => "pro",
        }
    }

    /// Reads `free` or `pro`.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "free" => Some(PlanName::Free),
            "pro" => Some(PlanName::Pro),
            _ => None,
        }
    }

    /// The plan's limits, under its name (the `plan` column's value).
    pub(crate) fn plan(self) -> Plan {
        match self {
            PlanName::Free => Plan::new("free", RateQuota::per_second(10, 20), 4),
            PlanName::Pro => Plan::new("pro", RateQuota::per_second(100, 200), 32),
        }
    }

    /// Every plan, for the tenant directory.
    pub(crate) fn plans() -> [Plan; 2] {
        [PlanName::Free.plan(), PlanName::Pro.plan()]
    }
}

/// The body field reader for a plan.
pub(crate) fn plan(value: &serde_json::Value) -> Result<PlanName, String> {
    value
        .as_str()
        .and_then(PlanName::parse)
        .ok_or_else(|| "must be `free` or `pro`".into())
}
