//! Writes the seed inputs each target started from: real-looking tokens and
//! claims, the JWKS documents of tenancy-auth's tests, and hostile cases.
//!
//! Not a check: run it to regenerate seeds, then fuzz and minimise them into
//! `corpus/` as README.md describes.
//!
//! ```text
//! TENANCY_FUZZ_SEEDS=/tmp/seeds cargo test --no-default-features --test seeds -- --ignored
//! ```

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use tenancy_auth::{IssueOptions, Issuer};
use tenancy_core::{ManualWallClock, PermissionSet, RoleName, SubjectId, TenantContext, TenantId};
use tenancy_fuzz::{AUD, ISS, NOW, OTHER_TENANT, SECRET, SUBJECT, TENANT};

const KEYS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../crates/tenancy-auth/tests/keys/"
);
const KID_SECRET: &[u8] = b"fedcba9876543210fedcba9876543210";

fn key_file(name: &str) -> Vec<u8> {
    fs::read(format!("{KEYS}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn sign_raw(header: &str, claims: &str, algorithm: Algorithm, key: &EncodingKey) -> String {
    tenancy_auth::install_default_crypto_provider();
    let input = format!("{}.{}", b64(header), b64(claims));
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), key, algorithm)
        .unwrap_or_else(|e| panic!("{e}"));
    format!("{input}.{signature}")
}

fn hs256(claims: &str) -> String {
    sign_raw(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        claims,
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET),
    )
}

fn claims() -> Value {
    json!({
        "sub": SUBJECT,
        "tenant_id": TENANT,
        "scope": "tenant",
        "role": "member",
        "iat": NOW - 10,
        "exp": NOW + 600,
        "iss": ISS,
        "aud": AUD,
        "jti": "token-1",
    })
}

fn claims_with(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    let mut claims = claims();
    if let Value::Object(map) = &mut claims {
        edit(map);
    }
    claims.to_string()
}

fn clock_at(unix: u64) -> Arc<ManualWallClock> {
    Arc::new(ManualWallClock::at(Duration::from_secs(unix)))
}

fn tenant_ctx(tenant: &str, role: RoleName, permissions: &[&str]) -> TenantContext {
    TenantContext::tenant(
        TenantId::parse(tenant).unwrap_or_else(|e| panic!("{e}")),
        SubjectId::parse(SUBJECT).unwrap_or_else(|e| panic!("{e}")),
        role,
        PermissionSet::parse(permissions).unwrap_or_else(|e| panic!("{e}")),
    )
}

fn ok<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e:?}"))
}

struct Seeds<'a> {
    dir: &'a Path,
}

impl Seeds<'_> {
    fn write(&self, target: &str, name: &str, data: impl AsRef<[u8]>) {
        let dir = self.dir.join(target);
        ok(fs::create_dir_all(&dir));
        ok(fs::write(dir.join(format!("seed-{name}")), data));
    }
}

fn bearer_tokens(s: &Seeds<'_>) {
    let w = |name: &str, data: &str| s.write("bearer_token", name, data);
    let member = tenant_ctx(TENANT, RoleName::member(), &["*:*"]);
    let hs = ok(Issuer::hs256(SECRET, ISS, AUD)).with_clock(clock_at(NOW));
    w(
        "hs256-member",
        &ok(hs.issue(&member, Duration::from_secs(600))),
    );
    let narrowed = tenant_ctx(TENANT, RoleName::member(), &["leases:read", "leases:write"]);
    let options = IssueOptions::new().narrow().jti("t-1").not_before(NOW - 5);
    w(
        "hs256-narrowed-jti-nbf",
        &ok(hs.issue_with(&narrowed, Duration::from_secs(600), &options)),
    );
    let other = tenant_ctx(OTHER_TENANT, RoleName::viewer(), &["*:*"]);
    w(
        "hs256-other-tenant",
        &ok(hs.issue(&other, Duration::from_secs(600))),
    );
    let system = TenantContext::system(
        ok(SubjectId::parse(SUBJECT)),
        RoleName::platform_admin(),
        PermissionSet::all(),
    );
    w(
        "hs256-system",
        &ok(hs.issue(&system, Duration::from_secs(600))),
    );
    let expired = ok(Issuer::hs256(SECRET, ISS, AUD)).with_clock(clock_at(NOW - 7200));
    w(
        "hs256-expired",
        &ok(expired.issue(&member, Duration::from_secs(600))),
    );
    let wrong_aud = ok(Issuer::hs256(SECRET, ISS, "billing-api")).with_clock(clock_at(NOW));
    w(
        "hs256-wrong-audience",
        &ok(wrong_aud.issue(&member, Duration::from_secs(600))),
    );
    let kid = ok(ok(Issuer::new(
        Algorithm::HS256,
        EncodingKey::from_secret(KID_SECRET),
        ISS,
        AUD,
    ))
    .with_kid("hs-2026"))
    .with_clock(clock_at(NOW));
    w(
        "hs256-kid",
        &ok(kid.issue(&member, Duration::from_secs(600))),
    );
    for (name, alg, file, kid) in [
        ("rs256", Algorithm::RS256, "rsa-private.pem", "rsa"),
        ("ps256", Algorithm::PS256, "rsa-private.pem", "rsa"),
        ("es256", Algorithm::ES256, "ec-private.pem", "ec"),
        ("eddsa", Algorithm::EdDSA, "ed-private.pem", "ed"),
    ] {
        let issuer = ok(ok(Issuer::from_pem(alg, &key_file(file), ISS, AUD)).with_kid(kid))
            .with_clock(clock_at(NOW));
        w(name, &ok(issuer.issue(&member, Duration::from_secs(600))));
    }
    // A token signed by the second RSA key, under the first key's kid.
    let rsa2 = ok(ok(Issuer::from_pem(
        Algorithm::RS256,
        &key_file("rsa2-private.pem"),
        ISS,
        AUD,
    ))
    .with_kid("rsa"))
    .with_clock(clock_at(NOW));
    w(
        "rs256-wrong-key",
        &ok(rsa2.issue(&member, Duration::from_secs(600))),
    );

    let body = claims().to_string();
    // Key confusion: the RSA public key used as an HMAC secret.
    w(
        "key-confusion-rsa-public-as-hmac",
        &sign_raw(
            r#"{"alg":"HS256","kid":"rsa"}"#,
            &body,
            Algorithm::HS256,
            &EncodingKey::from_secret(&key_file("rsa-public.pem")),
        ),
    );
    w(
        "alg-none-empty-signature",
        &format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(&body)),
    );
    w(
        "alg-none-signature",
        &format!("{}.{}.AA", b64(r#"{"alg":"nOnE","typ":"JWT"}"#), b64(&body)),
    );
    for (name, header) in [
        (
            "header-jku",
            r#"{"alg":"HS256","jku":"https://evil.example/jwks.json"}"#,
        ),
        (
            "header-jwk",
            r#"{"alg":"EdDSA","jwk":{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}"#,
        ),
        ("header-crit", r#"{"alg":"HS256","crit":["exp"],"exp":1}"#),
        (
            "header-kid-traversal",
            r#"{"alg":"HS256","kid":"../../etc/passwd"}"#,
        ),
        ("header-duplicate-alg", r#"{"alg":"HS256","alg":"none"}"#),
        ("header-typ-jwe", r#"{"alg":"HS256","typ":"JWE"}"#),
        ("header-alg-trailing-space", r#"{"alg":"HS256 "}"#),
        (
            "header-unknown-kid",
            r#"{"alg":"HS256","kid":"retired-2019"}"#,
        ),
    ] {
        w(
            name,
            &sign_raw(
                header,
                &body,
                Algorithm::HS256,
                &EncodingKey::from_secret(SECRET),
            ),
        );
    }
    w(
        "duplicate-tenant-claim",
        &hs256(&format!(
            r#"{{"sub":"{SUBJECT}","tenant_id":"{OTHER_TENANT}","scope":"tenant","role":"member","iat":{},"exp":{},"iss":"{ISS}","aud":"{AUD}","tenant_id":"{TENANT}"}}"#,
            NOW - 10,
            NOW + 600
        )),
    );
    w(
        "tenant-token-platform-permission",
        &hs256(&claims_with(|m| {
            m.insert("permissions".into(), json!(["system:tenants"]));
        })),
    );
    let good = hs256(&body);
    w("padded-segments", &good.replace('.', "==."));
    w("bearer-prefix", &format!("Bearer {good}"));
    w("trailing-newline", &format!("{good}\n"));
    w("four-segments", &format!("{good}.AA"));
    w("two-segments", good.rsplit_once('.').map_or("", |(a, _)| a));
    w("dots-only", "..");
    w("empty", "");
    w(
        "too-large",
        &format!("{}.{}.AA", b64(r#"{"alg":"HS256"}"#), "A".repeat(9000)),
    );
    // ECDSA r = s = 0, the "psychic signature".
    w(
        "es256-zero-signature",
        &format!(
            "{}.{}.{}",
            b64(r#"{"alg":"ES256","kid":"ec"}"#),
            b64(&body),
            b64([0u8; 64])
        ),
    );
    // RFC 7515 A.1 (HS256), A.3 (ES256), A.4 (ES512) and RFC 8037 A.4 (Ed25519).
    w(
        "rfc7515-a1",
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    );
    w(
        "rfc7515-a3",
        "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q",
    );
    w(
        "rfc7515-a4",
        "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA.AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn",
    );
    w(
        "rfc8037-a4",
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
    );
    s.write("bearer_token", "not-utf8", b"eyJ\xff\xfe.\xc0\x80.\x00");
}

fn claim_documents(s: &Seeds<'_>) {
    let w = |name: &str, data: &str| s.write("claims", name, data);
    w("tenant-member", &claims().to_string());
    w(
        "tenant-other",
        &claims_with(|m| {
            m.insert("tenant_id".into(), json!(OTHER_TENANT));
            m.insert("role".into(), json!("viewer"));
        }),
    );
    w(
        "tenant-narrowed",
        &claims_with(|m| {
            m.insert(
                "permissions".into(),
                json!(["leases:read", "leases:*", "audit:read"]),
            );
            m.insert("nbf".into(), json!(NOW - 5));
        }),
    );
    w(
        "tenant-admin-aud-array",
        &claims_with(|m| {
            m.insert("role".into(), json!("admin"));
            m.insert("aud".into(), json!(["billing-api", AUD]));
        }),
    );
    w(
        "system",
        &claims_with(|m| {
            m.remove("tenant_id");
            m.insert("scope".into(), json!("system"));
            m.insert("role".into(), json!("platform-admin"));
            m.insert("permissions".into(), json!(["system:tenants", "*:read"]));
        }),
    );
    w(
        "camel-case-names",
        &format!(
            r#"{{"sub":"{SUBJECT}","tenantId":"{TENANT}","subjectScope":"tenant","roleCode":"member","iat":{},"exp":{},"iss":"{ISS}","aud":"{AUD}"}}"#,
            NOW - 10,
            NOW + 600
        ),
    );
    w(
        "fractional-times",
        &claims_with(|m| {
            m.insert("iat".into(), json!(NOW as f64 - 0.5));
            m.insert("exp".into(), json!(NOW as f64 + 59.9));
        }),
    );
    w(
        "upper-case-tenant",
        &claims_with(|m| {
            m.insert("tenant_id".into(), json!(TENANT.to_uppercase()));
        }),
    );
    // Hostile: what other parsers might read differently.
    let fields = format!(
        r#""sub":"{SUBJECT}","scope":"tenant","role":"member","iat":{},"exp":{},"iss":"{ISS}","aud":"{AUD}""#,
        NOW - 10,
        NOW + 600
    );
    w(
        "duplicate-tenant",
        &format!(r#"{{"tenant_id":"{OTHER_TENANT}",{fields},"tenant_id":"{TENANT}"}}"#),
    );
    w(
        "duplicate-tenant-escaped",
        &format!(r#"{{"tenant_id":"{OTHER_TENANT}",{fields},"tenant\u005fid":"{TENANT}"}}"#),
    );
    w(
        "duplicate-scope",
        &format!(r#"{{"tenant_id":"{TENANT}",{fields},"scope":"system"}}"#),
    );
    w(
        "escaped-values",
        &format!(
            r#"{{"tenant_id":"{}",{fields}}}"#,
            TENANT.replace('-', "\\u002d")
        ),
    );
    w(
        "system-with-null-tenant",
        &claims_with(|m| {
            m.insert("scope".into(), json!("system"));
            m.insert("role".into(), json!("platform-admin"));
            m.insert("tenant_id".into(), Value::Null);
        }),
    );
    w(
        "tenant-without-tenant",
        &claims_with(|m| {
            m.remove("tenant_id");
        }),
    );
    w(
        "tenant-wildcard-permission",
        &claims_with(|m| {
            m.insert("permissions".into(), json!(["*:read"]));
        }),
    );
    w(
        "tenant-platform-permission",
        &claims_with(|m| {
            m.insert("permissions".into(), json!(["system:tenants"]));
        }),
    );
    w(
        "permissions-not-array",
        &claims_with(|m| {
            m.insert("permissions".into(), json!("leases:read"));
        }),
    );
    w(
        "empty-permissions",
        &claims_with(|m| {
            m.insert("permissions".into(), json!([]));
        }),
    );
    w(
        "huge-exp",
        &claims_with(|m| {
            m.insert("exp".into(), json!(1e300));
        }),
    );
    w(
        "negative-iat",
        &claims_with(|m| {
            m.insert("iat".into(), json!(-1));
        }),
    );
    w(
        "string-exp",
        &claims_with(|m| {
            m.insert("exp".into(), json!((NOW + 600).to_string()));
        }),
    );
    w(
        "lifetime-too-long",
        &claims_with(|m| {
            m.insert("exp".into(), json!(NOW + 86_400));
        }),
    );
    w(
        "issued-in-future",
        &claims_with(|m| {
            m.insert("iat".into(), json!(NOW + 3_000));
            m.insert("exp".into(), json!(NOW + 3_600));
        }),
    );
    w(
        "long-jti",
        &claims_with(|m| {
            m.insert("jti".into(), json!("j".repeat(300)));
        }),
    );
    w(
        "unknown-role",
        &claims_with(|m| {
            m.insert("role".into(), json!("platform-admin"));
        }),
    );
    w(
        "aud-array-of-numbers",
        &claims_with(|m| {
            m.insert("aud".into(), json!([1, 2]));
        }),
    );
    // Valid tokens whose unread members hold what serde_json's `Value`
    // refuses: tenancy-auth never decodes them, and rightly accepts.
    w(
        "unread-lone-surrogate",
        &claims_with(|m| {
            m.insert("x".into(), json!("placeholder"));
        })
        .replace("placeholder", "\\uDD00"),
    );
    w(
        "unread-deep-nesting",
        &claims_with(|m| {
            m.insert("x".into(), json!("placeholder"));
        })
        .replace(
            "\"placeholder\"",
            &format!("{}{}", "[".repeat(200), "]".repeat(200)),
        ),
    );
    w(
        "deep-nesting",
        &format!(r#"{{"x":{}{}}}"#, "[".repeat(200), "]".repeat(200)),
    );
    w("trailing-garbage", &format!("{} x", claims()));
    w("bom", &format!("\u{feff}{}", claims()));
    w("not-an-object", r#"["sub","tenant_id"]"#);
    w("empty-object", "{}");
    w("empty", "");
}

const RSA_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const EC_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const EC_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const P521_X: &str =
    "AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk";
const P521_Y: &str =
    "ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2";

fn jwks_documents(s: &Seeds<'_>) {
    let w = |name: &str, data: &str| s.write("jwks", name, data);
    // From tenancy-auth's tests: RFC 7517 A.1 and A.3, RFC 8037, the
    // crypto-provider RSA key, and the refused documents.
    w(
        "rfc7517-a1",
        r#"{"keys":[{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","use":"enc","kid":"1"},
{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}]}"#,
    );
    w(
        "rfc7517-a3",
        r#"{"keys":[{"kty":"oct","alg":"A128KW","k":"GawgguFyGrWKav7AX4VKUg"},{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow","kid":"HMAC key used in JWS spec A.1 example"}]}"#,
    );
    w(
        "rfc7517-a3-pinned",
        r#"{"keys":[{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow","kid":"a1","alg":"HS256"}]}"#,
    );
    w(
        "ed25519",
        &format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"ed-1","x":"{ED_X}"}}]}}"#),
    );
    w(
        "rsa",
        &format!(r#"{{"keys":[{{"kty":"RSA","kid":"r","e":"AQAB","n":"{RSA_N}"}}]}}"#),
    );
    w(
        "rsa-ps256-use-sig",
        &format!(
            r#"{{"keys":[{{"kty":"RSA","kid":"r","use":"sig","alg":"PS256","key_ops":["verify"],"e":"AQAB","n":"{RSA_N}"}}]}}"#
        ),
    );
    w(
        "ec-p256",
        &format!(
            r#"{{"keys":[{{"kty":"EC","crv":"P-256","kid":"ec","x":"{EC_X}","y":"{EC_Y}"}}]}}"#
        ),
    );
    w(
        "mixed",
        &format!(
            r#"{{"keys":[{{"kty":"EC","crv":"P-256","kid":"ec","alg":"ES256","x":"{EC_X}","y":"{EC_Y}"}},{{"kty":"OKP","crv":"Ed25519","kid":"ed","x":"{ED_X}"}},{{"kty":"RSA","kid":"rsa","alg":"RS512","e":"AQAB","n":"{RSA_N}"}},{{"kty":"oct","kid":"hs","alg":"HS384","k":"{}"}}]}}"#,
            b64([7u8; 48])
        ),
    );
    w(
        "repeated-kid",
        &format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"a","x":"{ED_X}"}},{{"kty":"OKP","crv":"Ed25519","kid":"a","x":"{ED_X}"}}]}}"#
        ),
    );
    w(
        "short-rsa",
        r#"{"keys":[{"kty":"RSA","kid":"weak","n":"AQAB","e":"AQAB"}]}"#,
    );
    w(
        "mismatched-alg",
        &format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","alg":"ES256","x":"{ED_X}"}}]}}"#),
    );
    w(
        "ec-alg-mismatch",
        &format!(
            r#"{{"keys":[{{"kty":"EC","crv":"P-256","alg":"ES384","x":"{EC_X}","y":"{EC_Y}"}}]}}"#
        ),
    );
    w(
        "skipped-keys",
        &format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"X25519","x":"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08"}},{{"kty":"OKP","crv":"Ed25519","key_ops":["sign"],"x":"{ED_X}"}},{{"kty":"RSA","alg":"RSA-OAEP","n":"AQAB","e":"AQAB"}},{{"kty":"EC","crv":"P-521","x":"{P521_X}","y":"{P521_Y}"}},{{"kty":"oct","k":"AAAA"}}]}}"#
        ),
    );
    w("not-an-array", r#"{"keys":{}}"#);
    w("array-of-number", r#"{"keys":[1]}"#);
    w("empty-object", "{}");
    w("top-level-array", "[]");
    w(
        "duplicate-keys-member",
        &format!(r#"{{"keys":[],"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{ED_X}"}}]}}"#),
    );
    w(
        "key-ops-not-array",
        &format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","key_ops":"verify","x":"{ED_X}"}}]}}"#),
    );
    w(
        "kid-traversal",
        &format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"../x","x":"{ED_X}"}}]}}"#),
    );
    w(
        "kid-not-string",
        &format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":7,"x":"{ED_X}"}}]}}"#),
    );
    w(
        "rsa-private-members",
        &format!(
            r#"{{"keys":[{{"kty":"RSA","kid":"r","e":"AQAB","n":"{RSA_N}","d":"AQAB","p":"AQAB","q":"AQAB"}}]}}"#
        ),
    );
    w(
        "rsa-large-exponent",
        &format!(
            r#"{{"keys":[{{"kty":"RSA","kid":"r","e":"{}","n":"{RSA_N}"}}]}}"#,
            b64([0xffu8; 64])
        ),
    );
    w(
        "rsa-exponent-one",
        &format!(r#"{{"keys":[{{"kty":"RSA","kid":"r","e":"AQ","n":"{RSA_N}"}}]}}"#),
    );
    w(
        "rsa-modulus-leading-zeros",
        &format!(r#"{{"keys":[{{"kty":"RSA","kid":"r","e":"AQAB","n":"AAAA{RSA_N}"}}]}}"#),
    );
    w(
        "ec-short-coordinate",
        &format!(
            r#"{{"keys":[{{"kty":"EC","crv":"P-256","x":"{}","y":"{EC_Y}"}}]}}"#,
            b64([1u8; 31])
        ),
    );
    w(
        "ec-point-not-on-curve",
        &format!(
            r#"{{"keys":[{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}]}}"#,
            b64([1u8; 32]),
            b64([2u8; 32])
        ),
    );
    w(
        "ed-short",
        r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}"#,
    );
    w(
        "hmac-too-short",
        &format!(
            r#"{{"keys":[{{"kty":"oct","alg":"HS512","k":"{}"}}]}}"#,
            b64([1u8; 32])
        ),
    );
    w(
        "padded-base64",
        &format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{ED_X}="}}]}}"#),
    );
    w(
        "single-jwk",
        &format!(r#"{{"kty":"OKP","crv":"Ed25519","kid":"ed","x":"{ED_X}"}}"#),
    );
    w(
        "single-jwk-enc",
        &format!(r#"{{"kty":"RSA","use":"enc","e":"AQAB","n":"{RSA_N}"}}"#),
    );
    w(
        "deep-nesting",
        &format!(r#"{{"keys":{}{}}}"#, "[".repeat(300), "]".repeat(300)),
    );
    w("empty", "");
}

fn permissions(s: &Seeds<'_>) {
    let w = |name: &str, data: &str| s.write("permission", name, data);
    w("one", "leases:read");
    w("wildcards", "*:*");
    w("resource-wildcard", "*:read");
    w("action-wildcard", "leases:*");
    w("platform", "system:tenants");
    w("all-characters", "a.b-c_d0:x9.y-z_");
    w("admin-role", "*:*\n!system:*");
    w("member-role", "*:read\n*:write\n!audit:*\n!system:*");
    w(
        "deny-then-regrant",
        "*:*\n!leases:*\nleases:read\n!*:read\naudit:read",
    );
    w(
        "catalogue",
        "leases:read\nleases:write\naudit:read\nbilling:export",
    );
    w("crlf-lines", "leases:read\r\nleases:write\r\n");
    w(
        "max-part",
        &format!("{}:{}", "a".repeat(64), "b".repeat(64)),
    );
    w("part-too-long", &format!("{}:read", "a".repeat(65)));
    w("upper-case", "Leases:read");
    w("three-parts", "leases:read:all");
    w("empty-resource", ":read");
    w("empty-action", "leases:");
    w("leading-hyphen", "-leases:read");
    w("leading-underscore", "_leases:read");
    w("partial-wildcard", "lea*:read");
    w("double-wildcard", "**:read");
    w("homoglyph", "le\u{0430}ses:read");
    w("nul", "leases:read\0");
    w("space", "leases: read");
    w("empty-line", "leases:read\n\nleases:write");
    w("only-deny", "!*:*");
    w(
        "many",
        &(0..30)
            .map(|i| format!("r{}:a{}", i % 5, i % 3))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    w("empty", "");
}

fn ids_and_slugs(s: &Seeds<'_>) {
    let w = |name: &str, data: &str| s.write("ids_and_slugs", name, data);
    w("tenant-id", TENANT);
    w("upper-case-id", &OTHER_TENANT.to_uppercase());
    w("nil-id", "00000000-0000-0000-0000-000000000000");
    w("max-id", "ffffffff-ffff-ffff-ffff-ffffffffffff");
    w("id-35", &TENANT[..35]);
    w("id-37", &format!("{TENANT}0"));
    w(
        "id-misplaced-hyphen",
        "6f9619ff8-b86-d011-b42d-00c04fc964ff",
    );
    w("id-braces", &format!("{{{TENANT}}}"));
    w("id-urn", &format!("urn:uuid:{TENANT}"));
    w("id-simple", &TENANT.replace('-', ""));
    w("id-fullwidth-digit", &TENANT.replacen('0', "\u{ff10}", 1));
    w("id-non-hex", "6f9619ff-8b86-d011-b42d-00c04fc964fg");
    w("slug", "acme-corp");
    w("slug-min", "abc");
    w("slug-max", &"a".repeat(63));
    w("slug-too-long", &"a".repeat(64));
    w("slug-reserved", "www");
    w("slug-reserved-system", "system");
    w("slug-double-hyphen", "a--b");
    w("slug-punycode", "xn--acme-9ta");
    w("slug-leading-hyphen", "-acme");
    w("slug-upper", "Acme");
    w("slug-accent", "acm\u{e9}");
    w("slug-dot", "acme.example");
    w("role", "member");
    w("role-platform-admin", "platform-admin");
    w("role-underscore", "_admin");
    w("status", "active");
    w("status-upper", "Suspended");
    w("status-deleted", "deleted");
    w("nul", "acme\0");
    w("empty", "");
    s.write("ids_and_slugs", "not-utf8", b"acme\xff");
}

#[test]
#[ignore = "writes seed files; run with TENANCY_FUZZ_SEEDS=<dir>"]
fn write_seeds() {
    let Ok(dir) = std::env::var("TENANCY_FUZZ_SEEDS") else {
        panic!("set TENANCY_FUZZ_SEEDS to the directory to write seeds into");
    };
    let seeds = Seeds {
        dir: Path::new(&dir),
    };
    bearer_tokens(&seeds);
    claim_documents(&seeds);
    jwks_documents(&seeds);
    permissions(&seeds);
    ids_and_slugs(&seeds);
}
