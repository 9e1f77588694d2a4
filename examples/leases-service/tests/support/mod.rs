//! Starts the real service on 127.0.0.1:0 over a fresh database (an SQLite
//! file, or a PostgreSQL database and role of its own), and talks to it over
//! real HTTP with tokens minted independently with `jsonwebtoken`.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test harness: any failure should stop the test"
)]
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use leases_service::{Config, Running, start};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::AnyPool;

pub(crate) const SECRET: &str = "e2e-secret-of-more-than-thirty-two-bytes!";
pub(crate) const ISSUER: &str = "leases-service";

/// Which database a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Db {
    Sqlite,
    Postgres,
}

fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The PostgreSQL URL, or `None` (reported as skipped) when the suite
/// should skip PostgreSQL. Panics when services are required.
pub(crate) fn postgres_url() -> Option<String> {
    service_url("TENANCY_TEST_POSTGRES_URL")
}

/// The URL in `var`, or `None` after saying that the test skips what needs
/// it. Panics when `TENANCY_TEST_REQUIRE_SERVICES=1`.
pub(crate) fn service_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("TENANCY_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!("{var} is not set but TENANCY_TEST_REQUIRE_SERVICES=1")
        }
        _ => {
            skipped(&format!("{var} is not set"));
            None
        }
    }
}

/// Says that the running test skips a part, and why: on stdout, which
/// `cargo test` shows only for a failing test, and as a line appended to
/// the file named by `TENANCY_TEST_SKIP_LOG` when it is set, so a run can
/// list every skip (`.ci/run` does).
pub(crate) fn skipped(reason: &str) {
    use std::io::Write as _;
    println!("skipped: {reason}");
    if let Some(path) = std::env::var_os("TENANCY_TEST_SKIP_LOG") {
        let test = std::thread::current().name().unwrap_or("?").to_owned();
        let line = format!(
            "{} {}::{test}: {reason}\n",
            env!("CARGO_PKG_NAME"),
            env!("CARGO_CRATE_NAME")
        );
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut log| log.write_all(line.as_bytes()))
            .expect("TENANCY_TEST_SKIP_LOG is writable");
    }
}

/// The same URL with another database name.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").unwrap() + 3;
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| i + scheme_end);
    let mut out = format!("{}/{db}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A running service and what it takes to clean up after it.
pub(crate) struct Service {
    pub(crate) running: Option<Running>,
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) db: Db,
    /// A connection that sees every row (the SQLite file, or PostgreSQL as the owner).
    pub(crate) inspect: AnyPool,
    cleanup: Scratch,
}

/// A fresh database (and, on PostgreSQL, application role) for one test.
pub(crate) enum Scratch {
    File(std::path::PathBuf),
    Postgres {
        admin: String,
        database: String,
        role: String,
    },
}

impl Drop for Scratch {
    /// A test that failed half-way still removes its SQLite file.
    fn drop(&mut self) {
        if let Scratch::File(path) = self {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

impl Scratch {
    /// Creates it; returns settings pointing at it, or `None` when the
    /// backend is not configured (the skip is printed).
    pub(crate) async fn create(db: Db) -> Option<(Config, Scratch)> {
        sqlx::any::install_default_drivers();
        let (url, scratch, role) = match db {
            Db::Sqlite => {
                let path = std::env::temp_dir().join(format!("{}.db", unique("leases_e2e")));
                (
                    format!("sqlite://{}?mode=rwc", path.display()),
                    Scratch::File(path),
                    None,
                )
            }
            Db::Postgres => {
                let admin = postgres_url()?;
                let database = unique("leases_e2e");
                let role = unique("leases_app_e2e");
                let pool = AnyPool::connect(&admin)
                    .await
                    .expect("postgres is reachable");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                let url = with_database(&admin, &database);
                (
                    url,
                    Scratch::Postgres {
                        admin,
                        database,
                        role: role.clone(),
                    },
                    Some(role),
                )
            }
        };
        let mut config = Config::new(url);
        config.addr = "127.0.0.1:0".parse().unwrap();
        config.jwt_secret = Some(SECRET.into());
        if let Some(role) = role {
            config.db_app_role = role;
        }
        Some((config, scratch))
    }

    /// The owner's (superuser's) URL of the scratch database, on PostgreSQL.
    pub(crate) fn owner_url(&self) -> Option<String> {
        match self {
            Scratch::File(_) => None,
            Scratch::Postgres {
                admin, database, ..
            } => Some(with_database(admin, database)),
        }
    }

    /// Drops it.
    pub(crate) async fn drop_all(&self) {
        match self {
            Scratch::File(path) => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Scratch::Postgres {
                admin,
                database,
                role,
            } => {
                let pool = AnyPool::connect(admin).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
                )))
                .execute(&pool)
                .await
                .unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP ROLE IF EXISTS {role}")))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
            }
        }
    }
}

impl Service {
    /// Starts the service on `db` with default settings.
    pub(crate) async fn start(db: Db) -> Option<Service> {
        Service::start_with(db, |_| {}).await
    }

    /// Starts the service on `db`, after `tweak` adjusted the settings.
    pub(crate) async fn start_with(db: Db, tweak: impl FnOnce(&mut Config)) -> Option<Service> {
        let (mut config, cleanup) = Scratch::create(db).await?;
        tweak(&mut config);
        Some(Service::on(db, config, cleanup).await)
    }

    /// Starts the service with `config` over the scratch database.
    pub(crate) async fn on(db: Db, config: Config, cleanup: Scratch) -> Service {
        let url = config.database_url.clone();
        let running = start(config).await.expect("the service starts");
        let base = running.base_url();
        let inspect = AnyPool::connect(&url).await.unwrap();
        Service {
            running: Some(running),
            http: reqwest::Client::new(),
            base,
            db,
            inspect,
            cleanup,
        }
    }

    pub(crate) fn running(&self) -> &Running {
        self.running.as_ref().unwrap()
    }

    /// Stops the service and drops its database.
    pub(crate) async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await.unwrap();
        }
        self.inspect.close().await;
        self.cleanup.drop_all().await;
    }

    /// Stops the service but keeps its database, for a restart.
    pub(crate) async fn stop_keeping_data(mut self) -> Scratch {
        if let Some(running) = self.running.take() {
            running.shutdown().await.unwrap();
        }
        self.inspect.close().await;
        self.cleanup
    }

    /// Sends a request; returns the status, the headers and the body as JSON
    /// (`Value::Null` for an empty body). Every body is checked never to
    /// contain a tenant id field.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        Response::read(response).await
    }

    pub(crate) async fn get(&self, path: &str, token: &str) -> Response {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub(crate) async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub(crate) async fn patch(&self, path: &str, token: &str, body: Value) -> Response {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub(crate) async fn delete(&self, path: &str, token: &str) -> Response {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Rows of `table` that belong to `tenant`, seen past the API.
    pub(crate) async fn count_rows(&self, table: &str, tenant: &str) -> i64 {
        use sqlx::Row;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) AS n FROM {table} WHERE tenant_id = $1"
        )))
        .bind(tenant)
        .fetch_one(&self.inspect)
        .await
        .unwrap()
        .try_get::<i64, _>("n")
        .unwrap()
    }

    /// Creates a tenant through the system API; returns its id.
    pub(crate) async fn tenant(&self, slug: &str, plan: &str) -> String {
        let r = self
            .post(
                "/system/tenants",
                &operator(),
                json!({"slug": slug, "name": slug, "plan": plan}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }
}

/// A response, read whole.
pub(crate) struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Value,
    pub(crate) text: String,
}

impl Response {
    async fn read(response: reqwest::Response) -> Response {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        assert!(
            !text.contains("tenant_id"),
            "a response body names a tenant id: {text}"
        );
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        };
        if !status.is_success() && status != StatusCode::METHOD_NOT_ALLOWED {
            assert_eq!(
                headers.get("content-type").map(|v| v.to_str().unwrap()),
                Some("application/problem+json"),
                "an error is not problem+json: {status} {text}"
            );
            assert_eq!(body["status"], status.as_u16(), "{text}");
        }
        Response {
            status,
            headers,
            body,
            text,
        }
    }

    /// The `field`s named in a 400/422 problem.
    pub(crate) fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Signs `claims` with HS256 and `secret`, as any standard library would.
pub(crate) fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// The documented claims for a subject.
pub(crate) fn claims(scope: &str, tenant: Option<&str>, role: &str) -> Value {
    let mut claims = json!({
        "sub": leases_service::clock::new_id().unwrap(),
        "scope": scope,
        "role": role,
        "iat": now(),
        "exp": now() + 600,
        "iss": ISSUER,
        "aud": ISSUER,
    });
    if let Some(tenant) = tenant {
        claims["tenant_id"] = json!(tenant);
    }
    claims
}

/// A token of `role` in `tenant`.
pub(crate) fn token(tenant: &str, role: &str) -> String {
    sign(&claims("tenant", Some(tenant), role), SECRET)
}

/// A token of `role` in `tenant`, narrowed to `permissions`.
pub(crate) fn narrowed(tenant: &str, role: &str, permissions: &[&str]) -> String {
    let mut c = claims("tenant", Some(tenant), role);
    c["permissions"] = json!(permissions);
    sign(&c, SECRET)
}

/// A platform operator's token.
pub(crate) fn operator() -> String {
    sign(&claims("system", None, "platform-admin"), SECRET)
}

/// Runs `scenario` on SQLite, then on PostgreSQL when it is configured.
#[macro_export]
macro_rules! on_every_database {
    ($($name:ident => $scenario:ident;)*) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$scenario($crate::support::Db::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$scenario($crate::support::Db::Postgres).await;
                }
            }
        )*
    };
}
