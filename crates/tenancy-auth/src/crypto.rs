//! The one place that picks the signature backend.
//!
//! jsonwebtoken selects a process-wide `CryptoProvider` from its crate
//! features and panics on first use when it cannot decide (both `rust_crypto`
//! and `aws_lc_rs` enabled by some crate in the build, or neither). This crate
//! never asks jsonwebtoken for that process default: it names its provider
//! explicitly, so no combination of features in a downstream build can reach
//! that panic through tenancy-auth.

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

/// The provider every signature in this crate goes through: aws-lc-rs with
/// the `aws-lc-rs` feature, the RustCrypto crates otherwise.
pub(crate) fn provider() -> &'static CryptoProvider {
    #[cfg(feature = "aws-lc-rs")]
    {
        &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER
    }
    #[cfg(not(feature = "aws-lc-rs"))]
    {
        &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER
    }
}

/// Installs this crate's provider as jsonwebtoken's process default, unless
/// one is installed already. Returns true when this call installed it.
///
/// tenancy-auth itself never needs this. Call it at start-up when other code
/// in the same program calls `jsonwebtoken::decode` or `encode` directly and
/// the build enables both of jsonwebtoken's backends (as the `aws-lc-rs`
/// feature of this crate does): jsonwebtoken then cannot choose a default
/// and panics on first use.
pub fn install_default_crypto_provider() -> bool {
    provider().install_default().is_ok()
}

pub(crate) fn verifier(
    algorithm: Algorithm,
    key: &DecodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtVerifier>> {
    (provider().verifier_factory)(&algorithm, key)
}

pub(crate) fn signer(
    algorithm: Algorithm,
    key: &EncodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    (provider().signer_factory)(&algorithm, key)
}
