//! The layer asks the same admission a job worker asks: one decision for
//! HTTP requests and jobs.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use common::*;
use tenancy_admission::{AdmissionRequest, Refusal};
use tenancy_axum::problem::types;
use tenancy_core::*;

/// A refusal in the audit log, without its time.
type Refused = (
    AuditKind,
    Option<SubjectId>,
    String,
    Outcome,
    Option<String>,
);

/// The refusals of tenant 1 in the audit log.
fn refusals(w: &World) -> Vec<Refused> {
    w.audit
        .for_tenant(tenant_id(1))
        .into_iter()
        .filter(|e| e.outcome == Outcome::Denied)
        .map(|e| (e.kind, e.subject, e.action, e.outcome, e.reason))
        .collect()
}

#[tokio::test]
async fn a_suspended_tenant_refuses_its_requests_and_its_jobs_with_one_decision() {
    let w = World::new();
    let app = w.app();
    let admission = w.layer.admission();
    let token = w.token(1, RoleName::viewer());
    // What a job of the same subject holds: the context it was queued with.
    let job = TenantContext::tenant(
        tenant_id(1),
        SubjectId::from_u128(1001),
        RoleName::viewer(),
        PermissionSet::parse(["leases:read"]).unwrap(),
    );

    assert_eq!(get_as(&app, "/me", Some(&token)).await.status, 200);
    let admitted = admission.admit(AdmissionRequest::job(&job)).await.unwrap();
    assert_eq!(admitted.context(), &job);
    drop(admitted);

    w.dir.set_status(tenant_id(1), TenantStatus::Suspended);
    w.layer.cache().invalidate(tenant_id(1));

    let r = get_as(&app, "/me", Some(&token)).await;
    r.problem(403, types::TENANT_UNAVAILABLE);
    let refused = admission.admit(AdmissionRequest::job(&job)).await;
    assert!(
        matches!(
            refused,
            Err(Refusal::TenantUnavailable(Some(TenantStatus::Suspended)))
        ),
        "{refused:?}"
    );
    // One decision: the request and the job left the very same refusal in
    // the tenant's log.
    let refusals = refusals(&w);
    assert_eq!(refusals.len(), 2, "{refusals:?}");
    assert_eq!(refusals[0], refusals[1]);
    assert_eq!(refusals[0].2, "tenant.status");
    assert_eq!(refusals[0].4.as_deref(), Some("tenant is suspended"));

    // Active again: both pass again.
    w.dir.set_status(tenant_id(1), TenantStatus::Active);
    w.layer.cache().invalidate(tenant_id(1));
    assert_eq!(get_as(&app, "/me", Some(&token)).await.status, 200);
    assert!(admission.admit(AdmissionRequest::job(&job)).await.is_ok());
}

#[tokio::test]
async fn a_job_never_holds_more_than_its_role_grants_today() {
    let w = World::new();
    let admission = w.layer.admission();
    let stored = TenantContext::tenant(
        tenant_id(2),
        SubjectId::from_u128(7),
        RoleName::viewer(),
        PermissionSet::parse(["leases:read", "leases:write"]).unwrap(),
    );
    let admitted = admission
        .admit(AdmissionRequest::job(&stored))
        .await
        .unwrap();
    let ctx = admitted.context();
    assert!(ctx.allows(&"leases:read".parse().unwrap()));
    // The viewer role does not grant it, whatever the job was queued with.
    assert!(!ctx.allows(&"leases:write".parse().unwrap()));
    // A job is not metered unless asked: no concurrency slot is held.
    assert_eq!(w.layer.limits().in_flight(tenant_id(2)), 0);
    let metered = admission
        .admit(AdmissionRequest::job(&stored).metered(true))
        .await
        .unwrap();
    assert_eq!(w.layer.limits().in_flight(tenant_id(2)), 1);
    drop(metered);
    assert_eq!(w.layer.limits().in_flight(tenant_id(2)), 0);
}
