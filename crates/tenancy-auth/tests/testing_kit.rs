//! The `testing` kit: its valid tokens verify into exactly their context,
//! and every attack of its catalogue is refused, for the reason it tries.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use tenancy_auth::testing::{
    ES256_KID, TEST_AUDIENCE, TEST_ISSUER, TOKEN_LIFETIME, TokenKit, attack_token,
    issuable_context, valid_token,
};
use tenancy_auth::{
    Algorithm, AuthError, Claim, ConfigError, DEFAULT_LEEWAY, Malformed, Validator,
};
use tenancy_core::testing::role_registry;
use tenancy_core::{
    ManualWallClock, PermissionSet, Role, RoleName, RoleRegistry, SubjectId, TenantContext,
    TenantId,
};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const ISS: &str = "https://id.example.com";
const AUD: &str = "leases-api";

/// The catalogue, by name, with the refusal each attack must meet. A name
/// missing here, or an attack refused for another reason, fails.
const CATALOGUE: &[&str] = &[
    "no-header",
    "basic-scheme",
    "empty-bearer",
    "alg-none",
    "alg-none-mixed-case",
    "algorithm-confusion",
    "other-key",
    "tampered-signature",
    "forged-tenant-claim",
    "forged-role-claim",
    "forged-permission-claim",
    "forged-scope-claim",
    "expired",
    "not-yet-valid",
    "issued-in-future",
    "lifetime-too-long",
    "wrong-issuer",
    "wrong-audience",
    "missing-audience",
    "missing-tenant-claim",
    "invalid-tenant-claim",
    "duplicate-tenant-claim",
    "missing-subject",
    "invalid-subject",
    "platform-permission",
    "malformed-segments",
    "malformed-base64",
    "malformed-json",
    "oversized",
    "unknown-kid",
    "kid-injection",
    "embedded-jwk",
    "jku-header",
];

fn refused_as_expected(name: &str, e: &AuthError) -> bool {
    use AuthError as E;
    match name {
        "no-header" | "empty-bearer" | "malformed-segments" => {
            matches!(e, E::Malformed(Malformed::SegmentCount))
        }
        "basic-scheme" | "malformed-base64" => matches!(e, E::Malformed(Malformed::Encoding)),
        "alg-none" => matches!(e, E::Malformed(Malformed::EmptySegment)),
        "alg-none-mixed-case" => matches!(e, E::UnsupportedAlgorithm),
        "algorithm-confusion" => matches!(e, E::AlgorithmNotAllowed),
        "other-key"
        | "tampered-signature"
        | "forged-tenant-claim"
        | "forged-role-claim"
        | "forged-permission-claim"
        | "forged-scope-claim" => matches!(e, E::BadSignature),
        "expired" => matches!(e, E::Expired),
        "not-yet-valid" => matches!(e, E::NotYetValid),
        "issued-in-future" => matches!(e, E::IssuedInFuture),
        "lifetime-too-long" => matches!(e, E::LifetimeTooLong),
        "wrong-issuer" => matches!(e, E::WrongIssuer),
        "wrong-audience" => matches!(e, E::WrongAudience),
        "missing-audience" => matches!(e, E::MissingClaim(Claim::Audience)),
        "missing-tenant-claim" => matches!(e, E::MissingClaim(Claim::TenantId)),
        "invalid-tenant-claim" => matches!(e, E::InvalidClaim(Claim::TenantId)),
        "duplicate-tenant-claim" => matches!(e, E::Malformed(Malformed::DuplicateKey)),
        "missing-subject" => matches!(e, E::MissingClaim(Claim::Subject)),
        "invalid-subject" => matches!(e, E::InvalidClaim(Claim::Subject)),
        "platform-permission" => matches!(e, E::PlatformPermission),
        "malformed-json" => matches!(e, E::Malformed(Malformed::Claims)),
        "oversized" => matches!(e, E::TooLarge { .. }),
        "unknown-kid" => matches!(e, E::UnknownKey),
        "kid-injection" => matches!(e, E::InvalidKeyId),
        "embedded-jwk" => matches!(e, E::ForbiddenHeader { parameter: "jwk" }),
        "jku-header" => matches!(e, E::ForbiddenHeader { parameter: "jku" }),
        _ => false,
    }
}

fn hs256_kit() -> TokenKit {
    TokenKit::hs256(SECRET, ISS, AUD).unwrap()
}

fn kits() -> [TokenKit; 2] {
    [hs256_kit(), TokenKit::es256()]
}

fn tenant_ctx() -> TenantContext {
    TenantContext::tenant(
        TenantId::from_u128(0x0b6d_2f4e_8c1a_4b7e_9f3d_2a5c_6e7f_8a9b),
        SubjectId::from_u128(42),
        RoleName::member(),
        PermissionSet::parse(["leases:read", "leases:write"]).unwrap(),
    )
}

fn system_ctx() -> TenantContext {
    TenantContext::system(
        SubjectId::from_u128(7),
        RoleName::platform_admin(),
        PermissionSet::all(),
    )
}

/// Checks one attack against `validator`; the message names the attack.
fn check_refused(validator: &Validator, name: &str, token: &str) {
    match validator.verify(token) {
        Ok(_) => panic!("`{name}` got through"),
        Err(e) => {
            assert!(e.is_invalid_token(), "`{name}`: {e:?} is not a token fault");
            assert!(
                refused_as_expected(name, &e),
                "`{name}` refused for another reason: {e:?}"
            );
        }
    }
}

#[test]
fn every_attack_is_refused_for_the_reason_it_tries() {
    for kit in kits() {
        let validator = kit.validator();
        for ctx in [tenant_ctx(), system_ctx()] {
            // The context's own token passes, so each refusal is the attack's doing.
            assert_eq!(kit.context(&kit.token(&ctx)).unwrap(), ctx);
            for attack in kit.attacks(&ctx) {
                check_refused(&validator, attack.name, attack.token());
            }
        }
    }
}

#[test]
fn the_attacks_cover_the_catalogue() {
    for kit in kits() {
        let names: Vec<&str> = kit.attacks(&tenant_ctx()).iter().map(|a| a.name).collect();
        assert_eq!(names, CATALOGUE, "{kit:?}");
    }
}

#[test]
fn header_attacks_say_what_the_http_layer_sees() {
    let kit = hs256_kit();
    let attacks = kit.attacks(&tenant_ctx());
    let by_name = |name: &str| attacks.iter().find(|a| a.name == name).unwrap();
    assert_eq!(by_name("no-header").authorization, None);
    assert_eq!(
        by_name("empty-bearer").authorization.as_deref(),
        Some("Bearer ")
    );
    let basic = by_name("basic-scheme");
    assert!(
        basic
            .authorization
            .as_deref()
            .unwrap()
            .starts_with("Basic ")
    );
    assert_eq!(basic.bearer(), None);
    // A valid token under the wrong scheme: only the scheme is wrong.
    let valid = basic
        .authorization
        .as_deref()
        .unwrap()
        .strip_prefix("Basic ");
    assert_eq!(kit.context(valid.unwrap()).unwrap(), tenant_ctx());
    for attack in &attacks {
        if !matches!(attack.name, "no-header" | "basic-scheme") {
            assert!(attack.bearer().is_some(), "{}", attack.name);
        }
    }
}

#[test]
fn forged_claims_reach_for_another_tenant_or_more_power() {
    let kit = TokenKit::es256();
    let ctx = tenant_ctx();
    let attacks = kit.attacks(&ctx);
    let claims = |name: &str| {
        let attack = attacks.iter().find(|a| a.name == name).unwrap();
        let payload = attack.token().split('.').nth(1).unwrap();
        let json = base64_url_decode(payload);
        serde_json::from_slice::<serde_json::Value>(&json).unwrap()
    };
    let own = ctx.tenant_id().unwrap().to_string();
    assert_ne!(claims("forged-tenant-claim")["tenant_id"], own.as_str());
    assert_eq!(claims("forged-role-claim")["role"], "admin");
    assert_eq!(
        claims("forged-permission-claim")["permissions"],
        serde_json::json!(["audit:*", "users:*"])
    );
    assert_eq!(claims("forged-scope-claim")["scope"], "system");
    assert_eq!(claims("forged-scope-claim")["role"], "platform-admin");
}

fn base64_url_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

#[test]
fn hs256_kit_refuses_a_short_secret_and_an_empty_issuer() {
    assert!(matches!(
        TokenKit::hs256(&SECRET[..31], ISS, AUD),
        Err(AuthError::Config(ConfigError::WeakSecret { bits: 248 }))
    ));
    assert!(matches!(
        TokenKit::hs256(SECRET, "", AUD),
        Err(AuthError::Config(ConfigError::MissingIssuer))
    ));
    let kit = hs256_kit();
    assert_eq!((kit.issuer(), kit.audience()), (ISS, AUD));
    assert_eq!((kit.algorithm(), kit.kid()), (Algorithm::HS256, None));
}

#[test]
fn es256_kit_signs_under_its_kid_for_its_issuer() {
    let kit = TokenKit::es256();
    assert_eq!((kit.issuer(), kit.audience()), (TEST_ISSUER, TEST_AUDIENCE));
    assert_eq!(
        (kit.algorithm(), kit.kid()),
        (Algorithm::ES256, Some(ES256_KID))
    );
    let verified = kit.validator().verify(&kit.token(&tenant_ctx())).unwrap();
    assert_eq!(verified.key_id(), Some(ES256_KID));
    assert_eq!(verified.issuer(), TEST_ISSUER);
}

#[test]
fn a_service_validator_trusting_the_kit_key_accepts_kit_tokens() {
    let kit = TokenKit::es256();
    let service = Validator::builder()
        .issuer(TEST_ISSUER)
        .audience(TEST_AUDIENCE)
        .key(None, kit.verification_key())
        .build()
        .unwrap();
    let verified = service.verify(&kit.token(&tenant_ctx())).unwrap();
    assert_eq!(
        verified.to_context(&RoleRegistry::with_builtins()).unwrap(),
        tenant_ctx()
    );
    // And an HS256 kit's tokens are not its.
    let foreign = hs256_kit().token(&tenant_ctx());
    assert!(service.verify(&foreign).is_err());
}

#[test]
fn tokens_last_five_minutes_on_the_kits_clock() {
    let clock = Arc::new(ManualWallClock::at(Duration::from_secs(1_800_000_000)));
    let kit = hs256_kit().with_clock(clock.clone());
    assert_eq!(kit.now(), 1_800_000_000);
    let token = kit.token(&tenant_ctx());
    let verified = kit.validator().verify(&token).unwrap();
    assert_eq!(verified.issued_at(), 1_800_000_000);
    assert_eq!(
        verified.expires_at() - verified.issued_at(),
        TOKEN_LIFETIME.as_secs()
    );
    clock.advance(TOKEN_LIFETIME + DEFAULT_LEEWAY);
    assert!(kit.validator().verify(&token).is_ok());
    clock.advance(Duration::from_secs(1));
    assert!(matches!(
        kit.validator().verify(&token),
        Err(AuthError::Expired)
    ));
}

#[test]
fn a_context_acting_for_a_tenant_gets_no_token() {
    let audit = tenancy_core::MemoryAuditSink::default();
    let acting = system_ctx()
        .act_for_tenant(TenantId::from_u128(1), "support case", &audit)
        .unwrap();
    assert!(matches!(
        hs256_kit().try_token(&acting),
        Err(AuthError::ScopeMismatch)
    ));
}

#[test]
fn permissions_no_claim_can_state_fall_back_to_the_role() {
    // A tenant context with every permission holds `*:*` minus `system:*`,
    // which no list of grants states: the token names the role only.
    let kit = hs256_kit();
    let ctx = TenantContext::tenant(
        TenantId::from_u128(1),
        SubjectId::from_u128(2),
        RoleName::viewer(),
        PermissionSet::all(),
    );
    let verified = kit.validator().verify(&kit.token(&ctx)).unwrap();
    assert_eq!(verified.permissions(), None);
    let viewer = RoleRegistry::with_builtins();
    let viewer = viewer.permissions(&RoleName::viewer()).unwrap();
    assert_eq!(kit.context(&kit.token(&ctx)).unwrap().permissions(), viewer);
}

fn custom_roles() -> RoleRegistry {
    let mut roles = RoleRegistry::with_builtins();
    roles
        .define(
            Role::tenant(
                RoleName::parse("leasing-agent").unwrap(),
                PermissionSet::parse(["leases:sign", "tenants:read"]).unwrap(),
            )
            .inherit(RoleName::viewer()),
        )
        .unwrap();
    roles
}

#[test]
fn issuable_contexts_reach_every_shape() {
    use proptest::strategy::ValueTree;
    let roles = custom_roles();
    let strategy = issuable_context(&roles);
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let contexts: Vec<TenantContext> = (0..300)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect();
    let granted = |ctx: &TenantContext| roles.permissions(ctx.role()).unwrap().clone();
    assert!(contexts.iter().any(|c| c.tenant_id().is_none()));
    assert!(contexts.iter().any(|c| *c.permissions() == granted(c)));
    assert!(contexts.iter().any(|c| c.permissions().is_empty()));
    // Narrowed to some, not all, of what the role grants.
    assert!(contexts.iter().any(|c| {
        let narrowed = c.permissions();
        !narrowed.is_empty() && *narrowed != granted(c) && narrowed.is_subset(&granted(c))
    }));
    assert!(
        contexts
            .iter()
            .any(|c| c.role().as_str() == "leasing-agent"
                && c.allows(&"leases:sign".parse().unwrap()))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_valid_token_verifies_into_exactly_its_context(
        (ctx, token) in valid_token(hs256_kit().with_roles(custom_roles()))
    ) {
        let kit = hs256_kit().with_roles(custom_roles());
        let verified = kit.validator().verify(&token).unwrap();
        prop_assert_eq!(verified.tenant_id(), ctx.tenant_id());
        prop_assert_eq!(verified.subject(), ctx.subject());
        prop_assert_eq!(verified.role(), ctx.role());
        let back = verified.to_context(kit.roles()).unwrap();
        prop_assert_eq!(back.permissions(), ctx.permissions());
        prop_assert_eq!(back, ctx);
    }

    #[test]
    fn a_valid_es256_token_verifies_into_exactly_its_context(
        (ctx, token) in valid_token(TokenKit::es256())
    ) {
        prop_assert_eq!(TokenKit::es256().context(&token).unwrap(), ctx);
    }

    #[test]
    fn no_drawn_attack_gets_through(
        attack in attack_token(hs256_kit()),
    ) {
        check_refused(&hs256_kit().validator(), attack.name, attack.token());
    }

    #[test]
    fn no_drawn_attack_gets_through_the_es256_kit(
        attack in attack_token(TokenKit::es256()),
    ) {
        check_refused(&TokenKit::es256().validator(), attack.name, attack.token());
    }

    #[test]
    fn a_valid_token_verifies_into_exactly_its_context_under_any_registry(
        (roles, (ctx, token)) in role_registry().prop_flat_map(|roles| {
            (Just(roles.clone()), valid_token(hs256_kit().with_roles(roles)))
        })
    ) {
        prop_assert_eq!(hs256_kit().with_roles(roles).context(&token).unwrap(), ctx);
    }

    #[test]
    fn every_attack_on_any_issuable_context_is_refused(
        ctx in issuable_context(&custom_roles()),
    ) {
        let kit = hs256_kit().with_roles(custom_roles());
        let validator = kit.validator();
        for attack in kit.attacks(&ctx) {
            check_refused(&validator, attack.name, attack.token());
        }
    }
}

#[test]
fn a_kit_with_the_services_longer_maximum_aims_past_it() {
    let month = Duration::from_secs(30 * 24 * 3600);
    let lenient = hs256_kit().with_max_lifetime(month);
    let validator = lenient.validator();
    for attack in lenient.attacks(&tenant_ctx()) {
        check_refused(&validator, attack.name, attack.token());
    }
    // The default kit's over-long token is within a month: the service's
    // own maximum is what the attack must go past.
    let default = hs256_kit().attacks(&tenant_ctx());
    let too_long = default
        .iter()
        .find(|a| a.name == "lifetime-too-long")
        .unwrap();
    assert!(validator.verify(too_long.token()).is_ok());
}
