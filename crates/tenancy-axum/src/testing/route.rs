//! A route to try: its method, its path template with `{resource}`
//! placeholders, an optional JSON body template and what it requires.

use std::fmt;

use axum::http::{Method, StatusCode};
use serde_json::Value;

use super::id::ResourceId;

/// One route of the service, as a template the check fills with ids.
///
/// Placeholders name resources returned by
/// [`resources`](super::HttpLeakCheck::resources): `{note}` in the path
/// (`/notes/{note}`), in the query (`/leases?property={property}`) or as a
/// JSON string in the body (`"{property}"` becomes the id itself, a number
/// staying a number; inside a longer string it is replaced as text).
#[derive(Debug, Clone)]
pub struct Route {
    method: Method,
    template: String,
    body: Option<Value>,
    requires: Vec<String>,
    reads: Vec<String>,
    missing_status: Option<StatusCode>,
}

/// Where a placeholder stands; a path id must be answered 404 when it is
/// another tenant's, a query or body reference like a missing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Place {
    Path,
    Query,
    Body,
}

impl Route {
    /// A route of any method.
    pub fn new(method: Method, template: impl Into<String>) -> Self {
        Route {
            method,
            template: template.into(),
            body: None,
            requires: Vec::new(),
            reads: Vec::new(),
            missing_status: None,
        }
    }

    /// A `GET` route.
    pub fn get(template: impl Into<String>) -> Self {
        Route::new(Method::GET, template)
    }

    /// A `POST` route.
    pub fn post(template: impl Into<String>) -> Self {
        Route::new(Method::POST, template)
    }

    /// A `PUT` route.
    pub fn put(template: impl Into<String>) -> Self {
        Route::new(Method::PUT, template)
    }

    /// A `PATCH` route.
    pub fn patch(template: impl Into<String>) -> Self {
        Route::new(Method::PATCH, template)
    }

    /// A `DELETE` route.
    pub fn delete(template: impl Into<String>) -> Self {
        Route::new(Method::DELETE, template)
    }

    /// The JSON body to send, with placeholders in its string values.
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// A permission (`resource:action`) the route requires: a token without
    /// it must be answered 403.
    pub fn requires(mut self, permission: &str) -> Self {
        self.requires.push(permission.to_owned());
        self
    }

    /// This route shows resource `name`: the check calls it as the other
    /// tenant, `b`, before and after every other call, and both answers
    /// must be equal (the fields of
    /// [`ignore_fields`](super::HttpLeakCheck::ignore_fields) aside), so
    /// nothing of `b`'s was written. A list route works as well as a
    /// route of one resource: `Route::get("/notes").reads("note")`.
    ///
    /// A resource no route `reads` is read back through each `GET` route
    /// whose only placeholder is `{name}`, in its path. When there is none
    /// and any route may write, the check fails at set-up, unless
    /// [`unchecked_writes`](super::HttpLeakCheck::unchecked_writes) names
    /// the resource.
    pub fn reads(mut self, name: &str) -> Self {
        self.reads.push(name.to_owned());
        self
    }

    /// What this route answers an id no tenant has (default: 404 when the
    /// id is in the path, anything when it is in the query or the body).
    /// Another tenant's id must still be answered exactly like a missing
    /// one. For an idempotent `DELETE` that answers 204 whatever the id:
    /// `Route::delete("/notes/{note}").missing_status(StatusCode::NO_CONTENT)`.
    pub fn missing_status(mut self, status: StatusCode) -> Self {
        self.missing_status = Some(status);
        self
    }

    /// The status due to a missing id in `place`, if one is.
    pub(crate) fn status_for_missing(&self, place: Place) -> Option<StatusCode> {
        match (self.missing_status, place) {
            (Some(status), _) => Some(status),
            (None, Place::Path) => Some(StatusCode::NOT_FOUND),
            (None, Place::Query | Place::Body) => None,
        }
    }

    pub(crate) fn method(&self) -> &Method {
        &self.method
    }

    pub(crate) fn required(&self) -> &[String] {
        &self.requires
    }

    pub(crate) fn declared_reads(&self) -> &[String] {
        &self.reads
    }

    /// True for methods that may write: after its own call the tenant's
    /// resources are created afresh.
    pub(crate) fn writes(&self) -> bool {
        !matches!(self.method, Method::GET | Method::HEAD | Method::OPTIONS)
    }

    /// Every placeholder once, in order of first appearance, with the
    /// strictest place it stands in (path before query before body).
    pub(crate) fn placeholders(&self) -> Vec<(String, Place)> {
        let mut found: Vec<(String, Place)> = Vec::new();
        let mut add = |name: &str, place: Place| match found.iter_mut().find(|(n, _)| n == name) {
            Some((_, p)) => *p = (*p).min(place),
            None => found.push((name.to_owned(), place)),
        };
        let (path, query) = split_query(&self.template);
        names_in(path).for_each(|n| add(n, Place::Path));
        names_in(query).for_each(|n| add(n, Place::Query));
        if let Some(body) = &self.body {
            let mut strings = Vec::new();
            strings_in(body, &mut strings);
            for s in strings {
                names_in(s).for_each(|n| add(n, Place::Body));
            }
        }
        found
    }

    /// The request target and body with every placeholder replaced by the
    /// id `id_of` gives it.
    pub(crate) fn render(
        &self,
        id_of: &dyn Fn(&str) -> Option<ResourceId>,
    ) -> (String, Option<Value>) {
        let (path, query) = split_query(&self.template);
        let mut uri = fill(path, &|name| id_of(name).map(|id| encode(id.as_str())));
        if !query.is_empty() {
            uri.push('?');
            uri.push_str(&fill(query, &|name| {
                id_of(name).map(|id| encode(id.as_str()))
            }));
        }
        let body = self.body.as_ref().map(|b| fill_json(b, id_of));
        (uri, body)
    }
}

/// `GET /notes/{note}`.
impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.template)
    }
}

fn split_query(template: &str) -> (&str, &str) {
    template.split_once('?').unwrap_or((template, ""))
}

/// The names of the `{name}` placeholders in `text`.
fn names_in(text: &str) -> impl Iterator<Item = &str> {
    text.split('{').skip(1).filter_map(|rest| {
        let (name, _) = rest.split_once('}')?;
        let valid =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        valid.then_some(name)
    })
}

fn strings_in<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| strings_in(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings_in(v, out)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// `text` with each known placeholder replaced; unknown ones stay.
fn fill(text: &str, value_of: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let replaced = after
            .split_once('}')
            .and_then(|(name, tail)| Some((value_of(name)?, tail)));
        match replaced {
            Some((value, tail)) => {
                out.push_str(&value);
                rest = tail;
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn fill_json(value: &Value, id_of: &dyn Fn(&str) -> Option<ResourceId>) -> Value {
    match value {
        Value::String(s) => {
            let whole = s
                .strip_prefix('{')
                .and_then(|s| s.strip_suffix('}'))
                .and_then(id_of);
            match whole {
                Some(id) => id.to_json(),
                None => Value::String(fill(s, &|name| {
                    id_of(name).map(|id| id.as_str().to_owned())
                })),
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| fill_json(v, id_of)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill_json(v, id_of)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so an
/// id is one path segment or one query value whatever it holds.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ids(name: &str) -> Option<ResourceId> {
        match name {
            "lease" => Some(ResourceId::from(7_i64)),
            "property" => Some(ResourceId::from("p/1")),
            _ => None,
        }
    }

    #[test]
    fn placeholders_take_their_strictest_place() {
        let route = Route::patch("/leases/{lease}?property={property}")
            .json(json!({"a": "{property}", "b": ["{lease}", "x {tenant}"]}));
        assert_eq!(
            route.placeholders(),
            [
                ("lease".to_owned(), Place::Path),
                ("property".to_owned(), Place::Query),
                ("tenant".to_owned(), Place::Body),
            ]
        );
    }

    #[test]
    fn render_encodes_path_and_keeps_json_numbers() {
        let route = Route::patch("/leases/{lease}?property={property}")
            .json(json!({"lease": "{lease}", "text": "lease {lease}", "other": "{other}"}));
        let (uri, body) = route.render(&ids);
        assert_eq!(uri, "/leases/7?property=p%2F1");
        assert_eq!(
            body,
            Some(json!({"lease": 7, "text": "lease 7", "other": "{other}"}))
        );
    }
}
