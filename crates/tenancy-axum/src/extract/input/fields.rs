//! A JSON object body read field by field, naming every field at fault.

use axum::extract::{FromRequest, OptionalFromRequest, Request};
use serde_json::{Map, Value};

use super::body_bytes;
use crate::rejection::{FieldError, InputRejection};

/// The field a failure names when the body as a whole is at fault (it is
/// not a JSON object).
pub const BODY_FIELD: &str = "(body)";

/// A body type read field by field from a JSON object.
///
/// Read every field before giving up, so one answer names every field at
/// fault; check across fields with [`Fields::check`]:
///
/// ```
/// use tenancy_axum::input::{Fields, FromFields, integer, read, text};
///
/// struct NewLease { lessee: String, rent_cents: i64 }
///
/// impl FromFields for NewLease {
///     fn from_fields(body: &mut Fields) -> Option<Self> {
///         let lessee = body.required("lessee", text(200));
///         let rent_cents = body.required("rent_cents", integer(0, 1_000_000));
///         Some(NewLease { lessee: lessee?, rent_cents: rent_cents? })
///     }
/// }
///
/// let lease: NewLease = read(br#"{"lessee": " Ann ", "rent_cents": 1200}"#)?;
/// assert_eq!((lease.lessee.as_str(), lease.rent_cents), ("Ann", 1200));
/// let refused = read::<NewLease>(br#"{"lessee": 7}"#).err().ok_or("accepted")?;
/// assert_eq!(
///     refused.to_string(),
///     "`lessee`: must be a string; `rent_cents`: is required"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait FromFields: Sized {
    /// Reads `Self` from `body`; `None` when a field failed (each failure
    /// is recorded in `body`). `None` with nothing recorded refuses the
    /// body as a whole.
    fn from_fields(body: &mut Fields) -> Option<Self>;
}

/// A body without fields: any JSON object.
impl FromFields for () {
    fn from_fields(_: &mut Fields) -> Option<Self> {
        Some(())
    }
}

/// The fields of a JSON object body, and the failures found so far.
///
/// Fields the type does not read are ignored: a tenant id sent in a body
/// means nothing, since the tenant comes from the token alone.
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
        read: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<Option<T>> {
        let detail = match self.map.get(name) {
            None if optional => return Some(None),
            None => "is required".to_owned(),
            // `null` is not a value of any field: a field that may be left
            // out is left out, not nulled.
            Some(Value::Null) => "must not be null".to_owned(),
            Some(value) => match read(value) {
                Ok(v) => return Some(Some(v)),
                Err(detail) => detail,
            },
        };
        self.errors.push(FieldError::new(name, detail));
        None
    }

    /// A field that must be present, read with `read`; `None` when it
    /// failed (recorded).
    pub fn required<T>(
        &mut self,
        name: &str,
        read: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<T> {
        self.take(name, false, read).flatten()
    }

    /// A field that may be left out (`Some(None)`); `None` when it failed
    /// (recorded). `null` is a failure.
    pub fn optional<T>(
        &mut self,
        name: &str,
        read: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<Option<T>> {
        self.take(name, true, read)
    }
}

/// Any string, as sent.
pub fn string(value: &Value) -> Result<String, String> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "must be a string".to_owned())
}

/// A text: a string, trimmed, of 1 to `max` characters.
pub fn text(max: usize) -> impl FnOnce(&Value) -> Result<String, String> {
    move |value| {
        let text = string(value)?;
        let text = text.trim();
        if text.is_empty() {
            Err("must not be empty".to_owned())
        } else if text.chars().count() > max {
            Err(format!("must be at most {max} characters"))
        } else {
            Ok(text.to_owned())
        }
    }
}

/// An integer in `min..=max` (`1.5` and `"12"` are not integers).
pub fn integer(min: i64, max: i64) -> impl FnOnce(&Value) -> Result<i64, String> {
    move |value| {
        value
            .as_i64()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| format!("must be an integer from {min} to {max}"))
    }
}

/// Reads a JSON object body into `T`: 400 ([`InputRejection::Syntax`]) for
/// a document that is not JSON, 422 ([`InputRejection::Fields`]) naming
/// every field at fault, or [`BODY_FIELD`] for a document that is not an
/// object.
pub fn read<T: FromFields>(bytes: &[u8]) -> Result<T, InputRejection> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| InputRejection::Syntax {
        detail: e.to_string(),
    })?;
    let Value::Object(map) = value else {
        return Err(InputRejection::Fields(vec![FieldError::new(
            BODY_FIELD,
            "must be a JSON object",
        )]));
    };
    let mut fields = Fields {
        map,
        errors: Vec::new(),
    };
    match T::from_fields(&mut fields) {
        Some(value) if fields.errors.is_empty() => Ok(value),
        _ if fields.errors.is_empty() => Err(InputRejection::Fields(vec![FieldError::new(
            BODY_FIELD,
            "is not valid",
        )])),
        _ => Err(InputRejection::Fields(fields.errors)),
    }
}

/// A JSON object body read field by field with [`FromFields`]: 400 for a
/// document that is not JSON, 422 naming every missing, mistyped or
/// invalid field (each in the problem's `errors`, the body as a whole as
/// [`BODY_FIELD`]), 413 over the body limit (as for [`Json`](super::Json)).
/// `Option<Valid<T>>` takes an empty body as `None`; a body that is present
/// must still be an object.
///
/// The content type is not checked: the body must parse as a JSON object
/// whatever it is labelled (`curl -d` labels JSON as a form). Use
/// [`Json`](super::Json) where a route must refuse other types.
///
/// ```
/// use tenancy_axum::input::{Fields, FromFields, Valid, text};
///
/// struct NewNote { body: String }
///
/// impl FromFields for NewNote {
///     fn from_fields(fields: &mut Fields) -> Option<Self> {
///         Some(NewNote { body: fields.required("body", text(1000))? })
///     }
/// }
///
/// async fn create(Valid(note): Valid<NewNote>) -> String {
///     note.body
/// }
/// # let _ = axum::Router::<()>::new().route("/notes", axum::routing::post(create));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Valid<T>(pub T);

impl<T: FromFields, S: Send + Sync> FromRequest<S> for Valid<T> {
    type Rejection = InputRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(request, state).await?;
        read(&bytes).map(Valid)
    }
}

impl<T: FromFields, S: Send + Sync> OptionalFromRequest<S> for Valid<T> {
    type Rejection = InputRejection;

    async fn from_request(request: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        let bytes = body_bytes(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        read(&bytes).map(|value| Some(Valid(value)))
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

    impl FromFields for Lease {
        fn from_fields(body: &mut Fields) -> Option<Self> {
            let lessee = body.required("lessee", text(10));
            let rent_cents = body.required("rent_cents", integer(0, 100));
            Some(Lease {
                lessee: lessee?,
                rent_cents: rent_cents?,
            })
        }
    }

    /// The status and the fields named when `body` is refused.
    fn refusal(body: &str) -> (u16, Vec<String>) {
        match read::<Lease>(body.as_bytes()) {
            Ok(lease) => panic!("{body} was accepted: {lease:?}"),
            Err(InputRejection::Fields(errors)) => {
                (422, errors.into_iter().map(|e| e.field).collect())
            }
            Err(other) => (other.to_problem().status().as_u16(), Vec::new()),
        }
    }

    #[test]
    fn every_failure_names_its_field_or_is_a_syntax_error() {
        let check = |body: &str, status: u16, fields: &[&str]| {
            assert_eq!(
                refusal(body),
                (status, fields.iter().map(|f| f.to_string()).collect()),
                "{body}"
            );
        };
        check(
            r#"{"lessee": "a", "rent_cents": "x"}"#,
            422,
            &["rent_cents"],
        );
        check(
            r#"{"lessee": 5, "rent_cents": 1.5}"#,
            422,
            &["lessee", "rent_cents"],
        );
        check(r#"{"lessee": null}"#, 422, &["lessee", "rent_cents"]);
        check(
            r#"{"lessee": "   ", "rent_cents": 101}"#,
            422,
            &["lessee", "rent_cents"],
        );
        check(r#"["a", 1]"#, 422, &[BODY_FIELD]);
        check("42", 422, &[BODY_FIELD]);
        check("[1, 2", 400, &[]);
        check(r#"{"lessee": "a", "rent_cents": 1} x"#, 400, &[]);
        check("", 400, &[]);
    }

    #[test]
    fn details_speak_json_not_rust() {
        let Err(e) = read::<Lease>(br#"{"lessee": 5, "rent_cents": "12"}"#) else {
            panic!("accepted");
        };
        let detail = e.to_string();
        assert!(detail.contains("must be a string") && detail.contains("must be an integer"));
        for rust in ["i64", "struct", "String", "invalid type"] {
            assert!(!detail.contains(rust), "{detail}");
        }
    }

    #[test]
    fn unread_fields_are_ignored_and_text_is_trimmed() {
        let lease = read::<Lease>(br#"{"lessee": " a ", "rent_cents": 1, "tenant_id": "x"}"#);
        assert_eq!(
            lease.map(|l| (l.lessee, l.rent_cents)),
            Ok(("a".to_owned(), 1))
        );
    }

    #[test]
    fn none_without_a_recorded_failure_refuses_the_body() {
        struct Never;
        impl FromFields for Never {
            fn from_fields(_: &mut Fields) -> Option<Self> {
                None
            }
        }
        let refused = read::<Never>(b"{}").map(|_| ());
        assert_eq!(
            refused,
            Err(InputRejection::Fields(vec![FieldError::new(
                BODY_FIELD,
                "is not valid"
            )]))
        );
    }
}
