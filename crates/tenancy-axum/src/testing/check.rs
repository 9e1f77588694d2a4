//! What each answer must be: the judgements, apart from the calls.

use axum::http::StatusCode;
use serde_json::Value;
use tenancy_core::TenantId;

use super::client::Reply;
use super::id::{ResourceId, names_tenant};
use super::report::{Expected, Finding};

/// The findings of a status against what was due.
pub(crate) fn status(expected: Expected, got: StatusCode) -> Option<Finding> {
    let ok = match expected {
        Expected::Status(s) | Expected::LikeMissing(s) | Expected::Unchanged(s) => got == s,
        Expected::Success => got.is_success() || got.is_redirection(),
        Expected::Anything => true,
    };
    (!ok).then_some(Finding::Status { expected, got })
}

/// A foreign id must be answered exactly like a missing one: the same
/// status and, once each id is replaced by the placeholder, the same body.
pub(crate) fn like_missing(
    foreign: (&Reply, &ResourceId),
    missing: (&Reply, &ResourceId),
    placeholder: &str,
) -> Option<Finding> {
    let (f, m) = (
        without_id(&foreign.0.body, foreign.1, placeholder),
        without_id(&missing.0.body, missing.1, placeholder),
    );
    let alike = foreign.0.status == missing.0.status && same_body(&f, &m);
    (!alike).then_some(Finding::UnlikeMissing {
        foreign: (foreign.0.status, f),
        missing: (missing.0.status, m),
    })
}

/// `b` reads its resource as it did before the calls.
pub(crate) fn unchanged(before: &Reply, after: &Reply) -> Option<Finding> {
    let same = before.status == after.status && same_body(&before.body, &after.body);
    (!same).then(|| Finding::Changed {
        before: (before.status, before.body.clone()),
        after: (after.status, after.body.clone()),
    })
}

/// A body `a` received names no id of `b` (but the one `a` sent, which it
/// knows already) and no tenant id.
pub(crate) fn names_nothing(
    body: &str,
    foreign_ids: &[(String, ResourceId)],
    sent: Option<&ResourceId>,
    tenants: [(&'static str, TenantId); 2],
) -> Vec<Finding> {
    let ids = foreign_ids
        .iter()
        .filter(|(_, id)| Some(id) != sent && id.appears_in(body))
        .map(|(resource, id)| Finding::NamesId {
            resource: resource.clone(),
            id: id.clone(),
        });
    let tenants = tenants
        .into_iter()
        .filter(|(_, id)| names_tenant(body, *id))
        .map(|(tenant, id)| Finding::NamesTenant { tenant, id });
    ids.chain(tenants).collect()
}

fn without_id(body: &str, id: &ResourceId, placeholder: &str) -> String {
    id.replaced_in(body, &format!("{{{placeholder}}}"))
}

/// Equal as JSON when both are JSON (key order and spacing aside), else
/// equal as text.
fn same_body(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<Value>(a),
        serde_json::from_str::<Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT),
            body: body.to_owned(),
            json: serde_json::from_str(body).unwrap_or(Value::Null),
        }
    }

    #[test]
    fn echoed_ids_do_not_count_as_a_difference() {
        let (b, missing) = (
            ResourceId::from(12_i64),
            ResourceId::from(2_147_480_000_i64),
        );
        let found = like_missing(
            (&reply(404, r#"{"detail":"note 12"}"#), &b),
            (&reply(404, r#"{ "detail": "note 2147480000" }"#), &missing),
            "note",
        );
        assert_eq!(found, None);
    }

    #[test]
    fn a_forbidden_foreign_id_differs_from_a_missing_one() {
        let (b, missing) = (
            ResourceId::from(12_i64),
            ResourceId::from(2_147_480_000_i64),
        );
        let found = like_missing(
            (&reply(403, "{}"), &b),
            (&reply(404, "{}"), &missing),
            "note",
        );
        assert_eq!(
            found,
            Some(Finding::UnlikeMissing {
                foreign: (StatusCode::FORBIDDEN, "{}".to_owned()),
                missing: (StatusCode::NOT_FOUND, "{}".to_owned()),
            })
        );
    }

    #[test]
    fn another_body_with_the_same_status_differs() {
        let (b, missing) = (
            ResourceId::from(12_i64),
            ResourceId::from(2_147_480_000_i64),
        );
        let found = like_missing(
            (&reply(200, r#"{"items":[12]}"#), &b),
            (&reply(200, r#"{"items":[]}"#), &missing),
            "note",
        );
        assert!(
            matches!(found, Some(Finding::UnlikeMissing { .. })),
            "{found:?}"
        );
    }

    #[test]
    fn the_sent_id_may_be_echoed_but_no_other() {
        let sent = ResourceId::from("note-000001");
        let other = ResourceId::from("note-000002");
        let ids = [
            ("note".to_owned(), sent.clone()),
            ("other".to_owned(), other.clone()),
        ];
        let tenants = [("a", TenantId::from_u128(1)), ("b", TenantId::from_u128(2))];
        assert_eq!(names_nothing("note-000001", &ids, Some(&sent), tenants), []);
        assert_eq!(
            names_nothing("note-000001 note-000002", &ids, Some(&sent), tenants),
            [Finding::NamesId {
                resource: "other".to_owned(),
                id: other
            }]
        );
    }
}
