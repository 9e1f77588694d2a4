//! The permissions routes require, as marker types for `Require<P>`.

tenancy_axum::permission! {
    pub PropertiesRead = "properties:read";
    pub PropertiesWrite = "properties:write";
    pub LeasesRead = "leases:read";
    pub LeasesWrite = "leases:write";
    pub AuditRead = "audit:read";
    /// Platform operators' tenant management (system scope only).
    pub SystemTenants = "system:tenants";
}
