//! The SQL dialects a statement can be rendered for.

use std::fmt;

use crate::error::{Error, Result};

/// A database backend (dialect and runtime behaviour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// PostgreSQL: `$1` placeholders, Row-Level Security as a second wall.
    Postgres,
    /// MySQL and MariaDB: `?` placeholders, no Row-Level Security.
    MySql,
    /// SQLite: `?` placeholders, no Row-Level Security; the embedded default.
    Sqlite,
}

impl Backend {
    /// The backend a database URL names (`postgres://`, `postgresql://`,
    /// `mysql://`, `mariadb://`, `sqlite:`).
    pub fn from_url(url: &str) -> Result<Backend> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            "mysql" | "mariadb" => Ok(Backend::MySql),
            "sqlite" => Ok(Backend::Sqlite),
            other => Err(Error::UnsupportedBackend(other.to_owned())),
        }
    }

    /// `postgres`, `mysql` or `sqlite`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
            Backend::Sqlite => "sqlite",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_their_backend() {
        assert_eq!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("postgresql://h").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("mysql://root@h/test").unwrap(),
            Backend::MySql
        );
        assert_eq!(
            Backend::from_url("sqlite::memory:").unwrap(),
            Backend::Sqlite
        );
        assert!(Backend::from_url("oracle://x").is_err());
    }
}
