//! tenancy-auth: token validation next to a plain `jsonwebtoken::decode` of
//! the same token in the same run, and the verified-token cache.
//!
//! `cargo bench -p tenancy-benches --bench auth_validation`. Each group
//! holds `jsonwebtoken_decode` (the baseline: signature, `exp`, `iss`, `aud`
//! into a `serde_json::Value`) and `tenancy_validator` (everything the
//! validator checks, into a typed `VerifiedToken`); the `cache` group holds a
//! repeated token through `CachedValidator` next to the HS256 and RS256
//! uncached validations.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use tenancy_auth::{CachedValidator, Issuer, Validator, VerificationKey};
use tenancy_core::{PermissionSet, RoleName, SubjectId, TenantContext, TenantId};

const ISS: &str = "https://id.example.com";
const AUD: &str = "leases-api";
const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const RSA_PRIVATE: &[u8] = include_bytes!("../../crates/tenancy-auth/tests/keys/rsa-private.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("../../crates/tenancy-auth/tests/keys/rsa-public.pem");
const EC_PRIVATE: &[u8] = include_bytes!("../../crates/tenancy-auth/tests/keys/ec-private.pem");
const EC_PUBLIC: &[u8] = include_bytes!("../../crates/tenancy-auth/tests/keys/ec-public.pem");
const ED_PRIVATE: &[u8] = include_bytes!("../../crates/tenancy-auth/tests/keys/ed-private.pem");
const ED_PUBLIC: &[u8] = include_bytes!("../../crates/tenancy-auth/tests/keys/ed-public.pem");

struct Case {
    name: &'static str,
    token: String,
    validator: Arc<Validator>,
    key: DecodingKey,
    validation: Validation,
}

/// A tenant context with a narrowed permission list, so the token is about
/// the size of a real one (a little over 500 bytes for HS256).
fn context() -> TenantContext {
    let permissions = PermissionSet::parse([
        "leases:read",
        "leases:write",
        "units:read",
        "units:write",
        "tenants:read",
        "payments:read",
        "documents:read",
        "documents:write",
    ])
    .unwrap_or_default();
    TenantContext::tenant(
        TenantId::from_u128(0x0b6d_2f4e_8c1a_4b7e_9f3d_2a5c_6e7f_8a9b),
        SubjectId::from_u128(42),
        RoleName::member(),
        permissions,
    )
}

fn case(
    name: &'static str,
    algorithm: Algorithm,
    issuer: Result<Issuer, tenancy_auth::AuthError>,
    key: Result<VerificationKey, tenancy_auth::AuthError>,
    decoding: jsonwebtoken::errors::Result<DecodingKey>,
) -> Option<Case> {
    let issuer = issuer.ok()?.with_kid("k1").ok()?;
    let options = tenancy_auth::IssueOptions::new()
        .narrow()
        .jti("bench-token-0001");
    let token = issuer
        .issue_with(&context(), Duration::from_secs(3600), &options)
        .ok()?;
    let validator = Validator::builder()
        .issuer(ISS)
        .audience(AUD)
        .key(Some("k1"), key.ok()?)
        .build()
        .ok()?;
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&[ISS]);
    validation.set_audience(&[AUD]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    validation.leeway = 30;
    Some(Case {
        name,
        token,
        validator: Arc::new(validator),
        key: decoding.ok()?,
        validation,
    })
}

fn cases() -> Vec<Case> {
    [
        case(
            "hs256",
            Algorithm::HS256,
            Issuer::hs256(SECRET, ISS, AUD),
            VerificationKey::hs256(SECRET),
            Ok(DecodingKey::from_secret(SECRET)),
        ),
        case(
            "rs256",
            Algorithm::RS256,
            Issuer::from_pem(Algorithm::RS256, RSA_PRIVATE, ISS, AUD),
            VerificationKey::rsa_pem(Algorithm::RS256, RSA_PUBLIC),
            DecodingKey::from_rsa_pem(RSA_PUBLIC),
        ),
        case(
            "es256",
            Algorithm::ES256,
            Issuer::from_pem(Algorithm::ES256, EC_PRIVATE, ISS, AUD),
            VerificationKey::ec_pem(Algorithm::ES256, EC_PUBLIC),
            DecodingKey::from_ec_pem(EC_PUBLIC),
        ),
        case(
            "eddsa",
            Algorithm::EdDSA,
            Issuer::from_pem(Algorithm::EdDSA, ED_PRIVATE, ISS, AUD),
            VerificationKey::ed_pem(ED_PUBLIC),
            DecodingKey::from_ed_pem(ED_PUBLIC),
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn validation(c: &mut Criterion) {
    // The plain decode below uses jsonwebtoken's process default.
    tenancy_auth::install_default_crypto_provider();
    for case in cases() {
        // Both must accept the token, or the comparison means nothing.
        let plain = jsonwebtoken::decode::<Value>(&case.token, &case.key, &case.validation);
        if plain.is_err() || case.validator.verify(&case.token).is_err() {
            eprintln!("skipped {}: the token does not validate", case.name);
            continue;
        }
        let mut g = c.benchmark_group(format!("auth/{}", case.name));
        g.bench_function("jsonwebtoken_decode", |b| {
            b.iter(|| {
                jsonwebtoken::decode::<Value>(black_box(&case.token), &case.key, &case.validation)
                    .is_ok()
            })
        });
        g.bench_function("tenancy_validator", |b| {
            b.iter(|| case.validator.verify(black_box(&case.token)).is_ok())
        });
        g.finish();
        eprintln!("{}: token of {} bytes", case.name, case.token.len());
    }
}

fn cache(c: &mut Criterion) {
    tenancy_auth::install_default_crypto_provider();
    let all = cases();
    let mut g = c.benchmark_group("auth/cache");
    for case in all
        .iter()
        .filter(|c| c.name == "hs256" || c.name == "rs256")
    {
        g.bench_function(format!("{}_jsonwebtoken_decode", case.name), |b| {
            b.iter(|| {
                jsonwebtoken::decode::<Value>(black_box(&case.token), &case.key, &case.validation)
                    .is_ok()
            })
        });
        let cached = CachedValidator::new(Arc::clone(&case.validator), 10_000);
        if cached.verify(&case.token).is_err() {
            continue;
        }
        g.bench_function(format!("{}_cached_hit", case.name), |b| {
            b.iter(|| cached.verify(black_box(&case.token)).is_ok())
        });
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = validation, cache
}
criterion_main!(benches);
