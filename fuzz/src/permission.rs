//! Target `permission`: permission patterns and the sets, denials and
//! catalogues built from them (role definitions, token claims, config).

use tenancy_core::{Permission, PermissionCatalog, PermissionSet};

/// At most this many lines are combined into sets, so that one input stays
/// fast (set comparison is quadratic in the names mentioned).
const MAX_LINES: usize = 24;

/// Any bytes, as one permission and as lines of them: lines starting with
/// `!` are denied, the others granted.
///
/// A parsed permission displays as its input and re-parses to an equal
/// value; a set parses exactly when each of its lines does, re-parses from
/// its grants, and the difference, the catalogue and the platform check
/// agree with `allows` on every permission the input mentions.
pub fn permission(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check_one(&text);

    let lines: Vec<&str> = text.lines().take(MAX_LINES).collect();
    let mut granted = Vec::new();
    let mut denied = Vec::new();
    for line in &lines {
        match line.strip_prefix('!') {
            Some(deny) => denied.push(deny),
            None => granted.push(*line),
        }
    }
    let parsed: Vec<Permission> = lines
        .iter()
        .map(|l| l.strip_prefix('!').unwrap_or(l))
        .filter_map(check_one)
        .collect();

    let grants = parse_set(&granted);
    let denies = parse_set(&denied);
    let (Some(grants), Some(denies)) = (grants, denies) else {
        return;
    };
    check_set(&grants, &granted);
    check_set(&denies, &denied);

    let kept = grants.difference(&denies);
    assert!(kept.is_subset(&grants));
    assert!(kept.intersection(&denies).is_empty());
    assert_eq!(kept.union(&grants.intersection(&denies)), grants);
    for p in parsed.iter().filter(|p| p.is_concrete()) {
        assert_eq!(
            kept.allows(p),
            grants.allows(p) && !denies.allows(p),
            "{p} in {grants} minus {denies}"
        );
    }

    // A catalogue of the concrete permissions mentioned compiles each set
    // to exactly what `allows` says.
    let concrete: Vec<&str> = lines
        .iter()
        .map(|l| l.strip_prefix('!').unwrap_or(l))
        .collect();
    match PermissionCatalog::parse(&concrete) {
        Ok(catalog) => {
            for set in [&grants, &denies, &kept] {
                let compiled = catalog.compile(set);
                for p in catalog.permissions() {
                    let bit = catalog
                        .bit(p)
                        .unwrap_or_else(|| panic!("{p} catalogued without a bit"));
                    assert_eq!(compiled.allows(bit), set.allows(p), "{p} in {set}");
                }
            }
            assert!(catalog.compile(&grants).contains(&catalog.compile(&kept)));
        }
        Err(_) => assert!(parsed.iter().any(|p| !p.is_concrete()) || parsed.len() < lines.len()),
    }
}

/// One permission: Display is the input, and it re-parses to itself.
fn check_one(text: &str) -> Option<Permission> {
    let parsed = Permission::parse(text);
    assert_eq!(text.parse::<Permission>(), parsed);
    let p = parsed.ok()?;
    let shown = p.to_string();
    assert_eq!(
        shown, text,
        "a permission displays other than it was written"
    );
    assert_eq!(format!("{}:{}", p.resource(), p.action()), text);
    assert_eq!(Permission::parse(&shown).as_ref(), Ok(&p));
    assert!(p.covers(&p));
    assert!(p.resource().len() <= Permission::MAX_PART_LEN);
    assert!(p.action().len() <= Permission::MAX_PART_LEN);
    assert_eq!(
        p.touches_platform(),
        matches!(p.resource(), "*" | tenancy_core::PLATFORM_RESOURCE)
    );
    Some(p)
}

/// A set parses exactly when every one of its texts does.
fn parse_set(texts: &[&str]) -> Option<PermissionSet> {
    let set = PermissionSet::parse(texts);
    let each_parses = texts.iter().all(|t| Permission::parse(t).is_ok());
    assert_eq!(set.is_ok(), each_parses, "{texts:?}");
    set.ok()
}

/// A set of grants admits each grant, re-parses from its reduced grants to
/// an equal set, and touches the platform exactly when a grant does.
fn check_set(set: &PermissionSet, texts: &[&str]) {
    let grants: Vec<Permission> = texts.iter().filter_map(|t| t.parse().ok()).collect();
    for g in &grants {
        assert!(set.allows(g), "{set} does not allow its grant {g}");
    }
    let reduced: Vec<String> = set.grants().map(ToString::to_string).collect();
    let reparsed = PermissionSet::parse(&reduced).unwrap_or_else(|e| panic!("{reduced:?}: {e}"));
    assert_eq!(&reparsed, set);
    assert_eq!(
        set.touches_platform(),
        grants.iter().any(Permission::touches_platform)
    );
    assert!(set.is_subset(set));
    assert_eq!(&set.union(set), set);
    assert_eq!(&set.intersection(set), set);
    assert!(set.difference(set).is_empty());
    assert_eq!(set.is_empty(), grants.is_empty());
}
