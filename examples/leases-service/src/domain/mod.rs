//! The service's own data, each tenant's alone: properties, leases, and the
//! audit log of what happened to them. Each file holds a resource's routes,
//! body types and statements; statements run in a `TenantTx`, so
//! `tenancy-sql` adds the tenant predicate to every one.

pub(crate) mod audit;
pub(crate) mod id;
pub mod leases;
pub mod properties;
