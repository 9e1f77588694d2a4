//! Bearer-token validation into a [`tenancy_core::TenantContext`].
//!
//! This crate will hold a validator with pinned algorithms, key sets selected
//! by `kid`, JWKS parsing, an issuer, and a verified-token cache.
