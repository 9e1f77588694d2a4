//! Tenant resolution from the request's host or path, checked against the token.

use axum::http::uri::Authority;
use axum::http::{HeaderMap, Uri, header};
use tenancy_core::TenantSlug;

/// A way to read a tenant slug from the request itself. The token's tenant
/// stays authoritative: a resolved slug must name the same tenant, or the
/// request is refused with 403 and a cross-tenant audit event.
///
/// ```
/// use tenancy_axum::TenantResolver;
///
/// let host = TenantResolver::host("example.com");
/// let path = TenantResolver::path_prefix("/t/");
/// # let _ = (host, path);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TenantResolver {
    /// `{slug}.{base_domain}` in the request's host: the target's authority
    /// when the request target is absolute (`GET http://acme.example.com/…`,
    /// or HTTP/2's `:authority`), as RFC 9112 §3.2.2 requires, else the
    /// `Host` header. The bare base domain resolves nothing; a host outside
    /// it is refused. (The layer refuses a `Host` header that disagrees with
    /// an absolute target before any resolver runs.)
    Host {
        /// The domain under which each tenant has a subdomain, lowercase.
        base_domain: String,
    },
    /// `{prefix}{slug}/…` at the start of the path (for example `/t/acme/leases`).
    /// Paths without the prefix resolve nothing.
    PathPrefix {
        /// The prefix before the slug, starting and ending with `/`.
        prefix: String,
    },
}

/// What a resolver read from a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// Nothing to check: the token alone decides.
    Nothing,
    /// This slug.
    Slug(TenantSlug),
    /// Something tenant-shaped that names no valid tenant.
    Invalid,
}

impl TenantResolver {
    /// Subdomains of `base_domain`.
    pub fn host(base_domain: &str) -> Self {
        TenantResolver::Host {
            base_domain: base_domain.trim_matches('.').to_ascii_lowercase(),
        }
    }

    /// Path segments after `prefix` (a leading and trailing `/` are added
    /// when missing).
    pub fn path_prefix(prefix: &str) -> Self {
        let trimmed = prefix.trim_matches('/');
        let prefix = if trimmed.is_empty() {
            "/".to_owned()
        } else {
            format!("/{trimmed}/")
        };
        TenantResolver::PathPrefix { prefix }
    }

    pub(crate) fn resolve(&self, uri: &Uri, headers: &HeaderMap) -> Resolved {
        match self {
            TenantResolver::Host { base_domain } => resolve_host(headers, uri, base_domain),
            TenantResolver::PathPrefix { prefix } => resolve_path(uri.path(), prefix),
        }
    }
}

/// A host and port as a client means them: the name in lowercase without
/// a final dot, and the port, explicit or the scheme's default.
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    name: String,
    port: Option<u16>,
}

impl Origin {
    fn new(authority: &Authority, default_port: Option<u16>) -> Self {
        let name = authority.host().to_ascii_lowercase();
        let name = match name.strip_suffix('.') {
            Some(stripped) => stripped.to_owned(),
            None => name,
        };
        Origin {
            name,
            port: authority.port_u16().or(default_port),
        }
    }
}

/// Whether every `Host` header agrees with the request target's authority
/// when the target is absolute (HTTP/1.1's absolute form, or HTTP/2's
/// `:authority`). RFC 9112 §3.2.2 makes the target's authority the request's
/// host; a `Host` naming another (or unreadable) is a request built to be
/// read two ways, so it is refused rather than ignored (RFC 9113 §8.3.1 lets
/// an HTTP/2 server treat it as malformed). `true` for any other target.
pub(crate) fn host_agrees_with_target(uri: &Uri, headers: &HeaderMap) -> bool {
    let Some(target) = uri.authority() else {
        return true;
    };
    let default_port = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
        Some("http" | "ws") => Some(80),
        Some("https" | "wss") => Some(443),
        _ => None,
    };
    let target = Origin::new(target, default_port);
    headers.get_all(header::HOST).iter().all(|value| {
        value
            .to_str()
            .ok()
            .and_then(|h| h.parse::<Authority>().ok())
            .is_some_and(|host| Origin::new(&host, default_port) == target)
    })
}

fn resolve_host(headers: &HeaderMap, uri: &Uri, base: &str) -> Resolved {
    let host = if let Some(authority) = uri.authority() {
        // RFC 9112 §3.2.2: the absolute target's authority is the host.
        // INVARIANT: never resolve from a Host header that disagrees with it.
        if !host_agrees_with_target(uri, headers) {
            return Resolved::Invalid;
        }
        authority.host().to_owned()
    } else {
        let mut hosts = headers.get_all(header::HOST).iter();
        match (hosts.next(), hosts.next()) {
            (Some(h), None) => match h.to_str() {
                Ok(h) => h.to_owned(),
                Err(_) => return Resolved::Invalid,
            },
            (None, _) => return Resolved::Invalid,
            // Two Host headers: someone is probing for a disagreement.
            (Some(_), Some(_)) => return Resolved::Invalid,
        }
    };
    let host = host.to_ascii_lowercase();
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host.as_str(),
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    if name == base {
        return Resolved::Nothing;
    }
    let Some(label) = name
        .strip_suffix(base)
        .and_then(|rest| rest.strip_suffix('.'))
    else {
        return Resolved::Invalid;
    };
    if label.contains('.') {
        return Resolved::Invalid;
    }
    TenantSlug::parse(label).map_or(Resolved::Invalid, Resolved::Slug)
}

fn resolve_path(path: &str, prefix: &str) -> Resolved {
    let Some(rest) = path.strip_prefix(prefix) else {
        // `/t` or `/t/` alone name a tenant space without a tenant.
        return if prefix.len() > 1
            && path.len() < prefix.len()
            && prefix.starts_with(path)
            && path.len() > 1
        {
            Resolved::Invalid
        } else {
            Resolved::Nothing
        };
    };
    let slug = rest.split('/').next().unwrap_or_default();
    TenantSlug::parse(slug).map_or(Resolved::Invalid, Resolved::Slug)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;
    use axum::http::request::Parts;

    impl TenantResolver {
        fn resolve_parts(&self, p: &Parts) -> Resolved {
            self.resolve(&p.uri, &p.headers)
        }
    }

    fn parts(uri: &str, host: Option<&str>) -> Parts {
        let mut b = Request::builder().uri(uri);
        if let Some(h) = host {
            b = b.header(header::HOST, h);
        }
        b.body(()).unwrap().into_parts().0
    }

    fn slug(s: &str) -> Resolved {
        Resolved::Slug(s.parse().unwrap())
    }

    #[test]
    fn host_resolution() {
        let r = TenantResolver::host("Example.com.");
        let check = |host: &str, expected: Resolved| {
            assert_eq!(
                r.resolve_parts(&parts("/x", Some(host))),
                expected,
                "{host}"
            );
        };
        check("acme.example.com", slug("acme"));
        check("ACME.example.com:8080", slug("acme"));
        check("acme.example.com.", slug("acme"));
        check("example.com", Resolved::Nothing);
        check("a.b.example.com", Resolved::Invalid);
        check("acme.example.com.evil.org", Resolved::Invalid);
        check("acmeexample.com", Resolved::Invalid);
        check("www.example.com", Resolved::Invalid);
    }

    #[test]
    fn an_absolute_target_names_the_host() {
        let r = TenantResolver::host("example.com");
        let check = |uri: &str, host: Option<&str>, expected: Resolved| {
            assert_eq!(
                r.resolve_parts(&parts(uri, host)),
                expected,
                "{uri} {host:?}"
            );
        };
        check("http://acme.example.com/x", None, slug("acme"));
        check(
            "http://acme.example.com/x",
            Some("ACME.example.com."),
            slug("acme"),
        );
        check(
            "http://acme.example.com:80/x",
            Some("acme.example.com"),
            slug("acme"),
        );
        check(
            "https://acme.example.com/x",
            Some("acme.example.com:443"),
            slug("acme"),
        );
        check(
            "http://globex.example.com/x",
            Some("acme.example.com"),
            Resolved::Invalid,
        );
        check(
            "http://acme.example.com/x",
            Some("acme.example.com:8080"),
            Resolved::Invalid,
        );
        check(
            "http://acme.example.com/x",
            Some("example.com"),
            Resolved::Invalid,
        );
        check("http://example.com/x", None, Resolved::Nothing);
        check(
            "http://evil.org/x",
            Some("acme.example.com"),
            Resolved::Invalid,
        );
    }

    #[test]
    fn host_agreement() {
        let agrees = |uri: &str, hosts: &[&str]| {
            let mut p = parts(uri, None);
            for h in hosts {
                p.headers.append(header::HOST, h.parse().unwrap());
            }
            host_agrees_with_target(&p.uri, &p.headers)
        };
        assert!(agrees("/x", &["a.example.com", "b.example.com"]));
        assert!(agrees("http://a.example.com/x", &[]));
        assert!(agrees("http://a.example.com/x", &["a.example.com:80"]));
        assert!(agrees("http://[::1]:8080/x", &["[::1]:8080"]));
        assert!(!agrees(
            "http://a.example.com/x",
            &["a.example.com", "b.example.com"]
        ));
        assert!(!agrees("http://a.example.com/x", &[""]));
        assert!(!agrees("http://a.example.com/x", &["a.example.com:443"]));
    }

    #[test]
    fn two_host_headers_are_refused() {
        let r = TenantResolver::host("example.com");
        let mut p = parts("/x", Some("acme.example.com"));
        p.headers
            .append(header::HOST, "globex.example.com".parse().unwrap());
        assert_eq!(r.resolve_parts(&p), Resolved::Invalid);
    }

    #[test]
    fn path_resolution() {
        let r = TenantResolver::path_prefix("t");
        let check = |path: &str, expected: Resolved| {
            assert_eq!(r.resolve_parts(&parts(path, None)), expected, "{path}");
        };
        check("/t/acme/leases", slug("acme"));
        check("/t/acme", slug("acme"));
        check("/t/Acme/leases", Resolved::Invalid);
        check("/t//leases", Resolved::Invalid);
        check("/t/", Resolved::Invalid);
        check("/t", Resolved::Invalid);
        check("/me", Resolved::Nothing);
        check("/tenants", Resolved::Nothing);
    }
}
