//! Bearer tokens: HS256 JWTs with the documented claims, verified into a
//! [`TenantContext`] and issued for redeemed tenants and the demo.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tenancy_core::{
    PermissionSet, RoleName, RoleRegistry, Scope, SubjectId, TenantContext, TenantId,
};

use crate::clock::unix_now;
use crate::config::Config;
use crate::error::ServiceError;

/// The most a token may be off in time.
const LEEWAY_SECS: u64 = 30;
/// The largest token accepted, checked before any decoding.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The claims a token carries.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The subject (UUID).
    pub sub: String,
    /// The tenant (UUID), for tenant scope only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// `tenant` or `system`.
    pub scope: String,
    /// The role's name.
    pub role: String,
    /// Narrows the role's permissions; absent means all the role grants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// Expires at (Unix seconds).
    pub exp: u64,
    /// The issuer.
    pub iss: String,
    /// The audience.
    pub aud: String,
    /// The token's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// Why a token was refused: always a 401, never more specific to the client
/// than this text.
pub type Refusal = &'static str;

/// A token that passed every check, before the tenant's status is known.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Who acts.
    pub subject: SubjectId,
    /// The tenant, for tenant scope.
    pub tenant: Option<TenantId>,
    /// The role.
    pub role: RoleName,
    /// The narrowing the token asks for.
    pub permissions: Option<PermissionSet>,
}

impl Verified {
    /// The context, with effective permissions = what the role grants in
    /// `roles` ∩ what the token names: a token narrows, never widens.
    pub fn to_context(&self, roles: &RoleRegistry) -> Result<TenantContext, Refusal> {
        let role = roles.get(&self.role).ok_or("unknown role")?;
        let granted = roles.permissions(&self.role).map_err(|_| "unknown role")?;
        let effective = match &self.permissions {
            Some(asked) => granted.intersection(asked),
            None => granted.clone(),
        };
        match (self.tenant, role.scope()) {
            (Some(tenant), Scope::Tenant) => Ok(TenantContext::tenant(
                tenant,
                self.subject,
                self.role.clone(),
                effective,
            )),
            (None, Scope::System) => Ok(TenantContext::system(
                self.subject,
                self.role.clone(),
                effective,
            )),
            _ => Err("the role does not fit the token's scope"),
        }
    }
}

/// Verifies and issues tokens with one HS256 secret.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
}

impl Tokens {
    /// From the configured secret, issuer and audience.
    pub fn new(secret: &[u8], config: &Config) -> Result<Self, ServiceError> {
        if secret.len() < crate::config::MIN_SECRET_BYTES {
            return Err(ServiceError::Config {
                var: "TENANCY_JWT_SECRET",
                reason: "must be at least 32 bytes".into(),
            });
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        Ok(Tokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
        })
    }

    /// Checks the signature (HS256 only), issuer, audience, times and the
    /// shape of every claim.
    pub fn verify(&self, token: &str) -> Result<Verified, Refusal> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err("the token is too large");
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => "the token has expired",
                jsonwebtoken::errors::ErrorKind::InvalidSignature => "bad signature",
                jsonwebtoken::errors::ErrorKind::InvalidIssuer => "wrong issuer",
                jsonwebtoken::errors::ErrorKind::InvalidAudience => "wrong audience",
                jsonwebtoken::errors::ErrorKind::ImmatureSignature => "the token is not valid yet",
                jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => "unsupported algorithm",
                jsonwebtoken::errors::ErrorKind::MissingRequiredClaim(_) => {
                    "a required claim is missing"
                }
                _ => "malformed token",
            })?;
        let claims = data.claims;
        if claims.iat > unix_now() + LEEWAY_SECS {
            return Err("the token was issued in the future");
        }
        if claims.exp <= claims.iat {
            return Err("the token expires before it was issued");
        }
        let subject = SubjectId::parse(&claims.sub).map_err(|_| "`sub` is not a UUID")?;
        let tenant = match (claims.scope.as_str(), &claims.tenant_id) {
            ("tenant", Some(t)) => {
                Some(TenantId::parse(t).map_err(|_| "the tenant claim is not a UUID")?)
            }
            ("tenant", None) => return Err("a tenant token needs a tenant claim"),
            ("system", None) => None,
            ("system", Some(_)) => return Err("a system token must not name a tenant"),
            _ => return Err("`scope` must be `tenant` or `system`"),
        };
        let role = RoleName::parse(&claims.role).map_err(|_| "`role` is not a role name")?;
        let permissions = match claims.permissions {
            Some(list) => Some(
                PermissionSet::parse(list.iter().map(String::as_str))
                    .map_err(|_| "`permissions` holds a malformed permission")?,
            ),
            None => None,
        };
        Ok(Verified {
            subject,
            tenant,
            role,
            permissions,
        })
    }

    /// A token for `ctx` (its role's full permissions), valid for `lifetime`.
    pub fn issue(&self, ctx: &TenantContext, lifetime: Duration) -> Result<String, ServiceError> {
        let iat = unix_now();
        let claims = Claims {
            sub: ctx.subject().to_string(),
            tenant_id: match ctx.scope() {
                Scope::Tenant => ctx.tenant_id().map(|t| t.to_string()),
                Scope::System => None,
            },
            scope: ctx.scope().as_str().into(),
            role: ctx.role().to_string(),
            permissions: None,
            iat,
            exp: iat + lifetime.as_secs().max(1),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: Some(crate::clock::new_id()?),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }
}
