//! Every refusal: its status, problem type, headers and audit record.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "helpers fail the test loudly"
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use common::*;
use tenancy_auth::Issuer;
use tenancy_axum::problem::types;
use tenancy_core::*;

#[tokio::test]
async fn missing_token_is_401_with_a_bearer_challenge() {
    let w = World::new();
    let r = get_as(&w.app(), "/me", None).await;
    r.problem(401, types::MISSING_TOKEN);
    assert_eq!(r.headers["www-authenticate"], "Bearer");
}

async fn assert_invalid(app: &Router, authorization: &str) {
    let r = send(
        app,
        request("GET", "/me", None)
            .header("authorization", authorization)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    r.problem(401, types::INVALID_TOKEN);
    assert_eq!(
        r.headers["www-authenticate"], r#"Bearer error="invalid_token""#,
        "{authorization}"
    );
}

#[tokio::test]
async fn every_invalid_token_is_401_invalid_token() {
    let w = World::new();
    let app = w.app();
    let good = w.token(1, RoleName::member());
    let forged = Issuer::hs256(b"another secret that is 32 bytes long!", ISSUER, AUDIENCE)
        .unwrap()
        .issue(
            &TenantContext::tenant(
                tenant_id(1),
                SubjectId::from_u128(1),
                RoleName::admin(),
                PermissionSet::empty(),
            ),
            Duration::from_secs(60),
        )
        .unwrap();
    let wrong_audience = Issuer::hs256(SECRET, ISSUER, "billing")
        .unwrap()
        .issue(
            &TenantContext::tenant(
                tenant_id(1),
                SubjectId::from_u128(1),
                RoleName::admin(),
                PermissionSet::empty(),
            ),
            Duration::from_secs(60),
        )
        .unwrap();
    let past = Arc::new(ManualWallClock::at(unix_now() - Duration::from_secs(7200)));
    let expired = Issuer::hs256(SECRET, ISSUER, AUDIENCE)
        .unwrap()
        .with_clock(past)
        .issue(
            &TenantContext::tenant(
                tenant_id(1),
                SubjectId::from_u128(1),
                RoleName::admin(),
                PermissionSet::empty(),
            ),
            Duration::from_secs(60),
        )
        .unwrap();
    let mut tampered = good.clone();
    tampered.pop();
    tampered.push(if good.ends_with('A') { 'B' } else { 'A' });
    for authorization in [
        "Bearer garbage".to_owned(),
        "Bearer a.b.c".to_owned(),
        format!("Bearer {forged}"),
        format!("Bearer {wrong_audience}"),
        format!("Bearer {expired}"),
        format!("Bearer {tampered}"),
        format!("Basic {good}"),
        format!("Bearer{good}"),
        format!("Bearer {}", "a".repeat(20_000)),
    ] {
        assert_invalid(&app, &authorization).await;
    }
}

#[tokio::test]
async fn two_authorization_headers_are_refused_even_if_one_is_valid() {
    let w = World::new();
    let good = w.token(1, RoleName::member());
    let r = send(
        &w.app(),
        request("GET", "/me", Some(&good))
            .header("authorization", "Bearer other")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    r.problem(401, types::INVALID_TOKEN);
}

#[tokio::test]
async fn role_unknown_to_the_tenant_is_401() {
    let w = World::new();
    let ghost = RoleName::parse("ghost").unwrap();
    let r = get_as(&w.app(), "/me", Some(&w.token(1, ghost))).await;
    r.problem(401, types::INVALID_TOKEN);
    let denied = w.audit.for_tenant(tenant_id(1));
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(denied[0].kind, AuditKind::Denied);
}

#[tokio::test]
async fn suspended_tenant_is_403_and_audited() {
    let w = World::new();
    let app = w.app();
    let token = w.token(2, RoleName::admin());
    assert_eq!(get_as(&app, "/me", Some(&token)).await.status, 200);
    w.dir.set_status(tenant_id(2), TenantStatus::Suspended);
    // Cached as active until invalidated (or the TTL passes).
    assert_eq!(get_as(&app, "/me", Some(&token)).await.status, 200);
    w.layer.cache().invalidate(tenant_id(2));
    let r = get_as(&app, "/me", Some(&token)).await;
    let v = r.problem(403, types::TENANT_UNAVAILABLE);
    assert_eq!(v["detail"], "tenant is suspended");
    let events = w.audit.for_tenant(tenant_id(2));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, AuditKind::Denied);
    assert_eq!(events[0].outcome, Outcome::Denied);
    assert_eq!(events[0].subject, Some(SubjectId::from_u128(1002)));
}

#[tokio::test]
async fn suspension_bites_within_the_cache_ttl_without_invalidation() {
    let w = World::with(|b| b.cache_settings(100, Duration::from_millis(100)));
    let app = w.app();
    let token = w.token(1, RoleName::admin());
    assert_eq!(get_as(&app, "/me", Some(&token)).await.status, 200);
    w.dir.set_status(tenant_id(1), TenantStatus::Suspended);
    tokio::time::sleep(Duration::from_millis(150)).await;
    get_as(&app, "/me", Some(&token))
        .await
        .problem(403, types::TENANT_UNAVAILABLE);
}

#[tokio::test]
async fn unknown_and_decommissioning_tenants_are_403() {
    let w = World::new();
    let app = w.app();
    get_as(&app, "/me", Some(&w.token(40, RoleName::admin())))
        .await
        .problem(403, types::TENANT_UNAVAILABLE);
    for status in [
        TenantStatus::Provisioning,
        TenantStatus::Decommissioning,
        TenantStatus::Deleted,
    ] {
        w.add_tenant(7, status, plan(10, 10, 10));
        let v = get_as(&app, "/me", Some(&w.token(7, RoleName::admin())))
            .await
            .problem(403, types::TENANT_UNAVAILABLE);
        assert_eq!(v["detail"], format!("tenant is {status}"));
    }
}

#[tokio::test]
async fn missing_permission_is_403_naming_it_and_audited() {
    let w = World::new();
    let r = send(
        &w.app(),
        request("DELETE", "/leases/4", Some(&w.token(1, RoleName::member())))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let v = r.problem(403, types::MISSING_PERMISSION);
    assert_eq!(v["permission"], "leases:delete");
    assert_eq!(v["detail"], "missing permission `leases:delete`");
    let events = w.audit.for_tenant(tenant_id(1));
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].reason.as_deref(),
        Some("missing permission `leases:delete`")
    );
}

#[tokio::test]
async fn narrowed_token_cannot_exceed_its_own_permissions() {
    let w = World::new();
    // An admin token narrowed to reading leases.
    let ctx = TenantContext::tenant(
        tenant_id(1),
        SubjectId::from_u128(5),
        RoleName::admin(),
        PermissionSet::parse(["leases:read"]).unwrap(),
    );
    let token = w
        .issuer
        .issue_with(
            &ctx,
            Duration::from_secs(60),
            &tenancy_auth::IssueOptions::new().narrow(),
        )
        .unwrap();
    let app = w.app();
    assert_eq!(get_as(&app, "/leases", Some(&token)).await.status, 200);
    get_as(&app, "/audit", Some(&token))
        .await
        .problem(403, types::MISSING_PERMISSION);
}

#[tokio::test]
async fn payload_over_the_declared_limit_is_413_before_the_handler() {
    let w = World::with(|b| b.max_body_bytes(64));
    let body = format!(r#"{{"unit":"{}","rent":1}}"#, "x".repeat(100));
    let r = send(
        &w.app(),
        request("POST", "/leases", Some(&w.token(1, RoleName::member())))
            .header("content-type", "application/json")
            .header("content-length", body.len())
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    r.problem(413, types::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn json_over_the_body_limit_is_413() {
    let w = World::new();
    let app = w.app().layer(axum::extract::DefaultBodyLimit::max(32));
    let body = format!(r#"{{"unit":"{}","rent":1}}"#, "x".repeat(100));
    let r = send(
        &app,
        request("POST", "/leases", Some(&w.token(1, RoleName::member())))
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    r.problem(413, types::PAYLOAD_TOO_LARGE);
}

async fn post_lease(w: &World, content_type: &str, body: &str) -> Reply {
    send(
        &w.app(),
        request("POST", "/leases", Some(&w.token(1, RoleName::member())))
            .header("content-type", content_type)
            .body(Body::from(body.to_owned()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn axum_input_rejections_become_problems() {
    let w = World::new();
    let ok = post_lease(&w, "application/json", r#"{"unit":"4B","rent":900}"#).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    let v = post_lease(&w, "application/json", r#"{"unit":"4B","rent":"lots"}"#)
        .await
        .problem(422, types::UNPROCESSABLE);
    assert_eq!(v["field"], "rent");
    post_lease(&w, "application/json", r#"{"unit":"#)
        .await
        .problem(400, types::BAD_REQUEST);
    post_lease(&w, "text/plain", r#"{"unit":"4B","rent":900}"#)
        .await
        .problem(415, types::UNSUPPORTED_MEDIA_TYPE);
    get_as(
        &w.app(),
        "/scoped/not-a-number",
        Some(&w.token(1, RoleName::member())),
    )
    .await
    .problem(400, types::BAD_REQUEST);
}

#[tokio::test]
async fn another_tenants_value_is_404_and_never_serialised() {
    let w = World::new();
    let app = w.app();
    let token = w.token(1, RoleName::member());
    let own = get_as(&app, "/scoped/1", Some(&token)).await;
    assert_eq!(own.status, 200);
    assert_eq!(own.json()["secret"], "data of 1");
    let other = get_as(&app, "/scoped/2", Some(&token)).await;
    other.problem(404, types::NOT_FOUND);
    assert!(!other.text.contains("data of 2"));
}

#[tokio::test]
async fn a_scoped_json_404_for_a_foreign_value_is_audited() {
    let w = World::new();
    let app = w.app();
    let token = w.token(1, RoleName::member());
    get_as(&app, "/scoped/1", Some(&token)).await;
    assert!(w.audit.events().is_empty(), "{:?}", w.audit.events());

    get_as(&app, "/scoped/2", Some(&token))
        .await
        .problem(404, types::NOT_FOUND);
    let events = w.audit.events();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.kind, AuditKind::CrossTenantAttempt);
    assert_eq!(event.outcome, Outcome::Denied);
    assert_eq!(event.action, "response.scoped_json");
    // In the requester's own log, by the requester, with nothing of the
    // tenant that owns the value.
    assert_eq!(event.tenant, Some(tenant_id(1)));
    assert_eq!(event.subject, Some(SubjectId::from_u128(1001)));
    assert!(w.audit.for_tenant(tenant_id(2)).is_empty());
    let shown = format!("{event:?}");
    assert!(
        !shown.contains(&tenant_id(2).to_string()) && !shown.contains("data of 2"),
        "{shown}"
    );
}

#[tokio::test]
async fn service_problems_share_the_format() {
    let w = World::new();
    send(
        &w.app(),
        request("POST", "/conflict", Some(&w.token(1, RoleName::member())))
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .problem(409, types::CONFLICT);
}

#[tokio::test]
async fn rate_limit_is_429_with_retry_after_and_audited() {
    let w = World::new();
    w.add_tenant(5, TenantStatus::Active, plan(1, 3, 100));
    let app = w.app();
    let token = w.token(5, RoleName::viewer());
    for _ in 0..3 {
        assert_eq!(get_as(&app, "/me", Some(&token)).await.status, 200);
    }
    let r = get_as(&app, "/me", Some(&token)).await;
    r.problem(429, types::RATE_LIMITED);
    assert_eq!(r.headers["retry-after"], "1");
    let limited: Vec<_> = w
        .audit
        .for_tenant(tenant_id(5))
        .into_iter()
        .filter(|e| e.kind == AuditKind::Limited)
        .collect();
    assert_eq!(limited.len(), 1);
}

#[tokio::test]
async fn concurrency_limit_is_429_while_slots_are_held() {
    let w = World::new();
    w.add_tenant(6, TenantStatus::Active, plan(1000, 1000, 2));
    let app = w.app();
    let token = w.token(6, RoleName::viewer());
    let held: Vec<_> = (0..2)
        .map(|_| {
            let (app, token) = (app.clone(), token.clone());
            tokio::spawn(async move { get_as(&app, "/slow", Some(&token)).await.status })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let r = get_as(&app, "/me", Some(&token)).await;
    r.problem(429, types::TOO_MANY_CONCURRENT);
    assert!(r.headers.contains_key("retry-after"));
    // Another tenant is not affected.
    assert_eq!(
        get_as(&app, "/me", Some(&w.token(1, RoleName::viewer())))
            .await
            .status,
        200
    );
    for h in held {
        assert_eq!(h.await.unwrap(), 200);
    }
    assert_eq!(w.layer.limits().in_flight(tenant_id(6)), 0);
    assert_eq!(get_as(&app, "/me", Some(&token)).await.status, 200);
}

#[tokio::test]
async fn a_concurrency_slot_is_held_until_the_response_body_is_done() {
    use tower::ServiceExt;
    let w = World::new();
    w.add_tenant(7, TenantStatus::Active, plan(1000, 1000, 1));
    let app = w.app();
    let token = w.token(7, RoleName::viewer());
    let unread = || {
        app.clone().oneshot(
            request("GET", "/me", Some(&token))
                .body(Body::empty())
                .unwrap(),
        )
    };

    // The handler has returned, but its body is not sent yet: still in flight.
    let response = unread().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(w.layer.limits().in_flight(tenant_id(7)), 1);
    get_as(&app, "/me", Some(&token))
        .await
        .problem(429, types::TOO_MANY_CONCURRENT);
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    assert!(!body.is_empty());
    assert_eq!(w.layer.limits().in_flight(tenant_id(7)), 0);

    // A response dropped unsent (the client went away) frees its slot too.
    let response = unread().await.unwrap();
    assert_eq!(w.layer.limits().in_flight(tenant_id(7)), 1);
    drop(response);
    assert_eq!(w.layer.limits().in_flight(tenant_id(7)), 0);
    assert_eq!(get_as(&app, "/me", Some(&token)).await.status, 200);
}

/// A response body fed, frame by frame, by the test through a channel.
struct ChannelBody(tokio::sync::mpsc::Receiver<Result<axum::body::Bytes, std::io::Error>>);

impl http_body::Body for ChannelBody {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|item| item.map(|r| r.map(http_body::Frame::data)))
    }
}

#[tokio::test]
async fn a_streamed_response_holds_its_slot_until_it_ends_or_fails() {
    use axum::body::HttpBody;
    use tokio::sync::mpsc;
    use tower::ServiceExt;
    type Feed = mpsc::Sender<Result<axum::body::Bytes, std::io::Error>>;

    let w = World::new();
    w.add_tenant(8, TenantStatus::Active, plan(1000, 1000, 1));
    let feeds: Arc<std::sync::Mutex<Vec<Feed>>> = Arc::default();
    let handler_feeds = Arc::clone(&feeds);
    let app = Router::new()
        .route(
            "/stream",
            get(move |_t: tenancy_axum::Tenant| {
                let (feed, frames) = mpsc::channel(4);
                handler_feeds.lock().unwrap().push(feed);
                async move { Body::new(ChannelBody(frames)) }
            }),
        )
        .layer(w.layer.clone());
    let token = w.token(8, RoleName::viewer());
    let start = || {
        app.clone().oneshot(
            request("GET", "/stream", Some(&token))
                .body(Body::empty())
                .unwrap(),
        )
    };
    let in_flight = || w.layer.limits().in_flight(tenant_id(8));
    async fn next_frame(
        body: &mut Body,
    ) -> Option<Result<http_body::Frame<axum::body::Bytes>, axum::Error>> {
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut *body).poll_frame(cx)).await
    }

    // Mid-stream the slot is taken; the end of the stream frees it while
    // the body itself is still alive.
    let mut body = start().await.unwrap().into_body();
    let feed = feeds.lock().unwrap().pop().unwrap();
    feed.send(Ok("first".into())).await.unwrap();
    assert!(next_frame(&mut body).await.unwrap().unwrap().is_data());
    assert_eq!(in_flight(), 1);
    let refused = app
        .clone()
        .oneshot(
            request("GET", "/stream", Some(&token))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    drop(feed);
    assert!(next_frame(&mut body).await.is_none());
    assert_eq!(in_flight(), 0);

    // A stream that fails frees it as well.
    let mut body = start().await.unwrap().into_body();
    let feed = feeds.lock().unwrap().pop().unwrap();
    assert_eq!(in_flight(), 1);
    feed.send(Err(std::io::Error::other("upstream gone")))
        .await
        .unwrap();
    assert!(next_frame(&mut body).await.unwrap().is_err());
    assert_eq!(in_flight(), 0);
    drop(body);
}

#[tokio::test]
async fn extractors_without_the_layer_are_500_not_401() {
    async fn me(_t: tenancy_axum::Tenant) {}
    async fn need(_p: tenancy_axum::Require<LeasesRead>) {}
    async fn admin(_s: tenancy_axum::SystemAdmin) {}
    let app = Router::new()
        .route("/me", get(me))
        .route("/need", get(need))
        .route("/admin", get(admin));
    let w = World::new();
    let token = w.token(1, RoleName::admin());
    for uri in ["/me", "/need", "/admin"] {
        get_as(&app, uri, Some(&token))
            .await
            .problem(500, types::INTERNAL);
    }
}

#[tokio::test]
async fn builder_refuses_a_layer_without_validator_or_directory() {
    assert!(tenancy_axum::TenancyLayer::builder().build().is_err());
    assert!(
        tenancy_axum::TenancyLayer::builder()
            .validator(validator())
            .build()
            .is_err()
    );
}
