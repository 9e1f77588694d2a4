//! Published test vectors, produced by independent implementations: RFC 7515
//! appendix A (JWS), RFC 8037 appendix A (Ed25519), RFC 7517 appendix A
//! (JWK sets).
//!
//! The RFC tokens are not tenancy tokens (no `aud`, `sub` or `scope`), so a
//! vector that verifies fails later, on its claims; a tampered one fails on
//! its signature. The variant tells the two apart.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use tenancy_auth::{
    AuthError, Claim, ConfigError, Malformed, Validator, VerificationKey, parse_jwks,
};
use tenancy_core::ManualWallClock;

/// RFC 7515 A.1-A.3 sign these claims; `exp` is 2011-03-22.
const RFC7515_CLAIMS: &str = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

// RFC 7515, appendix A.1: HMAC SHA-256.
const A1_KEY: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
const A1_HEADER: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9";
const A1_SIGNATURE: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

// RFC 7515, appendix A.2: RSASSA-PKCS1-v1_5 SHA-256.
const A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
const A2_HEADER: &str = "eyJhbGciOiJSUzI1NiJ9";
const A2_SIGNATURE: &str = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

// RFC 7515, appendix A.3: ECDSA P-256 SHA-256.
const A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const A3_HEADER: &str = "eyJhbGciOiJFUzI1NiJ9";
const A3_SIGNATURE: &str =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

// RFC 7515, appendix A.4: ECDSA P-521 SHA-512.
const A4_X: &str =
    "AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk";
const A4_Y: &str =
    "ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2";
const A4_TOKEN: &str = "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA.AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn";

// RFC 8037, appendix A.2 and A.4: Ed25519.
const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const ED_TOKEN: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

// RFC 7517, appendix A.1: example public keys.
const RFC7517_A1: &str = r#"{"keys":
  [
    {"kty":"EC",
     "crv":"P-256",
     "x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
     "y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
     "use":"enc",
     "kid":"1"},

    {"kty":"RSA",
     "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
     "e":"AQAB",
     "alg":"RS256",
     "kid":"2011-04-29"}
  ]
}"#;

// RFC 7517, appendix A.3: example symmetric keys.
const RFC7517_A3: &str = r#"{"keys":
  [
    {"kty":"oct",
     "alg":"A128KW",
     "k":"GawgguFyGrWKav7AX4VKUg"},

    {"kty":"oct",
     "k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
     "kid":"HMAC key used in JWS spec A.1 example"}
  ]
}"#;

/// A validator for the RFC's issuer `joe`, its clock before the vectors' `exp`.
fn joe(key: VerificationKey) -> Validator {
    Validator::builder()
        .issuer("joe")
        .audience("any")
        .clock(Arc::new(ManualWallClock::at(Duration::from_secs(
            1_300_819_000,
        ))))
        .key(None, key)
        .build()
        .unwrap()
}

fn compact(header: &str, signature: &str) -> String {
    format!("{header}.{RFC7515_CLAIMS}.{signature}")
}

/// The signature verified: the refusal is about the (non-tenancy) claims.
fn assert_signature_verified(validator: &Validator, token: &str) {
    let err = validator.verify(token).unwrap_err();
    assert!(
        matches!(err, AuthError::MissingClaim(Claim::Audience)),
        "{err:?}"
    );
}

/// The same token with one signature byte changed fails on the signature.
fn assert_tamper_detected(validator: &Validator, token: &str) {
    let (input, signature) = token.rsplit_once('.').unwrap();
    let mut sig = URL_SAFE_NO_PAD.decode(signature).unwrap();
    sig[5] ^= 1;
    let tampered = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig));
    assert!(matches!(
        validator.verify(&tampered),
        Err(AuthError::BadSignature)
    ));
}

#[test]
fn rfc7515_a1_hs256() {
    let secret = URL_SAFE_NO_PAD.decode(A1_KEY).unwrap();
    let v = joe(VerificationKey::hmac(Algorithm::HS256, &secret).unwrap());
    let token = compact(A1_HEADER, A1_SIGNATURE);
    assert_signature_verified(&v, &token);
    assert_tamper_detected(&v, &token);
}

#[test]
fn rfc7515_a2_rs256() {
    let key = VerificationKey::from_jwk(&format!(r#"{{"kty":"RSA","n":"{A2_N}","e":"AQAB"}}"#))
        .unwrap()
        .unwrap();
    assert_eq!(key.algorithms(), &[Algorithm::RS256]);
    let v = joe(key);
    let token = compact(A2_HEADER, A2_SIGNATURE);
    assert_signature_verified(&v, &token);
    assert_tamper_detected(&v, &token);
}

#[test]
fn rfc7515_a3_es256() {
    let key = VerificationKey::from_jwk(&format!(
        r#"{{"kty":"EC","crv":"P-256","x":"{A3_X}","y":"{A3_Y}"}}"#
    ))
    .unwrap()
    .unwrap();
    assert_eq!(key.algorithms(), &[Algorithm::ES256]);
    let v = joe(key);
    let token = compact(A3_HEADER, A3_SIGNATURE);
    assert_signature_verified(&v, &token);
    assert_tamper_detected(&v, &token);
}

#[test]
fn rfc7515_a4_es512_is_not_supported_and_says_so() {
    // jsonwebtoken has no P-521: the key is skipped and the token refused
    // by its algorithm, before any key is looked at.
    let key = VerificationKey::from_jwk(&format!(
        r#"{{"kty":"EC","crv":"P-521","x":"{A4_X}","y":"{A4_Y}"}}"#
    ))
    .unwrap();
    assert!(key.is_none());
    let v = joe(VerificationKey::hs256(&[0u8; 32]).unwrap());
    assert!(matches!(
        v.verify(A4_TOKEN),
        Err(AuthError::UnsupportedAlgorithm)
    ));
}

#[test]
fn rfc8037_a4_ed25519() {
    let key =
        VerificationKey::from_jwk(&format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{ED_X}"}}"#))
            .unwrap()
            .unwrap();
    assert_eq!(key.algorithms(), &[Algorithm::EdDSA]);
    let v = joe(key);
    // The payload is the text "Example of Ed25519 signing", not claims: the
    // signature verified and the claims are what is refused.
    assert!(matches!(
        v.verify(ED_TOKEN),
        Err(AuthError::Malformed(Malformed::Claims))
    ));
    assert_tamper_detected(&v, ED_TOKEN);
}

#[test]
fn rfc7517_a1_public_keys() {
    let keys = parse_jwks(RFC7517_A1).unwrap();
    // The EC key is for encryption (`"use":"enc"`) and is skipped.
    assert_eq!(keys.len(), 1);
    assert!(!keys.contains("1"));
    let rsa = keys.select(Some("2011-04-29"), 0).unwrap();
    assert_eq!(rsa.algorithms(), &[Algorithm::RS256]);
}

#[test]
fn rfc7517_a3_symmetric_keys_are_refused() {
    // A key-wrapping key, and the HMAC key of RFC 7515 A.1: published in a
    // JWKS, both are leaked secrets, so the document is refused whole, even
    // with the HMAC key pinned to HS256 under a usable `kid`.
    let refused = |document: &str| {
        matches!(
            parse_jwks(document),
            Err(AuthError::Config(ConfigError::SymmetricKeyInJwks))
        )
    };
    assert!(refused(RFC7517_A3));
    let pinned = RFC7517_A3.replace(
        r#""kid":"HMAC key used in JWS spec A.1 example""#,
        r#""kid":"a1","alg":"HS256""#,
    );
    assert!(refused(&pinned));
    // The same secret from local configuration verifies the A.1 vector.
    let secret = URL_SAFE_NO_PAD.decode(A1_KEY).unwrap();
    let v = joe(VerificationKey::hs256(&secret).unwrap());
    assert_signature_verified(&v, &compact(A1_HEADER, A1_SIGNATURE));
}

#[test]
fn jwks_with_a_broken_key_or_repeated_kid_is_refused() {
    let repeated = r#"{"keys":[
        {"kty":"OKP","crv":"Ed25519","kid":"a","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        {"kty":"OKP","crv":"Ed25519","kid":"a","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
    assert!(parse_jwks(repeated).is_err());
    let short_rsa = r#"{"keys":[{"kty":"RSA","kid":"weak","n":"AQAB","e":"AQAB"}]}"#;
    assert!(parse_jwks(short_rsa).is_err());
    for bad in ["[]", "{}", r#"{"keys":{}}"#, r#"{"keys":[1]}"#] {
        assert!(parse_jwks(bad).is_err(), "{bad}");
    }
    let mismatched = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"ES256","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
    assert!(parse_jwks(mismatched).is_err());
    // Keys for something else are skipped, not fatal.
    let others = r#"{"keys":[
        {"kty":"OKP","crv":"X25519","x":"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08"},
        {"kty":"OKP","crv":"Ed25519","key_ops":["sign"],"x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        {"kty":"RSA","alg":"RSA-OAEP","n":"AQAB","e":"AQAB"}]}"#;
    assert!(parse_jwks(others).unwrap().is_empty());
}
