//! The HTTP contract, end to end over real HTTP on 127.0.0.1, on SQLite and
//! (when `TENANCY_TEST_POSTGRES_URL` is set) on PostgreSQL with RLS forced.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "scenarios are tests: any failure should stop them"
)]

mod support;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Db, SECRET, Service, claims, narrowed, operator, sign, token};

on_every_database! {
    tokens_are_checked_before_anything_else => tokens;
    system_routes_manage_tenants => system_routes;
    other_tenants_things_are_not_found => isolation;
    roles_and_narrowed_tokens_decide_what_is_allowed => roles;
    invalid_input_is_refused_and_writes_nothing => validation;
    lists_page_newest_first_with_opaque_cursors => pagination;
    a_redeem_code_works_once => redeem;
    suspension_and_decommissioning_stop_a_tenant => lifecycle;
    reminder_jobs_run_in_their_tenant => jobs;
    a_decommissioned_tenants_job_is_dropped => dropped_job;
    a_tenant_over_its_rate_gets_429_and_others_do_not => rate_limit;
    a_tenant_over_its_concurrency_gets_429 => concurrency_limit;
    a_write_in_flight_during_decommissioning_leaves_nothing_behind => write_during_decommission;
    tokens_of_any_standard_lifetime_up_to_the_cap_work => token_lifetime_cap;
    upper_case_ids_name_the_same_resources => upper_case_ids;
    a_flood_of_429s_writes_a_bounded_audit_trail => bounded_refusal_audit;
    every_body_must_be_a_json_object => bodies_are_objects;
    validation_reports_every_field_in_json_terms => every_invalid_field;
    a_cursor_is_sealed_and_bound_to_its_list => sealed_cursors;
    a_cursor_from_another_tenant_is_refused => foreign_cursors;
    problems_speak_one_vocabulary => one_problem_vocabulary;
    a_busy_port_leaves_no_database_behind => busy_port;
    operator_actions_show_the_platform_in_a_tenants_log => platform_subject;
}

fn lease(property: &str) -> Value {
    json!({
        "property_id": property,
        "lessee": "Wile E. Coyote",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "rent_cents": 120000,
    })
}

async fn property(s: &Service, tok: &str, name: &str) -> String {
    let r = s
        .post(
            "/properties",
            tok,
            json!({"name": name, "address": "1 Quay Street"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn tokens(db: Db) {
    let Some(s) = Service::start(db).await else {
        return;
    };
    let r = s.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);

    let acme = s.tenant("acme", "pro").await;
    let good = token(&acme, "admin");
    assert_eq!(s.get("/properties", &good).await.status, StatusCode::OK);

    // Standard variations any JWT library may produce are accepted.
    let mut variant = claims("tenant", Some(&acme), "member");
    variant["aud"] = json!(["another-service", support::ISSUER]);
    variant["jti"] = json!("a-token-id");
    variant["nbf"] = json!(support::now() - 5);
    variant["permissions"] = json!(["properties:*"]);
    let r = s.get("/properties", &sign(&variant, SECRET)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let r = s.call(Method::GET, "/properties", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.headers
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );

    let mut expired = claims("tenant", Some(&acme), "admin");
    expired["iat"] = json!(support::now() - 7200);
    expired["exp"] = json!(support::now() - 3600);
    let mut wrong_issuer = claims("tenant", Some(&acme), "admin");
    wrong_issuer["iss"] = json!("someone-else");
    let mut wrong_audience = claims("tenant", Some(&acme), "admin");
    wrong_audience["aud"] = json!("another-service");
    let mut no_tenant = claims("tenant", None, "admin");
    no_tenant["scope"] = json!("tenant");
    let mut system_with_tenant = claims("system", Some(&acme), "platform-admin");
    system_with_tenant["scope"] = json!("system");
    let mut bad_sub = claims("tenant", Some(&acme), "admin");
    bad_sub["sub"] = json!("alice");
    let unsigned = {
        let header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"; // {"alg":"none","typ":"JWT"}
        let good_payload = good.split('.').nth(1).unwrap();
        format!("{header}.{good_payload}.")
    };
    let tampered = {
        let mut parts: Vec<String> = good.split('.').map(String::from).collect();
        parts[2] = parts[2].chars().rev().collect();
        parts.join(".")
    };
    for (why, bad) in [
        ("garbage", "not-a-jwt".to_owned()),
        (
            "other secret",
            sign(
                &claims("tenant", Some(&acme), "admin"),
                "another-secret-of-thirty-two-bytes-long",
            ),
        ),
        ("expired", sign(&expired, SECRET)),
        ("wrong issuer", sign(&wrong_issuer, SECRET)),
        ("wrong audience", sign(&wrong_audience, SECRET)),
        ("tenant scope without tenant_id", sign(&no_tenant, SECRET)),
        (
            "system scope with tenant_id",
            sign(&system_with_tenant, SECRET),
        ),
        ("subject not a uuid", sign(&bad_sub, SECRET)),
        ("alg none", unsigned),
        ("tampered signature", tampered),
        ("unknown role", token(&acme, "owner")),
        (
            "tenant token with a system role",
            token(&acme, "platform-admin"),
        ),
        (
            "system token with a tenant role",
            sign(&claims("system", None, "admin"), SECRET),
        ),
    ] {
        let r = s.get("/properties", &bad).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{why}: {}", r.text);
    }

    // Scope: a system token on a tenant route, and the reverse.
    assert_eq!(
        s.get("/properties", &operator()).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        s.get("/system/tenants", &good).await.status,
        StatusCode::FORBIDDEN
    );
    let r = s
        .post(
            "/system/tenants",
            &good,
            json!({"slug": "evil", "name": "Evil", "plan": "pro"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // A token for a tenant that does not exist.
    let ghost = token(&leases_service::clock::new_id().unwrap(), "admin");
    assert!(matches!(
        s.get("/properties", &ghost).await.status,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
    ));

    assert_eq!(s.get("/nowhere", &good).await.status, StatusCode::NOT_FOUND);
    s.stop().await;
}

async fn system_routes(db: Db) {
    let Some(s) = Service::start(db).await else {
        return;
    };
    let op = operator();
    let r = s
        .post(
            "/system/tenants",
            &op,
            json!({"slug": "acme", "name": "Acme", "plan": "pro"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.body,
        json!({"id": id, "slug": "acme", "name": "Acme", "plan": "pro", "status": "active"})
    );

    let r = s
        .post(
            "/system/tenants",
            &op,
            json!({"slug": "acme", "name": "Again", "plan": "free"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    for (slug, plan, field) in [
        ("Acme!", "free", "slug"),
        ("ab", "free", "slug"),
        ("www", "free", "slug"),
        ("fine-slug", "enterprise", "plan"),
    ] {
        let r = s
            .post(
                "/system/tenants",
                &op,
                json!({"slug": slug, "name": "X", "plan": plan}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{slug}");
        assert_eq!(r.fields(), vec![field.to_owned()], "{}", r.text);
    }
    let r = s
        .post("/system/tenants", &op, json!({"slug": "globex"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("name"), "{}", r.text);

    let globex = s.tenant("globex", "free").await;
    let r = s.get("/system/tenants", &op).await;
    assert_eq!(r.status, StatusCode::OK);
    let slugs: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["globex", "acme"]);
    assert_eq!(r.body["next_cursor"], Value::Null);
    let r = s.get("/system/tenants?limit=1", &op).await;
    assert_eq!(r.body["items"][0]["slug"], "globex");
    let cursor = r.body["next_cursor"].as_str().unwrap().to_owned();
    let r = s
        .get(&format!("/system/tenants?limit=1&cursor={cursor}"), &op)
        .await;
    assert_eq!(r.body["items"][0]["slug"], "acme");

    let r = s
        .post(&format!("/system/tenants/{globex}/suspend"), &op, json!({}))
        .await;
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (StatusCode::OK, Some("suspended"))
    );
    let r = s
        .post(&format!("/system/tenants/{globex}/suspend"), &op, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = s
        .post(
            &format!("/system/tenants/{globex}/activate"),
            &op,
            json!({}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (StatusCode::OK, Some("active"))
    );
    let nobody = leases_service::clock::new_id().unwrap();
    for path in [
        format!("/system/tenants/{nobody}/suspend"),
        format!("/system/tenants/{nobody}/activate"),
        "/system/tenants/not-an-id/suspend".to_owned(),
    ] {
        assert_eq!(
            s.post(&path, &op, json!({})).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(
        s.delete(&format!("/system/tenants/{nobody}"), &op)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let r = s
        .post("/system/redeem-codes", &op, json!({"plan": "pro"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(r.body["code"].as_str().is_some_and(|c| c.len() >= 16));
    let r = s
        .post("/system/redeem-codes", &op, json!({"plan": "gold"}))
        .await;
    assert_eq!(
        (r.status, r.fields()),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["plan".to_owned()])
    );
    s.stop().await;
}

async fn isolation(db: Db) {
    let Some(s) = Service::start(db).await else {
        return;
    };
    let acme = s.tenant("acme", "pro").await;
    let globex = s.tenant("globex", "pro").await;
    let (a, g) = (token(&acme, "admin"), token(&globex, "admin"));
    let a_prop = property(&s, &a, "Harbour View").await;
    let g_prop = property(&s, &g, "Cypress Creek").await;
    let r = s.post("/leases", &a, lease(&a_prop)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let a_lease = r.body["id"].as_str().unwrap().to_owned();

    // globex cannot read, change or delete acme's property or lease.
    for (path, change) in [
        (format!("/properties/{a_prop}"), json!({"name": "Mine now"})),
        (format!("/leases/{a_lease}"), json!({"lessee": "Mine now"})),
    ] {
        assert_eq!(
            s.get(&path, &g).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
        assert_eq!(
            s.patch(&path, &g, change).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
        assert_eq!(
            s.delete(&path, &g).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let r = s
        .post(&format!("/leases/{a_lease}/reminders"), &g, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Nor name acme's property in a lease of its own, created or patched.
    let r = s.post("/leases", &g, lease(&a_prop)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = s.post("/leases", &g, lease(&g_prop)).await;
    let g_lease = r.body["id"].as_str().unwrap().to_owned();
    let r = s
        .patch(
            &format!("/leases/{g_lease}"),
            &g,
            json!({"property_id": a_prop}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        s.get(&format!("/leases/{g_lease}"), &g).await.body["property_id"],
        g_prop.as_str()
    );

    // A tenant named in a body means nothing: the token decides.
    let r = s
        .post(
            "/properties",
            &g,
            json!({"name": "Smuggled", "address": "y", "tenant_id": acme}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let smuggled = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        s.get(&format!("/properties/{smuggled}"), &a).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.delete(&format!("/properties/{smuggled}"), &g)
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    // acme's data is untouched; each list holds only its own tenant's things.
    let r = s.get(&format!("/properties/{a_prop}"), &a).await;
    assert_eq!(r.body["name"], "Harbour View");
    let ids = |r: &support::Response| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&s.get("/properties", &a).await), vec![a_prop.clone()]);
    assert_eq!(ids(&s.get("/properties", &g).await), vec![g_prop.clone()]);
    assert_eq!(ids(&s.get("/leases", &a).await), vec![a_lease.clone()]);
    assert_eq!(ids(&s.get("/leases", &g).await), vec![g_lease.clone()]);
    assert_eq!(s.count_rows("leases", &globex).await, 1);

    // Each audit log holds its own tenant's events only.
    let audit = s.get("/audit", &a).await;
    assert_eq!(audit.status, StatusCode::OK);
    let resources: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["resource_id"].as_str())
        .collect();
    assert!(resources.contains(&a_prop.as_str()) && resources.contains(&a_lease.as_str()));
    for foreign in [&g_prop, &g_lease] {
        assert!(
            !resources.contains(&foreign.as_str()),
            "acme's log shows globex's {foreign}"
        );
    }
    let first = &audit.body["items"][0];
    assert_eq!(first["action"], "lease.create");
    for key in [
        "at",
        "subject",
        "action",
        "resource_type",
        "resource_id",
        "outcome",
    ] {
        assert!(first.get(key).is_some(), "audit item lacks {key}");
    }

    // acme deletes its lease, then its property; a property with leases is a conflict.
    assert_eq!(
        s.delete(&format!("/properties/{a_prop}"), &a).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        s.delete(&format!("/leases/{a_lease}"), &a).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.delete(&format!("/properties/{a_prop}"), &a).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.get(&format!("/properties/{a_prop}"), &a).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get(&format!("/properties/{g_prop}"), &g).await.status,
        StatusCode::OK
    );
    s.stop().await;
}

async fn roles(db: Db) {
    let Some(s) = Service::start(db).await else {
        return;
    };
    let acme = s.tenant("acme", "pro").await;
    let admin = token(&acme, "admin");
    let prop = property(&s, &admin, "Harbour View").await;
    let (member, viewer) = (token(&acme, "member"), token(&acme, "viewer"));

    // viewer: reads only.
    assert_eq!(s.get("/properties", &viewer).await.status, StatusCode::OK);
    assert_eq!(s.get("/leases", &viewer).await.status, StatusCode::OK);
    let r = s
        .post("/properties", &viewer, json!({"name": "x", "address": "y"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text.contains("properties:write"), "{}", r.text);
    assert_eq!(
        s.post("/leases", &viewer, lease(&prop)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(s.get("/audit", &viewer).await.status, StatusCode::FORBIDDEN);
    // member: reads and writes properties and leases, no audit.
    assert_eq!(
        s.post("/leases", &member, lease(&prop)).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        s.patch(
            &format!("/properties/{prop}"),
            &member,
            json!({"name": "HV"})
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(s.get("/audit", &member).await.status, StatusCode::FORBIDDEN);
    // admin: everything in the tenant.
    assert_eq!(s.get("/audit", &admin).await.status, StatusCode::OK);

    // A token narrows, never widens.
    let read_only_admin = narrowed(&acme, "admin", &["properties:read"]);
    assert_eq!(
        s.get("/properties", &read_only_admin).await.status,
        StatusCode::OK
    );
    assert_eq!(
        s.get("/leases", &read_only_admin).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        s.post(
            "/properties",
            &read_only_admin,
            json!({"name": "x", "address": "y"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let widened_viewer = narrowed(&acme, "viewer", &["properties:write", "audit:read"]);
    assert_eq!(
        s.post(
            "/properties",
            &widened_viewer,
            json!({"name": "x", "address": "y"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        s.get("/audit", &widened_viewer).await.status,
        StatusCode::FORBIDDEN
    );
    // A tenant token naming a platform permission is not acceptable at all.
    let platform = narrowed(&acme, "admin", &["system:tenants", "*:*"]);
    assert_eq!(
        s.get("/system/tenants", &platform).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.get("/properties", &platform).await.status,
        StatusCode::UNAUTHORIZED
    );

    assert_eq!(
        s.count_rows("properties", &acme).await,
        1,
        "a refused write wrote"
    );
    s.stop().await;
}

async fn validation(db: Db) {
    let Some(s) = Service::start(db).await else {
        return;
    };
    let acme = s.tenant("acme", "pro").await;
    let a = token(&acme, "admin");
    let prop = property(&s, &a, "Harbour View").await;

    let raw = |body: &'static str| {
        s.http
            .post(format!("{}/leases", s.base))
            .bearer_auth(&a)
            .header("content-type", "application/json")
            .body(body)
    };
    for body in ["{", "{\"lessee\": }", "[1, 2", "{} {}"] {
        let r = raw(body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }
    let check = |mut body: Value, change: (&str, Value), field: &str| {
        body[change.0] = change.1;
        (body, field.to_owned())
    };
    for (body, field) in [
        check(lease(&prop), ("rent_cents", json!("a lot")), "rent_cents"),
        check(lease(&prop), ("rent_cents", json!(-1)), "rent_cents"),
        check(
            lease(&prop),
            ("start_date", json!("2026-02-30")),
            "start_date",
        ),
        check(lease(&prop), ("end_date", json!("2025-12-31")), "end_date"),
        check(lease(&prop), ("lessee", json!("   ")), "lessee"),
        check(
            lease(&prop),
            ("property_id", json!("not-a-uuid")),
            "property_id",
        ),
        (
            json!({"property_id": prop, "lessee": "x", "start_date": "2026-01-01", "end_date": "2026-02-01"}),
            "rent_cents".to_owned(),
        ),
    ] {
        let r = s.post("/leases", &a, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text
        );
        assert_eq!(r.fields(), vec![field.clone()], "{body}: {}", r.text);
        assert!(
            r.body["detail"].as_str().unwrap().contains(&field),
            "{}",
            r.text
        );
    }
    let r = s
        .post("/properties", &a, json!({"name": "", "address": ""}))
        .await;
    assert_eq!(r.fields(), vec!["name".to_owned(), "address".to_owned()]);
    let r = s
        .patch(&format!("/properties/{prop}"), &a, json!({"name": 7}))
        .await;
    assert_eq!(
        (r.status, r.fields()),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["name".to_owned()])
    );

    // Over 64 KiB: 413, with or without a declared length.
    let big = json!({"name": "x".repeat(64 * 1024), "address": "y"});
    let r = s.post("/properties", &a, big.clone()).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let status = chunked_post(&s, "/properties", &a, big.to_string().as_bytes()).await;
    assert_eq!(status, 413);

    // Nothing was written by any of it.
    assert_eq!(s.count_rows("properties", &acme).await, 1);
    assert_eq!(s.count_rows("leases", &acme).await, 0);
    let r = s.get(&format!("/properties/{prop}"), &a).await;
    assert_eq!(r.body["name"], "Harbour View");
    s.stop().await;
}

/// POSTs `body` with `Transfer-Encoding: chunked` (no declared length)
/// over a raw connection; returns the status code.
async fn chunked_post(s: &Service, path: &str, token: &str, body: &[u8]) -> u16 {
    let text = chunked_post_text(s, path, token, body).await;
    text.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// POSTs `body` with its length declared over a raw connection (the server
/// may answer and close before it is all sent); returns the whole response
/// as text.
async fn declared_post_text(s: &Service, path: &str, token: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(s.running().addr())
        .await
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(8 * 1024) {
        if conn.write_all(chunk).await.is_err() {
            break; // the server answered and closed early
        }
    }
    let mut response = Vec::new();
    let _ = conn.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response).into_owned()
}

/// Like [`chunked_post`]; returns the whole response as text.
async fn chunked_post_text(s: &Service, path: &str, token: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(s.running().addr())
        .await
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(8 * 1024) {
        let sent = async {
            conn.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            conn.write_all(chunk).await?;
            conn.write_all(b"\r\n").await
        };
        if sent.await.is_err() {
            break; // the server answered and closed early
        }
    }
    let _ = conn.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = conn.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response).into_owned()
}

async fn pagination(db: Db) {
    let Some(s) = Service::start(db).await else {
        return;
    };
    let acme = s.tenant("acme", "pro").await;
    let a = token(&acme, "admin");
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(property(&s, &a, &format!("P{i}")).await);
    }
    created.reverse();
    let r = s.get("/properties", &a).await;
    let all: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        all,
        created.iter().map(String::as_str).collect::<Vec<_>>(),
        "newest first"
    );
    assert_eq!(r.body["next_cursor"], Value::Null);

    let mut seen = Vec::new();
    let mut path = "/properties?limit=2".to_owned();
    loop {
        let r = s.get(&path, &a).await;
        assert_eq!(r.status, StatusCode::OK);
        let items = r.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|p| p["id"].as_str().unwrap().to_owned()));
        match r.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/properties?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, created);

    for query in [
        "limit=0",
        "limit=101",
        "limit=ten",
        "cursor=bogus",
        "cursor=3",
    ] {
        let r = s.get(&format!("/properties?{query}"), &a).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(r.fields().len(), 1, "{query}: {}", r.text);
    }
    assert_eq!(
        s.get("/properties?limit=100", &a).await.status,
        StatusCode::OK
    );
    s.stop().await;
}

async fn redeem(db: Db) {
    let Some(s) = Service::start(db).await else {
        return;
    };
    let op = operator();
    s.tenant("taken", "free").await;
    let code = s
        .post("/system/redeem-codes", &op, json!({"plan": "pro"}))
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let redeem = |slug: &str| {
        s.call(
            Method::POST,
            "/auth/redeem",
            None,
            Some(json!({"code": code, "slug": slug, "name": "Initech"})),
        )
    };
    // Refused attempts spend nothing.
    let r = redeem("Bad Slug").await;
    assert_eq!(
        (r.status, r.fields()),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["slug".to_owned()])
    );
    assert_eq!(redeem("taken").await.status, StatusCode::CONFLICT);

    let r = redeem("initech").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["tenant"]["slug"], "initech");
    assert_eq!(r.body["tenant"]["plan"], "pro");
    assert_eq!(r.body["tenant"]["status"], "active");
    let admin = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(s.get("/audit", &admin).await.status, StatusCode::OK);
    assert_eq!(
        s.post(
            "/properties",
            &admin,
            json!({"name": "HQ", "address": "1 Main St"})
        )
        .await
        .status,
        StatusCode::CREATED
    );

    // Once only.
    let again = redeem("initech-two").await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.text);
    let unknown = s
        .call(
            Method::POST,
            "/auth/redeem",
            None,
            Some(json!({"code": "0123456789abcdef", "slug": "other", "name": "O"})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let list = s.get("/system/tenants", &op).await;
    let slugs: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["initech", "taken"]);

    // Two requests racing with one code: exactly one spends it.
    let code = s
        .post("/system/redeem-codes", &op, json!({"plan": "free"}))
        .await
        .body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let race = |slug: &'static str| {
        s.call(
            Method::POST,
            "/auth/redeem",
            None,
            Some(json!({"code": code, "slug": slug, "name": "Racer"})),
        )
    };
    let (a, b) = tokio::join!(race("racer-a"), race("racer-b"));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::CREATED, StatusCode::NOT_FOUND],
        "{} / {}",
        a.text,
        b.text
    );
    s.stop().await;
}

async fn lifecycle(db: Db) {
    let Some(s) = Service::start(db).await else {
        return;
    };
    let op = operator();
    let acme = s.tenant("acme", "free").await;
    let globex = s.tenant("globex", "free").await;
    let a = token(&acme, "admin");
    let g = token(&globex, "admin");
    let prop = property(&s, &a, "Harbour View").await;
    assert_eq!(
        s.post("/leases", &a, lease(&prop)).await.status,
        StatusCode::CREATED
    );
    property(&s, &g, "Cypress Creek").await;

    // Suspended: refused at once, with data kept; activation restores it.
    s.post(&format!("/system/tenants/{acme}/suspend"), &op, json!({}))
        .await;
    let r = s.get("/properties", &a).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(
        s.post("/properties", &a, json!({"name": "x", "address": "y"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(s.get("/properties", &g).await.status, StatusCode::OK);
    s.post(&format!("/system/tenants/{acme}/activate"), &op, json!({}))
        .await;
    assert_eq!(
        s.get(&format!("/properties/{prop}"), &a).await.status,
        StatusCode::OK
    );

    // Decommissioned: data deleted, tokens stop working, others untouched.
    assert_eq!(
        s.delete(&format!("/system/tenants/{acme}"), &op)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    for table in ["properties", "leases", "audit_events"] {
        assert_eq!(s.count_rows(table, &acme).await, 0, "{table} kept rows");
    }
    let r = s.get("/properties", &a).await;
    assert!(
        matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN),
        "{}",
        r.text
    );
    assert!(
        s.post(
            "/properties",
            &token(&acme, "admin"),
            json!({"name": "x", "address": "y"})
        )
        .await
        .status
        .is_client_error()
    );
    assert_eq!(s.count_rows("properties", &acme).await, 0);
    assert_eq!(s.count_rows("properties", &globex).await, 1);
    assert_eq!(s.get("/properties", &g).await.status, StatusCode::OK);
    // A deleted tenant still exists (its record and slug stay): acting on
    // it again conflicts with its state, as the contract says.
    let r = s.delete(&format!("/system/tenants/{acme}"), &op).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(r.text.contains("a deleted tenant"), "{}", r.text);
    for action in ["activate", "suspend"] {
        let r = s
            .post(&format!("/system/tenants/{acme}/{action}"), &op, json!({}))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{action}: {}", r.text);
    }
    // The slug stays taken, so a new tenant cannot inherit old links.
    let r = s
        .post(
            "/system/tenants",
            &op,
            json!({"slug": "acme", "name": "New Acme", "plan": "free"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    s.stop().await;
}

async fn wait_for(mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out");
}

async fn jobs(db: Db) {
    let Some(s) = Service::start(db).await else {
        return;
    };
    let acme = s.tenant("acme", "pro").await;
    let globex = s.tenant("globex", "pro").await;
    let (a, member) = (token(&acme, "admin"), token(&acme, "member"));
    let prop = property(&s, &a, "Harbour View").await;
    let l = s.post("/leases", &a, lease(&prop)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = s
        .post(&format!("/leases/{l}/reminders"), &member, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(
        s.post(
            &format!("/leases/{l}/reminders"),
            &token(&acme, "viewer"),
            json!({})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let nobody = leases_service::clock::new_id().unwrap();
    assert_eq!(
        s.post(&format!("/leases/{nobody}/reminders"), &a, json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    wait_for(|| s.running().job_stats().ran() == 1).await;

    let audit = s.get("/audit", &a).await;
    let sent: Vec<&Value> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "lease.reminder.sent")
        .collect();
    assert_eq!(sent.len(), 1, "{}", audit.text);
    assert_eq!(sent[0]["resource_id"], l.as_str());
    assert_eq!(
        s.count_rows("audit_events", &globex).await,
        1,
        "only globex's own creation event"
    );
    s.stop().await;
}

async fn dropped_job(db: Db) {
    let Some(s) = Service::start_with(db, |c| c.job_delay = Duration::from_millis(1000)).await
    else {
        return;
    };
    let acme = s.tenant("acme", "pro").await;
    let a = token(&acme, "admin");
    let prop = property(&s, &a, "Harbour View").await;
    let l = s.post("/leases", &a, lease(&prop)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        s.post(&format!("/leases/{l}/reminders"), &a, json!({}))
            .await
            .status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        s.delete(&format!("/system/tenants/{acme}"), &operator())
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    wait_for(|| s.running().job_stats().dropped() == 1).await;
    assert_eq!(s.running().job_stats().ran(), 0);
    assert_eq!(s.count_rows("audit_events", &acme).await, 0);
    s.stop().await;
}

async fn rate_limit(db: Db) {
    let Some(s) = Service::start(db).await else {
        return;
    };
    let free = s.tenant("small", "free").await;
    let pro = s.tenant("big", "pro").await;
    let (f, p) = (token(&free, "viewer"), token(&pro, "viewer"));
    let mut limited = None;
    for _ in 0..60 {
        let r = s.get("/healthz", &f).await;
        assert_eq!(r.status, StatusCode::OK, "healthz is never limited");
        let r = s.get("/properties", &f).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status, StatusCode::OK);
    }
    let r = limited.expect("a free tenant is limited within 60 quick requests");
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    // The other tenant's budget is its own.
    for _ in 0..25 {
        assert_eq!(s.get("/properties", &p).await.status, StatusCode::OK);
    }
    // The free tenant is admitted again once the rate allows.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(s.get("/properties", &f).await.status, StatusCode::OK);
    s.stop().await;
}

async fn concurrency_limit(db: Db) {
    use tokio::io::AsyncWriteExt;
    let Some(s) = Service::start(db).await else {
        return;
    };
    let free = s.tenant("small", "free").await;
    let other = s.tenant("other", "free").await;
    let t = token(&free, "admin");
    // Requests whose bodies never finish hold the plan's four slots (a fifth
    // held one is refused), and nothing else of the tenant is in flight while
    // they arrive.
    let mut held = Vec::new();
    for _ in 0..5 {
        let mut conn = tokio::net::TcpStream::connect(s.running().addr())
            .await
            .unwrap();
        let head = format!(
            "POST /properties HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {t}\r\n\
             content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"name\""
        );
        conn.write_all(head.as_bytes()).await.unwrap();
        held.push(conn);
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // Probing slower than the plan's rate (10/s) never spends its burst, so
    // a 429 here can only be the concurrency limit.
    let mut refused = None;
    for _ in 0..40 {
        let r = s.get("/properties", &t).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let r = refused.expect("a fifth request in flight is refused");
    assert!(r.headers.contains_key("retry-after"));
    assert!(
        r.body["type"].as_str().unwrap().contains("concurrent"),
        "{}",
        r.text
    );
    // Another tenant's slots are its own.
    assert_eq!(
        s.get("/properties", &token(&other, "admin")).await.status,
        StatusCode::OK
    );
    // Closing the held requests frees the slots.
    drop(held);
    let mut admitted = false;
    for _ in 0..40 {
        if s.get("/properties", &t).await.status == StatusCode::OK {
            admitted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert!(admitted, "the slots were not released");
    s.stop().await;
}

async fn write_during_decommission(db: Db) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(s) = Service::start(db).await else {
        return;
    };
    let acme = s.tenant("acme", "pro").await;
    let t = token(&acme, "admin");
    // A write is admitted, then waits for the rest of its body.
    let body = json!({"name": "Late", "address": "1 Slow Lane"}).to_string();
    let (first, rest) = body.split_at(10);
    let mut conn = tokio::net::TcpStream::connect(s.running().addr())
        .await
        .unwrap();
    let head = format!(
        "POST /properties HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {t}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{first}",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The tenant is decommissioned meanwhile: the deletion waits for it.
    let (http, url) = (s.http.clone(), format!("{}/system/tenants/{acme}", s.base));
    let deletion = tokio::spawn(async move {
        http.delete(url)
            .bearer_auth(operator())
            .send()
            .await
            .unwrap()
            .status()
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !deletion.is_finished(),
        "deleted while a write was in flight"
    );

    conn.write_all(rest.as_bytes()).await.unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    assert_eq!(deletion.await.unwrap(), StatusCode::NO_CONTENT);
    for table in ["properties", "audit_events"] {
        assert_eq!(
            s.count_rows(table, &acme).await,
            0,
            "{table} kept a late row"
        );
    }
    s.stop().await;
}

/// A token of `role` in `tenant` living `lifetime` seconds (`exp - iat`).
fn living(tenant: &str, role: &str, lifetime: u64) -> String {
    let mut c = claims("tenant", Some(tenant), role);
    c["iat"] = json!(support::now() - 60);
    c["exp"] = json!(support::now() - 60 + lifetime);
    sign(&c, SECRET)
}

const DAY: u64 = 24 * 3600;

async fn token_lifetime_cap(db: Db) {
    let Some(s) = Service::start(db).await else {
        return;
    };
    let acme = s.tenant("acme", "pro").await;
    // Long-lived tokens as other issuers mint them: 20 days is within the
    // default cap of 30 days; a year is not.
    let r = s
        .get("/properties", &living(&acme, "admin", 20 * DAY))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = s
        .get("/properties", &living(&acme, "admin", 30 * DAY))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = s
        .get("/properties", &living(&acme, "admin", 365 * DAY))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    s.stop().await;

    // The cap is configurable (`TENANCY_JWT_MAX_LIFETIME_SECS`).
    let Some(s) = Service::start_with(db, |c| {
        c.max_token_lifetime = Duration::from_secs(3600);
    })
    .await
    else {
        return;
    };
    let acme = s.tenant("acme", "pro").await;
    let r = s.get("/properties", &living(&acme, "admin", 1800)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = s
        .get("/properties", &living(&acme, "admin", 2 * 3600))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    s.stop().await;
}

async fn upper_case_ids(db: Db) {
    let Some(s) = Service::start(db).await else {
        return;
    };
    let acme = s.tenant("acme", "pro").await;
    let globex = s.tenant("globex", "pro").await;
    let a = token(&acme, "admin");
    let prop = property(&s, &a, "Harbour View").await;
    let upper = prop.to_uppercase();
    assert_ne!(prop, upper);

    let r = s.get(&format!("/properties/{upper}"), &a).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["id"], prop.as_str());
    let r = s
        .patch(&format!("/properties/{upper}"), &a, json!({"name": "Quay"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let r = s.post("/leases", &a, lease(&upper)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["property_id"], prop.as_str(), "stored canonical");
    let lease_id = r.body["id"].as_str().unwrap().to_owned();
    let lease_upper = lease_id.to_uppercase();
    let r = s.get(&format!("/leases/{lease_upper}"), &a).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["property_id"], prop.as_str());
    // The property is named by the upper-cased lease: deleting it conflicts.
    let r = s.delete(&format!("/properties/{upper}"), &a).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let r = s
        .patch(
            &format!("/leases/{lease_upper}"),
            &a,
            json!({"property_id": upper}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["property_id"], prop.as_str());
    let r = s
        .call(
            Method::POST,
            &format!("/leases/{lease_upper}/reminders"),
            Some(&a),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);

    // Anything but a UUID names nothing, as a problem document (the
    // harness checks the content type), even a segment that does not decode.
    for path in ["/properties/%FF", "/leases/not-an-id", "/properties/%FF%FE"] {
        assert_eq!(
            s.get(path, &a).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let r = s
        .post("/system/tenants/%FF/suspend", &operator(), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Another tenant still finds nothing, whatever the case.
    let g = token(&globex, "admin");
    assert_eq!(
        s.get(&format!("/properties/{upper}"), &g).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.post("/leases", &g, lease(&upper)).await.status,
        StatusCode::NOT_FOUND
    );

    // The audit log names resources canonically.
    let r = s.get("/audit", &a).await;
    let ids: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["resource_id"].as_str())
        .collect();
    assert!(ids.contains(&prop.as_str()), "{}", r.text);
    assert!(ids.iter().all(|id| *id == id.to_lowercase()), "{}", r.text);

    let r = s.delete(&format!("/leases/{lease_upper}"), &a).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = s.delete(&format!("/properties/{upper}"), &a).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(s.count_rows("properties", &acme).await, 0);
    s.stop().await;
}

async fn bounded_refusal_audit(db: Db) {
    let Some(s) = Service::start(db).await else {
        return;
    };
    let acme = s.tenant("acme", "free").await;
    let a = token(&acme, "admin");
    let started = std::time::Instant::now();
    let mut limited = 0;
    for _ in 0..150 {
        if s.get("/properties", &a).await.status == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
        }
    }
    let elapsed = started.elapsed().as_secs();
    assert!(limited >= 50, "only {limited} requests were limited");
    use sqlx::Row;
    let count = || async {
        sqlx::query(
            "SELECT count(*) AS n FROM audit_events WHERE tenant_id = $1 AND action = 'tenant.limit'",
        )
        .bind(&acme)
        .fetch_one(&s.inspect)
        .await
        .unwrap()
        .try_get::<i64, _>("n")
        .unwrap()
    };
    // Let the one writer drain what was queued.
    let stats = s.running().audit_stats();
    let mut rows = count().await;
    for _ in 0..100 {
        if rows as u64 >= stats.queued() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        rows = count().await;
    }
    // At most one row per tenant per second, however many were refused.
    assert!(rows >= 1, "no refusal was audited");
    assert!(
        rows <= elapsed as i64 + 2,
        "{rows} audit rows for {limited} refusals in {elapsed} s"
    );
    assert_eq!(
        rows as u64,
        stats.queued(),
        "every queued refusal is written"
    );
    assert!(
        stats.coalesced() + stats.queued() >= limited,
        "uncounted refusals"
    );
    assert_eq!(stats.dropped(), 0);
    s.stop().await;
}

/// Sends `body` as JSON text, whatever it holds.
async fn raw(s: &Service, method: Method, path: &str, token: &str, body: &str) -> (u16, Value) {
    let r = s
        .http
        .request(method, format!("{}{path}", s.base))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn bodies_are_objects(db: Db) {
    let Some(s) = Service::start(db).await else {
        return;
    };
    let acme = s.tenant("acme", "pro").await;
    let a = token(&acme, "admin");
    let prop = property(&s, &a, "Harbour View").await;
    let r = s.post("/leases", &a, lease(&prop)).await;
    let reminders = format!("/leases/{}/reminders", r.body["id"].as_str().unwrap());

    let (status, body) = raw(&s, Method::POST, &reminders, &a, "{not json").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = raw(&s, Method::POST, &reminders, &a, "[1]").await;
    assert_eq!(status, 422, "{body}");
    for fine in ["", "{}", r#"{"note": "pay up"}"#] {
        let (status, body) = raw(&s, Method::POST, &reminders, &a, fine).await;
        assert_eq!(status, 202, "{fine:?}: {body}");
    }

    // serde reads a struct from a sequence; the service does not.
    let (status, body) = raw(
        &s,
        Method::POST,
        "/properties",
        &a,
        r#"["Annex", "3 Side St"]"#,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "(body)", "{body}");
    assert_eq!(
        body["errors"][0]["detail"], "must be a JSON object",
        "{body}"
    );
    for other in ["\"Annex\"", "42", "null", "true"] {
        let (status, body) = raw(&s, Method::POST, "/properties", &a, other).await;
        assert_eq!(status, 422, "{other}: {body}");
    }
    let (status, _) = raw(
        &s,
        Method::POST,
        "/system/tenants",
        &operator(),
        r#"["globex", "Globex", "free"]"#,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(s.count_rows("properties", &acme).await, 1);
    s.stop().await;
}

async fn every_invalid_field(db: Db) {
    let Some(s) = Service::start(db).await else {
        return;
    };
    let acme = s.tenant("acme", "pro").await;
    let a = token(&acme, "admin");
    let prop = property(&s, &a, "Harbour View").await;

    let r = s
        .post(
            "/leases",
            &a,
            json!({
                "property_id": 5,
                "lessee": "",
                "start_date": "yesterday",
                "end_date": null,
                "rent_cents": "12",
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(
        r.fields(),
        [
            "property_id",
            "lessee",
            "start_date",
            "end_date",
            "rent_cents"
        ],
        "{}",
        r.text
    );
    let rent = &r.body["errors"][4]["detail"];
    assert!(
        rent.as_str().unwrap().contains("must be an integer"),
        "{}",
        r.text
    );
    for rust in ["i64", "struct", "String", "Option", "invalid type"] {
        assert!(!r.text.contains(rust), "{rust} in {}", r.text);
    }

    let r = s.post("/properties", &a, json!({"address": 7})).await;
    assert_eq!(r.fields(), ["name", "address"], "{}", r.text);
    assert!(!r.text.contains("struct"), "{}", r.text);

    // null is not a value for a required field, even in a patch.
    let r = s
        .patch(&format!("/properties/{prop}"), &a, json!({"name": null}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.fields(), ["name"]);
    let r = s.get(&format!("/properties/{prop}"), &a).await;
    assert_eq!(r.body["name"], "Harbour View");

    let r = s.post("/leases", &a, lease(&prop)).await;
    let lease_id = r.body["id"].as_str().unwrap().to_owned();
    let r = s
        .patch(
            &format!("/leases/{lease_id}"),
            &a,
            json!({"rent_cents": 1.5, "lessee": null, "end_date": "2025-01-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.fields(), ["lessee", "rent_cents"], "{}", r.text);
    let r = s.get(&format!("/leases/{lease_id}"), &a).await;
    assert_eq!(r.body["rent_cents"], 120000);
    s.stop().await;
}

async fn sealed_cursors(db: Db) {
    let Some(s) = Service::start(db).await else {
        return;
    };
    let acme = s.tenant("acme", "pro").await;
    let a = token(&acme, "admin");
    for name in ["One", "Two", "Three"] {
        let prop = property(&s, &a, name).await;
        s.post("/leases", &a, lease(&prop)).await;
    }
    let r = s.get("/properties?limit=1", &a).await;
    let cursor = r.body["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(
        s.get(&format!("/properties?limit=1&cursor={cursor}"), &a)
            .await
            .status,
        StatusCode::OK
    );
    // A cursor works on its own list only.
    for other in ["/leases", "/audit"] {
        let r = s.get(&format!("{other}?limit=1&cursor={cursor}"), &a).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{other}: {}", r.text);
    }
    let r = s
        .get(&format!("/system/tenants?cursor={cursor}"), &operator())
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    // It reveals no position (a timestamp in microseconds).
    use sqlx::Row;
    let seqs: Vec<i64> = sqlx::query("SELECT seq FROM properties WHERE tenant_id = $1")
        .bind(&acme)
        .fetch_all(&s.inspect)
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get("seq").unwrap())
        .collect();
    for seq in seqs {
        let decimal = seq.to_string();
        let hex_of_decimal: String = decimal.bytes().map(|b| format!("{b:02x}")).collect();
        for shown in [decimal, format!("{seq:x}"), hex_of_decimal] {
            assert!(!cursor.contains(&shown), "{cursor} shows {shown}");
        }
    }
    // An altered cursor is refused.
    let mut altered = cursor.into_bytes();
    altered[0] = if altered[0] == b'a' { b'b' } else { b'a' };
    let altered = String::from_utf8(altered).unwrap();
    let r = s.get(&format!("/properties?cursor={altered}"), &a).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    s.stop().await;
}

async fn foreign_cursors(db: Db) {
    let Some(s) = Service::start(db).await else {
        return;
    };
    let acme = s.tenant("acme", "pro").await;
    let globex = s.tenant("globex", "pro").await;
    let a = token(&acme, "admin");
    let g = token(&globex, "admin");
    for tok in [&a, &g] {
        for name in ["One", "Two", "Three"] {
            property(&s, tok, name).await;
        }
    }
    let r = s.get("/properties?limit=1", &a).await;
    let cursor = r.body["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(
        s.get(&format!("/properties?limit=1&cursor={cursor}"), &a)
            .await
            .status,
        StatusCode::OK
    );
    // The same list, another tenant: refused, and answered exactly like a
    // cursor that was never one.
    let foreign = s
        .get(&format!("/properties?limit=1&cursor={cursor}"), &g)
        .await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST, "{}", foreign.text);
    let malformed = s.get("/properties?limit=1&cursor=bogus", &g).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(foreign.body, malformed.body);
    // Globex's own cursors still work for it, and not for acme.
    let r = s.get("/properties?limit=1", &g).await;
    let theirs = r.body["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(
        s.get(&format!("/properties?limit=1&cursor={theirs}"), &g)
            .await
            .status,
        StatusCode::OK
    );
    let r = s
        .get(&format!("/properties?limit=1&cursor={theirs}"), &a)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    s.stop().await;
}

async fn one_problem_vocabulary(db: Db) {
    let Some(s) = Service::start(db).await else {
        return;
    };
    let acme = s.tenant("acme", "pro").await;
    let a = token(&acme, "admin");
    let op = operator();
    const PREFIX: &str = "urn:tenancy:problem:";

    // 405, like every other refusal, is in the one namespace.
    let r = s.call(Method::PUT, "/properties", Some(&a), None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        r.body["type"].as_str().unwrap().starts_with(PREFIX),
        "{}",
        r.text
    );
    // Unknown paths and system routes are not "in this tenant".
    let r = s.get("/nowhere", &a).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.text.contains("tenant"), "{}", r.text);
    let unknown = leases_service::clock::new_id().unwrap();
    for path in [
        format!("/system/tenants/{unknown}/suspend"),
        "/system/tenants/not-an-id/activate".to_owned(),
    ] {
        let r = s.post(&path, &op, json!({})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!r.text.contains("in this tenant"), "{}", r.text);
    }
    let r = s
        .post(
            "/auth/redeem",
            "",
            json!({"code": "nope", "slug": "x-y", "name": "X"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.text.contains("in this tenant"), "{}", r.text);
    // Grammar.
    let r = s
        .post(&format!("/system/tenants/{acme}/activate"), &op, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text.contains("an active tenant"), "{}", r.text);

    // 413 reads the same whichever route and however the body came.
    let big = format!(
        "{{\"name\": \"{}\", \"address\": \"x\"}}",
        "a".repeat(70 * 1024)
    );
    let problem = |response: String| -> (u16, Value) {
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    };
    let declared_tenant = problem(declared_post_text(&s, "/properties", &a, big.as_bytes()).await);
    let declared_public = problem(declared_post_text(&s, "/auth/redeem", &a, big.as_bytes()).await);
    let chunked = problem(chunked_post_text(&s, "/properties", &a, big.as_bytes()).await);
    for (status, body) in [&declared_tenant, &declared_public, &chunked] {
        assert_eq!(*status, 413, "{body}");
        for key in ["type", "title", "detail"] {
            assert_eq!(body[key], declared_tenant.1[key], "{key}: {body}");
        }
        assert!(body["type"].as_str().unwrap().starts_with(PREFIX));
    }
    // Every other refusal is in the namespace too.
    for r in [
        s.get("/properties?limit=0", &a).await,
        s.post("/properties", &a, json!({})).await,
        s.get("/properties", "nope").await,
        s.get("/system/tenants", &a).await,
    ] {
        assert!(
            r.body["type"].as_str().unwrap().starts_with(PREFIX),
            "{}",
            r.text
        );
    }
    s.stop().await;
}

async fn busy_port(db: Db) {
    let Some((mut config, scratch)) = support::Scratch::create(db).await else {
        return;
    };
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    config.addr = taken.local_addr().unwrap();
    let role = config.db_app_role.clone();
    let result = leases_service::start(config).await;
    assert!(result.is_err(), "started on a busy port");
    match &scratch {
        support::Scratch::File(path) => {
            assert!(!path.exists(), "a database file was left behind");
        }
        support::Scratch::Postgres { .. } => {
            use sqlx::Row;
            let pool = sqlx::AnyPool::connect(&scratch.owner_url().unwrap())
                .await
                .unwrap();
            let table: Option<String> = sqlx::query("SELECT to_regclass('tenants')::text AS t")
                .fetch_one(&pool)
                .await
                .unwrap()
                .try_get("t")
                .unwrap();
            assert_eq!(table, None, "the schema was created");
            let role_exists = sqlx::query("SELECT 1 AS one FROM pg_roles WHERE rolname = $1")
                .bind(&role)
                .fetch_optional(&pool)
                .await
                .unwrap();
            assert!(role_exists.is_none(), "the application role was created");
            pool.close().await;
        }
    }
    drop(taken);
    scratch.drop_all().await;
}

async fn platform_subject(db: Db) {
    let Some(s) = Service::start(db).await else {
        return;
    };
    let operator_claims = claims("system", None, "platform-admin");
    let operator_id = operator_claims["sub"].as_str().unwrap().to_owned();
    let op = sign(&operator_claims, SECRET);
    let r = s
        .post(
            "/system/tenants",
            &op,
            json!({"slug": "acme", "name": "Acme", "plan": "pro"}),
        )
        .await;
    let acme = r.body["id"].as_str().unwrap().to_owned();
    for action in ["suspend", "activate"] {
        let r = s
            .post(&format!("/system/tenants/{acme}/{action}"), &op, json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let a = token(&acme, "admin");
    property(&s, &a, "Harbour View").await;
    let r = s.get("/audit", &a).await;
    assert!(!r.text.contains(&operator_id), "{}", r.text);
    let items = r.body["items"].as_array().unwrap();
    for action in ["tenant.create", "tenant.suspend", "tenant.activate"] {
        let item = items.iter().find(|i| i["action"] == action).unwrap();
        assert_eq!(item["subject"], "platform", "{action}: {}", r.text);
    }
    let own = items
        .iter()
        .find(|i| i["action"] == "property.create")
        .unwrap();
    assert_ne!(own["subject"], "platform");
    assert!(own["subject"].as_str().is_some());
    s.stop().await;
}
