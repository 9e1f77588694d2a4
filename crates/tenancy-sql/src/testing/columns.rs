//! What the scratch database says each table's columns are, so marker
//! values fit them whatever migration created them.

use crate::DbPool;

use super::cell;
use crate::Backend;
use crate::error::{Error, Result};

/// The kind of value a column takes, from its declared type.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// An enumerated type: its first label.
    Enum(String),
    /// A type the kit cannot make values for (arrays, network addresses,
    /// intervals, ranges, …): NULL when the column allows it.
    Other,
}

const TEXT_TYPES: [&str; 14] = [
    "text",
    "char",
    "varchar",
    "character",
    "character varying",
    "nchar",
    "nvarchar",
    "clob",
    "string",
    "tinytext",
    "mediumtext",
    "longtext",
    "citext",
    "name",
];

impl Kind {
    fn from_type(name: &str, max: Option<u32>) -> Kind {
        let t = name.trim().to_ascii_lowercase();
        let words: Vec<&str> = t.split(|c: char| !c.is_ascii_alphanumeric()).collect();
        let word = |w: &str| words.contains(&w);
        if word("bool") || word("boolean") {
            Kind::Bool
        } else if word("tinyint") || word("smallint") || word("int2") || word("smallserial") {
            Kind::SmallInt
        } else if [
            "int",
            "integer",
            "bigint",
            "mediumint",
            "int4",
            "int8",
            "serial",
            "bigserial",
        ]
        .iter()
        .any(|w| word(w))
        {
            Kind::Int
        } else if [
            "real", "float", "float4", "float8", "double", "numeric", "decimal",
        ]
        .iter()
        .any(|w| word(w))
        {
            Kind::Float
        } else if t == "uuid" {
            Kind::Uuid
        } else if word("timestamp") || word("timestamptz") || word("datetime") {
            Kind::Timestamp
        } else if t == "date" {
            Kind::Date
        } else if word("time") || word("timetz") {
            Kind::Time
        } else if word("json") || word("jsonb") {
            Kind::Json
        } else if word("bytea") || word("blob") || word("binary") || word("varbinary") {
            Kind::Bytes
        } else if TEXT_TYPES.contains(&t.as_str()) || t.is_empty() {
            Kind::Text(max.filter(|m| *m > 0))
        } else {
            Kind::Other
        }
    }

    /// True when a marker (text or a ten-digit integer) fits.
    pub(crate) fn holds_marker(&self) -> bool {
        match self {
            Kind::Int | Kind::Uuid | Kind::Json | Kind::Bytes => true,
            Kind::Text(max) => max.is_none_or(|n| n >= 12),
            _ => false,
        }
    }

    /// True when the column can hold a UUID-shaped id.
    pub(crate) fn holds_uuid(&self) -> bool {
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
    pub(crate) nullable: bool,
    /// Computed by the database: never written.
    pub(crate) generated: bool,
    /// An identity the database fills unless told otherwise (PostgreSQL
    /// `GENERATED ALWAYS AS IDENTITY`): written with `OVERRIDING SYSTEM VALUE`.
    pub(crate) identity_always: bool,
}

/// The columns of `table`, in the database's order (none when it does not
/// exist).
pub(crate) async fn read(pool: &DbPool, backend: Backend, table: &str) -> Result<Vec<Column>> {
    let sql = match backend {
        Backend::Postgres => {
            "SELECT CAST(c.column_name AS TEXT), \
             CAST(CASE WHEN c.data_type = 'USER-DEFINED' AND EXISTS \
               (SELECT 1 FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid WHERE t.typname = c.udt_name) \
               THEN 'enum' ELSE c.data_type END AS TEXT), \
             CAST(COALESCE(c.character_maximum_length, 0) AS BIGINT), \
             CAST(CASE WHEN c.is_nullable = 'YES' THEN 1 ELSE 0 END AS BIGINT), \
             CAST(CASE WHEN c.is_generated = 'ALWAYS' THEN 1 ELSE 0 END AS BIGINT), \
             CAST(CASE WHEN c.identity_generation = 'ALWAYS' THEN 1 ELSE 0 END AS BIGINT), \
             CAST((SELECT e.enumlabel FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid \
               WHERE t.typname = c.udt_name ORDER BY e.enumsortorder LIMIT 1) AS TEXT) \
             FROM information_schema.columns c \
             WHERE c.table_schema = current_schema() AND c.table_name = $1 ORDER BY c.ordinal_position"
        }
        Backend::MySql => {
            "SELECT CAST(column_name AS CHAR), CAST(data_type AS CHAR), \
             CAST(COALESCE(character_maximum_length, 0) AS SIGNED), \
             CAST(CASE WHEN is_nullable = 'YES' THEN 1 ELSE 0 END AS SIGNED), \
             CAST(CASE WHEN extra LIKE '%GENERATED%' THEN 1 ELSE 0 END AS SIGNED), \
             CAST(0 AS SIGNED), CAST(column_type AS CHAR) \
             FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position"
        }
        Backend::Sqlite => {
            "SELECT name, type, 0, CASE WHEN \"notnull\" = 0 AND pk = 0 THEN 1 ELSE 0 END, \
             CASE WHEN hidden <> 0 THEN 1 ELSE 0 END, 0, NULL \
             FROM pragma_table_xinfo(?) ORDER BY cid"
        }
    };
    let failed = |source| Error::Scratch {
        table: table.to_owned(),
        source,
    };
    let rows = pool.fetch_text(sql, &[table]).await.map_err(failed)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let text = |i| cell::text(&row, i).unwrap_or_default();
        let int = |i: usize| row.try_get::<i64, usize>(i);
        let declared = text(1);
        let (ty, len) = split_length(&declared);
        let max = match int(2)? {
            n if n > 0 => u32::try_from(n).ok(),
            _ => len,
        };
        let kind = match (ty.to_ascii_lowercase().as_str(), text(6)) {
            ("enum", label) if backend == Backend::MySql => Kind::Enum(first_mysql_label(&label)),
            ("enum", label) => Kind::Enum(label),
            _ => Kind::from_type(ty, max),
        };
        out.push(Column {
            name: text(0),
            kind,
            nullable: int(3)? != 0,
            generated: int(4)? != 0,
            identity_always: int(5)? != 0,
        });
    }
    Ok(out)
}

/// `enum('active','ended')` → `active`.
fn first_mysql_label(column_type: &str) -> String {
    column_type
        .split('\'')
        .nth(1)
        .unwrap_or_default()
        .to_owned()
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
            ("UNSIGNED BIG INT", Kind::Int),
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
            ("character varying", Kind::Text(None)),
            ("longtext", Kind::Text(None)),
            // Substrings of other words are not types.
            ("interval", Kind::Other),
            ("point", Kind::Other),
            ("inet", Kind::Other),
            ("ARRAY", Kind::Other),
        ] {
            assert_eq!(Kind::from_type(ty, None), kind, "{ty}");
        }
        let (ty, len) = split_length("VARCHAR(36)");
        assert_eq!(Kind::from_type(ty, len), Kind::Text(Some(36)));
        assert!(Kind::Text(Some(36)).holds_uuid() && !Kind::Text(Some(20)).holds_uuid());
        assert!(!Kind::Text(Some(8)).holds_marker());
        assert_eq!(first_mysql_label("enum('active','ended')"), "active");
    }
}
