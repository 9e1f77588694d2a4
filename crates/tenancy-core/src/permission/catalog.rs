//! Permission sets compiled to bitmasks, for checks in hot paths.

use std::collections::HashMap;

use super::{Permission, PermissionSet};
use crate::error::{ParseError, ParseKind, ParseReason};

/// Where one catalogued permission lives in a [`CompiledPermissions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PermissionBit {
    word: usize,
    mask: u64,
}

/// The service's list of concrete permissions, each given one bit.
///
/// Compile a role's or a context's [`PermissionSet`] once; checking it is
/// then an index and an AND. The compiled mask agrees with
/// [`PermissionSet::allows`] on every catalogued permission.
///
/// ```
/// use tenancy_core::{PermissionCatalog, PermissionSet};
///
/// let catalog = PermissionCatalog::parse(["leases:read", "leases:write", "audit:read"])?;
/// let viewer = catalog.compile(&PermissionSet::parse(["*:read"])?);
/// let read = catalog.bit(&"leases:read".parse()?).ok_or("not catalogued")?;
/// let write = catalog.bit(&"leases:write".parse()?).ok_or("not catalogued")?;
/// assert!(viewer.allows(read));
/// assert!(!viewer.allows(write));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct PermissionCatalog {
    permissions: Vec<Permission>,
    index: HashMap<Permission, PermissionBit>,
}

impl PermissionCatalog {
    /// Catalogues concrete permissions; a pattern (`*`) is refused.
    pub fn new(permissions: impl IntoIterator<Item = Permission>) -> Result<Self, ParseError> {
        let mut catalog = PermissionCatalog::default();
        for p in permissions {
            if !p.is_concrete() {
                return Err(ParseError::new(
                    ParseKind::Permission,
                    ParseReason::InvalidFormat,
                ));
            }
            if catalog.index.contains_key(&p) {
                continue;
            }
            let n = catalog.permissions.len();
            let bit = PermissionBit {
                word: n / 64,
                mask: 1 << (n % 64),
            };
            catalog.index.insert(p.clone(), bit);
            catalog.permissions.push(p);
        }
        Ok(catalog)
    }

    /// Parses and catalogues concrete permissions.
    pub fn parse<I, S>(texts: I) -> Result<Self, ParseError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let permissions = texts
            .into_iter()
            .map(|t| Permission::parse(t.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        PermissionCatalog::new(permissions)
    }

    /// The bit of a catalogued permission.
    pub fn bit(&self, permission: &Permission) -> Option<PermissionBit> {
        self.index.get(permission).copied()
    }

    /// How many permissions are catalogued.
    pub fn len(&self) -> usize {
        self.permissions.len()
    }

    /// True when nothing is catalogued.
    pub fn is_empty(&self) -> bool {
        self.permissions.is_empty()
    }

    /// The catalogued permissions, in bit order.
    pub fn permissions(&self) -> &[Permission] {
        &self.permissions
    }

    /// The bitmask of every catalogued permission that `set` admits.
    pub fn compile(&self, set: &PermissionSet) -> CompiledPermissions {
        let mut words = vec![0u64; self.permissions.len().div_ceil(64)];
        for (i, p) in self.permissions.iter().enumerate() {
            if set.allows(p) {
                words[i / 64] |= 1 << (i % 64);
            }
        }
        CompiledPermissions {
            words: words.into_boxed_slice(),
        }
    }
}

/// A [`PermissionSet`] compiled against a [`PermissionCatalog`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct CompiledPermissions {
    words: Box<[u64]>,
}

impl CompiledPermissions {
    /// True when the permission behind `bit` is admitted.
    #[inline]
    pub fn allows(&self, bit: PermissionBit) -> bool {
        self.words.get(bit.word).is_some_and(|w| w & bit.mask != 0)
    }

    /// True when every permission `other` admits, `self` admits too.
    pub fn contains(&self, other: &CompiledPermissions) -> bool {
        other
            .words
            .iter()
            .enumerate()
            .all(|(i, w)| self.words.get(i).copied().unwrap_or(0) & w == *w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn patterns_cannot_be_catalogued() {
        assert!(PermissionCatalog::parse(["leases:*"]).is_err());
    }

    #[test]
    fn large_catalogs_span_words() {
        let names: Vec<String> = (0..150).map(|i| format!("r{i}:read")).collect();
        let catalog = PermissionCatalog::parse(&names).unwrap();
        let set = PermissionSet::parse(["r149:read", "r3:read"]).unwrap();
        let compiled = catalog.compile(&set);
        for (i, p) in catalog.permissions().iter().enumerate() {
            let bit = catalog.bit(p).unwrap();
            assert_eq!(compiled.allows(bit), i == 149 || i == 3);
        }
    }

    fn arb_set() -> impl Strategy<Value = PermissionSet> {
        let names = prop::sample::select(vec!["a", "b", "c", "*"]);
        let p = (names.clone(), names)
            .prop_map(|(r, a)| Permission::parse(&format!("{r}:{a}")).unwrap());
        let grants = prop::collection::vec(p, 0..4).prop_map(PermissionSet::from_grants);
        (grants.clone(), grants).prop_map(|(a, b)| a.difference(&b))
    }

    proptest! {
        #[test]
        fn compiled_mask_agrees_with_the_set(set in arb_set()) {
            let catalog = PermissionCatalog::parse(
                ["a", "b", "c", "d"].iter().flat_map(|r| ["a", "b", "c", "d"].map(|x| format!("{r}:{x}")))
            ).unwrap();
            let compiled = catalog.compile(&set);
            for p in catalog.permissions() {
                prop_assert_eq!(compiled.allows(catalog.bit(p).unwrap()), set.allows(p));
            }
        }
    }
}
