//! Target `claims`: the claims of a correctly signed token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};

use crate::fixtures::SECRET;
use crate::verified::check_token;

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// Signs `claims` (any bytes, meant as the JSON claims) with the fixture's
/// HS256 secret under a plain header, so the signature holds and every
/// mutation reaches the claims reader.
pub fn claims(data: &[u8]) {
    check_token(&sign(data));
}

/// `header.claims.signature` over the raw claim bytes.
pub fn sign(claims: &[u8]) -> String {
    tenancy_auth::install_default_crypto_provider();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(HEADER),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &EncodingKey::from_secret(SECRET),
        Algorithm::HS256,
    )
    .unwrap_or_else(|e| panic!("the fixture secret cannot sign: {e}"));
    format!("{input}.{signature}")
}
