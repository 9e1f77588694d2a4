//! The reference service of the tenancy SDK: a multi-tenant leases API.
//!
//! Tenants (`acme`, `globex`, …) keep properties and leases; a bearer token
//! says which tenant a request belongs to, and nothing else does. One tenant
//! can never see, change or reference another's data: every statement is
//! bound to the token's tenant, a foreign id is "404 not found", and on
//! PostgreSQL Row-Level Security is forced and verified at start-up.
//!
//! Run it with `cargo run -p leases-service` (add `-- --demo` for two
//! sample tenants, tokens and curl lines). The HTTP contract is in this
//! crate's `README.md`.
//!
//! ```
//! use leases_service::{Config, start};
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let mut config = Config::new("sqlite::memory:");
//! config.addr = "127.0.0.1:0".parse()?;
//! let running = start(config).await?;
//! println!("listening on {}", running.base_url());
//! let demo = running.seed_demo().await?; // two tenants, tokens and curl lines
//! assert!(demo.contains("export ACME_ADMIN_TOKEN="));
//! running.shutdown().await?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Where things are
//!
//! - `http/`: the router, the state handlers share, the service's refusals
//!   as the SDK's problems, pagination and sealed cursors, the per-client
//!   limit of the public route;
//! - `domain/`: properties, leases and each tenant's audit log, each file
//!   its routes, its body types and its statements;
//! - `platform/`: tenants and their plans, decommissioning, redeem codes,
//!   the `--demo` seeding;
//! - `infra/`: the database, settings, tokens, clocks, the audit sink for
//!   the layer's refusals and the job worker.
//!
//! # What this crate does not do
//!
//! - It is an example to copy, not a library to depend on: its API may change
//!   with every release.
//! - It stores tokens nowhere and revokes none by `jti`; a tenant's tokens stop
//!   working when the tenant is suspended or decommissioned.
//! - It does not audit every 429: over-the-limit refusals are recorded at
//!   most once per tenant per second, and refusals are dropped (and counted,
//!   see [`Running::audit_stats`]) when the audit queue is full.
//! - Its rate and concurrency limits (the tenants', and the per-client-address
//!   limit of `POST /auth/redeem`), and the wait for a tenant's requests in
//!   flight before its data is deleted, are per process; several instances
//!   would need a shared limit store and a shared drain.
//! - It does not believe `X-Forwarded-For` unless the peer is one of
//!   `LEASES_TRUSTED_PROXIES`: the client address is the connection's peer.
//!
//! # Features
//!
//! | feature | what it adds |
//! |---------|--------------|
//! | (none)  | SQLite (bundled) and PostgreSQL are both always built in |

pub mod domain;
mod error;
mod http;
mod infra;
mod platform;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tenancy_admission::Admission;
use tenancy_axum::sql::SqlDirectory;
use tenancy_axum::{TenancyLayer, TenantCache, TenantLimits};
use tenancy_core::RoleRegistry;
use tenancy_sql::Backend;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use error::{ConfigProblem, Result, ServiceError};
pub use infra::db::schema;
pub use infra::jobs::JobStats;
pub use infra::sink::SinkStats;
pub use infra::{clock, config::Config};

use crate::http::client_limit::ClientLimit;
use crate::http::cursor::CursorKey;
use crate::http::state::{AppState, Inner};
use crate::infra::db::Db;
use crate::infra::jobs::JobQueue;
use crate::infra::sink::DbAuditSink;
use crate::infra::tokens::Tokens;
use crate::platform::plans::PlanName;

/// How long the tenant cache trusts an entry. This process invalidates an
/// entry on every change it makes; the TTL bounds staleness when several
/// instances share one database.
const TENANT_CACHE_TTL: Duration = Duration::from_secs(5);

/// A running service.
pub struct Running {
    addr: SocketAddr,
    state: AppState,
    audit: Arc<SinkStats>,
    generated_secret: Option<String>,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://addr`, for printing and clients.
    pub fn base_url(&self) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}")
    }

    /// The secret generated at start when none was configured (dev mode).
    pub fn generated_secret(&self) -> Option<&str> {
        self.generated_secret.as_deref()
    }

    /// Which database it runs on.
    pub fn backend(&self) -> Backend {
        self.state.db.backend()
    }

    /// What the job worker did so far.
    pub fn job_stats(&self) -> &JobStats {
        self.state.jobs.stats()
    }

    /// What the audit path for the tenancy layer's refusals did so far.
    pub fn audit_stats(&self) -> &SinkStats {
        &self.audit
    }

    /// Seeds the demo tenants and returns the text to print.
    pub async fn seed_demo(&self) -> Result<String> {
        platform::demo::seed(&self.state, &self.base_url()).await
    }

    /// Serves until the server fails.
    pub async fn wait(self) -> Result<()> {
        self.task.await.map_err(ServiceError::Task)??;
        Ok(())
    }

    /// Stops accepting connections, finishes the ones in flight, and returns.
    pub async fn shutdown(self) -> Result<()> {
        let Running { shutdown, task, .. } = self;
        let _ = shutdown.send(());
        task.await.map_err(ServiceError::Task)??;
        Ok(())
    }
}

/// The service without a socket: its router and what [`Running`] reports.
/// [`start`] serves it; tests may call the router in-process (the SDK's
/// HTTP leak check does). The router's `POST /auth/redeem` limit needs the
/// peer address, which only [`start`] provides.
pub struct App {
    /// Every route, with the tenancy layer in front of the protected ones.
    pub router: axum::Router,
    state: AppState,
    audit: Arc<SinkStats>,
    generated_secret: Option<String>,
}

/// Connects to the database (creating what is missing of the schema and,
/// on PostgreSQL, verifying it) and builds the service, without binding an
/// address.
pub async fn app(config: &Config) -> Result<App> {
    config.validate()?;
    let (secret, generated_secret) = match &config.jwt_secret {
        Some(secret) => (secret.clone(), None),
        None => {
            let secret = clock::random_hex(32)?;
            (secret.clone(), Some(secret))
        }
    };
    let tokens = Tokens::new(secret.as_bytes(), config)?;
    let db = Db::connect(config).await?;
    // The SDK's directory over the `tenants` table (status and plan; the
    // plans themselves are this service's configuration), behind its cache.
    let directory = SqlDirectory::new(db.pool().clone(), PlanName::plans());
    // A table or column the schema lacks stops the start, named.
    directory.check().map_err(ServiceError::Directory)?;
    let tenants = Arc::new(TenantCache::new(
        Arc::new(directory),
        10_000,
        TENANT_CACHE_TTL,
    ));
    // Token, tenant status and plan limits (rate and concurrency): one
    // admission, asked by the tenancy layer for each request and by the
    // worker for each job.
    let limits = Arc::new(TenantLimits::in_memory(100_000));
    let sink = DbAuditSink::new(db.clone());
    let audit = sink.stats();
    let admission = Arc::new(
        Admission::builder()
            .validator(tokens.validator())
            .cache(Arc::clone(&tenants))
            .limits(Arc::clone(&limits))
            .audit(Arc::new(sink))
            .build()?,
    );
    let jobs = JobQueue::start(db.clone(), Arc::clone(&admission), config.job_delay);
    // Scope and permission checks come from the layer's extractors.
    let layer = TenancyLayer::builder()
        .admission(admission)
        .max_body_bytes(http::MAX_BODY_BYTES as u64)
        .build()?;
    let state = AppState::new(Inner {
        db,
        tenants,
        limits,
        tokens,
        roles: RoleRegistry::with_builtins(),
        jobs,
        config: config.clone(),
        cursors: CursorKey::derive(secret.as_bytes()),
        client_limit: ClientLimit::new(config.redeem_limit, config.trusted_proxies.clone()),
    });
    Ok(App {
        router: http::router(state.clone(), layer),
        state,
        audit,
        generated_secret,
    })
}

/// Binds `config.addr`, connects to the database (creating what is missing
/// of the schema and, on PostgreSQL, verifying it) and serves in the
/// background. The address is bound first, so a busy port leaves nothing
/// behind.
pub async fn start(config: Config) -> Result<Running> {
    config.validate()?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| ServiceError::Bind {
            addr: config.addr,
            source,
        })?;
    let addr = listener.local_addr()?;
    let App {
        router,
        state,
        audit,
        generated_secret,
    } = app(&config).await?;
    let (shutdown, stop) = oneshot::channel::<()>();
    // With each connection's peer address, for the per-client limits.
    let app = router.into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stop.await;
            })
            .await
    });
    Ok(Running {
        addr,
        state,
        audit,
        generated_secret,
        shutdown,
        task,
    })
}
