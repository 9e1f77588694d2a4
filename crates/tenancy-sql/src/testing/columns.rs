//! What the scratch database says each table's columns are, so marker
//! values fit them whatever migration created them.

use sqlx::{AnyPool, Row};

use crate::Backend;
use crate::error::{Error, Result};

/// The kind of value a column takes, from its declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A 32- or 64-bit integer.
    Int,
    /// A small integer (`smallint`, `tinyint`): holds no marker.
    SmallInt,
    Bool,
    Float,
    Uuid,
    Date,
    Time,
    Timestamp,
    Json,
    Bytes,
    /// Text, with its length limit if it has one.
    Text(Option<u32>),
}

impl Kind {
    fn from_type(name: &str, max: Option<u32>) -> Kind {
        let t = name.to_ascii_lowercase();
        let has = |s: &str| t.contains(s);
        if has("bool") {
            Kind::Bool
        } else if has("tinyint") || has("smallint") || t == "int2" {
            Kind::SmallInt
        } else if has("int") || t == "serial" || t == "bigserial" {
            Kind::Int
        } else if has("real") || has("floa") || has("doub") || has("numeric") || has("decimal") {
            Kind::Float
        } else if t == "uuid" {
            Kind::Uuid
        } else if has("timestamp") || has("datetime") {
            Kind::Timestamp
        } else if t == "date" {
            Kind::Date
        } else if t.starts_with("time") {
            Kind::Time
        } else if has("json") {
            Kind::Json
        } else if has("bytea") || has("blob") || has("binary") {
            Kind::Bytes
        } else {
            Kind::Text(max.filter(|m| *m > 0))
        }
    }

    /// True when a marker (text or a ten-digit integer) fits.
    pub(crate) fn holds_marker(self) -> bool {
        !matches!(
            self,
            Kind::SmallInt | Kind::Bool | Kind::Float | Kind::Date | Kind::Time | Kind::Timestamp
        ) && !matches!(self, Kind::Text(Some(n)) if n < 12)
    }

    /// True when the column can hold a UUID-shaped id.
    pub(crate) fn holds_uuid(self) -> bool {
        match self {
            Kind::Uuid => true,
            Kind::Text(max) => max.is_none_or(|m| m >= 36),
            _ => false,
        }
    }
}

/// One column of a table in the scratch database.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    /// Filled by the database (generated or identity-always): never seeded.
    pub(crate) generated: bool,
}

/// The columns of `table`, in the database's order.
pub(crate) async fn read(pool: &AnyPool, backend: Backend, table: &str) -> Result<Vec<Column>> {
    let sql = match backend {
        Backend::Postgres => {
            "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT), \
             CAST(COALESCE(character_maximum_length, 0) AS BIGINT), \
             CAST(CASE WHEN is_generated = 'ALWAYS' OR identity_generation = 'ALWAYS' \
             THEN 1 ELSE 0 END AS BIGINT) \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
        }
        Backend::MySql => {
            "SELECT CAST(column_name AS CHAR), CAST(data_type AS CHAR), \
             CAST(COALESCE(character_maximum_length, 0) AS SIGNED), \
             CAST(CASE WHEN extra LIKE '%GENERATED%' THEN 1 ELSE 0 END AS SIGNED) \
             FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position"
        }
        Backend::Sqlite => {
            "SELECT name, type, 0, CASE WHEN hidden <> 0 THEN 1 ELSE 0 END \
             FROM pragma_table_xinfo(?) ORDER BY cid"
        }
    };
    let rows = sqlx::query(sql)
        .bind(table)
        .fetch_all(pool)
        .await
        .map_err(|source| Error::Scratch {
            table: table.to_owned(),
            source,
        })?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let name: String = row.try_get(0)?;
        let declared: String = row.try_get(1)?;
        let max: i64 = row.try_get(2)?;
        let generated: i64 = row.try_get(3)?;
        let (ty, len) = split_length(&declared);
        let max = if max > 0 {
            u32::try_from(max).ok()
        } else {
            len
        };
        out.push(Column {
            name,
            kind: Kind::from_type(ty, max),
            generated: generated != 0,
        });
    }
    Ok(out)
}

/// SQLite keeps the type as written: `VARCHAR(36)` → (`VARCHAR`, 36).
fn split_length(declared: &str) -> (&str, Option<u32>) {
    match declared.split_once('(') {
        Some((ty, rest)) => {
            let n = rest.trim_end_matches(')').split(',').next().unwrap_or("");
            (ty.trim(), n.trim().parse().ok())
        }
        None => (declared.trim(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_of_the_three_dialects_map_to_kinds() {
        for (ty, kind) in [
            ("integer", Kind::Int),
            ("BIGINT", Kind::Int),
            ("int4", Kind::Int),
            ("smallint", Kind::SmallInt),
            ("tinyint", Kind::SmallInt),
            ("boolean", Kind::Bool),
            ("double precision", Kind::Float),
            ("numeric", Kind::Float),
            ("uuid", Kind::Uuid),
            ("timestamp with time zone", Kind::Timestamp),
            ("datetime", Kind::Timestamp),
            ("date", Kind::Date),
            ("time without time zone", Kind::Time),
            ("jsonb", Kind::Json),
            ("bytea", Kind::Bytes),
            ("text", Kind::Text(None)),
        ] {
            assert_eq!(Kind::from_type(ty, None), kind, "{ty}");
        }
        let (ty, len) = split_length("VARCHAR(36)");
        assert_eq!(Kind::from_type(ty, len), Kind::Text(Some(36)));
        assert!(Kind::Text(Some(36)).holds_uuid() && !Kind::Text(Some(20)).holds_uuid());
        assert!(!Kind::Text(Some(8)).holds_marker());
    }
}
