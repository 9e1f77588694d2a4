//! A kit for testing a service against its own tokens: valid ones, and
//! every kind of token it must refuse (feature `testing`).
//!
//! A [`TokenKit`] signs valid tokens for [`TenantContext`]s, builds the
//! [`Validator`](crate::Validator) that accepts exactly them, and aims the
//! attack catalogue ([`TokenAttack`]) at a context: `alg: none`, algorithm
//! confusion, other keys, claims forged after signing, expired and future
//! tokens, wrong issuers and audiences, missing and invalid claims,
//! malformed and oversized tokens, key ids the validator does not know or
//! should never look up. [`valid_token`] and [`attack_token`] draw them as
//! proptest strategies; [`tenancy_core::testing`] has strategies for
//! identifiers, permissions, contexts and role registries.
//!
//! In a service's own tests, send each [`TokenAttack::authorization`] as
//! the `Authorization` header to a protected route and expect a 401, and
//! send a valid token for a context to check what the route lets that
//! context do.
//!
//! ```
//! use proptest::prelude::*;
//! use tenancy_auth::testing::{TokenKit, attack_token, valid_token};
//!
//! let kit = TokenKit::es256();
//! let validator = kit.validator();
//! let roles = kit.roles().clone();
//!
//! // A valid token verifies into exactly the context it was issued for...
//! proptest!(ProptestConfig::with_cases(32), |((ctx, token) in valid_token(kit.clone()))| {
//!     let verified = validator.verify(&token)?;
//!     prop_assert_eq!(verified.to_context(&roles)?, ctx);
//! });
//!
//! // ...and no attack gets through, each refused as an invalid token (a 401).
//! proptest!(ProptestConfig::with_cases(32), |(attack in attack_token(kit.clone()))| {
//!     let refusal = validator.verify(attack.token());
//!     prop_assert!(refusal.is_err_and(|e| e.is_invalid_token()), "{} got through", attack.name);
//! });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`TenantContext`]: tenancy_core::TenantContext

mod attack;
mod kit;
mod strategy;

pub use attack::TokenAttack;
pub use kit::{ES256_KID, TEST_AUDIENCE, TEST_ISSUER, TOKEN_LIFETIME, TokenKit};
pub use strategy::{attack_token, issuable_context, valid_token};
