//! Target `bearer_token`: the validator over whatever text an
//! `Authorization: Bearer` header carries.

use crate::verified::check_token;

/// Any bytes, as the text of a bearer token (invalid UTF-8 becomes U+FFFD,
/// as a lossy transport would make it), through every fixture validator.
///
/// Few mutations survive the signature, so this target mostly exercises the
/// size check, the segment split, base64url and the header (all read before
/// any cryptography); [`claims`](crate::claims) signs its input to reach the
/// claims.
pub fn bearer_token(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check_token(&text);
}
