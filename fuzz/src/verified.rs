//! What must hold of any token text given to the fixture validators.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::BTreeMap;

use serde_json::Value;
use serde_json::value::RawValue;
use tenancy_auth::{AuthError, CachedValidator, Claim, ClaimNames, Validator, VerifiedToken};
use tenancy_core::{PermissionSet, RoleName, RoleRegistry, Scope, SubjectId, TenantId};

use crate::fixtures::{AUD, ISS, LEEWAY, MAX_LIFETIME, NOW, fixtures};

/// Runs `token` through every fixture validator and checks their answers
/// against each other and against the token's own claims.
pub(crate) fn check_token(token: &str) {
    let f = fixtures();
    let plain = verify(&f.validator, token);
    let bound = verify(&f.bound, token);
    let camel = verify(&f.camel, token);

    if let Ok(v) = &plain {
        check_verified(v, token, &ClaimNames::default());
    }
    if let Ok(v) = &camel {
        check_verified(v, token, &ClaimNames::camel_case());
    }

    // The bound validator accepts exactly the tenant tokens of its tenant
    // that the same validator unbound accepts, and refuses the others as a
    // scope mismatch: it never yields a context of another tenant.
    match (&plain, &bound) {
        (Ok(v), Ok(b)) => {
            assert_eq!(
                b.scope(),
                Scope::Tenant,
                "a bound validator accepted a system token"
            );
            assert_eq!(
                b.tenant_id(),
                Some(f.tenant),
                "a bound validator yielded another tenant"
            );
            assert_eq!(v.tenant_id(), b.tenant_id());
            assert_eq!(v.subject(), b.subject());
        }
        (Ok(v), Err(e)) => {
            assert!(
                v.tenant_id() != Some(f.tenant),
                "the bound validator refused a token of its own tenant: {e:?}"
            );
            assert!(matches!(e, AuthError::ScopeMismatch), "{e:?}");
        }
        (Err(e), Ok(b)) => panic!("only the bound validator accepted {b:?}; unbound: {e:?}"),
        (Err(_), Err(_)) => {}
    }

    // A cache in front of the validator answers as the validator does, on
    // the first (miss) and the second (hit) call.
    let cached = CachedValidator::new(Arc::clone(&f.validator), 4);
    for _ in 0..2 {
        match (&plain, cached.verify(token)) {
            (Ok(v), Ok(c)) => {
                assert_eq!(v.tenant_id(), c.tenant_id());
                assert_eq!(v.subject(), c.subject());
                assert_eq!(v.scope(), c.scope());
                assert_eq!(v.role(), c.role());
                assert_eq!(v.expires_at(), c.expires_at());
            }
            (Err(_), Err(e)) => assert!(e.is_invalid_token(), "{e:?}"),
            (plain, cached) => panic!("the cache disagrees: {plain:?} vs {cached:?}"),
        }
    }
}

/// `validator.verify(token)`, checking that a refusal is a token fault:
/// untrusted text never produces a configuration or key-source error.
fn verify(validator: &Validator, token: &str) -> Result<VerifiedToken, AuthError> {
    let result = validator.verify(token);
    if let Err(e) = &result {
        assert!(
            e.is_invalid_token(),
            "a token caused a non-token error: {e:?}"
        );
        if token.len() > validator.max_token_bytes() {
            assert!(matches!(e, AuthError::TooLarge { .. }), "{e:?}");
        }
    } else {
        assert!(token.len() <= validator.max_token_bytes());
    }
    result
}

/// The claims of a token, read by a second, lenient parser: a map where a
/// repeated member keeps its last value, each member kept as raw JSON.
///
/// Members are decoded only when a check reads them. Decoding the whole
/// document as a `Value` would refuse what tenancy-auth rightly leaves
/// alone in members it never reads: lone UTF-16 surrogate escapes, which
/// the JSON grammar allows and `String` cannot hold, and nesting deeper
/// than serde_json's recursion limit (see README.md, "Findings").
fn lenient_claims(token: &str) -> BTreeMap<String, Value> {
    let mut segments = token.split('.');
    let claims = segments
        .nth(1)
        .unwrap_or_else(|| panic!("a verified token has no claims segment"));
    let json = URL_SAFE_NO_PAD
        .decode(claims)
        .unwrap_or_else(|e| panic!("a verified token's claims are not base64url: {e}"));
    let raw: BTreeMap<String, Box<RawValue>> = serde_json::from_slice(&json)
        .unwrap_or_else(|e| panic!("a verified token's claims are not a JSON object: {e}"));
    raw.into_iter()
        .filter_map(|(name, value)| Some((name, serde_json::from_str(value.get()).ok()?)))
        .collect()
}

/// A verified token says what its claims say, to any JSON parser.
fn check_verified(v: &VerifiedToken, token: &str, names: &ClaimNames) {
    let claims = lenient_claims(token);
    let get = |claim: Claim| claims.get(names.name(claim));
    let text = |claim: Claim| get(claim).and_then(Value::as_str);

    assert_eq!(v.issuer(), ISS);
    assert_eq!(text(Claim::Issuer), Some(ISS));
    match get(Claim::Audience) {
        Some(Value::String(aud)) => assert_eq!(aud, AUD),
        Some(Value::Array(auds)) => assert!(auds.iter().any(|a| a.as_str() == Some(AUD))),
        other => panic!("accepted with audience {other:?}"),
    }
    assert_eq!(
        text(Claim::Subject).map(SubjectId::parse),
        Some(Ok(v.subject()))
    );
    assert_eq!(
        text(Claim::Role).map(RoleName::parse),
        Some(Ok(v.role().clone()))
    );

    match v.scope() {
        Scope::Tenant => {
            assert_eq!(text(Claim::Scope), Some("tenant"));
            let tenant = v
                .tenant_id()
                .unwrap_or_else(|| panic!("a tenant token without a tenant"));
            assert_eq!(text(Claim::TenantId).map(TenantId::parse), Some(Ok(tenant)));
            if let Some(p) = v.permissions() {
                assert!(
                    !p.touches_platform(),
                    "a tenant token reaches the platform: {p:?}"
                );
            }
        }
        Scope::System => {
            assert_eq!(text(Claim::Scope), Some("system"));
            assert_eq!(v.tenant_id(), None);
            assert!(
                get(Claim::TenantId).is_none(),
                "a system token names a tenant"
            );
        }
    }

    match get(Claim::Permissions) {
        None => assert!(v.permissions().is_none()),
        Some(Value::Array(items)) => {
            let texts: Vec<&str> = items
                .iter()
                .map(|i| i.as_str().unwrap_or_else(|| panic!("a permission is {i}")))
                .collect();
            let lenient = PermissionSet::parse(&texts).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(v.permissions(), Some(&lenient));
        }
        Some(other) => panic!("accepted with permissions {other}"),
    }

    assert!(v.issued_at() <= v.expires_at());
    assert!(v.expires_at() - v.issued_at() <= MAX_LIFETIME);
    assert!(v.expires_at() + LEEWAY >= NOW, "accepted an expired token");
    assert!(
        v.issued_at() <= NOW + LEEWAY,
        "accepted a token issued in the future"
    );
    if let Some(nbf) = v.not_before() {
        assert!(nbf <= NOW + LEEWAY, "accepted a token before its nbf");
    }
    assert_eq!(v.jti(), text(Claim::TokenId));

    // The context it grants: the same tenant, never more than the role.
    let roles = RoleRegistry::with_builtins();
    match v.to_context(&roles) {
        Ok(ctx) => {
            assert_eq!(ctx.tenant_id(), v.tenant_id());
            assert_eq!(ctx.scope(), v.scope());
            assert_eq!(ctx.subject(), v.subject());
            let granted = roles
                .permissions(v.role())
                .unwrap_or_else(|e| panic!("a context from an unknown role: {e}"));
            assert!(
                ctx.permissions().is_subset(granted),
                "a token widened its role"
            );
            if let Some(asked) = v.permissions() {
                assert!(
                    ctx.permissions().is_subset(asked),
                    "a token widened its own claim"
                );
            }
            if ctx.scope() == Scope::Tenant {
                assert!(!ctx.permissions().touches_platform());
            }
        }
        Err(e) => assert!(e.is_invalid_token(), "{e:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{OTHER_TENANT, SUBJECT, TENANT};

    fn claims(tenant: &str) -> String {
        format!(
            r#"{{"sub":"{SUBJECT}","tenant_id":"{tenant}","scope":"tenant","role":"member","iat":{},"exp":{},"iss":"{ISS}","aud":"{AUD}"}}"#,
            NOW - 10,
            NOW + 600
        )
    }

    /// The properties are not vacuous: the fixtures accept a real token,
    /// and the bound validator refuses one of another tenant.
    #[test]
    fn fixtures_accept_a_real_token_and_bind_their_tenant() {
        let f = fixtures();
        let own = crate::claims::sign(claims(TENANT).as_bytes());
        assert!(f.validator.verify(&own).is_ok());
        assert!(f.bound.verify(&own).is_ok());
        check_token(&own);

        let other = crate::claims::sign(claims(OTHER_TENANT).as_bytes());
        assert!(f.validator.verify(&other).is_ok());
        assert!(matches!(
            f.bound.verify(&other),
            Err(AuthError::ScopeMismatch)
        ));
        check_token(&other);
    }
}
