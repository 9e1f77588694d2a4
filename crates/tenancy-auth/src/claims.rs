//! Claim names and the typed reading of a verified token's claims.

use std::borrow::Cow;

use serde_json::Value;
use serde_json::value::RawValue;
use tenancy_core::{Permission, PermissionSet, RoleName, Scope, SubjectId, TenantId};

use crate::error::{AuthError, Claim, ConfigError};
use crate::json::{self, Members};

fn index(claim: Claim) -> usize {
    match claim {
        Claim::Subject => 0,
        Claim::TenantId => 1,
        Claim::Scope => 2,
        Claim::Role => 3,
        Claim::Permissions => 4,
        Claim::IssuedAt => 5,
        Claim::ExpiresAt => 6,
        Claim::NotBefore => 7,
        Claim::Issuer => 8,
        Claim::Audience => 9,
        Claim::TokenId => 10,
    }
}

/// The name each claim has in a token.
///
/// Defaults: `sub`, `tenant_id`, `scope` (`tenant` | `system`), `role`,
/// `permissions`, `iat`, `exp`, `nbf`, `iss`, `aud`, `jti`.
///
/// ```
/// use tenancy_auth::{Claim, ClaimNames};
///
/// let names = ClaimNames::camel_case();
/// assert_eq!(names.name(Claim::TenantId), "tenantId");
/// assert_eq!(names.name(Claim::Role), "roleCode");
/// assert_eq!(names.name(Claim::Scope), "subjectScope");
/// let custom = ClaimNames::default().with(Claim::TenantId, "org");
/// assert_eq!(custom.name(Claim::TenantId), "org");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimNames {
    names: [Box<str>; 11],
}

impl Default for ClaimNames {
    fn default() -> Self {
        ClaimNames {
            names: Claim::ALL.map(|c| Box::from(c.default_name())),
        }
    }
}

impl ClaimNames {
    /// The camelCase mapping: `tenantId`, `roleCode`, `subjectScope`; every
    /// other claim keeps its default name.
    pub fn camel_case() -> Self {
        ClaimNames::default()
            .with(Claim::TenantId, "tenantId")
            .with(Claim::Role, "roleCode")
            .with(Claim::Scope, "subjectScope")
    }

    /// Renames one claim.
    pub fn with(mut self, claim: Claim, name: &str) -> Self {
        self.names[index(claim)] = name.into();
        self
    }

    /// The name of `claim`.
    pub fn name(&self, claim: Claim) -> &str {
        &self.names[index(claim)]
    }

    /// Refuses empty names and two claims sharing one name.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        for (i, name) in self.names.iter().enumerate() {
            if name.is_empty() || self.names[..i].contains(name) {
                return Err(ConfigError::ClaimNames);
            }
        }
        Ok(())
    }
}

/// The claims of a token, read and typed, before time and audience checks.
pub(crate) struct Claims {
    pub(crate) subject: SubjectId,
    pub(crate) scope: Scope,
    pub(crate) tenant: Option<TenantId>,
    pub(crate) role: RoleName,
    pub(crate) permissions: Option<PermissionSet>,
    pub(crate) issued_at: u64,
    pub(crate) expires_at: u64,
    pub(crate) not_before: Option<u64>,
    pub(crate) jti: Option<Box<str>>,
}

/// The longest `jti` accepted, in bytes.
const MAX_JTI_LEN: usize = 256;

/// The largest NumericDate accepted (year 2286); larger values are refused
/// rather than risk arithmetic surprises.
const MAX_TIME: u64 = 9_999_999_999;

/// Reads a NumericDate: a JSON number of seconds. Fractions are rounded
/// towards the stricter side (`round_up` for `iat` and `nbf`).
fn time(value: &Value, claim: Claim, round_up: bool) -> Result<u64, AuthError> {
    let Value::Number(n) = value else {
        return Err(AuthError::InvalidClaim(claim));
    };
    let seconds = match n.as_u64() {
        Some(s) => s,
        None => {
            let f = n.as_f64().ok_or(AuthError::InvalidClaim(claim))?;
            if !f.is_finite() || f < 0.0 || f > MAX_TIME as f64 {
                return Err(AuthError::InvalidClaim(claim));
            }
            let rounded = if round_up { f.ceil() } else { f.floor() };
            // In range and integral: the conversion is exact.
            rounded as u64
        }
    };
    if seconds > MAX_TIME {
        return Err(AuthError::InvalidClaim(claim));
    }
    Ok(seconds)
}

fn raw_time(raw: &RawValue, claim: Claim, round_up: bool) -> Result<u64, AuthError> {
    time(&json::value(raw), claim, round_up)
}

pub(crate) struct Reader<'m, 'a> {
    members: &'m Members<'a>,
    names: &'m ClaimNames,
}

impl<'m, 'a> Reader<'m, 'a> {
    pub(crate) fn new(members: &'m Members<'a>, names: &'m ClaimNames) -> Self {
        Reader { members, names }
    }

    fn get(&self, claim: Claim) -> Option<&'a RawValue> {
        self.members.get(self.names.name(claim))
    }

    fn required(&self, claim: Claim) -> Result<&'a RawValue, AuthError> {
        self.get(claim).ok_or(AuthError::MissingClaim(claim))
    }

    fn string(&self, claim: Claim) -> Result<Cow<'a, str>, AuthError> {
        json::string(self.required(claim)?).ok_or(AuthError::InvalidClaim(claim))
    }

    /// The issuer, exactly.
    pub(crate) fn issuer(&self) -> Result<Cow<'a, str>, AuthError> {
        self.string(Claim::Issuer)
    }

    /// True when `aud` (a string or an array of strings) names `audience`.
    pub(crate) fn has_audience(&self, audience: &str) -> Result<bool, AuthError> {
        let raw = self.required(Claim::Audience)?;
        if let Some(one) = json::string(raw) {
            return Ok(one == audience);
        }
        let many = json::strings(raw).ok_or(AuthError::InvalidClaim(Claim::Audience))?;
        Ok(many.iter().any(|a| a == audience))
    }

    /// Every claim this crate uses, typed.
    pub(crate) fn read(&self) -> Result<Claims, AuthError> {
        let expires_at = raw_time(self.required(Claim::ExpiresAt)?, Claim::ExpiresAt, false)?;
        let issued_at = raw_time(self.required(Claim::IssuedAt)?, Claim::IssuedAt, true)?;
        let not_before = self
            .get(Claim::NotBefore)
            .map(|v| raw_time(v, Claim::NotBefore, true))
            .transpose()?;
        let subject = SubjectId::parse(&self.string(Claim::Subject)?)
            .map_err(|_| AuthError::InvalidClaim(Claim::Subject))?;
        let scope = match &*self.string(Claim::Scope)? {
            "tenant" => Scope::Tenant,
            "system" => Scope::System,
            _ => return Err(AuthError::InvalidClaim(Claim::Scope)),
        };
        let tenant = match (scope, self.get(Claim::TenantId)) {
            (Scope::Tenant, None) => return Err(AuthError::MissingClaim(Claim::TenantId)),
            (Scope::Tenant, Some(raw)) => {
                let text = json::string(raw).ok_or(AuthError::InvalidClaim(Claim::TenantId))?;
                Some(TenantId::parse(&text).map_err(|_| AuthError::InvalidClaim(Claim::TenantId))?)
            }
            // Present at all, even `null` or empty: a system token names no tenant.
            (Scope::System, Some(_)) => return Err(AuthError::ScopeMismatch),
            (Scope::System, None) => None,
        };
        let role = RoleName::parse(&self.string(Claim::Role)?)
            .map_err(|_| AuthError::InvalidClaim(Claim::Role))?;
        let permissions = match self.get(Claim::Permissions) {
            None => None,
            Some(raw) => {
                let texts =
                    json::strings(raw).ok_or(AuthError::InvalidClaim(Claim::Permissions))?;
                let mut grants = Vec::with_capacity(texts.len());
                for text in &texts {
                    let permission = Permission::parse(text)
                        .map_err(|_| AuthError::InvalidClaim(Claim::Permissions))?;
                    if scope == Scope::Tenant && permission.touches_platform() {
                        return Err(AuthError::PlatformPermission);
                    }
                    grants.push(permission);
                }
                Some(PermissionSet::from_grants(grants))
            }
        };
        let jti = match self.get(Claim::TokenId) {
            None => None,
            Some(raw) => match json::string(raw) {
                Some(s) if !s.is_empty() && s.len() <= MAX_JTI_LEN => Some(Box::from(&*s)),
                _ => return Err(AuthError::InvalidClaim(Claim::TokenId)),
            },
        };
        Ok(Claims {
            subject,
            scope,
            tenant,
            role,
            permissions,
            issued_at,
            expires_at,
            not_before,
            jti,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_names_must_be_distinct_and_non_empty() {
        assert!(ClaimNames::default().check().is_ok());
        assert!(ClaimNames::camel_case().check().is_ok());
        assert_eq!(
            ClaimNames::default().with(Claim::Role, "sub").check(),
            Err(ConfigError::ClaimNames)
        );
        assert_eq!(
            ClaimNames::default().with(Claim::Role, "").check(),
            Err(ConfigError::ClaimNames)
        );
    }

    #[test]
    fn numeric_dates_round_towards_the_stricter_side() {
        let v = serde_json::json!(10.5);
        assert_eq!(time(&v, Claim::ExpiresAt, false).unwrap(), 10);
        assert_eq!(time(&v, Claim::IssuedAt, true).unwrap(), 11);
        for bad in [
            serde_json::json!(-1),
            serde_json::json!("10"),
            serde_json::json!(null),
            serde_json::json!(1e300),
            serde_json::json!(u64::MAX),
        ] {
            assert!(matches!(
                time(&bad, Claim::ExpiresAt, false),
                Err(AuthError::InvalidClaim(Claim::ExpiresAt))
            ));
        }
    }
}
