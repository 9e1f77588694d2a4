//! Resource ids: UUIDs in any letter case, kept in the canonical lower-case
//! form every id is stored, compared and answered in.

use std::str::FromStr;

use tenancy_core::{ParseError, TenantId};

/// A resource id, canonical. In a path, anything else names nothing (404,
/// through `tenancy_axum::input::PathId`); in a body it is a field error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Id(pub(crate) String);

impl FromStr for Id {
    type Err = ParseError;

    /// Read with the same parser as tenant ids.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        TenantId::parse(text).map(|id| Id(id.to_string()))
    }
}

/// The body field reader for an id.
pub(crate) fn id(value: &serde_json::Value) -> Result<String, String> {
    value
        .as_str()
        .and_then(|text| text.parse::<Id>().ok())
        .map(|Id(id)| id)
        .ok_or_else(|| "must be a UUID".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_canonical_in_any_case() {
        let lower = "0b8f5c1e-4a4e-4f0e-9a59-2d6c2f8c7a10";
        assert_eq!(
            lower.to_uppercase().parse::<Id>().ok(),
            Some(Id(lower.into()))
        );
        assert!("not-a-uuid".parse::<Id>().is_err());
    }
}
