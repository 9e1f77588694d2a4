//! Human-readable tenant names used in hosts and paths.

use std::fmt;
use std::str::FromStr;

use crate::error::{ParseError, ParseKind, ParseReason};

/// Slugs a tenant may never take: they name the platform's own hosts and paths.
pub const RESERVED_SLUGS: &[&str] = &[
    "admin",
    "api",
    "app",
    "assets",
    "auth",
    "billing",
    "dashboard",
    "docs",
    "help",
    "internal",
    "login",
    "logout",
    "mail",
    "platform",
    "root",
    "signup",
    "static",
    "status",
    "support",
    "system",
    "tenant",
    "tenants",
    "www",
];

/// A tenant's slug: 3 to 63 characters of `[a-z0-9-]`, no leading, trailing
/// or doubled hyphen, and not in [`RESERVED_SLUGS`].
///
/// A slug fits in a DNS label, so it can name a subdomain.
///
/// ```
/// use tenancy_core::TenantSlug;
///
/// let slug: TenantSlug = "acme-corp".parse()?;
/// assert_eq!(slug.as_str(), "acme-corp");
/// assert!("Acme".parse::<TenantSlug>().is_err());
/// assert!("www".parse::<TenantSlug>().is_err());
/// assert!("a--b".parse::<TenantSlug>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TenantSlug(Box<str>);

impl TenantSlug {
    /// The shortest slug allowed.
    pub const MIN_LEN: usize = 3;
    /// The longest slug allowed (a DNS label).
    pub const MAX_LEN: usize = 63;

    /// Validates a slug.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let fail = |reason| Err(ParseError::new(ParseKind::TenantSlug, reason));
        if text.len() < Self::MIN_LEN {
            return fail(ParseReason::TooShort);
        }
        if text.len() > Self::MAX_LEN {
            return fail(ParseReason::TooLong);
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return fail(ParseReason::InvalidCharacter);
        }
        if text.starts_with('-') || text.ends_with('-') || text.contains("--") {
            return fail(ParseReason::InvalidFormat);
        }
        if RESERVED_SLUGS.contains(&text) {
            return fail(ParseReason::Reserved);
        }
        Ok(TenantSlug(text.into()))
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for TenantSlug {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TenantSlug({:?})", &*self.0)
    }
}

impl AsRef<str> for TenantSlug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for TenantSlug {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for TenantSlug {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        TenantSlug::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(input: &str, expected: Result<(), ParseReason>) {
        assert_eq!(
            TenantSlug::parse(input).map(|_| ()).map_err(|e| e.reason()),
            expected,
            "{input:?}"
        );
    }

    #[test]
    fn slug_rules() {
        check("acme", Ok(()));
        check("a1-b2-c3", Ok(()));
        check("abc", Ok(()));
        check(&"a".repeat(63), Ok(()));
        check("ab", Err(ParseReason::TooShort));
        check(&"a".repeat(64), Err(ParseReason::TooLong));
        check("-acme", Err(ParseReason::InvalidFormat));
        check("acme-", Err(ParseReason::InvalidFormat));
        check("ac--me", Err(ParseReason::InvalidFormat));
        check("Acme", Err(ParseReason::InvalidCharacter));
        check("ac me", Err(ParseReason::InvalidCharacter));
        check("acmé", Err(ParseReason::InvalidCharacter));
        check("ac_me", Err(ParseReason::InvalidCharacter));
        check("system", Err(ParseReason::Reserved));
        check("www", Err(ParseReason::Reserved));
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,80}") {
            let _ = TenantSlug::parse(&text);
        }

        #[test]
        fn parse_display_roundtrip(text in "[a-z0-9]{1,10}(-[a-z0-9]{1,10}){0,4}") {
            if let Ok(slug) = TenantSlug::parse(&text) {
                prop_assert_eq!(TenantSlug::parse(slug.as_ref()), Ok(slug));
            }
        }
    }
}
