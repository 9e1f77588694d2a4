//! Cache, search and storage keys that always carry the tenant.

use std::fmt;

use crate::context::TenantContext;
use crate::error::AccessError;
use crate::id::TenantId;

/// A key for a cache, a search index or an object store that always starts
/// with its tenant: `t/<tenant id>/<namespace>/<part>/…`.
///
/// The only constructors take a tenant (or a context bound to one), and parts
/// are escaped, so no part can forge the prefix of another tenant.
///
/// ```
/// use tenancy_core::{TenantId, TenantKey};
///
/// let key = TenantKey::new(TenantId::from_u128(1), "leases").push("42").push("../x/y");
/// assert_eq!(key.as_str(), "t/00000000-0000-0000-0000-000000000001/leases/42/..%2Fx%2Fy");
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TenantKey {
    tenant: TenantId,
    text: String,
}

fn push_escaped(out: &mut String, part: &str) {
    for c in part.chars() {
        match c {
            '/' => out.push_str("%2F"),
            '%' => out.push_str("%25"),
            _ => out.push(c),
        }
    }
}

impl TenantKey {
    /// A key in `namespace` of `tenant`.
    pub fn new(tenant: TenantId, namespace: &str) -> Self {
        let mut text = format!("t/{tenant}/");
        push_escaped(&mut text, namespace);
        TenantKey { tenant, text }
    }

    /// A key in `namespace` of the context's tenant.
    pub fn for_context(ctx: &TenantContext, namespace: &str) -> Result<Self, AccessError> {
        Ok(TenantKey::new(ctx.require_tenant()?, namespace))
    }

    /// Appends one escaped part.
    #[must_use]
    pub fn push(mut self, part: &str) -> Self {
        self.text.push('/');
        push_escaped(&mut self.text, part);
        self
    }

    /// The tenant the key belongs to.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The whole key.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for TenantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for TenantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TenantKey({})", self.text)
    }
}

impl AsRef<str> for TenantKey {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn keys_of_different_tenants_never_collide(
            a in 0u128..4, b in 0u128..4, ns in "\\PC{0,8}", pa in "\\PC{0,12}", pb in "\\PC{0,12}",
        ) {
            let ka = TenantKey::new(TenantId::from_u128(a), &ns).push(&pa);
            let kb = TenantKey::new(TenantId::from_u128(b), &ns).push(&pb);
            if a != b {
                prop_assert_ne!(ka.as_str(), kb.as_str());
                let prefix_a = format!("t/{}/", TenantId::from_u128(a));
                prop_assert!(!kb.as_str().starts_with(&prefix_a));
            }
            prop_assert_eq!(ka.as_str().matches('/').count(), 3);
        }
    }
}
