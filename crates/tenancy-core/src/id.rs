//! 128-bit identifiers in canonical UUID text form.

use std::fmt;
use std::str::FromStr;

use crate::error::{ParseError, ParseKind, ParseReason};

/// Parses the canonical `8-4-4-4-12` hexadecimal UUID form (either case).
fn parse_uuid(text: &str, kind: ParseKind) -> Result<u128, ParseError> {
    const LEN: usize = 36;
    let bytes = text.as_bytes();
    if bytes.len() < LEN {
        return Err(ParseError::new(kind, ParseReason::TooShort));
    }
    if bytes.len() > LEN {
        return Err(ParseError::new(kind, ParseReason::TooLong));
    }
    let mut value: u128 = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if b != b'-' {
                return Err(ParseError::new(kind, ParseReason::InvalidFormat));
            }
            continue;
        }
        let nibble = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return Err(ParseError::new(kind, ParseReason::InvalidCharacter)),
        };
        value = (value << 4) | u128::from(nibble);
    }
    Ok(value)
}

fn write_uuid(value: u128, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 36];
    let mut nibble = 0;
    for (i, slot) in out.iter_mut().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            *slot = b'-';
            continue;
        }
        let shift = 124 - 4 * nibble;
        *slot = HEX[((value >> shift) & 0xf) as usize];
        nibble += 1;
    }
    // The buffer holds only ASCII hex digits and hyphens.
    f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
}

/// Sets the version (4) and variant (RFC 4122) bits of random bytes.
fn as_random_uuid(bytes: [u8; 16]) -> u128 {
    let value = u128::from_be_bytes(bytes);
    (value & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62)
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $kind:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u128);

        impl $name {
            /// Builds the identifier from its 128-bit value.
            pub const fn from_u128(value: u128) -> Self {
                $name(value)
            }

            /// The 128-bit value.
            pub const fn as_u128(self) -> u128 {
                self.0
            }

            /// Builds the identifier from 16 big-endian bytes (UUID byte order).
            pub const fn from_bytes(bytes: [u8; 16]) -> Self {
                $name(u128::from_be_bytes(bytes))
            }

            /// The 16 big-endian bytes (UUID byte order).
            pub const fn to_bytes(self) -> [u8; 16] {
                self.0.to_be_bytes()
            }

            /// Builds a random (version 4) identifier from 16 bytes that the
            /// caller drew from a secure random source.
            pub fn from_random_bytes(bytes: [u8; 16]) -> Self {
                $name(as_random_uuid(bytes))
            }

            /// Parses the canonical hyphenated UUID form.
            pub fn parse(text: &str) -> Result<Self, ParseError> {
                parse_uuid(text, $kind).map($name)
            }
        }

        impl FromStr for $name {
            type Err = ParseError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_uuid(self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(", stringify!($name))?;
                write_uuid(self.0, f)?;
                f.write_str(")")
            }
        }

        impl From<u128> for $name {
            fn from(value: u128) -> Self {
                $name(value)
            }
        }

        impl From<$name> for u128 {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl From<[u8; 16]> for $name {
            fn from(bytes: [u8; 16]) -> Self {
                $name::from_bytes(bytes)
            }
        }

        impl From<$name> for [u8; 16] {
            fn from(id: $name) -> Self {
                id.to_bytes()
            }
        }

        #[cfg(feature = "serde")]
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

uuid_id!(
    /// The identity of a tenant: 128 bits, written as a canonical UUID.
    ///
    /// ```
    /// use tenancy_core::TenantId;
    ///
    /// let id: TenantId = "6f9619ff-8b86-d011-b42d-00c04fc964ff".parse()?;
    /// assert_eq!(id.to_string(), "6f9619ff-8b86-d011-b42d-00c04fc964ff");
    /// assert_eq!(TenantId::from_u128(id.as_u128()), id);
    /// assert!("not-a-tenant".parse::<TenantId>().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    TenantId,
    ParseKind::TenantId
);

uuid_id!(
    /// The identity of whoever acts: a user, a service account or a job.
    ///
    /// ```
    /// use tenancy_core::SubjectId;
    ///
    /// let id = SubjectId::from_u128(7);
    /// assert_eq!(id.to_string(), "00000000-0000-0000-0000-000000000007");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    SubjectId,
    ParseKind::SubjectId
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn upper_case_input_displays_lower_case() {
        let id = TenantId::parse("6F9619FF-8B86-D011-B42D-00C04FC964FF").unwrap();
        assert_eq!(id.to_string(), "6f9619ff-8b86-d011-b42d-00c04fc964ff");
    }

    #[test]
    fn misplaced_hyphens_are_refused() {
        let err = TenantId::parse("6f9619ff8-b86-d011-b42d-00c04fc964ff").unwrap_err();
        assert_eq!(err.reason(), ParseReason::InvalidFormat);
        assert_eq!(err.kind(), ParseKind::TenantId);
    }

    #[test]
    fn random_bytes_become_a_version_4_uuid() {
        let id = TenantId::from_random_bytes([0xff; 16]).to_string();
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
    }

    proptest! {
        #[test]
        fn parse_display_roundtrip(value: u128) {
            let id = TenantId::from_u128(value);
            prop_assert_eq!(TenantId::parse(&id.to_string()), Ok(id));
            prop_assert_eq!(TenantId::from_bytes(id.to_bytes()), id);
        }

        #[test]
        fn parse_never_panics(text in ".{0,64}") {
            let _ = TenantId::parse(&text);
            let _ = SubjectId::parse(&text);
        }

        #[test]
        fn parsed_text_is_the_canonical_form(text in "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}") {
            let id = TenantId::parse(&text).unwrap();
            prop_assert_eq!(id.to_string(), text);
        }
    }
}
