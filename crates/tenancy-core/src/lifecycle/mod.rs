//! Tenant and subscription lifecycles as explicit state machines, and plans.

mod plan;
mod status;
mod subscription;

pub use plan::{Entitlements, Plan, PlanOverrides};
pub use status::{TenantEvent, TenantStatus};
pub use subscription::{SubscriptionEvent, SubscriptionState};
