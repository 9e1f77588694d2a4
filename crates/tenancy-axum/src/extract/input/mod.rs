//! Input extractors whose refusals are problem+json.
//!
//! axum's own extractors answer with plain-text bodies; these wrap them so
//! every error a client sees has one format:
//!
//! - [`Json`], [`Path`] and [`Query`] read through serde; a JSON body's
//!   field error names the field;
//! - [`Valid`] reads a JSON object field by field ([`FromFields`]) and
//!   names *every* field at fault, in JSON's terms;
//! - [`PathId`] reads an id from the path and answers 404 for anything
//!   that is not one, as for an id that is not in the tenant;
//! - [`BodyLimitLayer`] gives routes outside the
//!   [`TenancyLayer`](crate::TenancyLayer) the body limit the extractors
//!   report in their 413.

mod fields;
mod id;
mod limit;

pub use fields::{BODY_FIELD, Fields, FromFields, Valid, integer, read, string, text};
pub use id::PathId;
pub use limit::{BodyLimitLayer, BodyLimitService};

pub use crate::rejection::FieldError;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::layer::BodyLimit;
use crate::rejection::InputRejection;

/// A JSON body: 415 for another content type, 413 over the body limit, 400
/// for bad syntax and 422 naming the field for a missing or mistyped field.
/// As a response, the value serialised as JSON.
///
/// The body limit is the [`TenancyLayer`](crate::TenancyLayer)'s
/// [`max_body_bytes`](crate::TenancyLayerBuilder::max_body_bytes) when it
/// sets one, counted on the bytes read (a chunked body included), else
/// axum's `DefaultBodyLimit` (2 MB unless changed).
///
/// ```
/// use serde::Deserialize;
/// use tenancy_axum::input::Json;
///
/// #[derive(Deserialize)]
/// struct NewLease { unit: String, rent: u32 }
///
/// async fn create(Json(lease): Json<NewLease>) -> String {
///     format!("{} at {}", lease.unit, lease.rent)
/// }
/// # let _ = axum::Router::<()>::new().route("/leases", axum::routing::post(create));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Reads a JSON document into `T`, naming the field that failed.
pub fn from_json_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, InputRejection> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => InputRejection::Field {
                field,
                detail: inner.to_string(),
            },
            serde_json::error::Category::Io => InputRejection::Unreadable,
            _ => InputRejection::Syntax {
                detail: inner.to_string(),
            },
        }
    })?;
    de.end().map_err(|e| InputRejection::Syntax {
        detail: e.to_string(),
    })?;
    Ok(value)
}

/// The body's bytes, within the layer's (or a [`BodyLimitLayer`]'s) limit
/// when one is set, else axum's `DefaultBodyLimit`.
async fn body_bytes<S: Send + Sync>(
    mut request: Request,
    state: &S,
) -> Result<Bytes, InputRejection> {
    let limit = request
        .extensions()
        .get::<BodyLimit>()
        .map(|&BodyLimit(limit)| limit);
    if let Some(limit) = limit {
        // The layer's limit, in place of axum's default: the body is
        // already wrapped to fail past it.
        DefaultBodyLimit::max(limit).apply(&mut request);
    }
    Bytes::from_request(request, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            InputRejection::PayloadTooLarge {
                limit: limit.map(|l| l as u64),
            }
        } else {
            InputRejection::Unreadable
        }
    })
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = InputRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json);
        if !json {
            return Err(InputRejection::UnsupportedMediaType);
        }
        let bytes = body_bytes(request, state).await?;
        from_json_slice(&bytes).map(Json)
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Path parameters; a refusal is 400 problem+json (500 when the route's
/// declared parameters do not fit `T`, a wiring bug).
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = InputRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(e) => Err(InputRejection::Path {
                detail: e.body_text(),
                server_error: e.status().is_server_error(),
            }),
        }
    }
}

/// The query string; a refusal is 400 problem+json.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = InputRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(e) => Err(InputRejection::Query {
                detail: e.body_text(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[expect(dead_code, reason = "fields are only deserialised")]
    struct Lease {
        unit: String,
        rent: u32,
        tags: Vec<String>,
    }

    #[test]
    fn field_errors_name_the_field() {
        let e = from_json_slice::<Lease>(br#"{"unit":"4B","rent":"lots","tags":[]}"#).unwrap_err();
        assert!(
            matches!(&e, InputRejection::Field { field, .. } if field == "rent"),
            "{e:?}"
        );
        let e = from_json_slice::<Lease>(br#"{"unit":"4B","rent":1,"tags":[1]}"#).unwrap_err();
        assert!(
            matches!(&e, InputRejection::Field { field, .. } if field == "tags[0]"),
            "{e:?}"
        );
        let e = from_json_slice::<Lease>(br#"{"unit":"4B","tags":[]}"#).unwrap_err();
        assert!(
            matches!(&e, InputRejection::Field { detail, .. } if detail.contains("rent")),
            "{e:?}"
        );
        assert_eq!(e.to_problem().status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        let e = from_json_slice::<Lease>(br#"{"unit":"#).unwrap_err();
        assert!(matches!(e, InputRejection::Syntax { .. }), "{e:?}");
        assert_eq!(e.to_problem().status(), StatusCode::BAD_REQUEST);
        let e = from_json_slice::<Lease>(br#"{"unit":"4B","rent":1,"tags":[]} x"#).unwrap_err();
        assert!(matches!(e, InputRejection::Syntax { .. }), "{e:?}");
    }

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/jsonx"));
    }
}
