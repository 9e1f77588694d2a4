//! From verified claims to a `TenantContext`: scope, tenant, role and
//! permissions, and the issuer that mints them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use jsonwebtoken::Algorithm;
use serde_json::json;
use tenancy_auth::{AuthError, Claim, ClaimNames, IssueOptions, Issuer, VerificationKey};
use tenancy_core::{
    DiscardAuditSink, PermissionSet, Role, RoleName, RoleRegistry, Scope, SubjectId, TenantContext,
    TenantId,
};

fn roles() -> RoleRegistry {
    RoleRegistry::with_builtins()
}

fn tenant() -> TenantId {
    TENANT.parse().unwrap()
}

fn issuer() -> Issuer {
    Issuer::hs256(SECRET, ISS, AUD).unwrap().with_clock(clock())
}

#[test]
fn tenant_token_becomes_a_tenant_context() {
    let verified = validator().verify(&hs256(&claims())).unwrap();
    assert_eq!(verified.scope(), Scope::Tenant);
    assert_eq!(verified.subject().to_string(), SUBJECT);
    assert_eq!(verified.role(), &RoleName::member());
    assert_eq!(verified.permissions(), None);
    assert_eq!(verified.issued_at(), NOW - 10);
    assert_eq!(verified.expires_at(), NOW + 600);
    assert_eq!(verified.issuer(), ISS);
    let ctx = verified.to_context(&roles()).unwrap();
    assert_eq!(ctx.tenant_id(), Some(tenant()));
    assert_eq!(ctx.scope(), Scope::Tenant);
    assert!(ctx.allows(&"leases:write".parse().unwrap()));
    assert!(!ctx.allows(&"audit:read".parse().unwrap()));
}

#[test]
fn token_permissions_narrow_and_never_widen_the_role() {
    let token = hs256(&claims_with(|c| {
        c.insert("permissions".into(), json!(["leases:read", "audit:read"]));
    }));
    let ctx = validator()
        .verify(&token)
        .unwrap()
        .to_context(&roles())
        .unwrap();
    assert!(ctx.allows(&"leases:read".parse().unwrap()));
    // Granted by the role but not asked for by the token.
    assert!(!ctx.allows(&"leases:write".parse().unwrap()));
    // Asked for by the token but not granted by the member role.
    assert!(!ctx.allows(&"audit:read".parse().unwrap()));
}

#[test]
fn role_changes_apply_to_tokens_already_issued() {
    let token = hs256(&claims_with(|c| {
        c.insert("role".into(), json!("auditor"));
        c.insert("permissions".into(), json!(["audit:read", "leases:read"]));
    }));
    let verified = validator().verify(&token).unwrap();
    let mut roles = roles();
    assert!(matches!(
        verified.to_context(&roles),
        Err(AuthError::UnknownRole)
    ));
    roles
        .define(Role::tenant(
            RoleName::parse("auditor").unwrap(),
            PermissionSet::parse(["audit:read"]).unwrap(),
        ))
        .unwrap();
    let ctx = verified.to_context(&roles).unwrap();
    assert!(ctx.allows(&"audit:read".parse().unwrap()));
    assert!(!ctx.allows(&"leases:read".parse().unwrap()));
    // The tenant takes the grant away: today's role wins.
    roles
        .replace(Role::tenant(
            RoleName::parse("auditor").unwrap(),
            PermissionSet::empty(),
        ))
        .unwrap();
    let ctx = verified.to_context(&roles).unwrap();
    assert!(!ctx.allows(&"audit:read".parse().unwrap()));
}

#[test]
fn unknown_role_is_refused() {
    let token = hs256(&claims_with(|c| {
        c.insert("role".into(), json!("superuser"));
    }));
    let verified = validator().verify(&token).unwrap();
    let err = verified.to_context(&roles()).unwrap_err();
    assert!(matches!(err, AuthError::UnknownRole));
    assert!(err.is_invalid_token());
}

#[test]
fn tenant_token_cannot_use_a_system_role() {
    let token = hs256(&claims_with(|c| {
        c.insert("role".into(), json!("platform-admin"));
    }));
    let verified = validator().verify(&token).unwrap();
    assert!(matches!(
        verified.to_context(&roles()),
        Err(AuthError::ScopeMismatch)
    ));
}

#[test]
fn system_token_cannot_use_a_tenant_role() {
    let token = hs256(&claims_with(|c| {
        c.insert("scope".into(), json!("system"));
        c.remove("tenant_id");
        c.insert("role".into(), json!("admin"));
    }));
    let verified = validator().verify(&token).unwrap();
    assert!(matches!(
        verified.to_context(&roles()),
        Err(AuthError::ScopeMismatch)
    ));
}

#[test]
fn system_token_becomes_a_system_context_without_a_tenant() {
    let token = hs256(&claims_with(|c| {
        c.insert("scope".into(), json!("system"));
        c.remove("tenant_id");
        c.insert("role".into(), json!("platform-admin"));
        c.insert("permissions".into(), json!(["system:tenants"]));
    }));
    let verified = validator().verify(&token).unwrap();
    assert_eq!(verified.tenant_id(), None);
    let ctx = verified.to_context(&roles()).unwrap();
    assert_eq!(ctx.scope(), Scope::System);
    assert_eq!(ctx.tenant_id(), None);
    assert!(ctx.allows(&"system:tenants".parse().unwrap()));
    assert!(!ctx.allows(&"leases:read".parse().unwrap()));
}

#[test]
fn tenant_token_cannot_act_for_another_tenant() {
    let ctx = validator()
        .verify(&hs256(&claims()))
        .unwrap()
        .to_context(&roles())
        .unwrap();
    assert!(!ctx.is_for(OTHER_TENANT.parse().unwrap()));
    assert!(
        ctx.act_for_tenant(OTHER_TENANT.parse().unwrap(), "because", &DiscardAuditSink)
            .is_err()
    );
}

#[test]
fn camel_case_claim_names_work() {
    let v = builder()
        .hs256_secret(SECRET)
        .claim_names(ClaimNames::camel_case())
        .build()
        .unwrap();
    let camel = claims_with(|c| {
        let tenant = c.remove("tenant_id").unwrap();
        let role = c.remove("role").unwrap();
        let scope = c.remove("scope").unwrap();
        c.insert("tenantId".into(), tenant);
        c.insert("roleCode".into(), role);
        c.insert("subjectScope".into(), scope);
    });
    let verified = v.verify(&hs256(&camel)).unwrap();
    assert_eq!(verified.tenant_id(), Some(tenant()));
    assert_eq!(verified.role(), &RoleName::member());
    // The default names mean nothing to this validator.
    assert!(matches!(
        v.verify(&hs256(&claims())),
        Err(AuthError::MissingClaim(Claim::Scope))
    ));
    // And an issuer with the same mapping round-trips.
    let issuer = issuer().with_claim_names(ClaimNames::camel_case()).unwrap();
    let ctx = TenantContext::tenant(
        tenant(),
        SubjectId::from_u128(5),
        RoleName::viewer(),
        PermissionSet::all(),
    );
    let token = issuer.issue(&ctx, Duration::from_secs(60)).unwrap();
    assert_eq!(v.verify(&token).unwrap().role(), &RoleName::viewer());
}

#[test]
fn issued_tenant_token_round_trips() {
    let ctx = TenantContext::tenant(
        tenant(),
        SubjectId::from_u128(5),
        RoleName::member(),
        PermissionSet::parse(["leases:read"]).unwrap(),
    );
    let token = issuer().issue(&ctx, Duration::from_secs(300)).unwrap();
    let verified = validator().verify(&token).unwrap();
    assert_eq!(verified.expires_at(), NOW + 300);
    assert_eq!(verified.permissions(), None);
    // Without narrowing, the token grants what the role grants.
    let back = verified.to_context(&roles()).unwrap();
    assert!(back.allows(&"leases:write".parse().unwrap()));

    let narrowed = issuer()
        .issue_with(
            &ctx,
            Duration::from_secs(300),
            &IssueOptions::new().narrow().jti("j-1"),
        )
        .unwrap();
    let verified = validator().verify(&narrowed).unwrap();
    assert_eq!(verified.jti(), Some("j-1"));
    let back = verified.to_context(&roles()).unwrap();
    assert!(back.allows(&"leases:read".parse().unwrap()));
    assert!(!back.allows(&"leases:write".parse().unwrap()));
}

#[test]
fn issued_system_token_has_no_tenant_and_acting_contexts_are_not_issued() {
    let op = TenantContext::system(
        SubjectId::from_u128(9),
        RoleName::platform_admin(),
        PermissionSet::all(),
    );
    let token = issuer().issue(&op, Duration::from_secs(60)).unwrap();
    let verified = validator().verify(&token).unwrap();
    assert_eq!(verified.scope(), Scope::System);
    assert_eq!(verified.tenant_id(), None);
    let acting = op
        .act_for_tenant(tenant(), "ticket 1", &DiscardAuditSink)
        .unwrap();
    assert!(matches!(
        issuer().issue(&acting, Duration::from_secs(60)),
        Err(AuthError::ScopeMismatch)
    ));
}

#[test]
fn issuer_and_validator_agree_for_every_algorithm() {
    let ctx = TenantContext::tenant(
        tenant(),
        SubjectId::from_u128(5),
        RoleName::member(),
        PermissionSet::all(),
    );
    let cases: Vec<(Algorithm, &[u8], VerificationKey)> = vec![
        (
            Algorithm::RS256,
            RSA_PRIVATE,
            VerificationKey::rsa_pem(Algorithm::RS256, RSA_PUBLIC).unwrap(),
        ),
        (
            Algorithm::RS384,
            RSA_PRIVATE,
            VerificationKey::rsa_pem(Algorithm::RS384, RSA_PUBLIC).unwrap(),
        ),
        (
            Algorithm::RS512,
            RSA_PRIVATE,
            VerificationKey::rsa_pem(Algorithm::RS512, RSA_PUBLIC).unwrap(),
        ),
        (
            Algorithm::PS256,
            RSA_PRIVATE,
            VerificationKey::rsa_pem(Algorithm::PS256, RSA_PUBLIC).unwrap(),
        ),
        (
            Algorithm::PS384,
            RSA_PRIVATE,
            VerificationKey::rsa_pem(Algorithm::PS384, RSA_PUBLIC).unwrap(),
        ),
        (
            Algorithm::PS512,
            RSA_PRIVATE,
            VerificationKey::rsa_pem(Algorithm::PS512, RSA_PUBLIC).unwrap(),
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
    ];
    for (alg, private, public) in cases {
        let issuer = Issuer::from_pem(alg, private, ISS, AUD)
            .unwrap()
            .with_kid("k")
            .unwrap()
            .with_clock(clock());
        let token = issuer.issue(&ctx, Duration::from_secs(60)).unwrap();
        let v = builder().key(Some("k"), public).build().unwrap();
        let verified = v.verify(&token).unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(verified.key_id(), Some("k"));
        assert_eq!(verified.tenant_id(), Some(tenant()));
    }
    for bits in [384usize, 512] {
        let alg = if bits == 384 {
            Algorithm::HS384
        } else {
            Algorithm::HS512
        };
        let secret = vec![3u8; bits / 8];
        let issuer = Issuer::new(
            alg,
            jsonwebtoken::EncodingKey::from_secret(&secret),
            ISS,
            AUD,
        )
        .unwrap()
        .with_clock(clock());
        let v = builder()
            .key(None, VerificationKey::hmac(alg, &secret).unwrap())
            .build()
            .unwrap();
        assert!(
            v.verify(&issuer.issue(&ctx, Duration::from_secs(60)).unwrap())
                .is_ok()
        );
    }
}

#[test]
fn rsa_key_may_allow_both_padding_schemes_when_asked() {
    let key = VerificationKey::rsa_pem(Algorithm::RS256, RSA_PUBLIC)
        .unwrap()
        .also_allow(Algorithm::PS256)
        .unwrap();
    let v = builder().key(Some("k"), key).build().unwrap();
    let ctx = TenantContext::tenant(
        tenant(),
        SubjectId::from_u128(5),
        RoleName::member(),
        PermissionSet::all(),
    );
    for alg in [Algorithm::RS256, Algorithm::PS256] {
        let token = Issuer::from_pem(alg, RSA_PRIVATE, ISS, AUD)
            .unwrap()
            .with_kid("k")
            .unwrap()
            .with_clock(clock())
            .issue(&ctx, Duration::from_secs(60))
            .unwrap();
        assert!(v.verify(&token).is_ok(), "{alg:?}");
    }
    let rs512 = Issuer::from_pem(Algorithm::RS512, RSA_PRIVATE, ISS, AUD)
        .unwrap()
        .with_kid("k")
        .unwrap()
        .with_clock(clock())
        .issue(&ctx, Duration::from_secs(60))
        .unwrap();
    assert!(matches!(
        v.verify(&rs512),
        Err(AuthError::AlgorithmNotAllowed)
    ));
}

#[test]
fn configuration_errors_are_not_token_faults() {
    let short = builder().hs256_secret(&[1u8; 31]).build().unwrap_err();
    assert!(matches!(
        short,
        AuthError::Config(tenancy_auth::ConfigError::WeakSecret { bits: 248 })
    ));
    assert!(!short.is_invalid_token());
    assert!(
        tenancy_auth::Validator::builder()
            .audience(AUD)
            .hs256_secret(SECRET)
            .build()
            .is_err()
    );
    assert!(
        tenancy_auth::Validator::builder()
            .issuer(ISS)
            .hs256_secret(SECRET)
            .build()
            .is_err()
    );
    assert!(builder().build().is_err());
    assert!(
        builder()
            .hs256_secret(SECRET)
            .leeway(Duration::from_secs(3600))
            .build()
            .is_err()
    );
    assert!(
        builder()
            .hs256_secret(SECRET)
            .claim_names(ClaimNames::default().with(Claim::Role, "sub"))
            .build()
            .is_err()
    );
    assert!(Issuer::hs256(&[1u8; 16], ISS, AUD).is_err());
    assert!(Issuer::from_pem(Algorithm::ES256, RSA_PRIVATE, ISS, AUD).is_err());
}

#[test]
fn per_tenant_issuer_speaks_only_for_its_tenant() {
    let acme_secret = [4u8; 32];
    let acme_idp = Arc::new(
        builder()
            .issuer("https://sso.acme.example")
            .key(None, VerificationKey::hs256(&acme_secret).unwrap())
            .for_tenant(tenant())
            .build()
            .unwrap(),
    );
    let platform = Arc::new(validator());
    let mut router = tenancy_auth::IssuerRouter::new();
    router.add(Arc::clone(&platform)).unwrap();
    router.add(Arc::clone(&acme_idp)).unwrap();

    let acme_issuer = Issuer::hs256(&acme_secret, "https://sso.acme.example", AUD)
        .unwrap()
        .with_clock(clock());
    let member = |t: TenantId| {
        TenantContext::tenant(
            t,
            SubjectId::from_u128(5),
            RoleName::member(),
            PermissionSet::all(),
        )
    };
    let own = acme_issuer
        .issue(&member(tenant()), Duration::from_secs(60))
        .unwrap();
    assert_eq!(
        router.verify(&own).unwrap().issuer(),
        "https://sso.acme.example"
    );
    // The tenant's identity provider tries to speak for another tenant...
    let other = acme_issuer
        .issue(
            &member(OTHER_TENANT.parse().unwrap()),
            Duration::from_secs(60),
        )
        .unwrap();
    assert!(matches!(
        router.verify(&other),
        Err(AuthError::ScopeMismatch)
    ));
    // ... or for the platform.
    let system = acme_issuer
        .issue(
            &TenantContext::system(
                SubjectId::from_u128(5),
                RoleName::platform_admin(),
                PermissionSet::all(),
            ),
            Duration::from_secs(60),
        )
        .unwrap();
    assert!(matches!(
        router.verify(&system),
        Err(AuthError::ScopeMismatch)
    ));
    // A token naming the platform issuer but signed with the tenant's key.
    let forged = Issuer::hs256(&acme_secret, ISS, AUD)
        .unwrap()
        .with_clock(clock())
        .issue(
            &member(OTHER_TENANT.parse().unwrap()),
            Duration::from_secs(60),
        )
        .unwrap();
    assert!(matches!(
        router.verify(&forged),
        Err(AuthError::BadSignature)
    ));
    // An issuer nobody configured.
    let stranger = Issuer::hs256(&acme_secret, "https://stranger.example", AUD)
        .unwrap()
        .with_clock(clock())
        .issue(&member(tenant()), Duration::from_secs(60))
        .unwrap();
    assert!(matches!(
        router.verify(&stranger),
        Err(AuthError::WrongIssuer)
    ));
}

#[test]
fn narrowing_never_writes_a_wider_claim_than_the_context() {
    // A member context carries `*:read` and `*:write` minus `audit:*`: as a
    // list of grants that would be wider, so it is refused.
    let member = TenantContext::tenant(
        tenant(),
        SubjectId::from_u128(5),
        RoleName::member(),
        roles().permissions(&RoleName::member()).unwrap().clone(),
    );
    let err = issuer()
        .issue_with(
            &member,
            Duration::from_secs(60),
            &IssueOptions::new().narrow(),
        )
        .unwrap_err();
    assert!(matches!(
        err,
        AuthError::Config(tenancy_auth::ConfigError::PermissionsNotExpressible)
    ));
    // Without narrowing it is fine: the role decides at verification.
    assert!(issuer().issue(&member, Duration::from_secs(60)).is_ok());
    // A plain list narrows.
    let plain = TenantContext::tenant(
        tenant(),
        SubjectId::from_u128(5),
        RoleName::member(),
        PermissionSet::parse(["leases:read", "units:*"]).unwrap(),
    );
    let token = issuer()
        .issue_with(
            &plain,
            Duration::from_secs(60),
            &IssueOptions::new().narrow(),
        )
        .unwrap();
    let verified = validator().verify(&token).unwrap();
    assert_eq!(
        verified.permissions(),
        Some(&PermissionSet::parse(["leases:read", "units:*"]).unwrap())
    );
}
