//! Where the layer learns a tenant's status, plan and roles: tenancy-admission's
//! directory and cache, which the layer's admission reads.

pub use tenancy_admission::{MemoryDirectory, TenantCache, TenantDirectory, TenantRecord};
