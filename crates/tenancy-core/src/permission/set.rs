//! Sets of permissions, compared and combined by meaning.

use std::collections::BTreeSet;
use std::fmt;

use super::pattern::{Part, Permission};

/// One granted pattern minus the patterns carved out of it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Term {
    grant: Permission,
    // INVARIANT: every exception lies inside `grant` and none covers it.
    except: Vec<Permission>,
}

impl Term {
    /// Builds a term, or nothing when the exceptions swallow the grant.
    fn new(grant: Permission, except: impl IntoIterator<Item = Permission>) -> Option<Term> {
        let mut narrowed = Vec::new();
        for e in except {
            let Some(e) = grant.meet(&e) else { continue };
            if e == grant {
                return None;
            }
            narrowed.push(e);
        }
        narrowed.sort();
        narrowed.dedup();
        // An exception covered by another exception adds nothing.
        let kept: Vec<Permission> = narrowed
            .iter()
            .filter(|e| !narrowed.iter().any(|o| o != *e && o.covers(e)))
            .cloned()
            .collect();
        Some(Term {
            grant,
            except: kept,
        })
    }

    fn admits(&self, p: &Permission) -> bool {
        self.grant.covers(p) && !self.except.iter().any(|e| e.covers(p))
    }
}

/// A set of permissions, meaning the concrete permissions it admits.
///
/// Built from grants (patterns allowed) and combined with [`union`],
/// [`intersection`] and [`difference`] (a deny). Equality and
/// [`is_subset`] compare meanings: `{leases:*}` equals
/// `{leases:read, leases:*}`, and `*:*` minus `system:*` is exact, not an
/// approximation.
///
/// ```
/// use tenancy_core::{Permission, PermissionSet};
///
/// let admin = PermissionSet::parse(["*:*"])?.difference(&PermissionSet::parse(["system:*"])?);
/// let member = PermissionSet::parse(["leases:read", "leases:write"])?;
/// assert!(admin.allows(&"leases:delete".parse()?));
/// assert!(!admin.allows(&"system:tenants".parse()?));
/// assert!(member.is_subset(&admin));
/// assert_eq!(member.union(&admin), admin);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`union`]: PermissionSet::union
/// [`intersection`]: PermissionSet::intersection
/// [`difference`]: PermissionSet::difference
/// [`is_subset`]: PermissionSet::is_subset
#[derive(Clone, Default)]
pub struct PermissionSet {
    // INVARIANT: sorted, deduplicated, no empty term.
    terms: Vec<Term>,
}

impl PermissionSet {
    /// The set that admits nothing.
    pub fn empty() -> Self {
        PermissionSet::default()
    }

    /// The set that admits every permission (`*:*`).
    pub fn all() -> Self {
        PermissionSet::from_grants([Permission::from_parts(Part::Any, Part::Any)])
    }

    /// The set admitting what any of `grants` admits.
    pub fn from_grants(grants: impl IntoIterator<Item = Permission>) -> Self {
        let terms = grants
            .into_iter()
            .filter_map(|g| Term::new(g, []))
            .collect();
        PermissionSet::normalized(terms)
    }

    /// Parses each text as a [`Permission`] and collects them as grants.
    pub fn parse<I, S>(texts: I) -> Result<Self, crate::ParseError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let grants = texts
            .into_iter()
            .map(|t| Permission::parse(t.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PermissionSet::from_grants(grants))
    }

    fn normalized(mut terms: Vec<Term>) -> Self {
        terms.sort();
        terms.dedup();
        // A term whose grant is covered by an exception-free term adds nothing.
        let covering: Vec<Permission> = terms
            .iter()
            .filter(|t| t.except.is_empty())
            .map(|t| t.grant.clone())
            .collect();
        terms.retain(|t| {
            !covering
                .iter()
                .any(|c| c.covers(&t.grant) && !(t.except.is_empty() && *c == t.grant))
        });
        PermissionSet { terms }
    }

    /// True when the set admits nothing.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// True when `permission` is admitted. For a pattern, true when every
    /// concrete permission it matches is admitted.
    pub fn allows(&self, permission: &Permission) -> bool {
        if permission.is_concrete() {
            self.terms.iter().any(|t| t.admits(permission))
        } else {
            PermissionSet::from_grants([permission.clone()]).is_subset(self)
        }
    }

    /// Everything admitted by either set.
    pub fn union(&self, other: &PermissionSet) -> PermissionSet {
        PermissionSet::normalized(self.terms.iter().chain(&other.terms).cloned().collect())
    }

    /// Everything admitted by both sets.
    pub fn intersection(&self, other: &PermissionSet) -> PermissionSet {
        let mut terms = Vec::new();
        for a in &self.terms {
            for b in &other.terms {
                if let Some(grant) = a.grant.meet(&b.grant) {
                    let except = a.except.iter().chain(&b.except).cloned();
                    terms.extend(Term::new(grant, except));
                }
            }
        }
        PermissionSet::normalized(terms)
    }

    /// Everything admitted by `self` and not by `deny`.
    pub fn difference(&self, deny: &PermissionSet) -> PermissionSet {
        let mut terms = self.terms.clone();
        for d in &deny.terms {
            terms = terms.iter().flat_map(|t| subtract(t, d)).collect();
        }
        PermissionSet::normalized(terms)
    }

    /// True when everything `self` admits, `other` admits too.
    pub fn is_subset(&self, other: &PermissionSet) -> bool {
        representatives(self, other).all(|p| !self.allows(&p) || other.allows(&p))
    }

    /// True when some permission touching the platform resource is admitted.
    pub fn touches_platform(&self) -> bool {
        self.terms.iter().any(|t| {
            let platform =
                Permission::from_parts(Part::Name(super::PLATFORM_RESOURCE.into()), Part::Any);
            t.grant
                .meet(&platform)
                .is_some_and(|m| !t.except.iter().any(|e| e.covers(&m)))
        })
    }

    /// The grants this set was reduced to (exceptions are not listed).
    pub fn grants(&self) -> impl Iterator<Item = &Permission> {
        self.terms.iter().map(|t| &t.grant)
    }
}

/// `t \ d`, as terms: `(p, E) \ (q, F) = (p, E + p∩q) ∪ ⋃ f∈F (p∩q∩f, E)`.
fn subtract(t: &Term, d: &Term) -> Vec<Term> {
    let Some(overlap) = t.grant.meet(&d.grant) else {
        return vec![t.clone()];
    };
    let mut out = Vec::new();
    out.extend(Term::new(
        t.grant.clone(),
        t.except.iter().cloned().chain([overlap.clone()]),
    ));
    for f in &d.except {
        if let Some(kept) = overlap.meet(f) {
            out.extend(Term::new(kept, t.except.iter().cloned()));
        }
    }
    out
}

/// One concrete permission per class of permissions that both sets treat
/// alike: every mentioned name, plus one name neither mentions.
fn representatives<'a>(
    a: &'a PermissionSet,
    b: &'a PermissionSet,
) -> impl Iterator<Item = Permission> + 'a {
    let mut resources = BTreeSet::from([Part::unmentioned()]);
    let mut actions = BTreeSet::from([Part::unmentioned()]);
    for t in a.terms.iter().chain(&b.terms) {
        for p in std::iter::once(&t.grant).chain(&t.except) {
            if let Part::Name(_) = p.resource {
                resources.insert(p.resource.clone());
            }
            if let Part::Name(_) = p.action {
                actions.insert(p.action.clone());
            }
        }
    }
    let actions: Vec<Part> = actions.into_iter().collect();
    resources.into_iter().flat_map(move |r| {
        actions
            .clone()
            .into_iter()
            .map(move |a| Permission::from_parts(r.clone(), a))
    })
}

impl PartialEq for PermissionSet {
    fn eq(&self, other: &Self) -> bool {
        self.terms == other.terms || (self.is_subset(other) && other.is_subset(self))
    }
}

impl Eq for PermissionSet {}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        PermissionSet::from_grants(iter)
    }
}

impl From<Permission> for PermissionSet {
    fn from(p: Permission) -> Self {
        PermissionSet::from_grants([p])
    }
}

impl fmt::Display for PermissionSet {
    /// Writes `{a:b, c:* - c:d}`: grants, each followed by what it excludes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", t.grant)?;
            for e in &t.except {
                write!(f, " - {e}")?;
            }
        }
        f.write_str("}")
    }
}

impl fmt::Debug for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PermissionSet{self}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set(texts: &[&str]) -> PermissionSet {
        PermissionSet::parse(texts).unwrap()
    }

    fn perm(text: &str) -> Permission {
        Permission::parse(text).unwrap()
    }

    #[test]
    fn equality_is_on_meaning() {
        assert_eq!(set(&["leases:*", "leases:read"]), set(&["leases:*"]));
        assert_ne!(set(&["leases:read"]), set(&["leases:*"]));
        assert_eq!(set(&[]), PermissionSet::empty());
        let everything_but_read = set(&["*:*"]).difference(&set(&["*:read"]));
        assert!(!everything_but_read.allows(&perm("leases:read")));
        assert!(everything_but_read.allows(&perm("leases:write")));
        assert!(everything_but_read.allows(&perm("brand-new:thing")));
    }

    #[test]
    fn nested_deny_and_regrant() {
        let base = set(&["*:*"]).difference(&set(&["leases:*"]));
        let regranted = base.union(&set(&["leases:read"]));
        assert!(regranted.allows(&perm("leases:read")));
        assert!(!regranted.allows(&perm("leases:write")));
        let denied_again =
            regranted.difference(&set(&["*:read"]).difference(&set(&["audit:read"])));
        assert!(!denied_again.allows(&perm("leases:read")));
        assert!(denied_again.allows(&perm("audit:read")));
        assert!(denied_again.allows(&perm("audit:write")));
    }

    #[test]
    fn pattern_allows_means_all_of_it() {
        let s = set(&["leases:*"]).difference(&set(&["leases:delete"]));
        assert!(!s.allows(&perm("leases:*")));
        assert!(s.allows(&perm("leases:read")));
        assert!(set(&["*:*"]).allows(&perm("*:read")));
    }

    #[test]
    fn platform_detection_is_exact() {
        assert!(set(&["*:*"]).touches_platform());
        assert!(
            !set(&["*:*"])
                .difference(&set(&["system:*"]))
                .touches_platform()
        );
        assert!(set(&["system:tenants"]).touches_platform());
        assert!(!set(&["leases:*"]).touches_platform());
    }

    // -- the laws, over random patterns and random concrete permissions --

    const NAMES: &[&str] = &["a", "b", "c", "*"];

    fn arb_permission() -> impl Strategy<Value = Permission> {
        (0..NAMES.len(), 0..NAMES.len())
            .prop_map(|(r, a)| perm(&format!("{}:{}", NAMES[r], NAMES[a])))
    }

    fn arb_concrete() -> impl Strategy<Value = Permission> {
        // "d" is never mentioned by a set: it stands for unknown names.
        let names = prop::sample::select(vec!["a", "b", "c", "d"]);
        (names.clone(), names).prop_map(|(r, a)| perm(&format!("{r}:{a}")))
    }

    /// Random sets, including ones built with differences.
    fn arb_set() -> impl Strategy<Value = PermissionSet> {
        let leaf =
            prop::collection::vec(arb_permission(), 0..4).prop_map(PermissionSet::from_grants);
        leaf.prop_recursive(3, 16, 2, |inner| {
            (inner.clone(), inner, 0..3u8).prop_map(|(a, b, op)| match op {
                0 => a.union(&b),
                1 => a.intersection(&b),
                _ => a.difference(&b),
            })
        })
    }

    proptest! {
        #[test]
        fn union_admits_what_either_admits(a in arb_set(), b in arb_set(), p in arb_concrete()) {
            prop_assert_eq!(a.union(&b).allows(&p), a.allows(&p) || b.allows(&p));
        }

        #[test]
        fn intersection_admits_what_both_admit(a in arb_set(), b in arb_set(), p in arb_concrete()) {
            prop_assert_eq!(a.intersection(&b).allows(&p), a.allows(&p) && b.allows(&p));
        }

        #[test]
        fn difference_admits_what_only_the_first_admits(a in arb_set(), b in arb_set(), p in arb_concrete()) {
            prop_assert_eq!(a.difference(&b).allows(&p), a.allows(&p) && !b.allows(&p));
        }

        #[test]
        fn union_is_commutative(a in arb_set(), b in arb_set()) {
            prop_assert_eq!(a.union(&b), b.union(&a));
        }

        #[test]
        fn intersection_is_commutative(a in arb_set(), b in arb_set()) {
            prop_assert_eq!(a.intersection(&b), b.intersection(&a));
        }

        #[test]
        fn union_is_associative(a in arb_set(), b in arb_set(), c in arb_set()) {
            prop_assert_eq!(a.union(&b).union(&c), a.union(&b.union(&c)));
        }

        #[test]
        fn intersection_is_associative(a in arb_set(), b in arb_set(), c in arb_set()) {
            prop_assert_eq!(a.intersection(&b).intersection(&c), a.intersection(&b.intersection(&c)));
        }

        #[test]
        fn union_and_intersection_are_idempotent(a in arb_set()) {
            prop_assert_eq!(a.union(&a), a.clone());
            prop_assert_eq!(a.intersection(&a), a);
        }

        #[test]
        fn absorption_holds(a in arb_set(), b in arb_set()) {
            prop_assert_eq!(a.union(&a.intersection(&b)), a.clone());
            prop_assert_eq!(a.intersection(&a.union(&b)), a);
        }

        #[test]
        fn intersection_distributes_over_union(a in arb_set(), b in arb_set(), c in arb_set()) {
            prop_assert_eq!(
                a.intersection(&b.union(&c)),
                a.intersection(&b).union(&a.intersection(&c))
            );
        }

        #[test]
        fn union_distributes_over_intersection(a in arb_set(), b in arb_set(), c in arb_set()) {
            prop_assert_eq!(
                a.union(&b.intersection(&c)),
                a.union(&b).intersection(&a.union(&c))
            );
        }

        #[test]
        fn de_morgan_for_difference(a in arb_set(), b in arb_set(), c in arb_set()) {
            prop_assert_eq!(a.difference(&b.union(&c)), a.difference(&b).intersection(&a.difference(&c)));
            prop_assert_eq!(a.difference(&b.intersection(&c)), a.difference(&b).union(&a.difference(&c)));
        }

        #[test]
        fn difference_with_self_is_empty(a in arb_set()) {
            prop_assert_eq!(a.difference(&a), PermissionSet::empty());
        }

        #[test]
        fn subset_agrees_with_union(a in arb_set(), b in arb_set()) {
            prop_assert_eq!(a.is_subset(&b), a.union(&b) == b);
        }

        #[test]
        fn subset_agrees_with_allows(a in arb_set(), b in arb_set(), p in arb_concrete()) {
            if a.is_subset(&b) && a.allows(&p) {
                prop_assert!(b.allows(&p));
            }
        }

        #[test]
        fn equality_agrees_with_allows_everywhere(a in arb_set(), b in arb_set()) {
            let all = ["a", "b", "c", "d"];
            let same = all.iter().all(|r| all.iter().all(|x| {
                let p = perm(&format!("{r}:{x}"));
                a.allows(&p) == b.allows(&p)
            }));
            prop_assert_eq!(a == b, same);
        }

        #[test]
        fn empty_is_the_identity_of_union(a in arb_set()) {
            prop_assert_eq!(a.union(&PermissionSet::empty()), a);
        }

        #[test]
        fn all_is_the_identity_of_intersection(a in arb_set()) {
            prop_assert_eq!(a.intersection(&PermissionSet::all()), a);
        }
    }
}
