//! The admission decision, without any transport.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::sync::Arc;
use std::time::Duration;

use tenancy_admission::{Admission, AdmissionRequest, MemoryDirectory, Refusal, TenantRecord};
use tenancy_auth::{AuthError, Issuer, IssuerRouter, Validator};
use tenancy_core::{
    MemoryAuditSink, PermissionSet, Plan, PlanOverrides, RateQuota, RoleName, SubjectId,
    TenantContext, TenantId, TenantStatus,
};

const AUD: &str = "leases";
const PLATFORM: &str = "https://id.example.com";
const PLATFORM_SECRET: &[u8] = b"the platform's hs256 secret, 32 bytes+";
const ACME_IDP: &str = "https://sso.acme.example";
const ACME_SECRET: &[u8] = b"acme's own idp hs256 secret, 32 bytes+";

fn tenant(i: u128) -> TenantId {
    TenantId::from_u128(i)
}

fn directory() -> Arc<MemoryDirectory> {
    let plan = Plan::new("free", RateQuota::per_second(100, 100), 4);
    let directory = Arc::new(MemoryDirectory::new());
    for (i, slug) in [(1, "acme"), (2, "globex")] {
        directory.insert(TenantRecord::new(
            tenant(i),
            slug.parse().unwrap(),
            TenantStatus::Active,
            plan.entitlements(&PlanOverrides::default()),
        ));
    }
    directory
}

fn member_of(t: u128) -> TenantContext {
    TenantContext::tenant(
        tenant(t),
        SubjectId::from_u128(7),
        RoleName::member(),
        PermissionSet::all(),
    )
}

fn token(secret: &[u8], issuer: &str, ctx: &TenantContext) -> String {
    Issuer::hs256(secret, issuer, AUD)
        .unwrap()
        .issue(ctx, Duration::from_secs(300))
        .unwrap()
}

/// A platform issuer for every tenant, and acme's own identity provider,
/// which speaks for acme only.
fn router() -> IssuerRouter {
    let platform = Validator::builder()
        .issuer(PLATFORM)
        .audience(AUD)
        .hs256_secret(PLATFORM_SECRET)
        .build()
        .unwrap();
    let acme_idp = Validator::builder()
        .issuer(ACME_IDP)
        .audience(AUD)
        .hs256_secret(ACME_SECRET)
        .for_tenant(tenant(1))
        .build()
        .unwrap();
    let mut router = IssuerRouter::new();
    router.add(Arc::new(platform)).unwrap();
    router.add(Arc::new(acme_idp)).unwrap();
    router
}

#[tokio::test]
async fn an_issuer_router_is_a_verifier_and_a_tenant_idp_speaks_only_for_its_tenant() {
    let audit = Arc::new(MemoryAuditSink::default());
    let admission = Admission::builder()
        .verifier(Arc::new(router()))
        .directory(directory())
        .audit(audit.clone())
        .build()
        .unwrap();
    let admit = |token: String| {
        let admission = &admission;
        async move {
            admission
                .admit(AdmissionRequest::bearer(&token))
                .await
                .map(|a| a.context().tenant_id())
        }
    };
    // The platform issuer speaks for any tenant; acme's for acme.
    let by_platform = admit(token(PLATFORM_SECRET, PLATFORM, &member_of(2))).await;
    assert_eq!(by_platform.unwrap(), Some(tenant(2)));
    let by_acme_idp = admit(token(ACME_SECRET, ACME_IDP, &member_of(1))).await;
    assert_eq!(by_acme_idp.unwrap(), Some(tenant(1)));
    // acme's identity provider minting a globex token is refused.
    let foreign = admit(token(ACME_SECRET, ACME_IDP, &member_of(2))).await;
    assert!(
        matches!(foreign, Err(Refusal::Credential(_))),
        "{foreign:?}"
    );
    // So is a token signed with acme's key that names the platform issuer.
    let forged = admit(token(ACME_SECRET, PLATFORM, &member_of(2))).await;
    assert!(
        matches!(forged, Err(Refusal::Credential(AuthError::BadSignature))),
        "{forged:?}"
    );
    assert_eq!(audit.events().len(), 2, "{:?}", audit.events());
}
