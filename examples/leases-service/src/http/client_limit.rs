//! A rate limit per client address, for the public route no token
//! identifies and that writes: `POST /auth/redeem`.
//!
//! The client is the connection's peer address. A `X-Forwarded-For` header
//! is read only when that peer is one of the proxies the service is told to
//! trust (`LEASES_TRUSTED_PROXIES`); otherwise any client could name itself
//! a fresh address on every attempt.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tenancy_core::{LimitError, MemoryLimitStore, RateLimiter, RateQuota, SystemClock, TenantId};

use super::{ApiError, AppState};

/// How many client addresses the limiter keeps state for at once; past
/// that, addresses seen within the current window are kept and new ones
/// refused (503) until old ones go idle, so memory stays bounded.
const CAPACITY: usize = 100_000;

/// Per-address GCRA limits, on `tenancy-core`'s rate limiter.
pub(crate) struct ClientLimit {
    limiter: RateLimiter<SystemClock>,
    quota: RateQuota,
    trusted_proxies: Vec<IpAddr>,
}

impl std::fmt::Debug for ClientLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientLimit")
            .field("quota", &self.quota)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish_non_exhaustive()
    }
}

impl ClientLimit {
    /// `quota` per client address; `X-Forwarded-For` is believed only from
    /// `trusted_proxies`.
    pub(crate) fn new(quota: RateQuota, trusted_proxies: Vec<IpAddr>) -> Self {
        ClientLimit {
            limiter: RateLimiter::new(
                MemoryLimitStore::with_capacity(CAPACITY),
                SystemClock::new(),
            ),
            quota,
            trusted_proxies,
        }
    }

    /// The client a request comes from: the peer, or, when the peer is a
    /// trusted proxy, the right-most address in `X-Forwarded-For` that is
    /// not a trusted proxy (each proxy appends the address it saw, so
    /// entries to the left of it are the client's own say). A header that
    /// cannot be read leaves the peer: every client behind that proxy then
    /// shares one limit, which is stricter, never looser.
    pub(crate) fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusted_proxies.contains(&peer) {
            return peer;
        }
        let mut forwarded = Vec::new();
        for value in headers.get_all("x-forwarded-for") {
            let Ok(value) = value.to_str() else {
                return peer;
            };
            for entry in value.split(',') {
                match entry.trim().parse::<IpAddr>() {
                    Ok(addr) => forwarded.push(addr.to_canonical()),
                    Err(_) => return peer,
                }
            }
        }
        forwarded
            .into_iter()
            .rev()
            .find(|addr| !self.trusted_proxies.contains(addr))
            .unwrap_or(peer)
    }

    /// Admits one attempt from `client`, or says how long to wait.
    pub(crate) fn check(&self, client: IpAddr) -> Result<(), LimitError> {
        // An IPv6 client usually holds a whole /64, so that is one client.
        let bits = match client.to_canonical() {
            IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
            IpAddr::V6(v6) => u128::from(v6) & !u128::from(u64::MAX),
        };
        // tenancy-core's limiter is keyed by a 128-bit id. An address (IPv4
        // mapped into IPv6, IPv6 cut to its /64) is one exactly, with no
        // hashing; these keys live in this limiter only and never name a
        // tenant anywhere else.
        self.limiter.check(TenantId::from_u128(bits), &self.quota)
    }
}

/// Middleware: refuses an attempt over the client's limit with 429 and
/// `Retry-After`, before the handler reads the body or the database.
///
/// The peer address comes from the server (`ConnectInfo`); without it the
/// service is wired wrongly and the request is refused (500), never let
/// through unlimited.
pub(crate) async fn per_client(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(ConnectInfo(peer)) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .copied()
    else {
        eprintln!(
            "leases-service: no peer address on a rate-limited route (serve with connect info)"
        );
        return ApiError::Internal.into_response();
    };
    let client = state.client_limit.client(peer.ip(), request.headers());
    match state.client_limit.check(client) {
        Ok(()) => next.run(request).await,
        Err(LimitError::RateLimited { retry_after }) => {
            ApiError::RateLimited { retry_after }.into_response()
        }
        // The store is full of addresses active in this window.
        Err(_) => ApiError::Unavailable.into_response(),
    }
}

/// `per_minute` attempts a minute per address, as a burst at once, then one
/// more every `60 s / per_minute`.
pub(crate) fn per_minute(per_minute: u32) -> RateQuota {
    let per_minute = per_minute.max(1);
    RateQuota::every(Duration::from_secs(60) / per_minute, per_minute)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_read_only_from_trusted_proxies() {
        let limit = ClientLimit::new(per_minute(10), vec![ip("10.0.0.1"), ip("10.0.0.2")]);
        let check = |peer: &str, xff: &[&str], expected: &str| {
            assert_eq!(
                limit.client(ip(peer), &headers(xff)),
                ip(expected),
                "{peer} {xff:?}"
            );
        };
        // Not a proxy: the header is the client's own claim.
        check("203.0.113.9", &["198.51.100.1"], "203.0.113.9");
        // A proxy: the right-most address that is not one of ours.
        check("10.0.0.1", &["198.51.100.1"], "198.51.100.1");
        check(
            "10.0.0.1",
            &["6.6.6.6, 198.51.100.1, 10.0.0.2"],
            "198.51.100.1",
        );
        check("10.0.0.1", &["6.6.6.6", "198.51.100.1"], "198.51.100.1");
        // Nothing usable: the proxy itself.
        check("10.0.0.1", &[], "10.0.0.1");
        check("10.0.0.1", &["not-an-ip, 198.51.100.1"], "10.0.0.1");
        check("10.0.0.1", &["10.0.0.2"], "10.0.0.1");
        // An IPv4 peer seen through a dual-stack socket is the same peer.
        check("::ffff:10.0.0.1", &["198.51.100.1"], "198.51.100.1");
    }

    #[test]
    fn one_client_is_an_ipv4_address_or_an_ipv6_slash_64() {
        let limit = ClientLimit::new(per_minute(1), Vec::new());
        assert!(limit.check(ip("192.0.2.1")).is_ok());
        assert!(limit.check(ip("::ffff:192.0.2.1")).is_err());
        assert!(limit.check(ip("192.0.2.2")).is_ok());
        assert!(limit.check(ip("2001:db8:1:2::1")).is_ok());
        assert!(limit.check(ip("2001:db8:1:2:ffff::9")).is_err());
        assert!(limit.check(ip("2001:db8:1:3::1")).is_ok());
    }
}
