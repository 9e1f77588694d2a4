//! JSON objects read member by member, so that a repeated member is seen.
//!
//! serde_json keeps the last of two members with the same name; a token
//! carrying `"tenant_id"` twice could then mean one tenant to this crate and
//! another to a different parser. Such objects are refused outright.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// The members of a JSON object, in order.
pub(crate) struct Members {
    pub(crate) members: Vec<(String, Value)>,
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

impl Members {
    /// Parses `bytes` as one JSON object with distinct member names.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Members, ObjectError> {
        let members: Members =
            serde_json::from_slice(bytes).map_err(|_| ObjectError::NotAnObject)?;
        if members.duplicate {
            return Err(ObjectError::Duplicate);
        }
        Ok(members)
    }

    /// The value of the member `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.members.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;

        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = Members;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members: Vec<(String, Value)> =
                    Vec::with_capacity(map.size_hint().unwrap_or(12).min(32));
                let mut duplicate = false;
                while let Some(key) = map.next_key::<String>()? {
                    let value = map.next_value::<Value>()?;
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
        let members = Members::parse(br#"{"a":1,"b":{"a":2}}"#).unwrap();
        assert_eq!(members.get("a"), Some(&Value::from(1)));
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
}
