//! The errors of tenancy-axum that are not HTTP refusals: configuration and
//! dependencies (tenant directory, limit store). They are tenancy-admission's,
//! so a directory or a store implemented for one serves the other.
//!
//! Refusals of a request live in [`crate::rejection`]; each knows its status.

pub use tenancy_admission::{BoxError, ConfigProblem, Error, Result};
