//! Settings, read from the environment.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tenancy_core::RateQuota;

use crate::error::{ConfigProblem, ServiceError};

/// Default listening address.
const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// Default database: an SQLite file in the working directory, created on first run.
const DEFAULT_DATABASE_URL: &str = "sqlite://leases.db?mode=rwc";
/// Default token issuer and audience.
const DEFAULT_ISSUER: &str = "leases-service";
/// Default PostgreSQL role the service acts as (never a superuser).
const DEFAULT_DB_APP_ROLE: &str = "leases_app";
/// The default longest token lifetime (`exp - iat`) accepted: 30 days.
const DEFAULT_MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);
/// The default number of `POST /auth/redeem` attempts a minute per client
/// address.
const DEFAULT_REDEEM_PER_MINUTE: u32 = 10;
/// The shortest HS256 secret accepted (256 bits).
const MIN_SECRET_BYTES: usize = 32;

/// Everything the service needs to start.
#[derive(Clone)]
pub struct Config {
    /// `LEASES_ADDR`: where to listen.
    pub addr: SocketAddr,
    /// `DATABASE_URL`: `sqlite://…` or `postgres://…`. On PostgreSQL this
    /// account owns the schema (it runs the migrations and creates the
    /// application role); requests never run as it.
    pub database_url: String,
    /// `TENANCY_JWT_SECRET`: the HS256 secret; `None` means dev mode (a
    /// fresh secret is generated and printed).
    pub jwt_secret: Option<String>,
    /// `TENANCY_JWT_ISSUER`.
    pub issuer: String,
    /// `TENANCY_JWT_AUDIENCE`.
    pub audience: String,
    /// `LEASES_DB_APP_ROLE`: the PostgreSQL role requests run as. Created
    /// (LOGIN, NOSUPERUSER, NOBYPASSRLS) when missing.
    pub db_app_role: String,
    /// `LEASES_DB_APP_PASSWORD`: that role's password, when the server asks
    /// for one.
    pub db_app_password: Option<String>,
    /// `LEASES_DB_APP_URL`: connect as the application role with this URL
    /// instead of deriving it from `DATABASE_URL`.
    pub db_app_url: Option<String>,
    /// `LEASES_JOB_DELAY_MS`: how long the worker waits before running a job.
    pub job_delay: Duration,
    /// Lifetime of the tokens the service issues itself (redeem, demo).
    pub token_lifetime: Duration,
    /// `TENANCY_JWT_MAX_LIFETIME_SECS`: the longest lifetime (`exp - iat`) a
    /// token may have; longer-lived tokens are refused.
    pub max_token_lifetime: Duration,
    /// `LEASES_REDEEM_PER_MINUTE`: how many `POST /auth/redeem` attempts a
    /// client address may make (at once, then refilled evenly over a
    /// minute); more are refused with 429 and `Retry-After`.
    pub redeem_limit: RateQuota,
    /// `LEASES_TRUSTED_PROXIES`: comma-separated addresses of the reverse
    /// proxies in front of the service. Only from these peers is
    /// `X-Forwarded-For` read to find the client's address; by default
    /// none, and the client is the connection's peer.
    pub trusted_proxies: Vec<IpAddr>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret and the password never reach a log.
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("db_app_role", &self.db_app_role)
            .field("redeem_limit", &self.redeem_limit)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Defaults for everything: SQLite in the working directory, dev mode.
    pub fn new(database_url: impl Into<String>) -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: database_url.into(),
            jwt_secret: None,
            issuer: DEFAULT_ISSUER.into(),
            audience: DEFAULT_ISSUER.into(),
            db_app_role: DEFAULT_DB_APP_ROLE.into(),
            db_app_password: None,
            db_app_url: None,
            job_delay: Duration::ZERO,
            token_lifetime: Duration::from_secs(24 * 3600),
            max_token_lifetime: DEFAULT_MAX_TOKEN_LIFETIME,
            redeem_limit: crate::http::client_limit::per_minute(DEFAULT_REDEEM_PER_MINUTE),
            trusted_proxies: Vec::new(),
        }
    }

    /// Reads the environment variables named on each field.
    pub fn from_env() -> Result<Self, ServiceError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let mut config =
            Config::new(var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()));
        let addr = var("LEASES_ADDR").unwrap_or_else(|| DEFAULT_ADDR.into());
        config.addr = addr.parse().map_err(|_| ServiceError::Config {
            var: "LEASES_ADDR",
            problem: ConfigProblem::NotSocketAddress { value: addr },
        })?;
        config.jwt_secret = var("TENANCY_JWT_SECRET");
        if let Some(issuer) = var("TENANCY_JWT_ISSUER") {
            config.issuer = issuer;
        }
        if let Some(audience) = var("TENANCY_JWT_AUDIENCE") {
            config.audience = audience;
        }
        if let Some(role) = var("LEASES_DB_APP_ROLE") {
            config.db_app_role = role;
        }
        config.db_app_password = var("LEASES_DB_APP_PASSWORD");
        config.db_app_url = var("LEASES_DB_APP_URL");
        if let Some(ms) = var("LEASES_JOB_DELAY_MS") {
            let ms = ms.parse().map_err(|_| ServiceError::Config {
                var: "LEASES_JOB_DELAY_MS",
                problem: ConfigProblem::NotMilliseconds,
            })?;
            config.job_delay = Duration::from_millis(ms);
        }
        if let Some(secs) = var("TENANCY_JWT_MAX_LIFETIME_SECS") {
            let secs = secs.parse().map_err(|_| ServiceError::Config {
                var: "TENANCY_JWT_MAX_LIFETIME_SECS",
                problem: ConfigProblem::NotSeconds,
            })?;
            config.max_token_lifetime = Duration::from_secs(secs);
        }
        if let Some(n) = var("LEASES_REDEEM_PER_MINUTE") {
            let n =
                n.parse::<u32>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| ServiceError::Config {
                        var: "LEASES_REDEEM_PER_MINUTE",
                        problem: ConfigProblem::NotPositiveCount,
                    })?;
            config.redeem_limit = crate::http::client_limit::per_minute(n);
        }
        if let Some(list) = var("LEASES_TRUSTED_PROXIES") {
            config.trusted_proxies = list
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| {
                    p.parse::<IpAddr>().map_err(|_| ServiceError::Config {
                        var: "LEASES_TRUSTED_PROXIES",
                        problem: ConfigProblem::NotIpAddress {
                            value: p.to_owned(),
                        },
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        config.validate()?;
        Ok(config)
    }

    /// Refuses settings the service cannot run safely with.
    pub fn validate(&self) -> Result<(), ServiceError> {
        if let Some(secret) = &self.jwt_secret
            && secret.len() < MIN_SECRET_BYTES
        {
            return Err(ServiceError::Config {
                var: "TENANCY_JWT_SECRET",
                problem: ConfigProblem::TooShort {
                    min_bytes: MIN_SECRET_BYTES,
                },
            });
        }
        if self.max_token_lifetime.is_zero() {
            return Err(ServiceError::Config {
                var: "TENANCY_JWT_MAX_LIFETIME_SECS",
                problem: ConfigProblem::UnderOneSecond,
            });
        }
        let role = &self.db_app_role;
        let valid = role.len() <= 63
            && role.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && role
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(ServiceError::Config {
                var: "LEASES_DB_APP_ROLE",
                problem: ConfigProblem::NotRoleName,
            });
        }
        Ok(())
    }
}
