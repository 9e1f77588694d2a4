//! `--demo`: what it prints works as printed.

#![expect(clippy::unwrap_used, reason = "tests: any failure should stop them")]

mod support;

use std::collections::HashMap;

use reqwest::StatusCode;
use support::{Db, Service};

/// `export NAME=value` lines of the demo's output.
fn exports(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("export ")?.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

async fn printed_tokens_and_curl_lines_work(db: Db) {
    let Some(s) = Service::start(db).await else {
        return;
    };
    let text = s.running().seed_demo().await.unwrap();
    let tokens = exports(&text);
    let mut names: Vec<&str> = tokens.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "ACME_ADMIN_TOKEN",
            "ACME_MEMBER_TOKEN",
            "ACME_VIEWER_TOKEN",
            "GLOBEX_ADMIN_TOKEN",
            "GLOBEX_MEMBER_TOKEN",
            "GLOBEX_VIEWER_TOKEN",
            "OPERATOR_TOKEN",
        ]
    );
    // Every curl line targets this service and names a token printed above.
    let curls: Vec<&str> = text.lines().filter(|l| l.starts_with("curl ")).collect();
    assert!(curls.len() >= 8, "{text}");
    for line in &curls {
        assert!(line.contains(&format!("{}/", s.base)), "{line}");
        // Pasted output ends each answer with a newline, so answers do not
        // run together with each other or the prompt.
        assert!(line.starts_with("curl -s -w '\\n' "), "{line}");
        let var = line
            .split("Bearer $")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert!(tokens.contains_key(var), "{line}");
    }
    // The two tenants see their own data and not each other's.
    let token = |name: &str| tokens[name].clone();
    let acme = s.get("/properties", &token("ACME_MEMBER_TOKEN")).await;
    assert_eq!(acme.body["items"].as_array().unwrap().len(), 2);
    let globex = s.get("/properties", &token("GLOBEX_ADMIN_TOKEN")).await;
    assert_eq!(globex.body["items"].as_array().unwrap().len(), 1);
    let acme_property = acme.body["items"][0]["id"].as_str().unwrap().to_owned();
    let r = s
        .get(
            &format!("/properties/{acme_property}"),
            &token("GLOBEX_ADMIN_TOKEN"),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let tenants = s.get("/system/tenants", &token("OPERATOR_TOKEN")).await;
    assert_eq!(tenants.body["items"].as_array().unwrap().len(), 2);

    // Seeding again reuses the tenants and their data.
    let again = exports(&s.running().seed_demo().await.unwrap());
    let acme = s.get("/properties", &again["ACME_VIEWER_TOKEN"]).await;
    assert_eq!(acme.body["items"].as_array().unwrap().len(), 2);
    let tenants = s.get("/system/tenants", &again["OPERATOR_TOKEN"]).await;
    assert_eq!(tenants.body["items"].as_array().unwrap().len(), 2);
    s.stop().await;
}

on_every_database! {
    demo_output => printed_tokens_and_curl_lines_work;
}
