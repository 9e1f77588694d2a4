//! Reading request bodies and list queries, with field-level errors.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::problem::{ApiError, FieldError};

/// The most a request body may hold.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON body. Syntax errors are 400; a missing or mistyped field is 422
/// naming the field; over [`MAX_BODY_BYTES`] is 413. Unknown fields are
/// ignored: in particular a tenant named in a body means nothing, since the
/// tenant comes from the token alone.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest {
                    detail: "the request body could not be read".into(),
                    errors: Vec::new(),
                }
            }
        })?;
        parse(&bytes).map(JsonBody)
    }
}

/// Parses a JSON document into `T` with the errors described on [`JsonBody`].
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    // Syntax first: a document that is not JSON at all is a 400 even when a
    // type error comes earlier in it.
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map_err(|e| ApiError::BadRequest {
        detail: format!(
            "malformed JSON: {}",
            e.to_string().split(" at line ").next().unwrap_or_default()
        ),
        errors: Vec::new(),
    })?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        // serde_json appends " at line L column C"; the field says more.
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_owned();
        if inner.is_data() {
            let field = match message.strip_prefix("missing field `") {
                Some(rest) => {
                    let name = rest.trim_end_matches('`');
                    if path == "." {
                        name.to_owned()
                    } else {
                        format!("{path}.{name}")
                    }
                }
                None if message.starts_with("unknown field `") => message
                    .trim_start_matches("unknown field `")
                    .split('`')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                None => path,
            };
            ApiError::Unprocessable(vec![FieldError::new(field, message)])
        } else {
            ApiError::BadRequest {
                detail: format!("malformed JSON: {message}"),
                errors: Vec::new(),
            }
        }
    })?;
    de.end().map_err(|_| ApiError::BadRequest {
        detail: "malformed JSON: trailing characters after the document".into(),
        errors: Vec::new(),
    })?;
    Ok(value)
}

/// Collects validation failures so a client sees all of them at once.
#[derive(Debug, Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    /// Records a failure of `field` unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, detail: &str) -> &mut Self {
        if !ok {
            self.0.push(FieldError::new(field, detail));
        }
        self
    }

    /// A text field: trimmed, 1 to `max` characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> &mut Self {
        let value = value.trim();
        self.check(!value.is_empty(), field, "must not be empty");
        self.check(
            value.chars().count() <= max,
            field,
            &format!("must be at most {max} characters"),
        )
    }

    /// `Ok` when nothing failed, else a 422 listing every failure.
    pub fn finish(&mut self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Unprocessable(std::mem::take(&mut self.0)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[expect(dead_code, reason = "fields are read by serde only")]
    struct Lease {
        lessee: String,
        rent_cents: i64,
    }

    fn fields(e: ApiError) -> (u16, Vec<String>) {
        let status = e.status().as_u16();
        match e {
            ApiError::Unprocessable(errors) => {
                (status, errors.into_iter().map(|e| e.field).collect())
            }
            _ => (status, Vec::new()),
        }
    }

    #[test]
    fn each_failure_names_its_field_or_is_a_syntax_error() {
        let check = |body: &str, status: u16, field: &[&str]| {
            let (s, f) = fields(parse::<Lease>(body.as_bytes()).unwrap_err());
            assert_eq!(
                (s, f.iter().map(String::as_str).collect::<Vec<_>>()),
                (status, field.to_vec()),
                "{body}"
            );
        };
        check(
            r#"{"lessee": "a", "rent_cents": "x"}"#,
            422,
            &["rent_cents"],
        );
        check(r#"{"lessee": "a"}"#, 422, &["rent_cents"]);
        check("[1, 2", 400, &[]);
        check(r#"{"lessee": "a", "rent_cents": 1"#, 400, &[]);
        check(r#"{"lessee": "a", "rent_cents": 1} x"#, 400, &[]);
        check("", 400, &[]);
        let ignored = parse::<Lease>(br#"{"lessee": "a", "rent_cents": 1, "tenant_id": "x"}"#);
        assert!(ignored.is_ok(), "unknown fields are ignored");
    }
}
