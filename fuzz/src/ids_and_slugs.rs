//! Target `ids_and_slugs`: identifiers and names taken from paths, hosts,
//! headers and token claims.

use std::str::FromStr;

use tenancy_core::{
    ParseKind, RESERVED_SLUGS, RoleName, SubjectId, TenantId, TenantSlug, TenantStatus,
};

/// Any bytes, as a tenant id, a subject id, a slug, a role name and a
/// tenant status.
///
/// `FromStr` and `parse` agree; an accepted value displays as the canonical
/// form of its input (ids in lower case, everything else unchanged) and
/// re-parses to an equal value; the two id types accept the same texts.
pub fn ids_and_slugs(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text = &*text;

    let tenant = TenantId::parse(text);
    let subject = SubjectId::parse(text);
    assert_eq!(TenantId::from_str(text), tenant);
    assert_eq!(SubjectId::from_str(text), subject);
    assert_eq!(
        tenant.as_ref().ok().map(|t| t.as_u128()),
        subject.as_ref().ok().map(|s| s.as_u128()),
        "the two id types disagree on {text:?}"
    );
    match tenant {
        Ok(id) => {
            let shown = id.to_string();
            assert_eq!(shown, text.to_ascii_lowercase());
            assert_eq!(TenantId::parse(&shown), Ok(id));
            assert_eq!(TenantId::from_bytes(id.to_bytes()), id);
            assert_eq!(TenantId::from_u128(id.as_u128()), id);
        }
        Err(e) => assert_eq!(e.kind(), ParseKind::TenantId),
    }
    if let Ok(id) = subject {
        assert_eq!(SubjectId::parse(&id.to_string()), Ok(id));
    }

    let slug = TenantSlug::parse(text);
    assert_eq!(TenantSlug::from_str(text), slug);
    match slug {
        Ok(slug) => {
            assert_eq!(slug.to_string(), text);
            assert_eq!(slug.as_str(), text);
            assert_eq!(TenantSlug::parse(slug.as_ref()), Ok(slug));
            assert!((TenantSlug::MIN_LEN..=TenantSlug::MAX_LEN).contains(&text.len()));
            assert!(!RESERVED_SLUGS.contains(&text), "a reserved slug parsed");
            // A slug fits in a DNS label.
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            );
            assert!(!text.starts_with('-') && !text.ends_with('-'));
        }
        Err(e) => assert_eq!(e.kind(), ParseKind::TenantSlug),
    }

    let role = RoleName::parse(text);
    assert_eq!(RoleName::from_str(text), role);
    if let Ok(role) = role {
        assert_eq!(role.to_string(), text);
        assert_eq!(role.as_str(), text);
        assert_eq!(RoleName::parse(role.as_str()), Ok(role));
        assert!(!text.is_empty() && text.len() <= RoleName::MAX_LEN);
    }

    if let Ok(status) = TenantStatus::from_str(text) {
        assert_eq!(status.to_string(), text);
        assert_eq!(TenantStatus::from_str(&status.to_string()), Ok(status));
    }
}
