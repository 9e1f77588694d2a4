//! The scratch database a leak check runs in: created with a unique name,
//! migrated, and dropped at the end.
//!
//! - SQLite: a file in the temporary directory, in write-ahead-log mode,
//!   so code under test may open its own connections to it by URL;
//! - PostgreSQL: a database and an application role of their own; the
//!   tenant pool connects as that role, so Row-Level Security applies as in
//!   production;
//! - MySQL/MariaDB: a database of its own.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::{Backend, DbPool, PoolSettings, Schema, TenantPool, ddl::Ddl};

pub(crate) struct Scratch {
    pub(crate) backend: Backend,
    /// The owner's connections to the scratch database.
    pub(crate) owner: DbPool,
    /// The application's pool.
    pub(crate) pool: TenantPool,
    /// A URL of the scratch database, with the owner's credentials.
    pub(crate) url: String,
    /// The server-level connection that created it, to drop it.
    root: Option<DbPool>,
    name: String,
    /// The SQLite database file, removed at the end.
    file: Option<std::path::PathBuf>,
}

/// The application role of the scratch database `name` (PostgreSQL).
fn role_of(name: &str) -> String {
    format!("{name}_app")
}

/// Drops the scratch database `name` (and on PostgreSQL its role), as far
/// as they exist.
async fn drop_named(root: &DbPool, backend: Backend, name: &str) {
    let drops = match backend {
        Backend::Postgres => vec![
            format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            format!("DROP ROLE IF EXISTS \"{}\"", role_of(name)),
        ],
        _ => vec![format!("DROP DATABASE IF EXISTS `{name}`")],
    };
    for statement in drops {
        // Best effort: a scratch database left behind has a unique name.
        let _ = root.execute_text(&statement).await;
    }
}

fn unique_name() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "tenancy_leak_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// `scheme://user:password@host:port/db?query` with the user (and its
/// password) and the database replaced.
fn with_user_and_db(url: &str, user: Option<(&str, &str)>, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (auth, hostpath) = match rest.rsplit_once('@') {
        Some((auth, hostpath)) => (Some(auth), hostpath),
        None => (None, rest),
    };
    let (host, query) = match hostpath.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (hostpath, None),
    };
    let host = host.split('/').next().unwrap_or(host);
    let auth = match (user, auth) {
        (Some((u, p)), _) => format!("{u}:{p}@"),
        (None, Some(a)) => format!("{a}@"),
        (None, None) => String::new(),
    };
    let query = query.map(|q| format!("?{q}")).unwrap_or_default();
    format!("{scheme}://{auth}{host}/{db}{query}")
}

fn scratch_error(table: &str) -> impl FnOnce(sqlx::Error) -> Error + '_ {
    move |source| Error::Scratch {
        table: table.to_owned(),
        source,
    }
}

async fn migrate(owner: &DbPool, migration: &[String]) -> Result<()> {
    for statement in migration {
        owner
            .execute_text(statement)
            .await
            .map_err(scratch_error("migration"))?;
    }
    Ok(())
}

/// Four connections to the SQLite file `url` in write-ahead-log mode,
/// each waiting up to 10 s for a lock.
#[cfg(feature = "sqlite")]
async fn sqlite_wal(url: &str) -> Result<DbPool> {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
    use std::str::FromStr;
    let options = SqliteConnectOptions::from_str(url)?
        .busy_timeout(std::time::Duration::from_secs(10))
        .journal_mode(SqliteJournalMode::Wal);
    Ok(SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await?
        .into())
}

#[cfg(not(feature = "sqlite"))]
async fn sqlite_wal(_url: &str) -> Result<DbPool> {
    Err(Error::UnsupportedBackend {
        scheme: "sqlite".to_owned(),
    })
}

impl Scratch {
    /// Creates the scratch database on the server `url` names (`None`: SQLite
    /// in memory) and runs `migration` in it.
    pub(crate) async fn create(
        url: Option<&str>,
        schema: &Schema,
        migration: &dyn Fn(Backend) -> Vec<String>,
    ) -> Result<Scratch> {
        let backend = match url {
            Some(url) => Backend::from_url(url)?,
            None => Backend::Sqlite,
        };
        let name = unique_name();
        let url = match (backend, url) {
            (Backend::Postgres | Backend::MySql, Some(url)) => url,
            _ => return Self::sqlite(name, schema, migration).await,
        };
        let root = DbPool::connect(url, &PoolSettings::default().max_connections(1)).await?;
        let create = match backend {
            Backend::Postgres => format!("CREATE DATABASE \"{name}\""),
            _ => format!("CREATE DATABASE `{name}`"),
        };
        root.execute_text(&create).await?;
        let made = Self::server(url, &root, &name, schema, migration, backend).await;
        if made.is_err() {
            // Half made: drop what exists, so a failed set-up leaves nothing.
            drop_named(&root, backend, &name).await;
        }
        made
    }

    async fn sqlite(
        name: String,
        schema: &Schema,
        migration: &dyn Fn(Backend) -> Vec<String>,
    ) -> Result<Scratch> {
        // A file in write-ahead-log mode, so code under test may open its
        // own connections beside the transaction the check gives it: a
        // reader never waits for a writer, and a writer waits (then fails)
        // rather than hanging.
        let file = std::env::temp_dir().join(format!("{name}.db"));
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let owner = sqlite_wal(&url).await?;
        let scratch = Scratch {
            backend: Backend::Sqlite,
            pool: TenantPool::new(owner.clone(), schema.clone()),
            owner,
            url,
            root: None,
            name,
            file: Some(file),
        };
        match migrate(&scratch.owner, &migration(Backend::Sqlite)).await {
            Ok(()) => Ok(scratch),
            Err(e) => {
                scratch.drop_all().await;
                Err(e)
            }
        }
    }

    /// The scratch database on a server: migrated by the owner; on
    /// PostgreSQL the tenant pool connects as an application role of its
    /// own, elsewhere over the owner's connections.
    async fn server(
        url: &str,
        root: &DbPool,
        name: &str,
        schema: &Schema,
        migration: &dyn Fn(Backend) -> Vec<String>,
        backend: Backend,
    ) -> Result<Scratch> {
        let db_url = with_user_and_db(url, None, name);
        let four = PoolSettings::default().max_connections(4);
        let owner = DbPool::connect(&db_url, &four).await?;
        migrate(&owner, &migration(backend)).await?;
        let app = if backend == Backend::Postgres {
            // No owner rights, so RLS applies to it.
            let role = role_of(name);
            let password = format!("{}{}", name, std::process::id());
            let ddl = Ddl::new(schema, Backend::Postgres);
            let mut grants = ddl.app_role(&role, Some(&password), "public");
            grants.push(format!(
                "GRANT CONNECT ON DATABASE \"{name}\" TO \"{role}\""
            ));
            migrate(&owner, &grants).await?;
            DbPool::connect(
                &with_user_and_db(url, Some((&role, &password)), name),
                &four,
            )
            .await?
        } else {
            owner.clone()
        };
        Ok(Scratch {
            backend,
            owner,
            pool: TenantPool::new(app, schema.clone()),
            url: db_url,
            root: Some(root.clone()),
            name: name.to_owned(),
            file: None,
        })
    }

    /// Closes every connection and drops the database (and role).
    pub(crate) async fn drop_all(self) {
        self.pool.close().await;
        self.owner.close().await;
        if let Some(file) = &self.file {
            for suffix in ["", "-wal", "-shm"] {
                let mut path = file.clone().into_os_string();
                path.push(suffix);
                // Best effort, like the server databases.
                let _ = std::fs::remove_file(path);
            }
        }
        let Some(root) = self.root else { return };
        drop_named(&root, self.backend, &self.name).await;
        root.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::with_user_and_db;

    #[test]
    fn urls_keep_host_and_query_and_change_user_and_database() {
        assert_eq!(
            with_user_and_db("postgres://u:p@h:5432/postgres?sslmode=disable", None, "x"),
            "postgres://u:p@h:5432/x?sslmode=disable"
        );
        assert_eq!(
            with_user_and_db("mysql://root@127.0.0.1:3306/test", Some(("app", "pw")), "y"),
            "mysql://app:pw@127.0.0.1:3306/y"
        );
        assert_eq!(
            with_user_and_db("postgres://h", None, "z"),
            "postgres://h/z"
        );
    }
}
