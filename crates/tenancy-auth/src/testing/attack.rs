//! The attack catalogue: a valid token with one thing wrong, per entry.

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Map, Value, json};
use tenancy_core::{Scope, TenantContext, TenantId};

use crate::crypto;
use crate::error::Claim;
use crate::token::b64url_encode;
use crate::validator::DEFAULT_MAX_TOKEN_BYTES;

use super::kit::{Keys, TokenKit, es256_private_pem, es256_public_pem};

/// One way to get a request past authentication without a valid token for
/// it, as the `Authorization` header an attacker sends.
///
/// [`TokenKit::attacks`] aims one at a context per entry of this catalogue
/// (a valid token for that context with one thing wrong, where a token is
/// involved):
///
/// | name | what is sent |
/// |------|--------------|
/// | `no-header` | no `Authorization` header |
/// | `basic-scheme` | the valid token under the `Basic` scheme |
/// | `empty-bearer` | `Bearer ` with nothing after it |
/// | `alg-none` | `alg: none`, no signature (the trailing dot kept) |
/// | `alg-none-mixed-case` | `alg: None`, the valid token's signature |
/// | `algorithm-confusion` | ES256 kit: HS256 signed with the public key (its PEM) as the secret, under the key's `kid`; HS256 kit: ES256 signed with a key pair the attacker made |
/// | `other-key` | signed by another key of the kit's algorithm |
/// | `tampered-signature` | the signature with one character changed |
/// | `forged-tenant-claim` | `tenant_id` changed to another tenant after signing |
/// | `forged-role-claim` | `role` changed after signing |
/// | `forged-permission-claim` | `permissions` widened after signing |
/// | `forged-scope-claim` | `scope` flipped (tenant to system with `platform-admin`, or back) after signing |
/// | `expired` | `exp` an hour ago |
/// | `not-yet-valid` | `nbf` in an hour |
/// | `issued-in-future` | `iat` in an hour |
/// | `lifetime-too-long` | `exp - iat` an hour over the kit's maximum ([`TokenKit::with_max_lifetime`], default 24 hours) |
/// | `wrong-issuer` | `iss` is the kit's issuer followed by `.attacker.example` |
/// | `wrong-audience` | `aud` is the kit's audience behind `not-` |
/// | `missing-audience` | no `aud` |
/// | `missing-tenant-claim` | `scope: tenant` without `tenant_id` |
/// | `invalid-tenant-claim` | `tenant_id: "acme"` (a slug, not an id) |
/// | `duplicate-tenant-claim` | `tenant_id` twice, another tenant first |
/// | `missing-subject` | no `sub` |
/// | `invalid-subject` | `sub` an email address, not an id |
/// | `platform-permission` | a tenant token asking for `system:tenants` |
/// | `malformed-segments` | two segments (the signature cut off) |
/// | `malformed-base64` | `=` padding after the header segment |
/// | `malformed-json` | a signed payload that is not JSON |
/// | `oversized` | a signed token over the default size limit (8 KiB) |
/// | `unknown-kid` | signed by the kit's key, under a `kid` the validator does not know |
/// | `kid-injection` | `kid: ../../../dev/null` |
/// | `embedded-jwk` | the attacker's key in a `jwk` header, signed with it |
/// | `jku-header` | a `jku` header pointing at the attacker's key set, signed with its key |
///
/// Every attack except those marked otherwise is signed with the kit's own
/// key, so it is refused for the one thing it changes.
///
/// A validator sees only the value of a bearer header; telling `Basic`
/// from `Bearer`, or an absent header from an empty one, is the HTTP
/// layer's job. [`token`](TokenAttack::token) is what a lax HTTP layer
/// would hand the validator anyway, and the kit's validator refuses it
/// too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenAttack {
    /// The attack's name in the catalogue, e.g. `alg-none`.
    pub name: &'static str,
    /// The whole `Authorization` header value; `None` when the header is
    /// absent.
    pub authorization: Option<String>,
}

impl TokenAttack {
    /// The credentials of a `Bearer` header (the scheme compared
    /// case-insensitively); `None` for an absent header or another scheme.
    pub fn bearer(&self) -> Option<&str> {
        let (scheme, credentials) = self.authorization.as_deref()?.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then_some(credentials)
    }

    /// What reaches a validator: the bearer credentials, the whole header
    /// for another scheme, or the empty string for an absent header.
    pub fn token(&self) -> &str {
        match (self.bearer(), self.authorization.as_deref()) {
            (Some(credentials), _) => credentials,
            (None, Some(header)) => header,
            (None, None) => "",
        }
    }
}

/// A context's valid token and its claims, to forge from.
pub(super) struct Forge<'a> {
    pub(super) kit: &'a TokenKit,
    pub(super) ctx: &'a TenantContext,
    pub(super) token: String,
    pub(super) claims: Map<String, Value>,
    pub(super) now: u64,
}

/// One entry of the catalogue.
pub(super) struct Entry {
    name: &'static str,
    /// The `Authorization` header, or `None` for none.
    header: fn(&Forge<'_>) -> Option<String>,
}

impl Entry {
    pub(super) fn build(&self, forge: &Forge<'_>) -> TokenAttack {
        TokenAttack {
            name: self.name,
            authorization: (self.header)(forge),
        }
    }
}

fn bearer(token: String) -> Option<String> {
    Some(format!("Bearer {token}"))
}

fn name(claim: Claim) -> String {
    claim.default_name().to_owned()
}

/// Signs `header.payload` with `algorithm` and `key`, whatever they say.
fn sign_raw(header: &Value, payload: &[u8], algorithm: Algorithm, key: &EncodingKey) -> String {
    let mut token = b64url_encode(header.to_string().as_bytes());
    token.push('.');
    token.push_str(&b64url_encode(payload));
    let signature = crypto::signer(algorithm, key)
        .ok()
        .and_then(|s| s.try_sign(token.as_bytes()).ok())
        .unwrap_or_else(|| unreachable!("the catalogue's keys sign with their algorithms"));
    token.push('.');
    token.push_str(&b64url_encode(&signature));
    token
}

/// A second secret, never the kit's own.
fn other_secret(secret: &[u8]) -> Vec<u8> {
    secret.iter().map(|b| b ^ 0x5a).collect()
}

/// The private key of a P-256 key pair that is not the kit's: the
/// attacker's.
const OTHER_ES256_PRIVATE: &[u8] = include_bytes!("keys/es256-other-private.pem");
/// Its public key, as a JWK's coordinates.
const OTHER_ES256_X: &str = "gIfNp_i8jcwghJKuc4gYzaQSEmF9YfyfGxFgOn2xVp0";
const OTHER_ES256_Y: &str = "lVoIFElG__I8fpw3ccFxFIvmby90Fnqhx0KeqQhsKSI";

fn es256_key(pem: &[u8]) -> EncodingKey {
    EncodingKey::from_ec_pem(pem).unwrap_or_else(|_| unreachable!("the built-in test keys load"))
}

impl Forge<'_> {
    /// The header of the kit's tokens.
    fn header(&self) -> Map<String, Value> {
        let mut header = Map::new();
        header.insert("alg".into(), algorithm_name(self.kit.algorithm).into());
        header.insert("typ".into(), "JWT".into());
        if let Some(kid) = self.kit.kid() {
            header.insert("kid".into(), kid.into());
        }
        header
    }

    fn segments(&self) -> (&str, &str, &str) {
        let mut parts = self.token.splitn(3, '.');
        let header = parts.next().unwrap_or_default();
        let payload = parts.next().unwrap_or_default();
        let signature = parts.next().unwrap_or_default();
        (header, payload, signature)
    }

    /// The claims, edited.
    fn claims_with(&self, edit: impl FnOnce(&mut Map<String, Value>)) -> Map<String, Value> {
        let mut claims = self.claims.clone();
        edit(&mut claims);
        claims
    }

    /// Claims signed properly with the kit's key.
    fn signed(&self, claims: Map<String, Value>) -> String {
        self.kit
            .issuer
            .sign(&Value::Object(claims))
            .unwrap_or_else(|_| unreachable!("the kit's key signs"))
    }

    /// Claims edited after signing: the valid token's header and signature
    /// around them.
    fn tampered(&self, claims: Map<String, Value>) -> String {
        let (header, _, signature) = self.segments();
        let payload = b64url_encode(Value::Object(claims).to_string().as_bytes());
        format!("{header}.{payload}.{signature}")
    }

    /// The kit's key of another owner: the same algorithm, another key.
    fn other_key(&self) -> EncodingKey {
        match &self.kit.keys {
            Keys::Hs256 { secret } => EncodingKey::from_secret(&other_secret(secret)),
            Keys::Es256 => es256_key(OTHER_ES256_PRIVATE),
        }
    }

    /// The attacker's public key as a JWK.
    fn other_jwk(&self) -> Value {
        match &self.kit.keys {
            Keys::Hs256 { secret } => {
                json!({"kty": "oct", "k": b64url_encode(&other_secret(secret))})
            }
            Keys::Es256 => {
                json!({"kty": "EC", "crv": "P-256", "x": OTHER_ES256_X, "y": OTHER_ES256_Y})
            }
        }
    }

    /// Signed by the attacker's key under the kit's header plus `extra`.
    fn signed_by_other(&self, extra: Map<String, Value>) -> String {
        let mut header = self.header();
        header.extend(extra);
        let payload = Value::Object(self.claims.clone()).to_string();
        sign_raw(
            &Value::Object(header),
            payload.as_bytes(),
            self.kit.algorithm,
            &self.other_key(),
        )
    }

    /// Signed by the kit's key under the kit's header edited by `edit`.
    fn with_header(&self, edit: impl FnOnce(&mut Map<String, Value>)) -> String {
        let mut header = self.header();
        edit(&mut header);
        let payload = Value::Object(self.claims.clone()).to_string();
        sign_raw(
            &Value::Object(header),
            payload.as_bytes(),
            self.kit.algorithm,
            &self.kit.signing,
        )
    }

    /// A tenant that is not the context's.
    fn other_tenant(&self) -> TenantId {
        match self.ctx.tenant_id() {
            Some(own) => TenantId::from_u128(own.as_u128() ^ 1),
            None => TenantId::from_u128(0x6f96_19ff_8b86_4011_b42d_00c0_4fc9_64ff),
        }
    }

    /// The first of `candidates` that differs from the claim's value now.
    fn changed(&self, claim: Claim, candidates: &[Value]) -> Value {
        let now = self.claims.get(claim.default_name());
        candidates
            .iter()
            .find(|c| Some(*c) != now)
            .or(candidates.first())
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// The claims with `iat`, `exp` and `nbf` as given.
    fn timed(&self, iat: u64, exp: u64, nbf: Option<u64>) -> Map<String, Value> {
        self.claims_with(|c| {
            c.insert(name(Claim::IssuedAt), iat.into());
            c.insert(name(Claim::ExpiresAt), exp.into());
            match nbf {
                Some(nbf) => c.insert(name(Claim::NotBefore), nbf.into()),
                None => c.remove(Claim::NotBefore.default_name()),
            };
        })
    }
}

fn algorithm_name(algorithm: Algorithm) -> &'static str {
    crate::token::algorithm_name(algorithm).unwrap_or("HS256")
}

const HOUR: u64 = 60 * 60;

/// The catalogue, in the order of the table on [`TokenAttack`].
pub(super) const CATALOGUE: &[Entry] = &[
    Entry {
        name: "no-header",
        header: |_| None,
    },
    Entry {
        name: "basic-scheme",
        header: |f| Some(format!("Basic {}", f.token)),
    },
    Entry {
        name: "empty-bearer",
        header: |_| bearer(String::new()),
    },
    Entry {
        name: "alg-none",
        header: |f| {
            let (_, payload, _) = f.segments();
            let header = b64url_encode(br#"{"alg":"none","typ":"JWT"}"#);
            bearer(format!("{header}.{payload}."))
        },
    },
    Entry {
        name: "alg-none-mixed-case",
        header: |f| {
            let (_, payload, signature) = f.segments();
            let header = b64url_encode(br#"{"alg":"None","typ":"JWT"}"#);
            bearer(format!("{header}.{payload}.{signature}"))
        },
    },
    Entry {
        name: "algorithm-confusion",
        header: |f| {
            let payload = Value::Object(f.claims.clone()).to_string();
            let mut header = f.header();
            let (algorithm, key) = match f.kit.keys {
                // The public key is public: whoever holds it signs HMAC with it.
                Keys::Es256 => (
                    Algorithm::HS256,
                    EncodingKey::from_secret(es256_public_pem()),
                ),
                // An asymmetric token against a shared secret.
                Keys::Hs256 { .. } => (Algorithm::ES256, es256_key(es256_private_pem())),
            };
            header.insert("alg".into(), algorithm_name(algorithm).into());
            bearer(sign_raw(
                &Value::Object(header),
                payload.as_bytes(),
                algorithm,
                &key,
            ))
        },
    },
    Entry {
        name: "other-key",
        header: |f| bearer(f.signed_by_other(Map::new())),
    },
    Entry {
        name: "tampered-signature",
        header: |f| {
            let (header, payload, signature) = f.segments();
            let mut signature = signature.to_owned();
            let first = if signature.starts_with('A') { "B" } else { "A" };
            signature.replace_range(..1, first);
            bearer(format!("{header}.{payload}.{signature}"))
        },
    },
    Entry {
        name: "forged-tenant-claim",
        header: |f| {
            let tenant = f.other_tenant().to_string();
            bearer(f.tampered(f.claims_with(|c| {
                c.insert(name(Claim::TenantId), tenant.into());
            })))
        },
    },
    Entry {
        name: "forged-role-claim",
        header: |f| {
            let role = f.changed(Claim::Role, &[json!("admin"), json!("owner")]);
            bearer(f.tampered(f.claims_with(|c| {
                c.insert(name(Claim::Role), role);
            })))
        },
    },
    Entry {
        name: "forged-permission-claim",
        header: |f| {
            let wider = match f.ctx.scope() {
                Scope::Tenant => [json!(["audit:*", "users:*"]), json!(["billing:*"])],
                Scope::System => [json!(["*:*"]), json!(["system:*"])],
            };
            let permissions = f.changed(Claim::Permissions, &wider);
            bearer(f.tampered(f.claims_with(|c| {
                c.insert(name(Claim::Permissions), permissions);
            })))
        },
    },
    Entry {
        name: "forged-scope-claim",
        header: |f| {
            let tenant = f.other_tenant().to_string();
            let system = f.ctx.scope() == Scope::System;
            bearer(f.tampered(f.claims_with(|c| {
                c.remove(Claim::Permissions.default_name());
                if system {
                    c.insert(name(Claim::Scope), "tenant".into());
                    c.insert(name(Claim::TenantId), tenant.into());
                    c.insert(name(Claim::Role), "admin".into());
                } else {
                    c.insert(name(Claim::Scope), "system".into());
                    c.remove(Claim::TenantId.default_name());
                    c.insert(name(Claim::Role), "platform-admin".into());
                }
            })))
        },
    },
    Entry {
        name: "expired",
        header: |f| {
            let (iat, exp) = (f.now.saturating_sub(2 * HOUR), f.now.saturating_sub(HOUR));
            bearer(f.signed(f.timed(iat, exp, None)))
        },
    },
    Entry {
        name: "not-yet-valid",
        header: |f| bearer(f.signed(f.timed(f.now, f.now + 2 * HOUR, Some(f.now + HOUR)))),
    },
    Entry {
        name: "issued-in-future",
        header: |f| bearer(f.signed(f.timed(f.now + HOUR, f.now + HOUR + 300, None))),
    },
    Entry {
        name: "lifetime-too-long",
        header: |f| {
            let max = f.kit.max_lifetime.as_secs();
            bearer(f.signed(f.timed(f.now, f.now + max + HOUR, None)))
        },
    },
    Entry {
        name: "wrong-issuer",
        header: |f| {
            let iss = format!("{}.attacker.example", f.kit.issuer());
            bearer(f.signed(f.claims_with(|c| {
                c.insert(name(Claim::Issuer), iss.into());
            })))
        },
    },
    Entry {
        name: "wrong-audience",
        header: |f| {
            let aud = format!("not-{}", f.kit.audience());
            bearer(f.signed(f.claims_with(|c| {
                c.insert(name(Claim::Audience), aud.into());
            })))
        },
    },
    Entry {
        name: "missing-audience",
        header: |f| {
            bearer(f.signed(f.claims_with(|c| {
                c.remove(Claim::Audience.default_name());
            })))
        },
    },
    Entry {
        name: "missing-tenant-claim",
        header: |f| {
            bearer(f.signed(f.claims_with(|c| {
                c.insert(name(Claim::Scope), "tenant".into());
                c.remove(Claim::TenantId.default_name());
            })))
        },
    },
    Entry {
        name: "invalid-tenant-claim",
        header: |f| {
            bearer(f.signed(f.claims_with(|c| {
                c.insert(name(Claim::Scope), "tenant".into());
                c.insert(name(Claim::TenantId), "acme".into());
            })))
        },
    },
    Entry {
        name: "duplicate-tenant-claim",
        header: |f| {
            let own = f.ctx.tenant_id().unwrap_or_else(|| f.other_tenant());
            let claims = f.claims_with(|c| {
                c.insert(name(Claim::TenantId), own.to_string().into());
            });
            let text = Value::Object(claims).to_string();
            // Another tenant first: a parser keeping the first member reads it.
            let other = json!(f.other_tenant().to_string());
            let text = format!(
                "{{{}:{other},{}",
                json!(Claim::TenantId.default_name()),
                text.strip_prefix('{').unwrap_or(&text)
            );
            bearer(sign_raw(
                &Value::Object(f.header()),
                text.as_bytes(),
                f.kit.algorithm,
                &f.kit.signing,
            ))
        },
    },
    Entry {
        name: "missing-subject",
        header: |f| {
            bearer(f.signed(f.claims_with(|c| {
                c.remove(Claim::Subject.default_name());
            })))
        },
    },
    Entry {
        name: "invalid-subject",
        header: |f| {
            bearer(f.signed(f.claims_with(|c| {
                c.insert(name(Claim::Subject), "alice@example.com".into());
            })))
        },
    },
    Entry {
        name: "platform-permission",
        header: |f| {
            let tenant = f.ctx.tenant_id().unwrap_or_else(|| f.other_tenant());
            bearer(f.signed(f.claims_with(|c| {
                c.insert(name(Claim::Scope), "tenant".into());
                c.insert(name(Claim::TenantId), tenant.to_string().into());
                c.insert(name(Claim::Role), "admin".into());
                c.insert(name(Claim::Permissions), json!(["system:tenants"]));
            })))
        },
    },
    Entry {
        name: "malformed-segments",
        header: |f| {
            let (header, payload, _) = f.segments();
            bearer(format!("{header}.{payload}"))
        },
    },
    Entry {
        name: "malformed-base64",
        header: |f| {
            let (header, payload, signature) = f.segments();
            bearer(format!("{header}=.{payload}.{signature}"))
        },
    },
    Entry {
        name: "malformed-json",
        header: |f| {
            bearer(sign_raw(
                &Value::Object(f.header()),
                b"not json",
                f.kit.algorithm,
                &f.kit.signing,
            ))
        },
    },
    Entry {
        name: "oversized",
        header: |f| {
            let padding = "x".repeat(DEFAULT_MAX_TOKEN_BYTES);
            bearer(f.signed(f.claims_with(|c| {
                c.insert("padding".into(), padding.into());
            })))
        },
    },
    Entry {
        name: "unknown-kid",
        header: |f| {
            let kid = match f.kit.kid() {
                Some("tenancy-testing-unknown") => "tenancy-testing-unknown-2",
                _ => "tenancy-testing-unknown",
            };
            bearer(f.with_header(|h| {
                h.insert("kid".into(), kid.into());
            }))
        },
    },
    Entry {
        name: "kid-injection",
        header: |f| {
            bearer(f.with_header(|h| {
                h.insert("kid".into(), "../../../dev/null".into());
            }))
        },
    },
    Entry {
        name: "embedded-jwk",
        header: |f| {
            let mut extra = Map::new();
            extra.insert("jwk".into(), f.other_jwk());
            bearer(f.signed_by_other(extra))
        },
    },
    Entry {
        name: "jku-header",
        header: |f| {
            let mut extra = Map::new();
            extra.insert(
                "jku".into(),
                "https://attacker.example/.well-known/jwks.json".into(),
            );
            bearer(f.signed_by_other(extra))
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn attack(authorization: Option<&str>) -> TokenAttack {
        TokenAttack {
            name: "test",
            authorization: authorization.map(str::to_owned),
        }
    }

    #[test]
    fn the_validator_is_handed_bearer_credentials_or_the_whole_header() {
        assert_eq!(attack(None).token(), "");
        assert_eq!(attack(None).bearer(), None);
        assert_eq!(attack(Some("Bearer a.b.c")).token(), "a.b.c");
        assert_eq!(attack(Some("bearer a.b.c")).bearer(), Some("a.b.c"));
        assert_eq!(attack(Some("Bearer ")).bearer(), Some(""));
        assert_eq!(attack(Some("Basic dXNlcg==")).bearer(), None);
        assert_eq!(attack(Some("Basic dXNlcg==")).token(), "Basic dXNlcg==");
        assert_eq!(attack(Some("Bearer")).token(), "Bearer");
    }

    #[test]
    fn catalogue_names_are_distinct() {
        for (i, entry) in CATALOGUE.iter().enumerate() {
            assert!(
                CATALOGUE[..i].iter().all(|e| e.name != entry.name),
                "{}",
                entry.name
            );
        }
    }
}
