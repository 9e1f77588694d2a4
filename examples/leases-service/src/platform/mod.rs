//! The platform around the tenants' data: tenants and their plans, what an
//! operator does with them, onboarding by redeem code, and the demo. Tenant
//! records live in system tables, reached only through `tenancy-sql`'s
//! audited `SystemTx`.

pub(crate) mod decommission;
pub(crate) mod demo;
pub(crate) mod plans;
pub(crate) mod redeem;
pub(crate) mod tenants;
