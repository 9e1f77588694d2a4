//! Reading request bodies and ids, with field-level errors.
//!
//! A body is read in two steps: it must be a JSON document (else 400) that
//! is an object (else 422), and then each field is checked on its own, so a
//! client learns about every invalid field at once. Details speak JSON
//! (`must be a string`, `must be an integer`), never the service's types.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use serde_json::{Map, Value};
use tenancy_core::TenantId;

use crate::problem::{ApiError, FieldError};

/// The most a request body may hold.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The field name a problem uses for the body as a whole.
pub const BODY_FIELD: &str = "(body)";

/// A body the service reads field by field, collecting every failure.
pub trait FromJson: Sized {
    /// Reads the fields from `body`; `None` when any failed (each failure
    /// recorded in `body`).
    fn from_json(body: &mut Fields) -> Option<Self>;
}

/// A body with no fields: any JSON object.
impl FromJson for () {
    fn from_json(_: &mut Fields) -> Option<Self> {
        Some(())
    }
}

/// A JSON object body. Syntax errors are 400; anything but an object, or a
/// missing, mistyped or invalid field, is 422 naming every field at fault;
/// over [`MAX_BODY_BYTES`] is 413. Unknown fields are ignored: in
/// particular a tenant named in a body means nothing, since the tenant comes
/// from the token alone.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

/// Like [`JsonBody`], but an empty body is allowed (`None`); a body that is
/// present must still be a JSON object.
#[derive(Debug)]
pub struct OptionalJsonBody<T>(pub Option<T>);

async fn read_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest {
                detail: "the request body could not be read".into(),
                errors: Vec::new(),
            }
        }
    })
}

impl<S: Send + Sync, T: FromJson> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_bytes(req, state).await?;
        parse(&bytes).map(JsonBody)
    }
}

impl<S: Send + Sync, T: FromJson> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_bytes(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(None));
        }
        parse(&bytes).map(|v| OptionalJsonBody(Some(v)))
    }
}

/// Parses a JSON object into `T` with the errors described on [`JsonBody`].
pub fn parse<T: FromJson>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest {
        detail: format!(
            "malformed JSON: {}",
            e.to_string().split(" at line ").next().unwrap_or_default()
        ),
        errors: Vec::new(),
    })?;
    let Value::Object(map) = value else {
        return Err(ApiError::field(BODY_FIELD, "must be a JSON object"));
    };
    let mut fields = Fields {
        map,
        errors: Vec::new(),
    };
    let value = T::from_json(&mut fields);
    match value {
        Some(value) if fields.errors.is_empty() => Ok(value),
        _ if !fields.errors.is_empty() => Err(ApiError::Unprocessable(fields.errors)),
        _ => Err(ApiError::Internal),
    }
}

/// The fields of a JSON object body, and the failures found so far.
#[derive(Debug)]
pub struct Fields {
    map: Map<String, Value>,
    errors: Vec<FieldError>,
}

impl Fields {
    /// Records a failure of `field` unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, detail: &str) {
        if !ok {
            self.errors.push(FieldError::new(field, detail));
        }
    }

    fn take<T>(
        &mut self,
        name: &str,
        optional: bool,
        convert: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<Option<T>> {
        let failed = |fields: &mut Self, detail: String| {
            fields.errors.push(FieldError::new(name, detail));
            None
        };
        match self.map.get(name) {
            None if optional => Some(None),
            None => failed(self, "is required".into()),
            // `null` is not a value of any field: a field that may be left
            // out is left out, not nulled.
            Some(Value::Null) => failed(self, "must not be null".into()),
            Some(value) => match convert(value) {
                Ok(v) => Some(Some(v)),
                Err(detail) => failed(self, detail),
            },
        }
    }

    /// A field that must be present; `None` when it failed (recorded).
    pub fn required<T>(
        &mut self,
        name: &str,
        convert: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<T> {
        self.take(name, false, convert).flatten()
    }

    /// A field that may be left out (`Some(None)`); `None` when it failed
    /// (recorded). `null` is a failure.
    pub fn optional<T>(
        &mut self,
        name: &str,
        convert: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<Option<T>> {
        self.take(name, true, convert)
    }
}

/// Any string, as sent.
pub fn string(value: &Value) -> Result<String, String> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "must be a string".into())
}

/// A text field: a string, trimmed, 1 to `max` characters.
pub fn text(max: usize) -> impl FnOnce(&Value) -> Result<String, String> {
    move |value| {
        let text = string(value)?;
        let text = text.trim();
        if text.is_empty() {
            Err("must not be empty".into())
        } else if text.chars().count() > max {
            Err(format!("must be at most {max} characters"))
        } else {
            Ok(text.to_owned())
        }
    }
}

/// An integer in `min..=max`.
pub fn integer(min: i64, max: i64) -> impl FnOnce(&Value) -> Result<i64, String> {
    move |value| {
        let range = || format!("must be an integer from {min} to {max}");
        match value {
            Value::Number(n) => match n.as_i64() {
                Some(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(range()),
            },
            _ => Err(range()),
        }
    }
}

/// A date `YYYY-MM-DD`.
pub fn date(value: &Value) -> Result<String, String> {
    match value.as_str() {
        Some(text) if crate::clock::is_date(text) => Ok(text.to_owned()),
        _ => Err("must be a date `YYYY-MM-DD`".into()),
    }
}

/// A resource id: a UUID in any letter case, returned in the canonical
/// lower-case form every id is stored and looked up in.
pub fn id(value: &Value) -> Result<String, String> {
    value
        .as_str()
        .and_then(canonical_id)
        .ok_or_else(|| "must be a UUID".into())
}

/// The canonical (lower-case, hyphenated) text of the UUID `text`, read
/// with the same parser as tenant ids; `None` if it is not one.
pub fn canonical_id(text: &str) -> Option<String> {
    TenantId::parse(text).ok().map(|id| id.to_string())
}

/// A resource id in a path: its canonical text, or 404 (a malformed id
/// names nothing).
pub fn path_id(text: &str) -> Result<String, ApiError> {
    canonical_id(text).ok_or(ApiError::NotFound)
}

/// The `{id}` of a tenant route, in canonical form; 404 (as a problem
/// document) for anything that is not a UUID, including a path segment
/// that does not decode.
#[derive(Debug, Clone)]
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound)?;
        path_id(&text).map(PathId)
    }
}

/// The `{id}` of a system route, as sent; 404 (as a problem document) for a
/// path segment that does not decode.
#[derive(Debug, Clone)]
pub struct PathText(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathText {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::Absent("no such path"))?;
        Ok(PathText(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Lease {
        lessee: String,
        rent_cents: i64,
    }

    impl FromJson for Lease {
        fn from_json(body: &mut Fields) -> Option<Self> {
            let lessee = body.required("lessee", text(10));
            let rent_cents = body.required("rent_cents", integer(0, 100));
            Some(Lease {
                lessee: lessee?,
                rent_cents: rent_cents?,
            })
        }
    }

    fn fields(e: ApiError) -> (u16, Vec<String>, String) {
        let status = e.status().as_u16();
        let detail = e.to_problem().detail().unwrap_or_default().to_owned();
        match e {
            ApiError::Unprocessable(errors) => (
                status,
                errors.into_iter().map(|e| e.field).collect(),
                detail,
            ),
            _ => (status, Vec::new(), detail),
        }
    }

    #[test]
    fn every_failure_names_its_field_or_is_a_syntax_error() {
        let check = |body: &str, status: u16, field: &[&str]| {
            let (s, f, detail) = fields(parse::<Lease>(body.as_bytes()).unwrap_err());
            assert_eq!(
                (s, f.iter().map(String::as_str).collect::<Vec<_>>()),
                (status, field.to_vec()),
                "{body}"
            );
            assert!(
                !detail.contains("i64") && !detail.contains("struct"),
                "{detail}"
            );
        };
        check(
            r#"{"lessee": "a", "rent_cents": "x"}"#,
            422,
            &["rent_cents"],
        );
        check(
            r#"{"lessee": 5, "rent_cents": "x"}"#,
            422,
            &["lessee", "rent_cents"],
        );
        check(r#"{"lessee": null}"#, 422, &["lessee", "rent_cents"]);
        check(r#"{"lessee": "a"}"#, 422, &["rent_cents"]);
        check(r#"["a", 1]"#, 422, &[BODY_FIELD]);
        check("[1, 2", 400, &[]);
        check(r#"{"lessee": "a", "rent_cents": 1"#, 400, &[]);
        check(r#"{"lessee": "a", "rent_cents": 1} x"#, 400, &[]);
        check("", 400, &[]);
        let ignored = parse::<Lease>(br#"{"lessee": " a ", "rent_cents": 1, "tenant_id": "x"}"#);
        assert_eq!(
            ignored.map(|l| (l.lessee, l.rent_cents)).ok(),
            Some(("a".into(), 1))
        );
    }

    #[test]
    fn ids_are_canonical_in_any_case() {
        let lower = "0b8f5c1e-4a4e-4f0e-9a59-2d6c2f8c7a10";
        assert_eq!(canonical_id(&lower.to_uppercase()).as_deref(), Some(lower));
        assert_eq!(canonical_id("not-a-uuid"), None);
    }
}
