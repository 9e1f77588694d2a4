//! The native sqlx drivers behind the runtime: one enum per kind of handle
//! (pool, transaction), an arm per backend this build has, and the one
//! place that binds a rendered statement's values.
//!
//! Every other module of the runtime is written once over these enums;
//! [`on_pool!`] and [`on_conn!`] expand a body once per arm, so the body
//! runs against the arm's own driver with its own types.

use std::time::Duration;

use sea_query::{Value, Values};
use sea_query_sqlx::SqlxValues;
use sqlx::AssertSqlSafe;

use super::row::DbRow;
use crate::backend::Backend;
use crate::error::{Error, Result, UnbindableValue};
use crate::query::is_tenant_slot;

/// Runs `$body` with `$p` bound to the pool of whichever backend `$pool`
/// holds.
macro_rules! on_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            #[cfg(feature = "postgres")]
            $crate::runtime::db::DbPool::Postgres($p) => $body,
            #[cfg(feature = "mysql")]
            $crate::runtime::db::DbPool::MySql($p) => $body,
            #[cfg(feature = "sqlite")]
            $crate::runtime::db::DbPool::Sqlite($p) => $body,
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            $crate::runtime::db::DbPool::None(never) => $crate::runtime::db::absurd(never),
        }
    };
}

/// Runs `$body` with `$c` bound to the open transaction of whichever
/// backend `$tx` holds.
macro_rules! on_conn {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            #[cfg(feature = "postgres")]
            $crate::runtime::db::DbTx::Postgres($c) => $body,
            #[cfg(feature = "mysql")]
            $crate::runtime::db::DbTx::MySql($c) => $body,
            #[cfg(feature = "sqlite")]
            $crate::runtime::db::DbTx::Sqlite($c) => $body,
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            $crate::runtime::db::DbTx::None(never) => $crate::runtime::db::absurd(never),
        }
    };
}

pub(crate) use on_conn;

/// The arm of a handle enum when no backend is compiled in: it cannot be
/// reached, as no value of it can be made.
#[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
pub(crate) fn absurd<T>(never: impl std::borrow::Borrow<std::convert::Infallible>) -> T {
    match *never.borrow() {}
}

/// A native sqlx pool of one of the backends this build has: what a
/// [`TenantPool`](crate::TenantPool) or an [`OwnerPool`](crate::OwnerPool)
/// runs on.
///
/// Build one from your own pool (`PgPool::from`, …) to keep your pool
/// options, or with [`DbPool::connect`]. `Clone` is cheap.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum DbPool {
    /// PostgreSQL (feature `postgres`).
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    /// MySQL or MariaDB (feature `mysql`).
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool),
    /// SQLite (feature `sqlite`).
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    /// No backend is compiled in.
    #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
    #[doc(hidden)]
    None(std::convert::Infallible),
}

#[cfg(feature = "postgres")]
impl From<sqlx::PgPool> for DbPool {
    fn from(pool: sqlx::PgPool) -> DbPool {
        DbPool::Postgres(pool)
    }
}

#[cfg(feature = "mysql")]
impl From<sqlx::MySqlPool> for DbPool {
    fn from(pool: sqlx::MySqlPool) -> DbPool {
        DbPool::MySql(pool)
    }
}

#[cfg(feature = "sqlite")]
impl From<sqlx::SqlitePool> for DbPool {
    fn from(pool: sqlx::SqlitePool) -> DbPool {
        DbPool::Sqlite(pool)
    }
}

/// The pool options [`DbPool::connect`] applies, whatever the backend. For
/// anything else, build the driver's own pool and convert it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolSettings {
    /// The most connections the pool opens (default 10).
    pub max_connections: u32,
    /// Connections kept open while idle (default 0).
    pub min_connections: u32,
    /// How long a caller waits for a connection, and how long the first
    /// connection may take, before an error (default 5 s).
    pub acquire_timeout: Duration,
    /// An idle connection is closed after this long (default 10 min).
    pub idle_timeout: Option<Duration>,
    /// A connection is closed after this long whatever it does (default 30 min).
    pub max_lifetime: Option<Duration>,
}

impl Default for PoolSettings {
    fn default() -> PoolSettings {
        PoolSettings {
            max_connections: 10,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
        }
    }
}

impl PoolSettings {
    /// The settings with at most `n` connections.
    #[must_use]
    pub fn max_connections(mut self, n: u32) -> PoolSettings {
        self.max_connections = n;
        self
    }

    /// One connection that lives as long as the pool: what an in-memory
    /// SQLite database needs to live as long as the pool.
    #[cfg(feature = "sqlite")]
    fn single_forever(mut self) -> PoolSettings {
        self.min_connections = 1;
        self.max_connections = 1;
        self.idle_timeout = None;
        self.max_lifetime = None;
        self
    }

    fn options<DB: sqlx::Database>(&self) -> sqlx::pool::PoolOptions<DB> {
        sqlx::pool::PoolOptions::new()
            .max_connections(self.max_connections)
            .min_connections(self.min_connections)
            .acquire_timeout(self.acquire_timeout)
            .idle_timeout(self.idle_timeout)
            .max_lifetime(self.max_lifetime)
    }
}

impl DbPool {
    /// Connects to `url`; the backend comes from its scheme. An in-memory
    /// SQLite URL gets a single, long-lived connection, so the database
    /// lives as long as the pool.
    #[cfg_attr(
        not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
        allow(unused_variables, reason = "no backend to connect to")
    )]
    pub async fn connect(url: &str, settings: &PoolSettings) -> Result<DbPool> {
        let backend = Backend::from_url(url)?;
        match backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres => Ok(DbPool::Postgres(settings.options().connect(url).await?)),
            #[cfg(feature = "mysql")]
            Backend::MySql => Ok(DbPool::MySql(settings.options().connect(url).await?)),
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => {
                let settings = if url.contains(":memory:") {
                    settings.clone().single_forever()
                } else {
                    settings.clone()
                };
                Ok(DbPool::Sqlite(settings.options().connect(url).await?))
            }
            #[allow(
                unreachable_patterns,
                reason = "reachable when a backend is not compiled in"
            )]
            other => Err(Error::UnsupportedBackend {
                scheme: other.as_str().to_owned(),
            }),
        }
    }

    /// The backend of the pool.
    pub fn backend(&self) -> Backend {
        backend_of(self)
    }

    /// Closes every connection of the pool.
    pub async fn close(&self) {
        on_pool!(self, p => p.close().await)
    }

    pub(crate) async fn begin(&self) -> Result<DbTx> {
        Ok(match self {
            #[cfg(feature = "postgres")]
            DbPool::Postgres(p) => DbTx::Postgres(p.begin().await?),
            #[cfg(feature = "mysql")]
            DbPool::MySql(p) => DbTx::MySql(p.begin().await?),
            #[cfg(feature = "sqlite")]
            DbPool::Sqlite(p) => DbTx::Sqlite(p.begin().await?),
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            DbPool::None(never) => crate::runtime::db::absurd(never),
        })
    }

    /// Begins with `statement` in place of `BEGIN` (PostgreSQL's tenant
    /// binding travels with it, in one round trip).
    pub(crate) async fn begin_with(&self, statement: String) -> Result<DbTx> {
        Ok(match self {
            #[cfg(feature = "postgres")]
            DbPool::Postgres(p) => DbTx::Postgres(p.begin_with(AssertSqlSafe(statement)).await?),
            #[cfg(feature = "mysql")]
            DbPool::MySql(p) => DbTx::MySql(p.begin_with(AssertSqlSafe(statement)).await?),
            #[cfg(feature = "sqlite")]
            DbPool::Sqlite(p) => DbTx::Sqlite(p.begin_with(AssertSqlSafe(statement)).await?),
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            DbPool::None(never) => crate::runtime::db::absurd(never),
        })
    }
}

/// SQL text the owner runs directly on the pool, outside a transaction:
/// set-up, DDL and the leak kit's checks, never the request path.
#[cfg_attr(
    not(feature = "testing"),
    allow(dead_code, reason = "used by the leak kit")
)]
impl DbPool {
    pub(crate) async fn execute_text(&self, sql: &str) -> std::result::Result<u64, sqlx::Error> {
        on_pool!(self, p => sqlx::query(text(sql))
            .execute(p)
            .await
            .map(|done| done.rows_affected()))
    }

    /// Runs `sql` with `texts` bound in order, and returns every row.
    pub(crate) async fn fetch_text(
        &self,
        sql: &str,
        texts: &[&str],
    ) -> std::result::Result<Vec<DbRow>, sqlx::Error> {
        on_pool!(self, p => {
            let mut query = sqlx::query(text(sql));
            for t in texts {
                query = query.bind(t.to_string());
            }
            query
                .fetch_all(p)
                .await
                .map(|rows| rows.into_iter().map(DbRow::from).collect())
        })
    }
}

fn backend_of(pool: &DbPool) -> Backend {
    match pool {
        #[cfg(feature = "postgres")]
        DbPool::Postgres(_) => Backend::Postgres,
        #[cfg(feature = "mysql")]
        DbPool::MySql(_) => Backend::MySql,
        #[cfg(feature = "sqlite")]
        DbPool::Sqlite(_) => Backend::Sqlite,
        #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
        DbPool::None(never) => crate::runtime::db::absurd(never),
    }
}

/// An open transaction of one backend.
pub(crate) enum DbTx {
    #[cfg(feature = "postgres")]
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    #[cfg(feature = "mysql")]
    MySql(sqlx::Transaction<'static, sqlx::MySql>),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
    None(std::convert::Infallible),
}

impl DbTx {
    pub(crate) async fn commit(self) -> Result<()> {
        on_conn!(self, t => Ok(t.commit().await?))
    }

    pub(crate) async fn rollback(self) -> Result<()> {
        on_conn!(self, t => Ok(t.rollback().await?))
    }

    /// Runs SQL text with no values (the owner's DDL).
    pub(crate) async fn execute_text(&mut self, sql: &str) -> Result<u64> {
        on_conn!(self, t => Ok(sqlx::query(AssertSqlSafe(sql.to_owned()))
            .execute(&mut **t)
            .await?
            .rows_affected()))
    }
}

/// A statement's values as the drivers receive them.
///
/// Every integer is sent as a 64-bit integer and every float as a double:
/// the drivers cache a prepared statement per SQL text with the parameter
/// types of its first run, so the same text bound once with an `i32` and
/// once with an `i64` would fail on PostgreSQL. One type per kind keeps
/// every run of a text alike; the server casts on assignment. A value that
/// does not fit is refused here, typed, rather than inside a driver. The
/// tenant's slots get `tenant`.
pub(crate) fn arguments(values: &[Value], tenant: Option<&str>) -> Result<SqlxValues> {
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        out.push(match (tenant, v) {
            (Some(tenant), v) if is_tenant_slot(v) => Value::String(Some(tenant.to_owned())),
            (_, v) => normalised(v)?,
        });
    }
    Ok(SqlxValues(Values(out)))
}

fn normalised(v: &Value) -> Result<Value> {
    Ok(match v {
        Value::Bool(b) => Value::Bool(*b),
        Value::TinyInt(n) => Value::BigInt(n.map(i64::from)),
        Value::SmallInt(n) => Value::BigInt(n.map(i64::from)),
        Value::Int(n) => Value::BigInt(n.map(i64::from)),
        Value::BigInt(n) => Value::BigInt(*n),
        Value::TinyUnsigned(n) => Value::BigInt(n.map(i64::from)),
        Value::SmallUnsigned(n) => Value::BigInt(n.map(i64::from)),
        Value::Unsigned(n) => Value::BigInt(n.map(i64::from)),
        Value::BigUnsigned(n) => Value::BigInt(match n {
            None => None,
            Some(n) => Some(
                i64::try_from(*n)
                    .map_err(|_| Error::UnsupportedValue(UnbindableValue::U64AboveI64Max))?,
            ),
        }),
        Value::Float(f) => Value::Double(f.map(f64::from)),
        Value::Double(f) => Value::Double(*f),
        Value::String(s) => Value::String(within_limit(s, String::len)?.clone()),
        Value::Char(c) => Value::String(c.map(String::from)),
        Value::Bytes(b) => Value::Bytes(within_limit(b, Vec::len)?.clone()),
        _ => return Err(Error::UnsupportedValue(UnbindableValue::OtherKind)),
    })
}

/// `value` when its length fits a bound value. The drivers' binder drops a
/// value it cannot encode and binds the next one in its place, so an
/// oversized one must never reach it.
fn within_limit<T>(value: &Option<T>, len: impl Fn(&T) -> usize) -> Result<&Option<T>> {
    match value {
        Some(v) if len(v) > i32::MAX as usize => {
            Err(Error::UnsupportedValue(UnbindableValue::TooLong))
        }
        _ => Ok(value),
    }
}

/// `sql` as the drivers take it: text this crate rendered from a typed
/// statement (or the owner's own), never a caller's string on the request
/// path.
pub(crate) fn text(sql: &str) -> AssertSqlSafe<String> {
    AssertSqlSafe(sql.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_bound_as_one_type_per_kind() {
        assert_eq!(
            normalised(&Value::Int(Some(7))).ok(),
            Some(Value::BigInt(Some(7)))
        );
        assert_eq!(
            normalised(&Value::Float(Some(1.5))).ok(),
            Some(Value::Double(Some(1.5)))
        );
        assert_eq!(
            normalised(&Value::Char(Some('x'))).ok(),
            Some(Value::String(Some("x".to_owned())))
        );
    }

    #[test]
    fn a_value_no_backend_binds_is_refused_not_dropped() {
        assert!(matches!(
            normalised(&Value::BigUnsigned(Some(u64::MAX))),
            Err(Error::UnsupportedValue(UnbindableValue::U64AboveI64Max))
        ));
        let text = Some("short".to_owned());
        assert!(within_limit(&text, String::len).is_ok());
        assert!(matches!(
            within_limit(&text, |_| i32::MAX as usize + 1),
            Err(Error::UnsupportedValue(UnbindableValue::TooLong))
        ));
    }
}
