//! tenancy-auth never uses jsonwebtoken's process-wide default provider, so
//! the panic jsonwebtoken raises when a build enables both backends (or
//! neither) cannot be reached through this crate.
//!
//! This binary installs, as that process default, a provider that panics on
//! any use (the same shape as jsonwebtoken's own "not installed" provider),
//! then issues and verifies tokens of every family.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use std::time::Duration;

use common::*;
use jsonwebtoken::crypto::{CryptoProvider, KeyUtils};
use jsonwebtoken::{Algorithm, EncodingKey};
use tenancy_auth::{Issuer, VerificationKey, parse_jwks};
use tenancy_core::{PermissionSet, RoleName, SubjectId, TenantContext, TenantId};

static PANICKING: CryptoProvider = CryptoProvider {
    signer_factory: |_, _| panic!("the process default provider was used"),
    verifier_factory: |_, _| panic!("the process default provider was used"),
    key_utils: KeyUtils::new_unimplemented(),
};

#[test]
fn validation_and_issuing_never_touch_the_process_default_provider() {
    assert!(PANICKING.install_default().is_ok());
    // This crate's own helper now reports that a default exists already.
    assert!(!tenancy_auth::install_default_crypto_provider());

    let ctx = TenantContext::tenant(
        TenantId::from_u128(1),
        SubjectId::from_u128(2),
        RoleName::member(),
        PermissionSet::all(),
    );
    let cases: [(Algorithm, &[u8], VerificationKey); 4] = [
        (
            Algorithm::RS256,
            RSA_PRIVATE,
            VerificationKey::rsa_pem(Algorithm::RS256, RSA_PUBLIC).unwrap(),
        ),
        (
            Algorithm::ES256,
            EC_PRIVATE,
            VerificationKey::ec_pem(Algorithm::ES256, EC_PUBLIC).unwrap(),
        ),
        (
            Algorithm::EdDSA,
            ED_PRIVATE,
            VerificationKey::ed_pem(ED_PUBLIC).unwrap(),
        ),
        (
            Algorithm::HS256,
            b"",
            VerificationKey::hs256(SECRET).unwrap(),
        ),
    ];
    for (alg, private, public) in cases {
        let issuer = if alg == Algorithm::HS256 {
            Issuer::new(alg, EncodingKey::from_secret(SECRET), ISS, AUD).unwrap()
        } else {
            Issuer::from_pem(alg, private, ISS, AUD).unwrap()
        };
        let token = issuer
            .with_clock(clock())
            .issue(&ctx, Duration::from_secs(60))
            .unwrap();
        let validator = builder().key(None, public).build().unwrap();
        assert!(validator.verify(&token).is_ok(), "{alg:?}");
    }
    // JWKS parsing checks RSA keys with the key utilities too.
    let jwks = parse_jwks(
        r#"{"keys":[{"kty":"RSA","kid":"r","e":"AQAB","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"}]}"#,
    )
    .unwrap();
    assert!(jwks.contains("r"));
}
