//! Resource ids as the service gave them, never-existing ids of the same
//! shape, and where an id or a tenant id shows in a response body.

use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, Hasher, RandomState};

use serde_json::Value;
use tenancy_core::TenantId;

/// The id of one resource, as the service returned it: a JSON number or a
/// string. Build it from a JSON value, a string or an integer.
///
/// `null`, booleans, arrays and objects are not ids; the check refuses them
/// before it sends anything.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceId {
    text: String,
    shape: Shape,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Shape {
    Number,
    Text,
    NotAnId,
}

/// The first missing integer id; it fits 32-bit columns and path
/// parameters, so a missing id is refused for being missing, not too large.
const FIRST_MISSING_INTEGER: u64 = 2_147_480_000;

/// Shorter ids are not searched for in bodies: `7` is also a count, a page
/// number, a price. The foreign/missing comparison still covers them.
const MIN_SEARCHED_LEN: usize = 6;

impl ResourceId {
    /// The id's text, as it goes into a path.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub(crate) fn is_id(&self) -> bool {
        self.shape != Shape::NotAnId && !self.text.is_empty()
    }

    /// The id as a JSON value: a number stays a number.
    pub(crate) fn to_json(&self) -> Value {
        match self.shape {
            Shape::Number => {
                serde_json::from_str(&self.text).unwrap_or_else(|_| Value::from(self.text.clone()))
            }
            Shape::Text | Shape::NotAnId => Value::from(self.text.clone()),
        }
    }

    /// An id of the same shape (an integer for an integer, a UUID for a
    /// UUID, the same letters and separators otherwise) that is none of
    /// `taken`.
    pub(crate) fn missing_like(&self, taken: &HashSet<&str>) -> ResourceId {
        let is_free = |candidate: &str| candidate != self.text && !taken.contains(candidate);
        let mut n = 0_u64;
        loop {
            let text = if is_integer(&self.text) {
                (FIRST_MISSING_INTEGER + n).to_string()
            } else {
                scramble(&self.text)
            };
            if is_free(&text) {
                return ResourceId {
                    text,
                    shape: self.shape,
                };
            }
            n += 1;
            if n > 64 {
                // Only an id without a single digit or hex letter gets here.
                let text = format!("{}-{n}", self.text);
                if is_free(&text) {
                    return ResourceId {
                        text,
                        shape: self.shape,
                    };
                }
            }
        }
    }

    /// True when the id stands in `body` as a whole token (not inside a
    /// longer run of letters and digits); ids shorter than six characters
    /// are never searched for.
    pub(crate) fn appears_in(&self, body: &str) -> bool {
        if !self.is_searched() {
            return false;
        }
        if is_hex_like(&self.text) {
            let body = body.to_ascii_lowercase();
            whole_tokens(&body, &self.text.to_ascii_lowercase())
                .next()
                .is_some()
        } else {
            whole_tokens(body, &self.text).next().is_some()
        }
    }

    /// True when bodies are searched for the id: it is long enough not to
    /// be an ordinary number.
    pub(crate) fn is_searched(&self) -> bool {
        self.text.chars().count() >= MIN_SEARCHED_LEN
    }

    /// `body` with the id, wherever it stands as a whole token, replaced by
    /// `with`.
    pub(crate) fn replaced_in(&self, body: &str, with: &str) -> String {
        let mut out = String::with_capacity(body.len());
        let mut last = 0;
        for at in whole_tokens(body, &self.text) {
            out.push_str(&body[last..at]);
            out.push_str(with);
            last = at + self.text.len();
        }
        out.push_str(&body[last..]);
        out
    }
}

/// The offsets where `token` stands in `text` not touching a letter or
/// digit on either side.
fn whole_tokens<'t>(text: &'t str, token: &'t str) -> impl Iterator<Item = usize> + 't {
    text.match_indices(token).filter_map(move |(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + token.len()..].chars().next();
        let alone =
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric);
        (alone && !token.is_empty()).then_some(at)
    })
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<Value> for ResourceId {
    fn from(value: Value) -> Self {
        match value {
            Value::Number(n) => ResourceId {
                text: n.to_string(),
                shape: Shape::Number,
            },
            Value::String(text) => ResourceId {
                text,
                shape: Shape::Text,
            },
            other => ResourceId {
                text: other.to_string(),
                shape: Shape::NotAnId,
            },
        }
    }
}

impl From<&Value> for ResourceId {
    fn from(value: &Value) -> Self {
        ResourceId::from(value.clone())
    }
}

impl From<String> for ResourceId {
    fn from(text: String) -> Self {
        ResourceId::from(Value::String(text))
    }
}

impl From<&str> for ResourceId {
    fn from(text: &str) -> Self {
        ResourceId::from(text.to_owned())
    }
}

macro_rules! integer_ids {
    ($($int:ty),*) => {$(
        impl From<$int> for ResourceId {
            fn from(n: $int) -> Self {
                ResourceId::from(Value::from(n))
            }
        }
    )*};
}
integer_ids!(i32, i64, u32, u64);

fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn is_hex_like(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// Replaces every digit by a random digit and every hex letter by a random
/// hex letter of the same case, so a UUID stays a UUID (its version and
/// variant kept) and a ULID stays a ULID. Any other id keeps its prefix up
/// to its last `_` or `-` (`note_4f2` stays `note_…`), and letters beyond
/// `f` stay.
fn scramble(text: &str) -> String {
    let mut random = Random::new();
    let uuid = is_uuid(text);
    let kept = match text.rfind(['_', '-']) {
        Some(at) if !uuid => at + 1,
        _ => 0,
    };
    text.char_indices()
        .map(|(i, c)| match c {
            _ if i < kept || (uuid && (i == 14 || i == 19)) => c,
            '0'..='9' => char::from(b'0' + random.below(10)),
            'a'..='f' => char::from(b'a' + random.below(6)),
            'A'..='F' => char::from(b'A' + random.below(6)),
            _ => c,
        })
        .collect()
}

fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Randomness for test ids, not for secrets: the standard library's
/// randomly keyed hasher.
struct Random(u64, u64);

impl Random {
    fn new() -> Self {
        Random(RandomState::new().build_hasher().finish(), 0)
    }

    fn next(&mut self) -> u64 {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(self.0);
        hasher.write_u64(self.1);
        self.1 += 1;
        hasher.finish()
    }

    fn below(&mut self, n: u8) -> u8 {
        (self.next() % u64::from(n)) as u8
    }

    fn byte(&mut self) -> u8 {
        self.next().to_le_bytes()[0]
    }
}

/// Sixteen random bytes, for a fresh tenant id.
pub(crate) fn random_bytes() -> [u8; 16] {
    let (mut random, mut bytes) = (Random::new(), [0; 16]);
    bytes.iter_mut().for_each(|b| *b = random.byte());
    bytes
}

/// True when `body` names `tenant` in a form a client could read it back
/// from: the hyphenated or the simple UUID (any case), or the 128-bit
/// number when it is long enough not to be an ordinary number.
pub(crate) fn names_tenant(body: &str, tenant: TenantId) -> bool {
    let body = body.to_ascii_lowercase();
    let hyphenated = tenant.to_string().to_ascii_lowercase();
    let simple = hyphenated.replace('-', "");
    let decimal = tenant.as_u128().to_string();
    body.contains(&hyphenated)
        || body.contains(&simple)
        || (decimal.len() >= 12 && body.contains(&decimal))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken<'a>(ids: &[&'a str]) -> HashSet<&'a str> {
        ids.iter().copied().collect()
    }

    #[test]
    fn missing_integer_is_an_integer_no_one_has() {
        let id = ResourceId::from(7_i64);
        let missing = id.missing_like(&taken(&["2147480000"]));
        assert_eq!(missing.as_str(), "2147480001");
        assert_eq!(missing.to_json(), Value::from(2_147_480_001_u64));
    }

    #[test]
    fn missing_uuid_is_a_uuid_of_the_same_case() {
        let id = ResourceId::from("5EED0000-0000-4000-8000-00000000000B");
        let missing = id.missing_like(&taken(&[]));
        assert!(is_uuid(missing.as_str()), "{missing}");
        assert_ne!(missing, id);
        assert!(!missing.as_str().bytes().any(|b| b.is_ascii_lowercase()));
        assert_eq!(&missing.as_str()[14..15], "4");
    }

    #[test]
    fn missing_prefixed_id_keeps_its_prefix() {
        let id = ResourceId::from("note_40af");
        let missing = id.missing_like(&taken(&[]));
        assert!(missing.as_str().starts_with("note_"), "{missing}");
        assert_eq!(missing.as_str().len(), id.as_str().len());
    }

    #[test]
    fn id_is_found_only_as_a_whole_token() {
        let id = ResourceId::from(700_123_i64);
        assert!(id.appears_in(r#"{"id":700123}"#));
        assert!(!id.appears_in(r#"{"at":1700123000}"#));
        assert!(!ResourceId::from(7_i64).appears_in(r#"{"id":7}"#));
    }

    #[test]
    fn replacing_an_id_leaves_longer_numbers_alone() {
        let id = ResourceId::from(12_i64);
        assert_eq!(
            id.replaced_in("note 12 of 2012, 12", "{n}"),
            "note {n} of 2012, {n}"
        );
    }

    #[test]
    fn tenant_is_found_in_every_form() {
        let t = TenantId::from_u128(0x5eed_0000_0000_0000_0000_0000_0000_00ab);
        let hyphenated = t.to_string();
        assert!(names_tenant(&hyphenated.to_uppercase(), t));
        assert!(names_tenant(&hyphenated.replace('-', ""), t));
        assert!(names_tenant(&t.as_u128().to_string(), t));
        assert!(!names_tenant("nothing here", t));
    }
}
