//! The compact JWS form, taken apart strictly before any cryptography.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;

use crate::error::{AuthError, Malformed};
use crate::json::{Members, ObjectError};
use crate::key::is_valid_kid;

/// Decodes unpadded, canonical base64url (no padding, no whitespace, no
/// non-zero trailing bits).
pub(crate) fn b64url(text: &[u8]) -> Result<Vec<u8>, Malformed> {
    // The engine refuses any byte outside the URL-safe alphabet (padding and
    // whitespace included) and non-zero trailing bits.
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| Malformed::Encoding)
}

const fn alphabet() -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
        b += 1;
    }
    table
}

/// Which bytes may appear in base64url text.
static BASE64URL: [bool; 256] = alphabet();

/// True when every byte of `text` is in the base64url alphabet.
fn is_base64url(text: &[u8]) -> bool {
    text.iter().all(|&b| BASE64URL[usize::from(b)])
}

/// Encodes unpadded base64url.
pub(crate) fn b64url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Header parameters that are never honoured. `jku`, `x5u`, `jwk` and `x5c`
/// would let the token choose its own key; `crit` demands extensions this
/// crate does not implement; `b64` changes what is signed; `enc` and `zip`
/// belong to JWE.
const FORBIDDEN_HEADERS: [&str; 8] = ["crit", "jku", "x5u", "jwk", "x5c", "b64", "enc", "zip"];

/// The parts of a header this crate uses.
#[derive(Debug)]
pub(crate) struct Header {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
}

/// A token taken apart, its signature not yet checked.
pub(crate) struct Parts<'a> {
    /// `header.claims`, as received: what the signature covers.
    pub(crate) signing_input: &'a [u8],
    pub(crate) header: Header,
    pub(crate) claims: &'a [u8],
    pub(crate) signature: Vec<u8>,
}

fn algorithm(name: &str) -> Result<Algorithm, AuthError> {
    Ok(match name {
        "HS256" => Algorithm::HS256,
        "HS384" => Algorithm::HS384,
        "HS512" => Algorithm::HS512,
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        // `none`, `None`, `nOnE`, and every name not listed.
        _ => return Err(AuthError::UnsupportedAlgorithm),
    })
}

/// The name of `algorithm` in a header.
pub(crate) fn algorithm_name(algorithm: Algorithm) -> Option<&'static str> {
    Some(match algorithm {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::EdDSA => "EdDSA",
        _ => return None,
    })
}

fn parse_header(bytes: &[u8]) -> Result<Header, AuthError> {
    let members = Members::parse(bytes).map_err(|e| match e {
        ObjectError::Duplicate => Malformed::DuplicateKey,
        ObjectError::NotAnObject => Malformed::Header,
    })?;
    for name in FORBIDDEN_HEADERS {
        if members.get(name).is_some() {
            return Err(AuthError::ForbiddenHeader { parameter: name });
        }
    }
    let alg = match members.text("alg") {
        Ok(Some(name)) => algorithm(&name)?,
        _ => return Err(Malformed::Header.into()),
    };
    match members.text("typ") {
        Ok(None) => {}
        Ok(Some(typ))
            if typ.eq_ignore_ascii_case("JWT")
                || typ.eq_ignore_ascii_case("at+jwt")
                || typ.eq_ignore_ascii_case("application/at+jwt") => {}
        _ => return Err(Malformed::Header.into()),
    }
    let kid = match members.text("kid") {
        Ok(None) => None,
        Ok(Some(kid)) if is_valid_kid(&kid) => Some(kid.into_owned()),
        _ => return Err(AuthError::InvalidKeyId),
    };
    Ok(Header { alg, kid })
}

/// Takes a compact JWS apart: size, segments, base64url, header.
pub(crate) fn split(token: &str, max_bytes: usize) -> Result<Parts<'_>, AuthError> {
    let bytes = token.as_bytes();
    if bytes.len() > max_bytes {
        return Err(AuthError::TooLarge { limit: max_bytes });
    }
    let Some(first) = token.find('.') else {
        return Err(Malformed::SegmentCount.into());
    };
    let Some(second) = token[first + 1..].find('.').map(|i| first + 1 + i) else {
        return Err(Malformed::SegmentCount.into());
    };
    if token[second + 1..].contains('.') {
        return Err(Malformed::SegmentCount.into());
    }
    let header = &bytes[..first];
    let claims = &bytes[first + 1..second];
    let signature = &bytes[second + 1..];
    if header.is_empty() || claims.is_empty() || signature.is_empty() {
        return Err(Malformed::EmptySegment.into());
    }
    let header_json = b64url(header)?;
    // The claims are decoded only after the signature verifies; their
    // alphabet is checked now so that a malformed token fails the same way
    // whatever its key.
    if !is_base64url(claims) {
        return Err(Malformed::Encoding.into());
    }
    let signature = b64url(signature)?;
    let header = parse_header(&header_json)?;
    Ok(Parts {
        signing_input: &bytes[..second],
        header,
        claims,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(text: &str) -> String {
        b64url_encode(text.as_bytes())
    }

    fn token_with_header(header: &str) -> String {
        format!("{}.{}.{}", enc(header), enc("{}"), enc("sig"))
    }

    #[test]
    fn non_canonical_base64url_is_refused() {
        assert_eq!(b64url(b"QQ"), Ok(b"A".to_vec()));
        // Same bytes, different trailing bits.
        assert_eq!(b64url(b"QR"), Err(Malformed::Encoding));
        assert_eq!(b64url(b"QQ=="), Err(Malformed::Encoding));
        assert_eq!(b64url(b"Q Q"), Err(Malformed::Encoding));
        assert_eq!(b64url(b"+/"), Err(Malformed::Encoding));
        assert_eq!(b64url(b"Q"), Err(Malformed::Encoding));
    }

    #[test]
    fn algorithm_names_are_exact() {
        for name in ["none", "None", "NONE", "hs256", "HS256 ", "ES512", ""] {
            assert!(matches!(
                algorithm(name),
                Err(AuthError::UnsupportedAlgorithm)
            ));
        }
        assert!(matches!(algorithm("EdDSA"), Ok(Algorithm::EdDSA)));
    }

    #[test]
    fn header_without_alg_or_with_foreign_typ_is_malformed() {
        for header in [
            r#"{"typ":"JWT"}"#,
            r#"{"alg":256}"#,
            r#"{"alg":"HS256","typ":"JWE"}"#,
            r#"["HS256"]"#,
        ] {
            let token = token_with_header(header);
            assert!(
                matches!(
                    split(&token, 8192),
                    Err(AuthError::Malformed(Malformed::Header))
                ),
                "{header}"
            );
        }
    }

    #[test]
    fn key_choosing_headers_are_forbidden() {
        for name in ["jku", "x5u", "jwk", "x5c", "crit"] {
            let token = token_with_header(&format!(r#"{{"alg":"HS256","{name}":"x"}}"#));
            assert!(matches!(
                split(&token, 8192),
                Err(AuthError::ForbiddenHeader { parameter }) if parameter == name
            ));
        }
    }
}
