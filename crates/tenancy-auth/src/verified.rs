//! A token whose signature and claims have been checked.

use std::sync::Arc;

use tenancy_core::{
    PermissionSet, RoleName, RoleRegistry, Scope, SubjectId, TenantContext, TenantId,
};

use crate::claims::Claims;
use crate::error::AuthError;

/// What a verified token says: who, for which tenant, in which scope, with
/// which role and (optionally) which narrowed permissions.
///
/// Built only by a [`Validator`](crate::Validator). Turn it into a
/// [`TenantContext`] with [`to_context`](VerifiedToken::to_context), against
/// the roles the tenant has today.
#[derive(Clone, Debug)]
pub struct VerifiedToken {
    pub(crate) subject: SubjectId,
    pub(crate) scope: Scope,
    // INVARIANT: `Some` exactly when `scope` is `Scope::Tenant`.
    pub(crate) tenant: Option<TenantId>,
    pub(crate) role: RoleName,
    // INVARIANT: never touches the platform when `scope` is `Scope::Tenant`.
    pub(crate) permissions: Option<PermissionSet>,
    pub(crate) issued_at: u64,
    pub(crate) expires_at: u64,
    pub(crate) not_before: Option<u64>,
    pub(crate) jti: Option<Box<str>>,
    pub(crate) issuer: Arc<str>,
    pub(crate) kid: Option<Box<str>>,
}

impl VerifiedToken {
    pub(crate) fn new(claims: Claims, issuer: Arc<str>, kid: Option<String>) -> Self {
        VerifiedToken {
            subject: claims.subject,
            scope: claims.scope,
            tenant: claims.tenant,
            role: claims.role,
            permissions: claims.permissions,
            issued_at: claims.issued_at,
            expires_at: claims.expires_at,
            not_before: claims.not_before,
            jti: claims.jti,
            issuer,
            kid: kid.map(String::into_boxed_str),
        }
    }

    /// Who acts.
    pub fn subject(&self) -> SubjectId {
        self.subject
    }

    /// Tenant or system.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The tenant: `Some` exactly for tenant scope.
    pub fn tenant_id(&self) -> Option<TenantId> {
        self.tenant
    }

    /// The role the subject acts in.
    pub fn role(&self) -> &RoleName {
        &self.role
    }

    /// The permissions the token narrows to; `None` when the claim is absent,
    /// meaning everything the role grants.
    pub fn permissions(&self) -> Option<&PermissionSet> {
        self.permissions.as_ref()
    }

    /// `iat`, in unix seconds.
    pub fn issued_at(&self) -> u64 {
        self.issued_at
    }

    /// `exp`, in unix seconds.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// `nbf`, in unix seconds, when present.
    pub fn not_before(&self) -> Option<u64> {
        self.not_before
    }

    /// `jti`, when present.
    pub fn jti(&self) -> Option<&str> {
        self.jti.as_deref()
    }

    /// The issuer that signed the token.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `kid` of the key that verified the token, when it had one.
    pub fn key_id(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The context this token grants, given the roles as they are today.
    ///
    /// The role must exist in `roles` (the tenant's registry for a tenant
    /// token, the platform's for a system token) and be of the token's scope.
    /// The effective permissions are the token's permissions intersected with
    /// the role's: a token can narrow, never widen.
    ///
    /// ```
    /// use tenancy_auth::{Issuer, Validator};
    /// use tenancy_core::*;
    ///
    /// let secret = [42u8; 32];
    /// let validator = Validator::builder()
    ///     .issuer("https://id.example.com")
    ///     .audience("leases")
    ///     .hs256_secret(&secret)
    ///     .build()?;
    /// let issuer = Issuer::hs256(&secret, "https://id.example.com", "leases")?;
    ///
    /// let roles = RoleRegistry::with_builtins();
    /// let acme = TenantId::from_u128(1);
    /// let ctx = TenantContext::tenant(acme, SubjectId::from_u128(2), RoleName::viewer(), PermissionSet::all());
    /// let token = issuer.issue(&ctx, std::time::Duration::from_secs(300))?;
    ///
    /// let verified = validator.verify(&token)?;
    /// let ctx = verified.to_context(&roles)?;
    /// assert_eq!(ctx.tenant_id(), Some(acme));
    /// assert!(ctx.allows(&"leases:read".parse()?));
    /// assert!(!ctx.allows(&"leases:write".parse()?)); // the viewer role does not grant it
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_context(&self, roles: &RoleRegistry) -> Result<TenantContext, AuthError> {
        let role = roles.get(&self.role).ok_or(AuthError::UnknownRole)?;
        if role.scope() != self.scope {
            return Err(AuthError::ScopeMismatch);
        }
        let granted = roles
            .permissions(&self.role)
            .map_err(|_| AuthError::UnknownRole)?;
        let effective = match &self.permissions {
            Some(asked) => asked.intersection(granted),
            None => granted.clone(),
        };
        match (self.scope, self.tenant) {
            (Scope::Tenant, Some(tenant)) => Ok(TenantContext::tenant(
                tenant,
                self.subject,
                self.role.clone(),
                effective,
            )),
            (Scope::System, None) => Ok(TenantContext::system(
                self.subject,
                self.role.clone(),
                effective,
            )),
            _ => Err(AuthError::ScopeMismatch),
        }
    }
}
