//! The validators every auth target attacks, built once: a fixed clock, a
//! fixed issuer and audience, and the test keys of tenancy-auth.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tenancy_auth::{Algorithm, ClaimNames, Validator, ValidatorBuilder, VerificationKey};
use tenancy_core::{ManualWallClock, TenantId};

/// The fixed unix time of every validator (2027-01-15).
pub const NOW: u64 = 1_800_000_000;
/// The only accepted issuer.
pub const ISS: &str = "https://id.example.com";
/// The only accepted audience.
pub const AUD: &str = "leases-api";
/// The HS256 secret for tokens without a `kid`.
pub const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
/// The HS256 secret for tokens with `kid` `hs-2026`.
pub const KID_SECRET: &[u8] = b"fedcba9876543210fedcba9876543210";
/// Clock skew allowed.
pub const LEEWAY: u64 = 30;
/// The longest `exp - iat` accepted.
pub const MAX_LIFETIME: u64 = 3600;
/// The tenant the bound validator is bound to.
pub const TENANT: &str = "0b6d2f4e-8c1a-4b7e-9f3d-2a5c6e7f8a9b";
/// Another tenant.
pub const OTHER_TENANT: &str = "6f9619ff-8b86-d011-b42d-00c04fc964ff";
/// A subject.
pub const SUBJECT: &str = "00000000-0000-0000-0000-00000000002a";

const RSA_PUBLIC: &[u8] = include_bytes!("../../crates/tenancy-auth/tests/keys/rsa-public.pem");
const EC_PUBLIC: &[u8] = include_bytes!("../../crates/tenancy-auth/tests/keys/ec-public.pem");
const ED_PUBLIC: &[u8] = include_bytes!("../../crates/tenancy-auth/tests/keys/ed-public.pem");

pub(crate) struct Fixtures {
    /// Every key, default claim names, any tenant.
    pub(crate) validator: Arc<Validator>,
    /// The same keys, bound to [`TENANT`].
    pub(crate) bound: Validator,
    /// The same keys, camelCase claim names.
    pub(crate) camel: Validator,
    pub(crate) tenant: TenantId,
}

fn builder() -> ValidatorBuilder {
    let key = |result: Result<VerificationKey, tenancy_auth::AuthError>| {
        result.unwrap_or_else(|e| panic!("a fixture key is refused: {e}"))
    };
    Validator::builder()
        .issuer(ISS)
        .audience(AUD)
        .leeway(Duration::from_secs(LEEWAY))
        .max_lifetime(Duration::from_secs(MAX_LIFETIME))
        .clock(Arc::new(ManualWallClock::at(Duration::from_secs(NOW))))
        .hs256_secret(SECRET)
        .key(Some("hs-2026"), key(VerificationKey::hs256(KID_SECRET)))
        .key(
            Some("rsa"),
            key(VerificationKey::rsa_pem(Algorithm::RS256, RSA_PUBLIC))
                .also_allow(Algorithm::PS256)
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .key(
            Some("ec"),
            key(VerificationKey::ec_pem(Algorithm::ES256, EC_PUBLIC)),
        )
        .key(Some("ed"), key(VerificationKey::ed_pem(ED_PUBLIC)))
}

fn build(builder: ValidatorBuilder) -> Validator {
    builder
        .build()
        .unwrap_or_else(|e| panic!("the fixture validator is refused: {e}"))
}

pub(crate) fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let tenant = TenantId::parse(TENANT).unwrap_or_else(|e| panic!("{e}"));
        Fixtures {
            validator: Arc::new(build(builder())),
            bound: build(builder().for_tenant(tenant)),
            camel: build(builder().claim_names(ClaimNames::camel_case())),
            tenant,
        }
    })
}
