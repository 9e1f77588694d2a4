//! Operators acting for a tenant (issue 12, items 5 and 8): acting passes
//! the tenant's own admission (status, rate, concurrency), and the reason is
//! bounded. Each test is named after the attack it tries.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "helpers fail the test loudly"
)]

mod common;

use axum::body::Body;
use common::*;
use tenancy_axum::problem::types;
use tenancy_axum::{ACT_FOR_HEADER, ACT_REASON_HEADER};
use tenancy_core::*;
use tower::ServiceExt;

/// The acting header naming that the operator means to act for a
/// suspended tenant (spelt out, so a renamed constant is noticed here).
const ACT_SUSPENDED: &str = "tenancy-act-suspended";

fn acting(w: &World, uri: &str, tenant: u128, reason: &str) -> axum::http::request::Builder {
    request("GET", uri, Some(&w.system_token()))
        .header(ACT_FOR_HEADER, tenant_id(tenant).to_string())
        .header(ACT_REASON_HEADER, reason)
}

async fn act(w: &World, tenant: u128, reason: &str) -> Reply {
    send(
        &w.app(),
        acting(w, "/support/me", tenant, reason)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

// ---- item 5: operator acting passes the tenant's admission ----

#[tokio::test]
async fn operator_acting_for_a_deleted_or_decommissioning_tenant_is_refused_like_its_own_requests()
{
    let w = World::new();
    for (i, status) in [
        (10, TenantStatus::Deleted),
        (11, TenantStatus::Decommissioning),
        (12, TenantStatus::Provisioning),
    ] {
        w.add_tenant(i, status, plan(1000, 1000, 10));
        let own = get_as(&w.app(), "/me", Some(&w.token(i, RoleName::admin()))).await;
        let own = own.problem(403, types::TENANT_UNAVAILABLE);
        // Naming the suspended intent changes nothing for these states.
        let r = send(
            &w.app(),
            acting(&w, "/support/me", i, "ticket 1")
                .header(ACT_SUSPENDED, "true")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.problem(403, types::TENANT_UNAVAILABLE), own, "{status}");
        let r = act(&w, i, "ticket 1").await;
        assert_eq!(r.problem(403, types::TENANT_UNAVAILABLE), own, "{status}");
        let events = w.audit.for_tenant(tenant_id(i));
        assert!(
            events.iter().all(|e| e.kind != AuditKind::SystemAccess),
            "{status}: {events:?}"
        );
        // Each refusal is audited in the tenant's log, the operator's named.
        let operator = events
            .iter()
            .filter(|e| e.subject == Some(SubjectId::from_u128(9)))
            .collect::<Vec<_>>();
        assert_eq!(operator.len(), 2, "{status}: {events:?}");
        assert!(
            operator
                .iter()
                .all(|e| e.action == "tenant.status" && e.outcome == Outcome::Denied),
            "{events:?}"
        );
    }
}

#[tokio::test]
async fn operator_acting_for_a_suspended_tenant_without_naming_the_intent_is_refused() {
    let w = World::new();
    w.add_tenant(13, TenantStatus::Suspended, plan(1000, 1000, 10));
    act(&w, 13, "ticket 2")
        .await
        .problem(403, types::TENANT_UNAVAILABLE);
    // A value other than `true` names no intent, and is refused as unclear.
    let r = send(
        &w.app(),
        acting(&w, "/support/me", 13, "ticket 2")
            .header(ACT_SUSPENDED, "yes")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    r.problem(400, types::ACTING_REFUSED);
    let events = w.audit.for_tenant(tenant_id(13));
    assert!(events.iter().all(|e| e.kind != AuditKind::SystemAccess));
}

#[tokio::test]
async fn operator_acting_for_a_suspended_tenant_naming_the_intent_is_allowed_and_audited() {
    let w = World::new();
    w.add_tenant(14, TenantStatus::Suspended, plan(1000, 1000, 10));
    let r = send(
        &w.app(),
        acting(&w, "/support/me", 14, "refund, ticket 3")
            .header(ACT_SUSPENDED, "true")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["acting"], true);
    let events = w.audit.for_tenant(tenant_id(14));
    let suspended = events
        .iter()
        .find(|e| e.action == "system.act_for_suspended_tenant")
        .unwrap_or_else(|| panic!("no suspended-intent event: {events:?}"));
    assert_eq!(suspended.kind, AuditKind::SystemAccess);
    assert_eq!(suspended.outcome, Outcome::Allowed);
    assert_eq!(suspended.subject, Some(SubjectId::from_u128(9)));
    assert_eq!(suspended.reason.as_deref(), Some("refund, ticket 3"));
    assert!(
        events
            .iter()
            .any(|e| e.action == "system.act_for_tenant" && e.outcome == Outcome::Allowed)
    );
    // The tenant's own users stay refused.
    get_as(&w.app(), "/me", Some(&w.token(14, RoleName::admin())))
        .await
        .problem(403, types::TENANT_UNAVAILABLE);
    // The intent on an active tenant is no event of its own.
    let r = send(
        &w.app(),
        acting(&w, "/support/me", 2, "ticket 4")
            .header(ACT_SUSPENDED, "true")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let events = w.audit.for_tenant(tenant_id(2));
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].action, "system.act_for_tenant");
}

#[tokio::test]
async fn operator_acting_takes_a_concurrency_slot_so_a_drain_waits_for_it() {
    let w = World::new();
    w.add_tenant(15, TenantStatus::Active, plan(1000, 1000, 1));
    let app = w.app();
    let in_flight = || w.layer.limits().in_flight(tenant_id(15));

    // The handler has answered, the body is not sent yet: the operator is
    // still in flight, and the tenant's one slot is taken.
    let response = app
        .clone()
        .oneshot(
            acting(&w, "/support/me", 15, "ticket 5")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(in_flight(), 1);
    get_as(&app, "/me", Some(&w.token(15, RoleName::viewer())))
        .await
        .problem(429, types::TOO_MANY_CONCURRENT);
    // A second operator waits like anyone else.
    act(&w, 15, "ticket 6")
        .await
        .problem(429, types::TOO_MANY_CONCURRENT);
    drop(response);
    assert_eq!(in_flight(), 0);
    assert_eq!(act(&w, 15, "ticket 7").await.status, 200);
    assert_eq!(in_flight(), 0);
}

#[tokio::test]
async fn operator_acting_spends_the_tenants_rate_like_its_own_requests() {
    let w = World::new();
    w.add_tenant(16, TenantStatus::Active, plan(1, 2, 100));
    assert_eq!(act(&w, 16, "ticket 8").await.status, 200);
    assert_eq!(act(&w, 16, "ticket 8").await.status, 200);
    let r = act(&w, 16, "ticket 8").await;
    r.problem(429, types::RATE_LIMITED);
    assert!(r.headers.contains_key("retry-after"));
    let limited = w.audit.for_tenant(tenant_id(16));
    assert!(
        limited
            .iter()
            .any(|e| e.kind == AuditKind::Limited && e.subject == Some(SubjectId::from_u128(9))),
        "{limited:?}"
    );
}
// ---- item 8: the act-for reason is bounded and printable ----

#[tokio::test]
async fn act_for_reason_of_60000_bytes_is_refused() {
    let w = World::new();
    act(&w, 2, &"r".repeat(60_000))
        .await
        .problem(400, types::ACTING_REFUSED);
    // 512 bytes, after trimming, are the most a reason may hold.
    act(&w, 2, &"r".repeat(513))
        .await
        .problem(400, types::ACTING_REFUSED);
    assert!(w.audit.for_tenant(tenant_id(2)).is_empty());
    let longest = "r".repeat(512);
    assert_eq!(act(&w, 2, &format!("  {longest}  ")).await.status, 200);
    let events = w.audit.for_tenant(tenant_id(2));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].reason.as_deref(), Some(longest.as_str()));
}

#[tokio::test]
async fn act_for_reason_with_control_characters_is_refused() {
    let w = World::new();
    for reason in ["ticket\t9", "ticket 9\u{85}forged line", "a\u{2028}b"] {
        let value = axum::http::HeaderValue::from_bytes(reason.as_bytes()).unwrap();
        let r = send(
            &w.app(),
            request("GET", "/support/me", Some(&w.system_token()))
                .header(ACT_FOR_HEADER, tenant_id(2).to_string())
                .header(ACT_REASON_HEADER, value)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        r.problem(400, types::ACTING_REFUSED);
    }
    assert!(w.audit.for_tenant(tenant_id(2)).is_empty());
    // Printable UTF-8 is a reason.
    let value = axum::http::HeaderValue::from_bytes("Rückerstattung #10".as_bytes()).unwrap();
    let r = send(
        &w.app(),
        request("GET", "/support/me", Some(&w.system_token()))
            .header(ACT_FOR_HEADER, tenant_id(2).to_string())
            .header(ACT_REASON_HEADER, value)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let events = w.audit.for_tenant(tenant_id(2));
    assert_eq!(events[0].reason.as_deref(), Some("Rückerstattung #10"));
}
