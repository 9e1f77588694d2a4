//! One permission or pattern: `resource:action`.

use std::fmt;
use std::str::FromStr;

use crate::error::{ParseError, ParseKind, ParseReason};

/// One side of a permission: a name or the wildcard `*`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Part {
    Any,
    Name(Box<str>),
}

impl Part {
    /// A name that no parsed permission can contain; it stands for "every
    /// name not mentioned" when sets are compared.
    pub(crate) fn unmentioned() -> Part {
        Part::Name("\0".into())
    }

    fn matches(&self, other: &Part) -> bool {
        match (self, other) {
            (Part::Any, _) => true,
            (Part::Name(a), Part::Name(b)) => a == b,
            (Part::Name(_), Part::Any) => false,
        }
    }

    fn meet(&self, other: &Part) -> Option<Part> {
        match (self, other) {
            (Part::Any, p) | (p, Part::Any) => Some(p.clone()),
            (Part::Name(a), Part::Name(b)) if a == b => Some(Part::Name(a.clone())),
            _ => None,
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Part::Any => "*",
            Part::Name(n) => n,
        }
    }
}

/// A permission `resource:action`, or a pattern when either part is `*`.
///
/// Each part is `*` or 1 to 64 characters of `[a-z0-9_.-]` starting with a
/// letter or digit.
///
/// ```
/// use tenancy_core::Permission;
///
/// let read: Permission = "leases:read".parse()?;
/// let any_read: Permission = "*:read".parse()?;
/// assert!(read.is_concrete());
/// assert!(any_read.covers(&read));
/// assert!(!read.covers(&any_read));
/// assert!("leases".parse::<Permission>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Permission {
    pub(crate) resource: Part,
    pub(crate) action: Part,
}

impl Permission {
    /// The longest part allowed.
    pub const MAX_PART_LEN: usize = 64;

    /// Parses `resource:action`.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let fail = |reason| ParseError::new(ParseKind::Permission, reason);
        if text.len() > 2 * Self::MAX_PART_LEN + 1 {
            return Err(fail(ParseReason::TooLong));
        }
        let (resource, action) = text
            .split_once(':')
            .ok_or(fail(ParseReason::InvalidFormat))?;
        Ok(Permission {
            resource: parse_part(resource)?,
            action: parse_part(action)?,
        })
    }

    /// The resource part (`*` for any).
    pub fn resource(&self) -> &str {
        self.resource.as_str()
    }

    /// The action part (`*` for any).
    pub fn action(&self) -> &str {
        self.action.as_str()
    }

    /// True when neither part is `*`.
    pub fn is_concrete(&self) -> bool {
        !matches!(self.resource, Part::Any) && !matches!(self.action, Part::Any)
    }

    /// True when this permission names the platform resource, or could match
    /// it through a `*` resource.
    pub fn touches_platform(&self) -> bool {
        match &self.resource {
            Part::Any => true,
            Part::Name(n) => &**n == super::PLATFORM_RESOURCE,
        }
    }

    /// True when every concrete permission `other` admits, `self` admits too.
    pub fn covers(&self, other: &Permission) -> bool {
        self.resource.matches(&other.resource) && self.action.matches(&other.action)
    }

    /// The pattern admitting exactly what both admit, if anything.
    pub(crate) fn meet(&self, other: &Permission) -> Option<Permission> {
        Some(Permission {
            resource: self.resource.meet(&other.resource)?,
            action: self.action.meet(&other.action)?,
        })
    }

    pub(crate) fn from_parts(resource: Part, action: Part) -> Permission {
        Permission { resource, action }
    }
}

fn parse_part(text: &str) -> Result<Part, ParseError> {
    let fail = |reason| Err(ParseError::new(ParseKind::Permission, reason));
    if text == "*" {
        return Ok(Part::Any);
    }
    if text.is_empty() {
        return fail(ParseReason::TooShort);
    }
    if text.len() > Permission::MAX_PART_LEN {
        return fail(ParseReason::TooLong);
    }
    let valid =
        |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-');
    if !text.bytes().all(valid) {
        return fail(ParseReason::InvalidCharacter);
    }
    if !text.as_bytes()[0].is_ascii_alphanumeric() {
        return fail(ParseReason::InvalidFormat);
    }
    Ok(Part::Name(text.into()))
}

impl FromStr for Permission {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.resource.as_str(), self.action.as_str())
    }
}

impl fmt::Debug for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Permission({self})")
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Permission {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Permission {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Permission::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(input: &str, expected: Result<&str, ParseReason>) {
        let got = Permission::parse(input);
        match expected {
            Ok(display) => assert_eq!(got.map(|p| p.to_string()).as_deref(), Ok(display)),
            Err(reason) => assert_eq!(got.map_err(|e| e.reason()).err(), Some(reason), "{input:?}"),
        }
    }

    #[test]
    fn permission_syntax() {
        check("leases:read", Ok("leases:read"));
        check("*:read", Ok("*:read"));
        check("leases:*", Ok("leases:*"));
        check("*:*", Ok("*:*"));
        check("a.b-c_d:x1", Ok("a.b-c_d:x1"));
        check("leases", Err(ParseReason::InvalidFormat));
        check(":read", Err(ParseReason::TooShort));
        check("leases:", Err(ParseReason::TooShort));
        check("leases:read:x", Err(ParseReason::InvalidCharacter));
        check("Leases:read", Err(ParseReason::InvalidCharacter));
        check("lea*:read", Err(ParseReason::InvalidCharacter));
        check("-x:read", Err(ParseReason::InvalidFormat));
        check(
            &format!("{}:read", "a".repeat(65)),
            Err(ParseReason::TooLong),
        );
        check(&"a".repeat(500), Err(ParseReason::TooLong));
    }

    #[test]
    fn platform_is_touched_by_wildcard_resources() {
        assert!(
            Permission::parse("system:tenants")
                .unwrap()
                .touches_platform()
        );
        assert!(Permission::parse("*:read").unwrap().touches_platform());
        assert!(!Permission::parse("leases:*").unwrap().touches_platform());
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,140}") {
            let _ = Permission::parse(&text);
        }

        #[test]
        fn parse_display_roundtrip(text in "([a-z0-9][a-z0-9_.-]{0,10}|\\*):([a-z0-9][a-z0-9_.-]{0,10}|\\*)") {
            let p = Permission::parse(&text).unwrap();
            prop_assert_eq!(p.to_string(), text.clone());
            prop_assert_eq!(Permission::parse(&p.to_string()), Ok(p));
        }
    }
}
