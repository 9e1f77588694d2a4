//! The last check before a statement leaves the crate: no SQL text of its own.
//!
//! Values are always bound, so the rendered SQL holds only what this crate
//! wrote plus identifiers. A `SELECT` (or PostgreSQL's `TABLE x`) this crate
//! did not write can only have come from a raw subquery or custom SQL inside a
//! caller's expression, which would escape the tenant predicate.

use crate::error::{Error, Result};

/// Keyword counts outside quoted identifiers and string literals.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Keywords {
    pub(crate) selects: usize,
    pub(crate) tables: usize,
    pub(crate) semicolons: usize,
}

pub(crate) fn scan(sql: &str) -> Keywords {
    let mut k = Keywords::default();
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'"' | b'`' | b'\'' => {
                // Skip to the closing quote; a doubled quote stays inside.
                i += 1;
                loop {
                    match bytes[i..].iter().position(|&b| b == c) {
                        Some(at) if bytes.get(i + at + 1) == Some(&c) => i += at + 2,
                        Some(at) => {
                            i += at + 1;
                            break;
                        }
                        None => {
                            i = bytes.len();
                            break;
                        }
                    }
                }
            }
            b';' => {
                k.semicolons += 1;
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let word = &sql[start..i];
                if word.eq_ignore_ascii_case("select") {
                    k.selects += 1;
                } else if word.eq_ignore_ascii_case("table") {
                    k.tables += 1;
                }
            }
            _ => i += 1,
        }
    }
    k
}

/// Fails unless `sql` holds exactly the `SELECT`s this crate wrote.
pub(crate) fn check(sql: &str, expected_selects: usize) -> Result<()> {
    let k = scan(sql);
    if k.selects != expected_selects || k.tables != 0 || k.semicolons != 0 {
        return Err(Error::RawSql);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_identifiers_and_literals_do_not_count() {
        let k = scan(r#"SELECT "select", `table`, 'x; select' FROM "t" WHERE a = $1"#);
        assert_eq!(
            k,
            Keywords {
                selects: 1,
                tables: 0,
                semicolons: 0
            }
        );
    }

    #[test]
    fn doubled_and_unterminated_quotes_are_handled() {
        assert_eq!(scan("SELECT 'it''s a select' FROM t").selects, 1);
        assert_eq!(scan(r#"SELECT "a""select" FROM t"#).selects, 1);
        assert_eq!(scan(r#"SELECT "unterminated select"#).selects, 1);
        assert_eq!(scan("SELECT '").selects, 1);
    }

    #[test]
    fn smuggled_subqueries_are_counted() {
        assert!(check("SELECT a FROM t WHERE x IN (SELECT y FROM u)", 1).is_err());
        assert!(check("SELECT a FROM t WHERE x IN (TABLE u)", 1).is_err());
        assert!(check("SELECT a FROM t; DROP TABLE t", 1).is_err());
        assert!(check("SELECT a FROM t WHERE selected = 1", 1).is_ok());
    }
}
