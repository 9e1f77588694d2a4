//! A signing key and the validator that trusts it, for tests.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Map, Value};
use tenancy_core::{RoleRegistry, TenantContext, UnixClock, WallClock};

use crate::error::{AuthError, ConfigError, KeyProblem};
use crate::issuer::{IssueOptions, Issuer};
use crate::key::VerificationKey;
use crate::validator::Validator;

use super::attack::{self, TokenAttack};

/// The private half of the [`TokenKit::es256`] key pair (P-256, PKCS#8).
/// Published with this crate: it signs test tokens and nothing else.
const ES256_PRIVATE: &[u8] = include_bytes!("keys/es256-kit-private.pem");
/// The public half of the [`TokenKit::es256`] key pair (SPKI).
const ES256_PUBLIC: &[u8] = include_bytes!("keys/es256-kit-public.pem");

/// The `kid` of the [`TokenKit::es256`] key.
pub const ES256_KID: &str = "tenancy-testing-es256";
/// The issuer of the [`TokenKit::es256`] kit.
pub const TEST_ISSUER: &str = "https://id.tenancy.test";
/// The audience of the [`TokenKit::es256`] kit.
pub const TEST_AUDIENCE: &str = "tenancy-test";

/// How long a [`TokenKit::token`] is valid.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// The kit's kind of key, with what the attacks need to forge against it.
#[derive(Clone)]
pub(super) enum Keys {
    /// A shared secret.
    Hs256 { secret: Arc<[u8]> },
    /// The built-in ES256 key pair.
    Es256,
}

/// Signs valid tokens for contexts, builds the [`Validator`] that accepts
/// exactly them, and forges the tokens it must refuse
/// ([`attacks`](TokenKit::attacks)).
///
/// Two kinds of kit: [`hs256`](TokenKit::hs256) with a secret, issuer and
/// audience of your choice (the same as your service's validator, so its
/// tokens reach your routes), and [`es256`](TokenKit::es256) with a fixed,
/// published test key pair, against which algorithm-confusion attacks
/// apply; give its [`verification_key`](TokenKit::verification_key) to your
/// service's validator in tests.
///
/// Times come from the kit's clock ([`with_clock`](TokenKit::with_clock);
/// the system clock by default), for tokens, attacks and the validator
/// alike.
///
/// ```
/// use tenancy_auth::testing::TokenKit;
/// use tenancy_core::*;
///
/// let kit = TokenKit::hs256(b"a shared HS256 secret of 32 bytes or more", "https://id.example.com", "leases-api")?;
/// let ctx = TenantContext::tenant(TenantId::from_u128(1), SubjectId::from_u128(2), RoleName::member(), PermissionSet::parse(["leases:read"])?);
/// let token = kit.token(&ctx);
/// assert_eq!(kit.context(&token)?, ctx);
/// for attack in kit.attacks(&ctx) {
///     assert!(kit.validator().verify(attack.token()).is_err(), "{}", attack.name);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TokenKit {
    pub(super) algorithm: Algorithm,
    pub(super) keys: Keys,
    /// Signs with the kit's key: what a forgery with the right key but a
    /// changed header needs.
    pub(super) signing: EncodingKey,
    verification: VerificationKey,
    pub(super) issuer: Issuer,
    iss: String,
    aud: String,
    roles: RoleRegistry,
    clock: Arc<dyn WallClock>,
    pub(super) max_lifetime: Duration,
}

impl std::fmt::Debug for TokenKit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKit")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid())
            .field("issuer", &self.iss)
            .field("audience", &self.aud)
            .finish_non_exhaustive()
    }
}

impl TokenKit {
    /// A kit signing HS256 with `secret` (at least 32 bytes), with `iss` and
    /// `aud` as given and no `kid`.
    pub fn hs256(secret: &[u8], issuer: &str, audience: &str) -> Result<TokenKit, AuthError> {
        let signer = Issuer::hs256(secret, issuer, audience)?;
        let verification = VerificationKey::hs256(secret)?;
        Ok(TokenKit {
            algorithm: Algorithm::HS256,
            keys: Keys::Hs256 {
                secret: Arc::from(secret),
            },
            signing: EncodingKey::from_secret(secret),
            verification,
            issuer: signer,
            iss: issuer.to_owned(),
            aud: audience.to_owned(),
            roles: RoleRegistry::with_builtins(),
            clock: Arc::new(UnixClock),
            max_lifetime: crate::validator::DEFAULT_MAX_LIFETIME,
        })
    }

    /// A kit with a fixed, built-in ES256 key pair (`kid`
    /// [`ES256_KID`]), issuer [`TEST_ISSUER`] and audience
    /// [`TEST_AUDIENCE`]. Infallible: the key is part of this crate, and a
    /// test makes sure it loads.
    ///
    /// The private key is published with this crate; never let a
    /// production validator trust [`verification_key`](Self::verification_key).
    pub fn es256() -> TokenKit {
        TokenKit::try_es256().unwrap_or_else(|_| unreachable!("the built-in test key loads"))
    }

    fn try_es256() -> Result<TokenKit, AuthError> {
        let signer = Issuer::from_pem(Algorithm::ES256, ES256_PRIVATE, TEST_ISSUER, TEST_AUDIENCE)?
            .with_kid(ES256_KID)?;
        let signing = EncodingKey::from_ec_pem(ES256_PRIVATE)
            .map_err(|_| ConfigError::InvalidKey(KeyProblem::NotPrivateKeyPem))?;
        let verification =
            VerificationKey::ec_pem(Algorithm::ES256, ES256_PUBLIC)?.with_kid(ES256_KID)?;
        Ok(TokenKit {
            algorithm: Algorithm::ES256,
            keys: Keys::Es256,
            signing,
            verification,
            issuer: signer,
            iss: TEST_ISSUER.to_owned(),
            aud: TEST_AUDIENCE.to_owned(),
            roles: RoleRegistry::with_builtins(),
            clock: Arc::new(UnixClock),
            max_lifetime: crate::validator::DEFAULT_MAX_LIFETIME,
        })
    }

    /// Uses `roles` (instead of the built-ins) to decide what a token must
    /// say ([`token`](Self::token)), to map verified tokens
    /// ([`context`](Self::context)) and to draw contexts
    /// ([`valid_token`](super::valid_token)).
    pub fn with_roles(mut self, roles: RoleRegistry) -> TokenKit {
        self.roles = roles;
        self
    }

    /// Reads unix time from `clock` (a [`ManualWallClock`](tenancy_core::ManualWallClock)
    /// in deterministic tests) for tokens, attacks and the validator. The
    /// `expired` attack needs a clock at least two hours past the epoch.
    pub fn with_clock(mut self, clock: Arc<dyn WallClock>) -> TokenKit {
        self.issuer = self.issuer.with_clock(Arc::clone(&clock));
        self.clock = clock;
        self
    }

    /// The longest token lifetime the service's validator accepts (its
    /// [`max_lifetime`](crate::ValidatorBuilder::max_lifetime); default 24
    /// hours): the kit's validator uses it and the `lifetime-too-long`
    /// attack goes an hour past it.
    pub fn with_max_lifetime(mut self, max: Duration) -> TokenKit {
        self.max_lifetime = max;
        self
    }

    /// The `iss` of the kit's tokens.
    pub fn issuer(&self) -> &str {
        &self.iss
    }

    /// The `aud` of the kit's tokens.
    pub fn audience(&self) -> &str {
        &self.aud
    }

    /// The algorithm the kit signs with (`HS256` or `ES256`).
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The `kid` in the header of the kit's tokens, if any.
    pub fn kid(&self) -> Option<&str> {
        self.verification.kid()
    }

    /// The roles the kit maps tokens with (the built-ins unless
    /// [`with_roles`](Self::with_roles) said otherwise).
    pub fn roles(&self) -> &RoleRegistry {
        &self.roles
    }

    /// The key (with its `kid`) that verifies the kit's tokens: for a
    /// service's own validator under test.
    pub fn verification_key(&self) -> VerificationKey {
        self.verification.clone()
    }

    /// The unix time on the kit's clock, in seconds.
    pub fn now(&self) -> u64 {
        self.clock.unix_time().as_secs()
    }

    /// A validator that accepts exactly this kit's valid tokens: the kit's
    /// issuer, audience, key and clock, and the default leeway, lifetime
    /// and size limits.
    pub fn validator(&self) -> Validator {
        Validator::builder()
            .issuer(&self.iss)
            .audience(&self.aud)
            .key(None, self.verification.clone())
            .clock(Arc::clone(&self.clock))
            .max_lifetime(self.max_lifetime)
            .build()
            .unwrap_or_else(|_| {
                unreachable!("the kit's configuration was checked when it was made")
            })
    }

    /// A valid token for `ctx`, five minutes ([`TOKEN_LIFETIME`]) from now.
    ///
    /// When `ctx`'s permissions are what its role grants in
    /// [`roles`](Self::roles), the token names the role only. Otherwise it
    /// also lists them in its `permissions` claim, and the verified context
    /// has the ones the role grants (all of them when the role grants
    /// them all). A set no such claim can state (one with exceptions, or a
    /// tenant set with a wildcard resource) is not listed: the token names
    /// the role only and grants, once verified, what the role grants.
    /// [`valid_token`](super::valid_token) draws only contexts that come
    /// back unchanged.
    ///
    /// # Panics
    ///
    /// When `ctx` is a system context acting for a tenant: acting is a
    /// step inside one request, never a token ([`try_token`](Self::try_token)
    /// returns the error instead).
    #[expect(clippy::panic, reason = "a testing kit fails the test that misuses it")]
    pub fn token(&self, ctx: &TenantContext) -> String {
        match self.try_token(ctx) {
            Ok(token) => token,
            Err(e) => panic!("no token for this context: {e}"),
        }
    }

    /// [`token`](Self::token), with the refusal of a system context acting
    /// for a tenant ([`AuthError::ScopeMismatch`]) as an error.
    pub fn try_token(&self, ctx: &TenantContext) -> Result<String, AuthError> {
        let role_grants = self.roles.permissions(ctx.role()).ok();
        if role_grants != Some(ctx.permissions()) {
            let narrowed =
                self.issuer
                    .issue_with(ctx, TOKEN_LIFETIME, &IssueOptions::new().narrow());
            match narrowed {
                Err(AuthError::Config(ConfigError::PermissionsNotExpressible)) => {}
                other => return other,
            }
        }
        self.issuer.issue(ctx, TOKEN_LIFETIME)
    }

    /// Verifies `token` with [`validator`](Self::validator) and maps it to
    /// a context through [`roles`](Self::roles).
    pub fn context(&self, token: &str) -> Result<TenantContext, AuthError> {
        self.validator().verify(token)?.to_context(&self.roles)
    }

    /// One [`TokenAttack`] per attack in the catalogue (see
    /// [`TokenAttack`]), aimed at `ctx`: each is `ctx`'s valid token with
    /// one thing wrong, and [`validator`](Self::validator) refuses every
    /// one with a typed error.
    ///
    /// # Panics
    ///
    /// Like [`token`](Self::token), when `ctx` is a system context acting
    /// for a tenant.
    pub fn attacks(&self, ctx: &TenantContext) -> Vec<TokenAttack> {
        let forge = self.forge(ctx);
        attack::CATALOGUE
            .iter()
            .map(|entry| entry.build(&forge))
            .collect()
    }

    /// The attack at `index` in the catalogue (modulo its length).
    pub(super) fn attack(&self, ctx: &TenantContext, index: usize) -> TokenAttack {
        let forge = self.forge(ctx);
        attack::CATALOGUE[index % attack::CATALOGUE.len()].build(&forge)
    }

    fn forge<'a>(&'a self, ctx: &'a TenantContext) -> attack::Forge<'a> {
        let token = self.token(ctx);
        let claims = claims_of(&token);
        attack::Forge {
            kit: self,
            ctx,
            token,
            claims,
            now: self.now(),
        }
    }
}

/// The claims of a token this kit just issued.
fn claims_of(token: &str) -> Map<String, Value> {
    let payload = token.split('.').nth(1).unwrap_or_default();
    crate::token::b64url(payload.as_bytes())
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .unwrap_or_else(|| unreachable!("the issuer writes a JSON object"))
}

/// The public key of [`TokenKit::es256`], in PEM, as the attacker of an
/// algorithm confusion holds it.
pub(super) fn es256_public_pem() -> &'static [u8] {
    ES256_PUBLIC
}

/// The private key of [`TokenKit::es256`], in PEM.
pub(super) fn es256_private_pem() -> &'static [u8] {
    ES256_PRIVATE
}
