//! What each answer must be: the judgements, apart from the calls.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, StatusCode, header};
use serde_json::Value;
use tenancy_core::TenantId;

use super::client::Reply;
use super::id::{ResourceId, names_tenant};
use super::report::{Expected, Finding, Part};

/// What may differ between two answers that must otherwise be equal: JSON
/// fields and headers that change from call to call (a request id, a
/// timestamp).
#[derive(Debug, Clone)]
pub(crate) struct Mask {
    fields: Vec<String>,
    /// In lower case.
    headers: Vec<String>,
}

/// A masked field's value, so that its presence still counts.
const IGNORED: &str = "{ignored}";

impl Default for Mask {
    /// `date` changes by the second; `content-length` with the length of
    /// an id echoed in the body.
    fn default() -> Self {
        Mask {
            fields: Vec::new(),
            headers: vec![header::DATE.to_string(), header::CONTENT_LENGTH.to_string()],
        }
    }
}

impl Mask {
    pub(crate) fn ignore_fields(&mut self, names: impl IntoIterator<Item = String>) {
        self.fields.extend(names);
    }

    pub(crate) fn ignore_headers(&mut self, names: impl IntoIterator<Item = String>) {
        self.headers
            .extend(names.into_iter().map(|n| n.to_ascii_lowercase()));
    }

    /// `body` as compared: as JSON when it is JSON (each ignored field's
    /// value masked, `id` replaced by `with` in strings, keys and numbers),
    /// else as text with `id` replaced.
    fn body(&self, body: &str, id: Option<(&ResourceId, &str)>) -> String {
        match serde_json::from_str::<Value>(body) {
            Ok(json) => self.json(json, id).to_string(),
            Err(_) => id.map_or_else(|| body.to_owned(), |(id, with)| id.replaced_in(body, with)),
        }
    }

    fn json(&self, value: Value, id: Option<(&ResourceId, &str)>) -> Value {
        let replaced = |text: &str| {
            id.map_or_else(|| text.to_owned(), |(id, with)| id.replaced_in(text, with))
        };
        match value {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(key, value)| {
                        let value = if self.fields.contains(&key) {
                            Value::from(IGNORED)
                        } else {
                            self.json(value, id)
                        };
                        (replaced(&key), value)
                    })
                    .collect(),
            ),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.json(v, id)).collect())
            }
            Value::String(text) => Value::String(replaced(&text)),
            Value::Number(n) => match id {
                Some((id, with)) if n.to_string() == id.as_str() => Value::from(with),
                _ => Value::Number(n),
            },
            other @ (Value::Null | Value::Bool(_)) => other,
        }
    }

    /// The headers compared, by lower-case name, each one's values joined
    /// by `, ` with `id` replaced by `with`.
    fn headers(
        &self,
        headers: &HeaderMap,
        id: &ResourceId,
        with: &str,
    ) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in headers {
            let name = name.as_str();
            if self.headers.iter().any(|ignored| ignored == name) {
                continue;
            }
            let value = id.replaced_in(&String::from_utf8_lossy(value.as_bytes()), with);
            out.entry(name.to_owned())
                .and_modify(|joined| {
                    joined.push_str(", ");
                    joined.push_str(&value);
                })
                .or_insert(value);
        }
        out
    }
}

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
/// status and, once each id is replaced by the placeholder, the same body,
/// then the same headers.
pub(crate) fn like_missing(
    foreign: (&Reply, &ResourceId),
    missing: (&Reply, &ResourceId),
    placeholder: &str,
    mask: &Mask,
) -> Vec<Finding> {
    let with = format!("{{{placeholder}}}");
    let (f, m) = (
        mask.body(&foreign.0.body, Some((foreign.1, &with))),
        mask.body(&missing.0.body, Some((missing.1, &with))),
    );
    if foreign.0.status != missing.0.status || !same_body(&f, &m) {
        return vec![Finding::UnlikeMissing {
            foreign: (foreign.0.status, f),
            missing: (missing.0.status, m),
        }];
    }
    let mut f = mask.headers(&foreign.0.headers, foreign.1, &with);
    let mut m = mask.headers(&missing.0.headers, missing.1, &with);
    let mut names: Vec<String> = f.keys().chain(m.keys()).cloned().collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| {
            let (foreign, missing) = (f.remove(&name), m.remove(&name));
            (foreign != missing).then_some(Finding::UnlikeMissingHeader {
                header: name,
                foreign,
                missing,
            })
        })
        .collect()
}

/// `b` reads its resource as it did before the calls.
pub(crate) fn unchanged(before: &Reply, after: &Reply, mask: &Mask) -> Option<Finding> {
    let (b, a) = (mask.body(&before.body, None), mask.body(&after.body, None));
    let same = before.status == after.status && same_body(&b, &a);
    (!same).then_some(Finding::Changed {
        before: (before.status, b),
        after: (after.status, a),
    })
}

/// What tenant `a` must never be told of `b`'s.
pub(crate) struct Secrets<'s> {
    /// `b`'s ids that `a` does not also have.
    pub(crate) ids: &'s [(String, ResourceId)],
    pub(crate) tenant: TenantId,
    pub(crate) marker: &'s str,
}

/// A reply `a` received, in its body and its headers, names no id of `b`
/// (but the one `a` sent, which it knows already), not `b`'s tenant id and
/// not `b`'s marker.
pub(crate) fn names_nothing(
    reply: &Reply,
    secrets: &Secrets<'_>,
    sent: Option<&ResourceId>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (part, text) in parts(reply) {
        let ids = (secrets.ids.iter())
            .filter(|(_, id)| Some(id) != sent && id.appears_in(&text))
            .map(|(resource, id)| Finding::NamesId {
                resource: resource.clone(),
                id: id.clone(),
                part: part.clone(),
            });
        findings.extend(ids);
        if names_tenant(&text, secrets.tenant) {
            findings.push(Finding::NamesTenant {
                id: secrets.tenant,
                part: part.clone(),
            });
        }
        if holds_marker(&text, secrets.marker) {
            findings.push(Finding::NamesMarker {
                marker: secrets.marker.to_owned(),
                part,
            });
        }
    }
    findings
}

/// True when `marker` stands in the reply's body or one of its headers.
pub(crate) fn shows(reply: &Reply, marker: &str) -> bool {
    parts(reply).any(|(_, text)| holds_marker(&text, marker))
}

/// The body, then each header's value, as text.
fn parts(reply: &Reply) -> impl Iterator<Item = (Part, String)> + '_ {
    let headers = reply.headers.iter().map(|(name, value)| {
        let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
        (Part::Header(name.as_str().to_owned()), text)
    });
    std::iter::once((Part::Body, reply.body.clone())).chain(headers)
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

/// True when `text` holds `marker`, in any case.
fn holds_marker(text: &str, marker: &str) -> bool {
    !marker.is_empty()
        && text
            .to_ascii_lowercase()
            .contains(&marker.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT),
            headers: HeaderMap::new(),
            body: body.to_owned(),
            json: serde_json::from_str(body).unwrap_or(Value::Null),
        }
    }

    fn with_header(mut reply: Reply, name: &'static str, value: &str) -> Reply {
        let value = HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("?"));
        reply.headers.append(name, value);
        reply
    }

    fn ids() -> (ResourceId, ResourceId) {
        (
            ResourceId::from(12_i64),
            ResourceId::from(2_147_480_000_i64),
        )
    }

    fn secrets<'s>(ids: &'s [(String, ResourceId)], marker: &'s str) -> Secrets<'s> {
        Secrets {
            ids,
            tenant: TenantId::from_u128(0xb),
            marker,
        }
    }

    #[test]
    fn echoed_ids_do_not_count_as_a_difference() {
        let (b, missing) = ids();
        let found = like_missing(
            (&reply(404, r#"{"detail":"note 12","id":12}"#), &b),
            (
                &reply(404, r#"{ "id": 2147480000, "detail": "note 2147480000" }"#),
                &missing,
            ),
            "note",
            &Mask::default(),
        );
        assert_eq!(found, []);
    }

    #[test]
    fn a_forbidden_foreign_id_differs_from_a_missing_one() {
        let (b, missing) = ids();
        let found = like_missing(
            (&reply(403, "{}"), &b),
            (&reply(404, "{}"), &missing),
            "note",
            &Mask::default(),
        );
        assert_eq!(
            found,
            [Finding::UnlikeMissing {
                foreign: (StatusCode::FORBIDDEN, "{}".to_owned()),
                missing: (StatusCode::NOT_FOUND, "{}".to_owned()),
            }]
        );
    }

    #[test]
    fn another_body_with_the_same_status_differs() {
        let (b, missing) = ids();
        let found = like_missing(
            (&reply(200, r#"{"items":[12]}"#), &b),
            (&reply(200, r#"{"items":[]}"#), &missing),
            "note",
            &Mask::default(),
        );
        assert!(
            matches!(found[..], [Finding::UnlikeMissing { .. }]),
            "{found:?}"
        );
    }

    #[test]
    fn a_header_only_the_foreign_id_gets_differs() {
        let (b, missing) = ids();
        let foreign = with_header(reply(404, "{}"), "x-exists", "1");
        let found = like_missing(
            (&foreign, &b),
            (&reply(404, "{}"), &missing),
            "note",
            &Mask::default(),
        );
        assert_eq!(
            found,
            [Finding::UnlikeMissingHeader {
                header: "x-exists".to_owned(),
                foreign: Some("1".to_owned()),
                missing: None,
            }]
        );
    }

    #[test]
    fn echoed_ids_date_and_length_in_headers_do_not_count() {
        let (b, missing) = ids();
        let foreign = with_header(reply(404, "{}"), "location", "/notes/12");
        let foreign = with_header(
            with_header(foreign, "date", "Mon, 01 Jan 2024 00:00:00 GMT"),
            "content-length",
            "2",
        );
        let other = with_header(reply(404, "{}"), "location", "/notes/2147480000");
        let other = with_header(other, "date", "Mon, 01 Jan 2024 00:00:01 GMT");
        let found = like_missing((&foreign, &b), (&other, &missing), "note", &Mask::default());
        assert_eq!(found, []);
    }

    #[test]
    fn ignored_fields_and_headers_are_masked_but_not_dropped() {
        let (b, missing) = ids();
        let mut mask = Mask::default();
        mask.ignore_fields(["request_id".to_owned()]);
        mask.ignore_headers(["X-Request-Id".to_owned()]);
        let foreign = with_header(reply(404, r#"{"e":{"request_id":7}}"#), "x-request-id", "7");
        let other = with_header(reply(404, r#"{"e":{"request_id":8}}"#), "x-request-id", "8");
        assert_eq!(
            like_missing((&foreign, &b), (&other, &missing), "note", &mask),
            []
        );
        assert_eq!(unchanged(&foreign, &other, &mask), None);
        // A field present on one side only still differs.
        let bare = reply(404, r#"{"e":{}}"#);
        assert_eq!(
            like_missing((&foreign, &b), (&bare, &missing), "note", &mask).len(),
            1
        );
        assert!(unchanged(&foreign, &other, &Mask::default()).is_some());
    }

    #[test]
    fn the_sent_id_may_be_echoed_but_no_other() {
        let sent = ResourceId::from("note-000001");
        let other = ResourceId::from("note-000002");
        let ids = [
            ("note".to_owned(), sent.clone()),
            ("other".to_owned(), other.clone()),
        ];
        let secrets = secrets(&ids, "leak-b-000000000000");
        assert_eq!(
            names_nothing(&reply(200, "note-000001"), &secrets, Some(&sent)),
            []
        );
        assert_eq!(
            names_nothing(
                &reply(200, "note-000001 note-000002"),
                &secrets,
                Some(&sent)
            ),
            [Finding::NamesId {
                resource: "other".to_owned(),
                id: other,
                part: Part::Body
            }]
        );
    }

    #[test]
    fn headers_are_searched_like_bodies() {
        let b = TenantId::from_u128(0xb);
        let link = format!("</notes/1>; rel=owner-{b}");
        let found = names_nothing(
            &with_header(reply(404, "{}"), "link", &link),
            &secrets(&[], "leak-b-1"),
            None,
        );
        assert_eq!(
            found,
            [Finding::NamesTenant {
                id: b,
                part: Part::Header("link".to_owned())
            }]
        );
    }

    #[test]
    fn the_marker_is_found_whatever_the_ids() {
        let found = names_nothing(
            &reply(200, r#"[{"id":1,"body":"LEAK-B-1f"}]"#),
            &secrets(&[], "leak-b-1f"),
            None,
        );
        assert_eq!(
            found,
            [Finding::NamesMarker {
                marker: "leak-b-1f".to_owned(),
                part: Part::Body
            }]
        );
    }

    #[test]
    fn the_callers_own_tenant_id_is_not_a_leak() {
        let a = TenantId::from_u128(0xa);
        assert_eq!(
            names_nothing(
                &reply(200, &format!(r#"{{"tenant":"{a}"}}"#)),
                &secrets(&[], "leak-b-1"),
                None
            ),
            []
        );
    }
}
