//! Fuzz targets for every parser of untrusted input in tenancy.
//!
//! Each target is a plain function over bytes, so the same code runs under
//! libFuzzer (`cargo fuzz run <target>`, nightly, the binaries in
//! `fuzz_targets/`) and in the stable replay of the committed corpora
//! (`tests/replay.rs`, run by `fuzz/replay` in CI). A target panics when a
//! parser panics or when one of its properties fails; the properties are
//! written next to each target.
//!
//! | target | parser | beyond "no panic" |
//! |--------|--------|-------------------|
//! | [`bearer_token`] | `Validator::verify` over any header text | every refusal is a token fault (401), an accepted token says what its claims say, a tenant-bound validator never yields another tenant, the cache agrees |
//! | [`claims`] | the claims of a correctly signed token | a lenient parser reads the same tenant, subject, scope and role; tenant tokens never reach the platform; lifetime bounds hold |
//! | [`jwks`] | `parse_jwks`, `VerificationKey::from_jwk` | each accepted key is usable (a probe token fails as a bad token, never as a broken key); keys agree with a per-entry parse |
//! | [`permission`] | `Permission`, `PermissionSet`, `PermissionCatalog` parsing | Display is the input; sets re-parse from their grants; difference, catalogue and platform checks agree |
//! | [`ids_and_slugs`] | `TenantId`, `SubjectId`, `TenantSlug`, `RoleName`, `TenantStatus` | Display is the canonical input and re-parses to an equal value |

mod bearer_token;
mod claims;
mod fixtures;
mod ids_and_slugs;
mod jwks;
mod permission;
mod verified;

pub use bearer_token::bearer_token;
pub use claims::claims;
pub use fixtures::{AUD, ISS, LEEWAY, MAX_LIFETIME, NOW, OTHER_TENANT, SECRET, SUBJECT, TENANT};
pub use ids_and_slugs::ids_and_slugs;
pub use jwks::jwks;
pub use permission::permission;

/// A fuzz target: bytes in, a panic when a parser or a property fails.
pub type Target = fn(&[u8]);

/// Every target, by the name of its binary and corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("bearer_token", bearer_token),
    ("claims", claims),
    ("jwks", jwks),
    ("permission", permission),
    ("ids_and_slugs", ids_and_slugs),
];
