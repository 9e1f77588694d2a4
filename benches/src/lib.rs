//! Shared fixtures for the tenancy benches.
