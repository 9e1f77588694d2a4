//! JSON objects read member by member, so that a repeated member is seen.
//!
//! serde_json keeps the last of two members with the same name; a token
//! carrying `"tenant_id"` twice could then mean one tenant to this crate and
//! another to a different parser. Such objects are refused outright.
//!
//! Members are kept as borrowed raw JSON and only the ones asked for are
//! parsed, so unknown claims cost no allocation.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

/// A JSON string, borrowed from the input when it has no escapes.
pub(crate) struct Text<'a>(pub(crate) Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON string")
            }

            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }

            fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }

        deserializer.deserialize_str(TextVisitor)
    }
}

/// The text of `raw` when it is a JSON string.
pub(crate) fn string(raw: &RawValue) -> Option<Cow<'_, str>> {
    serde_json::from_str::<Text<'_>>(raw.get())
        .ok()
        .map(|t| t.0)
}

/// The texts of `raw` when it is an array of JSON strings.
pub(crate) fn strings(raw: &RawValue) -> Option<Vec<Cow<'_, str>>> {
    serde_json::from_str::<Vec<Text<'_>>>(raw.get())
        .ok()
        .map(|v| v.into_iter().map(|t| t.0).collect())
}

/// `raw` as a JSON value (it is valid JSON: the object parsed).
pub(crate) fn value(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

/// The members of a JSON object, in order, as raw JSON.
pub(crate) struct Members<'a> {
    members: Vec<(Cow<'a, str>, &'a RawValue)>,
    duplicate: bool,
}

/// Why an object was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ObjectError {
    /// Not JSON, or not an object.
    NotAnObject,
    /// A member name appears twice.
    Duplicate,
}

impl<'a> Members<'a> {
    /// Parses `bytes` as one JSON object with distinct member names.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Members<'a>, ObjectError> {
        let members: Members<'a> =
            serde_json::from_slice(bytes).map_err(|_| ObjectError::NotAnObject)?;
        if members.duplicate {
            return Err(ObjectError::Duplicate);
        }
        Ok(members)
    }

    /// The raw value of the member `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&'a RawValue> {
        self.members
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
    }

    /// The value of the member `name`, parsed.
    pub(crate) fn value(&self, name: &str) -> Option<Value> {
        self.get(name).map(value)
    }

    /// The text of the member `name`: `Ok(None)` when absent, `Err(())`
    /// when present but not a string.
    pub(crate) fn text(&self, name: &str) -> Result<Option<Cow<'a, str>>, ()> {
        match self.get(name) {
            None => Ok(None),
            Some(raw) => string(raw).map(Some).ok_or(()),
        }
    }
}

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;

        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = Members<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members: Vec<(Cow<'de, str>, &'de RawValue)> =
                    Vec::with_capacity(map.size_hint().unwrap_or(12).min(32));
                let mut duplicate = false;
                while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
                    let value = map.next_value::<&'de RawValue>()?;
                    if members.iter().any(|(k, _)| *k == key) {
                        duplicate = true;
                    }
                    members.push((key, value));
                }
                Ok(Members { members, duplicate })
            }
        }

        deserializer.deserialize_map(ObjectVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_member_is_refused() {
        assert_eq!(
            Members::parse(br#"{"a":1,"b":2,"a":3}"#).err(),
            Some(ObjectError::Duplicate)
        );
        // The same name written with an escape is the same name.
        assert_eq!(
            Members::parse(br#"{"tenant_id":1,"tenant\u005fid":2}"#).err(),
            Some(ObjectError::Duplicate)
        );
        let members = Members::parse(br#"{"a":1,"b":{"a":2}}"#).unwrap();
        assert_eq!(members.value("a"), Some(Value::from(1)));
    }

    #[test]
    fn non_objects_are_refused() {
        for text in [&b"[1]"[..], b"1", b"\"a\"", b"{", b"", b"{\"a\":1} x"] {
            assert_eq!(
                Members::parse(text).err(),
                Some(ObjectError::NotAnObject),
                "{text:?}"
            );
        }
    }

    #[test]
    fn strings_are_read_with_and_without_escapes() {
        let members = Members::parse(br#"{"a":"x\"y","b":"plain","c":["p","q"],"d":1}"#).unwrap();
        assert_eq!(members.text("a").unwrap().as_deref(), Some("x\"y"));
        assert_eq!(members.text("b").unwrap().as_deref(), Some("plain"));
        assert!(members.text("d").is_err());
        assert_eq!(members.text("z").unwrap(), None);
        let c = strings(members.get("c").unwrap()).unwrap();
        assert_eq!(c, vec!["p", "q"]);
        assert!(strings(members.get("d").unwrap()).is_none());
    }
}
