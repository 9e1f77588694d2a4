//! What the service runs on: the database, its settings, tokens, clocks,
//! the audit sink for the layer's refusals, and the job worker.

pub mod clock;
pub(crate) mod config;
pub(crate) mod db;
pub(crate) mod jobs;
pub(crate) mod sink;
pub(crate) mod tokens;
