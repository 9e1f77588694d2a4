//! Adversarial isolation: roles against routes, tenants against each other,
//! scopes against routes, hosts and paths against tokens.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "helpers fail the test loudly"
)]

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use common::*;
use tenancy_axum::problem::types;
use tenancy_axum::{ACT_FOR_HEADER, ACT_REASON_HEADER, TenantResolver};
use tenancy_core::*;

/// (method, uri, body) of each guarded route.
const ROUTES: [(&str, &str, Option<&str>); 5] = [
    ("GET", "/leases", None),
    ("POST", "/leases", Some(r#"{"unit":"4B","rent":900}"#)),
    ("DELETE", "/leases/4", None),
    ("GET", "/audit", None),
    ("GET", "/system/tenants", None),
];

async fn check(w: &World, token: &str, expected: [u16; 5], who: &str) {
    let app = w.app();
    for ((method, uri, body), want) in ROUTES.iter().zip(expected) {
        let mut b = request(method, uri, Some(token));
        if body.is_some() {
            b = b.header("content-type", "application/json");
        }
        let r = send(
            &app,
            b.body(body.map_or(Body::empty(), Body::from)).unwrap(),
        )
        .await;
        assert_eq!(r.status.as_u16(), want, "{who} {method} {uri}: {}", r.text);
        if want == 403 {
            let v = r.json();
            assert!(
                v["type"] == types::MISSING_PERMISSION || v["type"] == types::WRONG_SCOPE,
                "{v}"
            );
        }
    }
}

#[tokio::test]
async fn permission_matrix_of_each_builtin_role() {
    let w = World::new();
    check(
        &w,
        &w.token(1, RoleName::admin()),
        [200, 201, 204, 200, 403],
        "admin",
    )
    .await;
    check(
        &w,
        &w.token(1, RoleName::member()),
        [200, 201, 403, 403, 403],
        "member",
    )
    .await;
    check(
        &w,
        &w.token(1, RoleName::viewer()),
        [200, 403, 403, 403, 403],
        "viewer",
    )
    .await;
    check(
        &w,
        &w.system_token(),
        [403, 403, 403, 403, 200],
        "platform-admin",
    )
    .await;
}

#[tokio::test]
async fn system_token_on_a_tenant_route_is_wrong_scope() {
    let w = World::new();
    let v = get_as(&w.app(), "/me", Some(&w.system_token()))
        .await
        .problem(403, types::WRONG_SCOPE);
    assert_eq!(v["detail"], "this route needs a tenant-scope token");
    let denied = w.audit.events();
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].tenant, None);
    assert_eq!(denied[0].subject, Some(SubjectId::from_u128(9)));
}

#[tokio::test]
async fn tenant_admin_token_on_a_system_route_is_wrong_scope() {
    let w = World::new();
    get_as(
        &w.app(),
        "/system/tenants",
        Some(&w.token(1, RoleName::admin())),
    )
    .await
    .problem(403, types::WRONG_SCOPE);
    assert_eq!(w.audit.for_tenant(tenant_id(1)).len(), 1);
}

#[tokio::test]
async fn twenty_tenants_concurrently_each_see_only_their_own_context() {
    let w = World::new();
    for i in 10..30 {
        w.add_tenant(i, TenantStatus::Active, plan(100_000, 100_000, 1_000));
    }
    let app = w.app();
    let tasks: Vec<_> = (10..30u128)
        .map(|i| {
            let (app, token) = (app.clone(), w.token(i, RoleName::member()));
            tokio::spawn(async move {
                for _ in 0..25 {
                    let r = get_as(&app, "/me", Some(&token)).await;
                    assert_eq!(r.status, 200);
                    let v = r.json();
                    assert_eq!(v["slug"], slug(i).as_str());
                    assert_eq!(v["subject"], SubjectId::from_u128(1000 + i).to_string());
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test]
async fn tenant_header_is_not_trusted() {
    let w = World::new();
    // A tenant token naming another tenant in the operators' act-for header
    // still sees only its own tenant.
    let r = send(
        &w.app(),
        request("GET", "/support/me", Some(&w.token(1, RoleName::admin())))
            .header(ACT_FOR_HEADER, tenant_id(2).to_string())
            .header(ACT_REASON_HEADER, "let me in")
            .header("x-tenant-id", tenant_id(2).to_string())
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["slug"], "tenant-1");
    assert_eq!(r.json()["acting"], false);
}

#[tokio::test]
async fn path_slug_of_another_tenant_is_403_and_a_cross_tenant_event() {
    let w = World::with(|b| b.resolver(TenantResolver::path_prefix("/t/")));
    let app = w.app();
    let token = w.token(1, RoleName::admin());
    let ok = get_as(&app, "/t/tenant-1/me", Some(&token)).await;
    assert_eq!(ok.status, 200);
    for uri in ["/t/tenant-2/me", "/t/no-such-tenant/me", "/t/INVALID/me"] {
        get_as(&app, uri, Some(&token))
            .await
            .problem(403, types::TENANT_MISMATCH);
    }
    let attempts: Vec<_> = w
        .audit
        .for_tenant(tenant_id(1))
        .into_iter()
        .filter(|e| e.kind == AuditKind::CrossTenantAttempt)
        .collect();
    assert_eq!(attempts.len(), 3);
    // Filed in the attacker's log, never in the target's.
    assert!(w.audit.for_tenant(tenant_id(2)).is_empty());
    // Routes outside the prefix resolve nothing: the token decides.
    assert_eq!(get_as(&app, "/me", Some(&token)).await.status, 200);
}

async fn with_host(w: &World, host: &str, token: &str) -> Reply {
    send(
        &w.app(),
        request("GET", "/me", Some(token))
            .header("host", host)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn subdomain_of_another_tenant_is_403() {
    let w = World::with(|b| b.resolver(TenantResolver::host("leases.test")));
    let token = w.token(1, RoleName::member());
    assert_eq!(
        with_host(&w, "tenant-1.leases.test", &token).await.status,
        200
    );
    assert_eq!(
        with_host(&w, "tenant-1.leases.test:8443", &token)
            .await
            .status,
        200
    );
    assert_eq!(with_host(&w, "leases.test", &token).await.status, 200);
    for host in [
        "tenant-2.leases.test",
        "tenant-1.leases.test.evil.example",
        "x.tenant-1.leases.test",
        "evil.example",
    ] {
        with_host(&w, host, &token)
            .await
            .problem(403, types::TENANT_MISMATCH);
    }
    assert_eq!(
        w.audit
            .for_tenant(tenant_id(1))
            .iter()
            .filter(|e| e.kind == AuditKind::CrossTenantAttempt)
            .count(),
        4
    );
}

#[tokio::test]
async fn host_and_path_must_both_agree() {
    let w = World::with(|b| {
        b.resolver(TenantResolver::host("leases.test"))
            .resolver(TenantResolver::path_prefix("t"))
    });
    let token = w.token(1, RoleName::member());
    let app = w.app();
    let call = |host: &'static str, uri: &'static str| {
        send(
            &app,
            request("GET", uri, Some(&token))
                .header("host", host)
                .body(Body::empty())
                .unwrap(),
        )
    };
    assert_eq!(
        call("tenant-1.leases.test", "/t/tenant-1/me").await.status,
        200
    );
    assert_eq!(
        call("tenant-1.leases.test", "/t/tenant-2/me").await.status,
        403
    );
    assert_eq!(
        call("tenant-2.leases.test", "/t/tenant-1/me").await.status,
        403
    );
}

fn acting_request(
    w: &World,
    uri: &str,
    act_for: Option<&str>,
    reason: Option<&str>,
) -> axum::http::Request<Body> {
    let mut b = request("GET", uri, Some(&w.system_token()));
    if let Some(t) = act_for {
        b = b.header(ACT_FOR_HEADER, t);
    }
    if let Some(r) = reason {
        b = b.header(ACT_REASON_HEADER, r);
    }
    b.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn operator_acts_for_a_tenant_only_on_opted_in_routes_and_is_audited() {
    let w = World::new();
    let app = w.app();
    let target = tenant_id(2).to_string();
    let r = send(
        &app,
        acting_request(&w, "/support/me", Some(&target), Some("ticket 4711")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["slug"], "tenant-2");
    assert_eq!(r.json()["acting"], true);
    let events = w.audit.for_tenant(tenant_id(2));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, AuditKind::SystemAccess);
    assert_eq!(events[0].reason.as_deref(), Some("ticket 4711"));
    assert_eq!(events[0].subject, Some(SubjectId::from_u128(9)));

    // The same request on a route that did not opt in.
    send(
        &app,
        acting_request(&w, "/me", Some(&target), Some("ticket 4711")),
    )
    .await
    .problem(403, types::WRONG_SCOPE);
    // No reason, an empty one, a bad id, an unknown tenant.
    send(&app, acting_request(&w, "/support/me", Some(&target), None))
        .await
        .problem(400, types::ACTING_REFUSED);
    send(
        &app,
        acting_request(&w, "/support/me", Some(&target), Some("  ")),
    )
    .await
    .problem(400, types::ACTING_REFUSED);
    send(
        &app,
        acting_request(&w, "/support/me", Some("tenant-2"), Some("x")),
    )
    .await
    .problem(400, types::ACTING_REFUSED);
    send(
        &app,
        acting_request(
            &w,
            "/support/me",
            Some(&tenant_id(50).to_string()),
            Some("x"),
        ),
    )
    .await
    .problem(404, types::NOT_FOUND);
    // Without naming a tenant, the operator stays a plain system context.
    send(&app, acting_request(&w, "/support/me", None, None))
        .await
        .problem(403, types::WRONG_SCOPE);
    // An acting operator is not a system admin on that request.
    assert_eq!(w.audit.for_tenant(tenant_id(2)).len(), 1);
}

#[tokio::test]
async fn operator_acting_through_the_path_slug() {
    let w = World::with(|b| b.resolver(TenantResolver::path_prefix("t")));
    let app = w.app().merge(
        axum::Router::new()
            .route(
                "/t/{slug}/support",
                axum::routing::get(
                    |t: tenancy_axum::Tenant| async move { t.record().slug.to_string() },
                ),
            )
            .route_layer(tenancy_axum::OperatorActingLayer::new())
            .layer(w.layer.clone()),
    );
    let r = send(
        &app,
        acting_request(&w, "/t/tenant-3/support", None, Some("migration")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, "tenant-3");
    // A path slug and a different act-for header: refused.
    send(
        &app,
        acting_request(
            &w,
            "/t/tenant-3/support",
            Some(&tenant_id(2).to_string()),
            Some("x"),
        ),
    )
    .await
    .problem(400, types::ACTING_REFUSED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_from_one_tenant_does_not_delay_another() {
    let w = World::new();
    // A: 50/s, burst 10. B: the same plan.
    w.add_tenant(20, TenantStatus::Active, plan(50, 10, 1_000));
    w.add_tenant(21, TenantStatus::Active, plan(50, 10, 1_000));
    let app = w.app();
    let (a, b) = (
        w.token(20, RoleName::viewer()),
        w.token(21, RoleName::viewer()),
    );

    // B alone: its baseline latency.
    let mut baseline = Duration::ZERO;
    for _ in 0..10 {
        let t = Instant::now();
        assert_eq!(get_as(&app, "/me", Some(&b)).await.status, 200);
        baseline = baseline.max(t.elapsed());
    }
    tokio::time::sleep(Duration::from_millis(250)).await;

    // A floods at 10x its rate (500/s) for one second while B sends 20
    // requests, one every 50 ms (its sustained rate is 50/s).
    let flood = {
        let (app, a) = (app.clone(), a.clone());
        tokio::spawn(async move {
            let (mut ok, mut limited) = (0, 0);
            let mut tick = tokio::time::interval(Duration::from_millis(2));
            for _ in 0..500 {
                tick.tick().await;
                match get_as(&app, "/me", Some(&a)).await.status.as_u16() {
                    200 => ok += 1,
                    429 => limited += 1,
                    s => panic!("unexpected {s}"),
                }
            }
            (ok, limited)
        })
    };
    let mut worst = Duration::ZERO;
    for _ in 0..20 {
        let t = Instant::now();
        let r = get_as(&app, "/me", Some(&b)).await;
        worst = worst.max(t.elapsed());
        assert_eq!(r.status, 200, "tenant B was refused during A's flood");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (ok, limited) = flood.await.unwrap();
    assert!(limited > 300, "A admitted {ok}, limited {limited}");
    assert!(ok < 120, "A admitted {ok}");
    // Generous: the machine is shared, but a queue behind A would be seconds.
    assert!(
        worst < baseline + Duration::from_millis(100),
        "B's worst latency {worst:?} vs baseline {baseline:?}"
    );
}

#[tokio::test]
async fn narrowing_a_tenants_role_takes_effect_with_the_next_record() {
    let w = World::new();
    let app = w.app();
    let token = w.token(3, RoleName::member());
    let post = || {
        request("POST", "/leases", Some(&token))
            .header("content-type", "application/json")
            .body(Body::from(r#"{"unit":"4B","rent":900}"#))
            .unwrap()
    };
    assert_eq!(send(&app, post()).await.status, 201);
    // The tenant redefines `member` as read-only.
    let mut roles = RoleRegistry::with_builtins();
    roles
        .replace(Role::tenant(
            RoleName::member(),
            PermissionSet::parse(["leases:read"]).unwrap(),
        ))
        .unwrap();
    let record = tenancy_axum::TenantRecord::new(
        tenant_id(3),
        slug(3),
        TenantStatus::Active,
        plan(10_000, 10_000, 1_000),
    )
    .with_roles(std::sync::Arc::new(roles));
    w.dir.insert(record);
    w.layer.cache().invalidate(tenant_id(3));
    send(&app, post())
        .await
        .problem(403, types::MISSING_PERMISSION);
    assert_eq!(get_as(&app, "/leases", Some(&token)).await.status, 200);
}

#[tokio::test]
async fn middleware_behind_the_layer_reads_the_context() {
    async fn stamp(
        request: axum::extract::Request,
        next: axum::middleware::Next,
    ) -> axum::response::Response {
        let role = tenancy_axum::context_from(request.extensions())
            .map_or("none".to_owned(), |c| c.role().to_string());
        let mut response = next.run(request).await;
        response
            .headers_mut()
            .insert("x-role", role.parse().unwrap());
        response
    }
    let w = World::new();
    let app = routes()
        .route_layer(axum::middleware::from_fn(stamp))
        .layer(w.layer.clone());
    let r = get_as(&app, "/me", Some(&w.token(1, RoleName::viewer()))).await;
    assert_eq!(r.headers["x-role"], "viewer");
    let bare = routes().route_layer(axum::middleware::from_fn(stamp));
    let r = get_as(&bare, "/me", Some(&w.token(1, RoleName::viewer()))).await;
    assert_eq!(r.headers["x-role"], "none");
}
