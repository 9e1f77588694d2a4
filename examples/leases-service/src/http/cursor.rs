//! List cursors, sealed: opaque, unforgeable, and bound to the list and
//! the tenant they were issued for.

use std::sync::Arc;

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use tenancy_core::TenantId;

/// The server key cursors are sealed with: a cursor is opaque (the position
/// is encrypted), cannot be forged, and works only on the list it came from
/// and for the tenant it was issued to. Any other use is refused exactly like
/// a malformed cursor.
#[derive(Clone)]
pub(crate) struct CursorKey(Arc<[u8; 64]>);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

type HmacSha256 = Hmac<Sha256>;

/// The tag's length in bytes (128 bits).
const TAG_BYTES: usize = 16;

impl CursorKey {
    /// A key derived from the service's secret (so cursors survive a restart
    /// with the same secret, and say nothing about it).
    pub(crate) fn derive(secret: &[u8]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"leases-service cursor key\0")
            .chain_update(secret)
            .finalize();
        // HMAC pads a short key with zeros to its block size; doing it here
        // makes the key's length fixed, and keying infallible.
        let mut key = [0u8; 64];
        key[..32].copy_from_slice(&digest);
        CursorKey(Arc::new(key))
    }

    fn mac(&self, parts: &[&[u8]]) -> HmacSha256 {
        let mut mac = <HmacSha256 as KeyInit>::new(&(*self.0).into());
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    fn tag(&self, tenant: Option<TenantId>, list: &str, position: i64) -> HmacSha256 {
        // Length-prefixed parts: a tenant's 16 bytes never read as the
        // platform's empty scope.
        let scope = tenant.map(|t| t.as_u128().to_be_bytes());
        let scope: &[u8] = scope.as_ref().map_or(&[], |s| s.as_slice());
        self.mac(&[b"tag", scope, list.as_bytes(), &position.to_be_bytes()])
    }

    fn stream(&self, tag: &[u8]) -> [u8; 32] {
        self.mac(&[b"enc", tag]).finalize().into_bytes().into()
    }

    /// Seals `position` of `list`, as read by `tenant` (`None` for the
    /// platform's own lists), into a cursor: a tag over the tenant, the list
    /// and the position, then the position encrypted under a keystream
    /// derived from the tag (a deterministic, misuse-resistant construction).
    pub(crate) fn seal(&self, tenant: Option<TenantId>, list: &str, position: i64) -> String {
        let tag = self.tag(tenant, list, position).finalize().into_bytes();
        let tag = &tag[..TAG_BYTES];
        let stream = self.stream(tag);
        let mut out = String::with_capacity(2 * (TAG_BYTES + 8));
        let hidden = position
            .to_be_bytes()
            .into_iter()
            .zip(stream)
            .map(|(p, k)| p ^ k);
        for byte in tag.iter().copied().chain(hidden) {
            out.push_str(&format!("{byte:02x}"));
        }
        out
    }

    /// Opens a cursor from [`CursorKey::seal`] for `tenant` and `list`;
    /// `None` for a forged or altered cursor, one of another list, or one
    /// issued to another tenant (the caller cannot tell these apart).
    pub(crate) fn open(&self, tenant: Option<TenantId>, list: &str, cursor: &str) -> Option<i64> {
        if cursor.len() != 2 * (TAG_BYTES + 8) {
            return None;
        }
        let bytes = (0..cursor.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(cursor.get(i..i + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        let (tag, hidden) = bytes.split_at(TAG_BYTES);
        let stream = self.stream(tag);
        let mut position = [0u8; 8];
        for (i, (h, k)) in hidden.iter().zip(stream).enumerate() {
            position[i] = h ^ k;
        }
        let position = i64::from_be_bytes(position);
        // Constant-time comparison, by the MAC itself.
        let same = self
            .tag(tenant, list, position)
            .verify_truncated_left(tag)
            .is_ok();
        (same && position > 0).then_some(position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CursorKey {
        CursorKey::derive(b"a test secret of thirty-two bytes")
    }

    const ACME: Option<TenantId> = Some(TenantId::from_u128(1));

    #[test]
    fn cursor_roundtrips_and_refuses_forgeries() {
        let key = key();
        let cursor = key.seal(ACME, "/properties", 1_763_800_000_123_456);
        assert_eq!(
            key.open(ACME, "/properties", &cursor),
            Some(1_763_800_000_123_456)
        );
        assert!(
            !cursor.contains("1763800000123456")
                && !cursor.contains(&format!("{:x}", 1_763_800_000_123_456_i64)),
            "the position shows through: {cursor}"
        );
        assert_eq!(
            key.open(ACME, "/leases", &cursor),
            None,
            "another list's cursor"
        );
        let other = CursorKey::derive(b"another secret of thirty-two bytes");
        assert_eq!(
            other.open(ACME, "/properties", &cursor),
            None,
            "another key"
        );
        let mut flipped = cursor.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(
            key.open(ACME, "/properties", &flipped),
            None,
            "an altered cursor"
        );
        assert_eq!(key.open(ACME, "/properties", "42"), None);
        assert_eq!(key.open(ACME, "/properties", "zz"), None);
        assert_eq!(
            key.open(ACME, "/properties", &key.seal(ACME, "/properties", -1)),
            None
        );
    }

    #[test]
    fn a_cursor_opens_only_for_the_tenant_it_was_issued_to() {
        let key = key();
        let globex = Some(TenantId::from_u128(2));
        let cursor = key.seal(ACME, "/properties", 42);
        assert_eq!(key.open(ACME, "/properties", &cursor), Some(42));
        assert_eq!(key.open(globex, "/properties", &cursor), None);
        assert_eq!(key.open(None, "/properties", &cursor), None);
        let platform = key.seal(None, "/properties", 42);
        assert_eq!(key.open(ACME, "/properties", &platform), None);
        assert_eq!(key.open(None, "/properties", &platform), Some(42));
    }
}
