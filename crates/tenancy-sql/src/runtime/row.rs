//! Rows as the native drivers return them, and the traits that decode them
//! into your types whatever the backend.
//!
//! A row is the driver's own (`PgRow`, `MySqlRow`, `SqliteRow`), so every
//! native type the driver decodes (uuid, time or chrono, JSON, numeric)
//! decodes here too. [`FromDbRow`] is the driver-neutral trait a row type
//! implements: every `#[derive(sqlx::FromRow)]` type whose fields decode on
//! each backend of the build has it, and a later driver adds its own row to
//! the same trait.

#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(unused_imports, reason = "used in the arms of the backends")
)]
use crate::error::{Error, Result};

/// Runs `$body` with `$r` bound to the driver's own row.
macro_rules! on_row {
    ($row:expr, $r:ident => $body:expr) => {
        match $row {
            #[cfg(feature = "postgres")]
            $crate::runtime::row::DbRow::Postgres($r) => $body,
            #[cfg(feature = "mysql")]
            $crate::runtime::row::DbRow::MySql($r) => $body,
            #[cfg(feature = "sqlite")]
            $crate::runtime::row::DbRow::Sqlite($r) => $body,
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            $crate::runtime::row::DbRow::None(never) => $crate::runtime::db::absurd(never),
        }
    };
}
pub(crate) use on_row;

/// The per-backend halves of [`FromDbRow`] and [`ColumnValue`]: each is
/// the driver's own trait when the backend is compiled in, and asks
/// nothing otherwise.
pub mod bounds {
    macro_rules! backend_bounds {
        ($feature:literal, $db:ty, $row:ty, $from_row:ident, $decode:ident, $index:ident) => {
            /// sqlx's `FromRow` for this backend's row (nothing when the
            /// backend is not compiled in).
            #[cfg(feature = $feature)]
            pub trait $from_row: for<'r> sqlx::FromRow<'r, $row> {}
            #[cfg(feature = $feature)]
            impl<T: for<'r> sqlx::FromRow<'r, $row>> $from_row for T {}
            /// sqlx's `FromRow` for this backend's row (nothing when the
            /// backend is not compiled in).
            #[cfg(not(feature = $feature))]
            pub trait $from_row {}
            #[cfg(not(feature = $feature))]
            impl<T: ?Sized> $from_row for T {}

            /// sqlx's `Decode` and `Type` for this backend (nothing when the
            /// backend is not compiled in).
            #[cfg(feature = $feature)]
            pub trait $decode: for<'r> sqlx::Decode<'r, $db> + sqlx::Type<$db> {}
            #[cfg(feature = $feature)]
            impl<T: for<'r> sqlx::Decode<'r, $db> + sqlx::Type<$db>> $decode for T {}
            /// sqlx's `Decode` and `Type` for this backend (nothing when the
            /// backend is not compiled in).
            #[cfg(not(feature = $feature))]
            pub trait $decode {}
            #[cfg(not(feature = $feature))]
            impl<T: ?Sized> $decode for T {}

            /// sqlx's `ColumnIndex` for this backend's row (nothing when the
            /// backend is not compiled in).
            #[cfg(feature = $feature)]
            pub trait $index: sqlx::ColumnIndex<$row> {}
            #[cfg(feature = $feature)]
            impl<T: sqlx::ColumnIndex<$row> + ?Sized> $index for T {}
            /// sqlx's `ColumnIndex` for this backend's row (nothing when the
            /// backend is not compiled in).
            #[cfg(not(feature = $feature))]
            pub trait $index {}
            #[cfg(not(feature = $feature))]
            impl<T: ?Sized> $index for T {}
        };
    }

    backend_bounds!(
        "postgres",
        sqlx::Postgres,
        sqlx::postgres::PgRow,
        PgFromRow,
        PgDecode,
        PgIndex
    );
    backend_bounds!(
        "mysql",
        sqlx::MySql,
        sqlx::mysql::MySqlRow,
        MySqlFromRow,
        MySqlDecode,
        MySqlIndex
    );
    backend_bounds!(
        "sqlite",
        sqlx::Sqlite,
        sqlx::sqlite::SqliteRow,
        SqliteFromRow,
        SqliteDecode,
        SqliteIndex
    );
}

/// A type a row decodes into on every backend of the build: in practice any
/// `#[derive(sqlx::FromRow)]` struct whose fields decode on each of them.
pub trait FromDbRow:
    Sized + bounds::PgFromRow + bounds::MySqlFromRow + bounds::SqliteFromRow
{
    /// Decodes `row`.
    fn from_db_row(row: &DbRow) -> Result<Self>;
}

impl<T> FromDbRow for T
where
    T: Sized + bounds::PgFromRow + bounds::MySqlFromRow + bounds::SqliteFromRow,
{
    fn from_db_row(row: &DbRow) -> Result<Self> {
        on_row!(row, r => Ok(<T as sqlx::FromRow<'_, _>>::from_row(r)?))
    }
}

/// A column value that decodes on every backend of the build (`String`,
/// `i64`, `f64`, `bool`, `Vec<u8>`, `Option` of them, and the native types
/// of the features you enable on sqlx).
pub trait ColumnValue: bounds::PgDecode + bounds::MySqlDecode + bounds::SqliteDecode {}
impl<T: bounds::PgDecode + bounds::MySqlDecode + bounds::SqliteDecode> ColumnValue for T {}

/// A column name (`&str`) or position (`usize`) on every backend of the build.
pub trait ColumnIndex: bounds::PgIndex + bounds::MySqlIndex + bounds::SqliteIndex {}
impl<T: bounds::PgIndex + bounds::MySqlIndex + bounds::SqliteIndex + ?Sized> ColumnIndex for T {}

/// A row as its backend's native driver returned it.
#[derive(Debug)]
#[non_exhaustive]
pub enum DbRow {
    /// A PostgreSQL row (feature `postgres`).
    #[cfg(feature = "postgres")]
    Postgres(sqlx::postgres::PgRow),
    /// A MySQL or MariaDB row (feature `mysql`).
    #[cfg(feature = "mysql")]
    MySql(sqlx::mysql::MySqlRow),
    /// A SQLite row (feature `sqlite`).
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::sqlite::SqliteRow),
    /// No backend is compiled in.
    #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
    #[doc(hidden)]
    None(std::convert::Infallible),
}

impl DbRow {
    /// The value of column `index` (a name or a position), decoded as `T`.
    pub fn try_get<T: ColumnValue, I: ColumnIndex>(&self, index: I) -> Result<T> {
        on_row!(self, r => sqlx::Row::try_get::<T, I>(r, index).map_err(Error::from))
    }

    /// Decodes the whole row as `T`.
    pub fn decode<T: FromDbRow>(&self) -> Result<T> {
        T::from_db_row(self)
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        on_row!(self, r => sqlx::Row::len(r))
    }

    /// True when the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The column names, in order.
    pub fn column_names(&self) -> Vec<&str> {
        (0..self.len())
            .filter_map(|i| self.column_name(i))
            .collect()
    }

    /// The name of column `i`, if the row has one.
    pub fn column_name(&self, i: usize) -> Option<&str> {
        on_row!(self, r => sqlx::Row::columns(r).get(i).map(sqlx::Column::name))
    }

    /// Column `i` as text, whatever its type: text as is, integers (signed
    /// of every width, and MySQL's unsigned ones), floats and booleans
    /// printed, bytes as UTF-8 (lossy); `None` for NULL or a value none of
    /// these decoders takes (PostgreSQL `numeric` or `uuid` without sqlx's
    /// features for them: cast such a column to text to read it so).
    pub fn text(&self, i: usize) -> Option<String> {
        fn any<T: ColumnValue>(row: &DbRow, i: usize) -> Option<Option<T>> {
            row.try_get::<Option<T>, usize>(i).ok()
        }
        if let Some(v) = any::<String>(self, i) {
            return v;
        }
        if let Some(v) = any::<i64>(self, i) {
            return v.map(|n| n.to_string());
        }
        if let Some(v) = any::<i32>(self, i) {
            return v.map(|n| n.to_string());
        }
        if let Some(v) = any::<i16>(self, i) {
            return v.map(|n| n.to_string());
        }
        #[cfg(feature = "mysql")]
        if let DbRow::MySql(r) = self
            && let Ok(v) = sqlx::Row::try_get::<Option<u64>, _>(r, i)
        {
            return v.map(|n| n.to_string());
        }
        if let Some(v) = any::<f64>(self, i) {
            return v.map(|n| n.to_string());
        }
        if let Some(v) = any::<f32>(self, i) {
            return v.map(|n| n.to_string());
        }
        if let Some(v) = any::<bool>(self, i) {
            return v.map(|b| b.to_string());
        }
        any::<Vec<u8>>(self, i)
            .flatten()
            .map(|v| String::from_utf8_lossy(&v).into_owned())
    }
}

#[cfg(feature = "postgres")]
impl From<sqlx::postgres::PgRow> for DbRow {
    fn from(row: sqlx::postgres::PgRow) -> DbRow {
        DbRow::Postgres(row)
    }
}

#[cfg(feature = "mysql")]
impl From<sqlx::mysql::MySqlRow> for DbRow {
    fn from(row: sqlx::mysql::MySqlRow) -> DbRow {
        DbRow::MySql(row)
    }
}

#[cfg(feature = "sqlite")]
impl From<sqlx::sqlite::SqliteRow> for DbRow {
    fn from(row: sqlx::sqlite::SqliteRow) -> DbRow {
        DbRow::Sqlite(row)
    }
}
