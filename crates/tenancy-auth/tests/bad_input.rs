//! Every known way to get a bad token past a validator, each refused with a
//! typed error. Each test first shows the unmodified token passes, so a
//! refusal is the check's doing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;
use tenancy_auth::{AuthError, Claim, Malformed, VerificationKey};

fn assert_refused(token: &str, expected: impl Fn(&AuthError) -> bool) {
    let err = refusal(&validator(), token);
    assert!(expected(&err), "unexpected refusal {err:?}");
}

#[test]
fn the_baseline_token_is_accepted() {
    let verified = validator().verify(&hs256(&claims())).unwrap();
    assert_eq!(verified.tenant_id().unwrap().to_string(), TENANT);
    assert_eq!(verified.jti(), Some("token-1"));
}

#[test]
fn alg_none_is_refused() {
    let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
    let body = b64(claims().to_string().as_bytes());
    // Unsigned, as an attacker would send it.
    assert_refused(&format!("{header}.{body}."), |e| {
        matches!(e, AuthError::Malformed(Malformed::EmptySegment))
    });
    // With some signature, so the header itself is what fails.
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = b64(format!(r#"{{"alg":"{alg}"}}"#).as_bytes());
        assert_refused(&format!("{header}.{body}.c2ln"), |e| {
            matches!(e, AuthError::UnsupportedAlgorithm)
        });
    }
}

#[test]
fn rs256_public_key_used_as_hs256_secret_is_refused() {
    // The classic confusion: the verifier holds an RSA public key, the
    // attacker signs with HMAC using that public key's bytes as the secret.
    let validator = builder()
        .key(
            Some("rsa"),
            VerificationKey::rsa_pem(Algorithm::RS256, RSA_PUBLIC).unwrap(),
        )
        .key(
            None,
            VerificationKey::rsa_pem(Algorithm::RS256, RSA_PUBLIC).unwrap(),
        )
        .build()
        .unwrap();
    assert!(validator.verify(&rs256(&claims(), "rsa")).is_ok());
    let forged_key = EncodingKey::from_secret(RSA_PUBLIC);
    for header in [r#"{"alg":"HS256","kid":"rsa"}"#, r#"{"alg":"HS256"}"#] {
        let forged = sign_raw(header, &claims().to_string(), Algorithm::HS256, &forged_key);
        let err = refusal(&validator, &forged);
        assert!(matches!(err, AuthError::AlgorithmNotAllowed), "{err:?}");
    }
}

#[test]
fn an_algorithm_the_key_does_not_allow_is_refused() {
    // Same secret, stronger-looking algorithm: still not what the key is pinned to.
    let long_secret = [7u8; 64];
    let validator = builder()
        .key(None, VerificationKey::hs256(&long_secret).unwrap())
        .build()
        .unwrap();
    let key = EncodingKey::from_secret(&long_secret);
    let ok = sign_raw(
        r#"{"alg":"HS256"}"#,
        &claims().to_string(),
        Algorithm::HS256,
        &key,
    );
    assert!(validator.verify(&ok).is_ok());
    let other = sign_raw(
        r#"{"alg":"HS512"}"#,
        &claims().to_string(),
        Algorithm::HS512,
        &key,
    );
    assert!(matches!(
        refusal(&validator, &other),
        AuthError::AlgorithmNotAllowed
    ));
    // An asymmetric key asked to verify another family.
    let v = asymmetric_validator();
    let es_as_rs = sign_raw(
        r#"{"alg":"ES256","kid":"rsa"}"#,
        &claims().to_string(),
        Algorithm::ES256,
        &EncodingKey::from_ec_pem(EC_PRIVATE).unwrap(),
    );
    assert!(matches!(
        refusal(&v, &es_as_rs),
        AuthError::AlgorithmNotAllowed
    ));
}

#[test]
fn unknown_kid_is_refused() {
    let v = asymmetric_validator();
    assert!(v.verify(&rs256(&claims(), "rsa")).is_ok());
    for kid in ["rsa2", "RSA", "rs", "rsa."] {
        let token = rs256(&claims(), kid);
        assert!(
            matches!(refusal(&v, &token), AuthError::UnknownKey),
            "{kid}"
        );
    }
    // A token with a kid never falls back to the key without one.
    assert!(matches!(
        refusal(
            &validator(),
            &hs256_with_header(r#"{"alg":"HS256","kid":"k1"}"#)
        ),
        AuthError::UnknownKey
    ));
    // And a token without a kid does not pick some named key.
    let token = sign_raw(
        r#"{"alg":"RS256"}"#,
        &claims().to_string(),
        Algorithm::RS256,
        &EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap(),
    );
    assert!(matches!(refusal(&v, &token), AuthError::UnknownKey));
}

#[test]
fn kid_with_path_or_sql_characters_is_refused() {
    for kid in [
        "../../etc/passwd",
        "/dev/null",
        "..\\\\keys",
        "k1' OR '1'='1",
        "k1\\\"; DROP TABLE keys; --",
        "k1%00",
        "",
    ] {
        let token = hs256_with_header(&format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#));
        assert_refused(&token, |e| matches!(e, AuthError::InvalidKeyId));
    }
    let token = hs256_with_header(r#"{"alg":"HS256","kid":42}"#);
    assert_refused(&token, |e| matches!(e, AuthError::InvalidKeyId));
}

#[test]
fn jku_x5u_jwk_and_x5c_headers_are_refused_and_never_fetched() {
    for (name, value) in [
        ("jku", json!("http://127.0.0.1:1/jwks.json")),
        ("x5u", json!("http://127.0.0.1:1/cert.pem")),
        (
            "jwk",
            json!({"kty":"oct","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}),
        ),
        ("x5c", json!(["MIIB"])),
    ] {
        let header = json!({"alg":"HS256", name: value}).to_string();
        assert_refused(
            &hs256_with_header(&header),
            |e| matches!(e, AuthError::ForbiddenHeader { parameter } if *parameter == name),
        );
    }
}

#[test]
fn crit_header_is_refused() {
    let header = r#"{"alg":"HS256","crit":["exp"],"exp":1}"#;
    assert_refused(&hs256_with_header(header), |e| {
        matches!(e, AuthError::ForbiddenHeader { parameter: "crit" })
    });
    let header = r#"{"alg":"HS256","b64":false,"crit":["b64"]}"#;
    assert_refused(&hs256_with_header(header), |e| {
        matches!(e, AuthError::ForbiddenHeader { .. })
    });
}

#[test]
fn expired_token_is_refused_one_second_past_the_leeway() {
    let at_boundary = claims_with(|c| {
        c.insert("iat".into(), json!(NOW - 600));
        c.insert("exp".into(), json!(NOW - LEEWAY));
    });
    assert!(validator().verify(&hs256(&at_boundary)).is_ok());
    let past = claims_with(|c| {
        c.insert("iat".into(), json!(NOW - 600));
        c.insert("exp".into(), json!(NOW - LEEWAY - 1));
    });
    assert_refused(&hs256(&past), |e| matches!(e, AuthError::Expired));
}

#[test]
fn nbf_in_the_future_is_refused() {
    let within = claims_with(|c| {
        c.insert("nbf".into(), json!(NOW + LEEWAY));
    });
    assert!(validator().verify(&hs256(&within)).is_ok());
    let future = claims_with(|c| {
        c.insert("nbf".into(), json!(NOW + LEEWAY + 1));
    });
    assert_refused(&hs256(&future), |e| matches!(e, AuthError::NotYetValid));
}

#[test]
fn missing_required_claims_are_refused() {
    for (name, claim) in [
        ("exp", Claim::ExpiresAt),
        ("iat", Claim::IssuedAt),
        ("sub", Claim::Subject),
        ("tenant_id", Claim::TenantId),
        ("scope", Claim::Scope),
        ("role", Claim::Role),
        ("iss", Claim::Issuer),
        ("aud", Claim::Audience),
    ] {
        let token = hs256(&claims_with(|c| {
            c.remove(name);
        }));
        assert_refused(
            &token,
            |e| matches!(e, AuthError::MissingClaim(c) if *c == claim),
        );
    }
}

#[test]
fn exp_and_nbf_of_the_wrong_json_type_are_refused() {
    for (name, claim) in [
        ("exp", Claim::ExpiresAt),
        ("nbf", Claim::NotBefore),
        ("iat", Claim::IssuedAt),
    ] {
        for value in [
            json!((NOW + 60).to_string()),
            json!(null),
            json!(true),
            json!([NOW]),
            json!({"t": NOW}),
            json!(-1),
        ] {
            let token = hs256(&claims_with(|c| {
                c.insert(name.into(), value.clone());
            }));
            assert_refused(
                &token,
                |e| matches!(e, AuthError::InvalidClaim(c) if *c == claim),
            );
        }
    }
}

#[test]
fn iat_in_the_future_is_refused() {
    let within = claims_with(|c| {
        c.insert("iat".into(), json!(NOW + LEEWAY));
    });
    assert!(validator().verify(&hs256(&within)).is_ok());
    let future = claims_with(|c| {
        c.insert("iat".into(), json!(NOW + LEEWAY + 1));
    });
    assert_refused(&hs256(&future), |e| matches!(e, AuthError::IssuedInFuture));
}

#[test]
fn lifetime_over_the_maximum_is_refused() {
    let longest = claims_with(|c| {
        c.insert("iat".into(), json!(NOW));
        c.insert("exp".into(), json!(NOW + MAX_LIFETIME));
    });
    assert!(validator().verify(&hs256(&longest)).is_ok());
    let longer = claims_with(|c| {
        c.insert("iat".into(), json!(NOW));
        c.insert("exp".into(), json!(NOW + MAX_LIFETIME + 1));
    });
    assert_refused(&hs256(&longer), |e| matches!(e, AuthError::LifetimeTooLong));
    let backwards = claims_with(|c| {
        c.insert("iat".into(), json!(NOW));
        c.insert("exp".into(), json!(NOW - 1));
    });
    assert_refused(&hs256(&backwards), |e| {
        matches!(e, AuthError::InvalidClaim(Claim::ExpiresAt))
    });
}

#[test]
fn wrong_issuer_or_audience_is_refused() {
    for iss in [
        json!("https://evil.example.com"),
        json!("https://id.example.com/"),
        json!("HTTPS://ID.EXAMPLE.COM"),
    ] {
        let token = hs256(&claims_with(|c| {
            c.insert("iss".into(), iss.clone());
        }));
        assert_refused(&token, |e| matches!(e, AuthError::WrongIssuer));
    }
    let token = hs256(&claims_with(|c| {
        c.insert("iss".into(), json!([ISS]));
    }));
    assert_refused(&token, |e| {
        matches!(e, AuthError::InvalidClaim(Claim::Issuer))
    });
    for aud in [json!("other-api"), json!(["other-api"]), json!([])] {
        let token = hs256(&claims_with(|c| {
            c.insert("aud".into(), aud.clone());
        }));
        assert_refused(&token, |e| matches!(e, AuthError::WrongAudience));
    }
    for aud in [json!(1), json!([AUD, 1])] {
        let token = hs256(&claims_with(|c| {
            c.insert("aud".into(), aud.clone());
        }));
        assert_refused(&token, |e| {
            matches!(e, AuthError::InvalidClaim(Claim::Audience))
        });
    }
    // One of several audiences is fine.
    let token = hs256(&claims_with(|c| {
        c.insert("aud".into(), json!(["other-api", AUD]));
    }));
    assert!(validator().verify(&token).is_ok());
}

#[test]
fn another_issuers_valid_token_is_refused() {
    // Valid for its own issuer, with its own secret.
    let other_secret = [9u8; 32];
    let foreign = sign_raw(
        r#"{"alg":"HS256"}"#,
        &claims_with(|c| {
            c.insert("iss".into(), json!("https://other-idp.example"));
        })
        .to_string(),
        Algorithm::HS256,
        &EncodingKey::from_secret(&other_secret),
    );
    let other = builder()
        .issuer("https://other-idp.example")
        .key(None, VerificationKey::hs256(&other_secret).unwrap())
        .build()
        .unwrap();
    assert!(other.verify(&foreign).is_ok());
    assert_refused(&foreign, |e| matches!(e, AuthError::BadSignature));
    // Even one that claims our issuer.
    let claiming_ours = sign_raw(
        r#"{"alg":"HS256"}"#,
        &claims().to_string(),
        Algorithm::HS256,
        &EncodingKey::from_secret(&other_secret),
    );
    assert_refused(&claiming_ours, |e| matches!(e, AuthError::BadSignature));
}

#[test]
fn tampered_payload_is_refused() {
    let token = hs256(&claims());
    let parts: Vec<&str> = token.split('.').collect();
    let tampered_claims = claims_with(|c| {
        c.insert("tenant_id".into(), json!(OTHER_TENANT));
    });
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(tampered_claims.to_string().as_bytes()),
        parts[2]
    );
    assert_refused(&forged, |e| matches!(e, AuthError::BadSignature));
}

#[test]
fn tampered_truncated_or_foreign_signature_is_refused() {
    let token = hs256(&claims());
    let (input, signature) = token.rsplit_once('.').unwrap();
    // Flip the first character.
    let mut chars: Vec<char> = signature.chars().collect();
    chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
    let flipped: String = chars.into_iter().collect();
    assert_refused(&format!("{input}.{flipped}"), |e| {
        matches!(e, AuthError::BadSignature)
    });
    // Truncated by whole bytes (4 characters = 3 bytes), still canonical.
    assert_refused(&format!("{input}.{}", &signature[4..]), |e| {
        matches!(e, AuthError::BadSignature)
    });
    // Another token's signature.
    let other = hs256(&claims_with(|c| {
        c.insert("jti".into(), json!("token-2"));
    }));
    let foreign = other.rsplit_once('.').unwrap().1;
    assert_refused(&format!("{input}.{foreign}"), |e| {
        matches!(e, AuthError::BadSignature)
    });
}

#[test]
fn ecdsa_signature_with_r_and_s_zero_is_refused() {
    let v = asymmetric_validator();
    let token = es256(&claims(), "ec");
    assert!(v.verify(&token).is_ok());
    let input = token.rsplit_once('.').unwrap().0;
    for signature in [[0u8; 64].to_vec(), {
        let mut s = [0u8; 64];
        s[63] = 1; // r = 0, s = 1
        s.to_vec()
    }] {
        let forged = format!("{input}.{}", b64(&signature));
        assert!(matches!(refusal(&v, &forged), AuthError::BadSignature));
    }
    // The wrong length is no signature either.
    let forged = format!("{input}.{}", b64(&[1u8; 65]));
    assert!(matches!(refusal(&v, &forged), AuthError::BadSignature));
}

#[test]
fn wrong_segment_count_is_refused() {
    let token = hs256(&claims());
    let (header, rest) = token.split_once('.').unwrap();
    let (body, signature) = rest.split_once('.').unwrap();
    for bad in [
        format!("{header}.{body}"),
        format!("{header}.{body}.{signature}.{signature}"),
        format!("{header}.{body}.{signature}."),
        header.to_owned(),
        String::new(),
        // A JWE has five parts.
        format!("{header}.{body}.{signature}.{body}.{signature}"),
    ] {
        assert_refused(&bad, |e| {
            matches!(e, AuthError::Malformed(Malformed::SegmentCount))
        });
    }
}

#[test]
fn empty_segments_are_refused() {
    let token = hs256(&claims());
    let (header, rest) = token.split_once('.').unwrap();
    let (body, signature) = rest.split_once('.').unwrap();
    for bad in [
        format!(".{body}.{signature}"),
        format!("{header}..{signature}"),
        format!("{header}.{body}."),
        "..".to_owned(),
    ] {
        assert_refused(&bad, |e| {
            matches!(e, AuthError::Malformed(Malformed::EmptySegment))
        });
    }
}

#[test]
fn padding_non_base64url_and_whitespace_are_refused() {
    let token = hs256(&claims());
    let (input, signature) = token.rsplit_once('.').unwrap();
    let (header, body) = input.split_once('.').unwrap();
    let padded_signature = format!("{signature}=");
    let std_alphabet = signature.replace('-', "+").replace('_', "/");
    for bad in [
        format!("{input}.{padded_signature}"),
        format!("{header}=.{body}.{signature}"),
        format!("{header}.{body}==.{signature}"),
        format!("{input}.{signature}\n"),
        format!(" {input}.{signature}"),
        format!("{header}.{} {}.{signature}", &body[..4], &body[4..]),
        format!("{header}.{body}.{}\t", signature),
        format!("{header}.{body}.{signature}%"),
        format!("{header}.{body}.{}é", &signature[..signature.len() - 1]),
    ] {
        assert_refused(&bad, |e| {
            matches!(e, AuthError::Malformed(Malformed::Encoding))
        });
    }
    if std_alphabet != signature {
        assert_refused(&format!("{input}.{std_alphabet}"), |e| {
            matches!(e, AuthError::Malformed(Malformed::Encoding))
        });
    }
}

#[test]
fn oversized_token_is_refused_before_decoding() {
    let v = builder()
        .hs256_secret(SECRET)
        .max_token_bytes(1024)
        .build()
        .unwrap();
    let big = hs256(&claims_with(|c| {
        c.insert("pad".into(), json!("x".repeat(2000)));
    }));
    assert!(matches!(
        refusal(&v, &big),
        AuthError::TooLarge { limit: 1024 }
    ));
    // Refused by size even though it is not a token at all.
    assert!(matches!(
        refusal(&v, &"!".repeat(1025)),
        AuthError::TooLarge { .. }
    ));
    // The default limit is 8 KiB.
    let default = validator();
    let huge = hs256(&claims_with(|c| {
        c.insert("pad".into(), json!("x".repeat(9000)));
    }));
    assert!(matches!(
        refusal(&default, &huge),
        AuthError::TooLarge { limit: 8192 }
    ));
}

#[test]
fn duplicate_claim_keys_are_refused() {
    // serde_json would keep the last `tenant_id`; another parser the first.
    let body = format!(
        r#"{{"sub":"{SUBJECT}","tenant_id":"{TENANT}","scope":"tenant","role":"member","iat":{},"exp":{},"iss":"{ISS}","aud":"{AUD}","tenant_id":"{OTHER_TENANT}"}}"#,
        NOW - 10,
        NOW + 600
    );
    let token = sign_raw(r#"{"alg":"HS256"}"#, &body, Algorithm::HS256, &secret_key());
    assert_refused(&token, |e| {
        matches!(e, AuthError::Malformed(Malformed::DuplicateKey))
    });
    // In the header too.
    let header = r#"{"alg":"HS256","alg":"none"}"#;
    assert_refused(&hs256_with_header(header), |e| {
        matches!(e, AuthError::Malformed(Malformed::DuplicateKey))
    });
}

#[test]
fn claims_that_are_not_an_object_are_refused() {
    for body in ["[]", "\"claims\"", "42", "{\"sub\":", "null"] {
        let token = sign_raw(r#"{"alg":"HS256"}"#, body, Algorithm::HS256, &secret_key());
        assert_refused(&token, |e| {
            matches!(e, AuthError::Malformed(Malformed::Claims))
        });
    }
}

#[test]
fn claims_of_the_wrong_json_type_are_refused() {
    for (name, value, claim) in [
        ("sub", json!(42), Claim::Subject),
        ("sub", json!("alice"), Claim::Subject),
        ("scope", json!(["tenant"]), Claim::Scope),
        ("scope", json!("Tenant"), Claim::Scope),
        ("scope", json!("admin"), Claim::Scope),
        ("role", json!(["member"]), Claim::Role),
        ("role", json!("Member"), Claim::Role),
        ("permissions", json!("leases:read"), Claim::Permissions),
        ("permissions", json!([1]), Claim::Permissions),
        ("permissions", json!(null), Claim::Permissions),
        ("jti", json!(7), Claim::TokenId),
        ("jti", json!(""), Claim::TokenId),
        ("tenant_id", json!(7), Claim::TenantId),
        ("tenant_id", json!(null), Claim::TenantId),
    ] {
        let token = hs256(&claims_with(|c| {
            c.insert(name.into(), value.clone());
        }));
        assert_refused(
            &token,
            |e| matches!(e, AuthError::InvalidClaim(c) if *c == claim),
        );
    }
}

#[test]
fn malformed_tenant_id_is_refused() {
    for value in [
        "acme",
        "0b6d2f4e8c1a4b7e9f3d2a5c6e7f8a9b",
        "0b6d2f4e-8c1a-4b7e-9f3d-2a5c6e7f8a9",
        "0b6d2f4e-8c1a-4b7e-9f3d-2a5c6e7f8a9bb",
        "{0b6d2f4e-8c1a-4b7e-9f3d-2a5c6e7f8a9b}",
        "0b6d2f4e-8c1a-4b7e-9f3d-2a5c6e7f8a9g",
        "",
    ] {
        let token = hs256(&claims_with(|c| {
            c.insert("tenant_id".into(), json!(value));
        }));
        assert_refused(&token, |e| {
            matches!(e, AuthError::InvalidClaim(Claim::TenantId))
        });
    }
}

#[test]
fn system_scope_with_a_tenant_id_is_refused() {
    let system = claims_with(|c| {
        c.insert("scope".into(), json!("system"));
        c.insert("role".into(), json!("platform-admin"));
        c.remove("tenant_id");
    });
    assert!(validator().verify(&hs256(&system)).is_ok());
    for value in [json!(TENANT), json!(null), json!("")] {
        let token = hs256(&claims_with(|c| {
            c.insert("scope".into(), json!("system"));
            c.insert("role".into(), json!("platform-admin"));
            c.insert("tenant_id".into(), value.clone());
        }));
        assert_refused(&token, |e| matches!(e, AuthError::ScopeMismatch));
    }
}

#[test]
fn tenant_scope_without_a_tenant_id_is_refused() {
    let token = hs256(&claims_with(|c| {
        c.remove("tenant_id");
    }));
    assert_refused(&token, |e| {
        matches!(e, AuthError::MissingClaim(Claim::TenantId))
    });
}

#[test]
fn malformed_permission_strings_are_refused() {
    let ok = hs256(&claims_with(|c| {
        c.insert("permissions".into(), json!(["leases:read", "units:*"]));
    }));
    assert!(validator().verify(&ok).is_ok());
    for bad in [
        "leases",
        "leases:",
        ":read",
        "Leases:read",
        "leases:read:extra",
        "leases read",
        "",
    ] {
        let token = hs256(&claims_with(|c| {
            c.insert("permissions".into(), json!(["leases:read", bad]));
        }));
        assert_refused(&token, |e| {
            matches!(e, AuthError::InvalidClaim(Claim::Permissions))
        });
    }
}

#[test]
fn wildcard_permission_in_a_tenant_token_is_refused() {
    for perm in ["*:*", "system:*", "system:tenants", "*:read"] {
        let token = hs256(&claims_with(|c| {
            c.insert("permissions".into(), json!(["leases:read", perm]));
        }));
        assert_refused(&token, |e| matches!(e, AuthError::PlatformPermission));
    }
    // A system token may carry them.
    let system = hs256(&claims_with(|c| {
        c.insert("scope".into(), json!("system"));
        c.insert("role".into(), json!("platform-admin"));
        c.remove("tenant_id");
        c.insert("permissions".into(), json!(["*:*"]));
    }));
    assert!(validator().verify(&system).is_ok());
}

#[test]
fn unknown_header_algorithms_and_headers_that_are_not_objects_are_refused() {
    for header in [
        r#"{"alg":"HS257"}"#,
        r#"{"alg":"ES512"}"#,
        r#"{"alg":"RSA1_5"}"#,
    ] {
        assert_refused(&hs256_with_header(header), |e| {
            matches!(e, AuthError::UnsupportedAlgorithm)
        });
    }
    for header in [r#"["HS256"]"#, r#"{"alg":"HS256""#, r#"{}"#] {
        assert_refused(&hs256_with_header(header), |e| {
            matches!(e, AuthError::Malformed(Malformed::Header))
        });
    }
    // JWE and compressed payloads are not for this crate.
    for header in [
        r#"{"alg":"HS256","enc":"A128GCM"}"#,
        r#"{"alg":"HS256","zip":"DEF"}"#,
    ] {
        assert_refused(&hs256_with_header(header), |e| {
            matches!(e, AuthError::ForbiddenHeader { .. })
        });
    }
}

#[test]
fn errors_never_quote_the_token_or_its_claims() {
    let token = hs256(&claims_with(|c| {
        c.insert("tenant_id".into(), json!("secret-tenant-name"));
    }));
    let message = refusal(&validator(), &token).to_string();
    assert!(!message.contains("secret-tenant-name"), "{message}");
    assert!(!message.contains(&token[..20]), "{message}");
}
