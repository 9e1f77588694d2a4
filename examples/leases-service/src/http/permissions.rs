//! The permissions routes require, as marker types for `Require<P>`.

tenancy_axum::permission! {
    pub(crate) PropertiesRead = "properties:read";
    pub(crate) PropertiesWrite = "properties:write";
    pub(crate) LeasesRead = "leases:read";
    pub(crate) LeasesWrite = "leases:write";
    pub(crate) AuditRead = "audit:read";
    /// Platform operators' tenant management (system scope only).
    pub(crate) SystemTenants = "system:tenants";
}
