//! The last check before a statement leaves the crate: no SQL text of its own.
//!
//! Values are always bound, so the rendered SQL holds only what this crate
//! wrote plus identifiers. A `SELECT` (or PostgreSQL's `TABLE x`) this crate
//! did not write can only have come from a raw subquery or custom SQL inside a
//! caller's expression, which would escape the tenant predicate.

use std::cell::RefCell;

use crate::error::{Error, Result};

/// Keyword counts outside quoted identifiers and string literals.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Keywords {
    pub(crate) selects: usize,
    pub(crate) tables: usize,
    pub(crate) semicolons: usize,
}

/// What a byte can start, for [`scan`].
const OTHER: u8 = 0;
const WORD_START: u8 = 1;
const DIGIT: u8 = 2;
const QUOTE: u8 = 3;
const SEMICOLON: u8 = 4;

const CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = if c.is_ascii_alphabetic() || c == b'_' {
            WORD_START
        } else if c.is_ascii_digit() {
            DIGIT
        } else if c == b'"' || c == b'`' || c == b'\'' {
            QUOTE
        } else if c == b';' {
            SEMICOLON
        } else {
            OTHER
        };
        i += 1;
    }
    t
};

pub(crate) fn scan(sql: &str) -> Keywords {
    let mut k = Keywords::default();
    let bytes = sql.as_bytes();
    let n = bytes.len();
    let mut i = 0;
    while i < n {
        let c = bytes[i];
        match CLASS[usize::from(c)] {
            WORD_START => {
                // A word runs on through letters, digits and underscores.
                let start = i;
                i += 1;
                while i < n && matches!(CLASS[usize::from(bytes[i])], WORD_START | DIGIT) {
                    i += 1;
                }
                let word = &bytes[start..i];
                if word.len() == 6 && word.eq_ignore_ascii_case(b"select") {
                    k.selects += 1;
                } else if word.len() == 5 && word.eq_ignore_ascii_case(b"table") {
                    k.tables += 1;
                }
            }
            QUOTE => {
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
                            i = n;
                            break;
                        }
                    }
                }
            }
            SEMICOLON => {
                k.semicolons += 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    k
}

/// How many accepted texts each thread remembers.
const REMEMBERED: usize = 32;

/// Longer texts (bulk inserts, mostly) are checked every time, which keeps
/// what a thread remembers under 128 KiB.
const REMEMBERED_LEN: usize = 4096;

/// Accepted texts with their `SELECT` counts, and the next slot to reuse.
type Accepted = (Vec<(Box<str>, usize)>, usize);

thread_local! {
    /// Texts this thread already accepted, with their expected `SELECT`
    /// count, and the next slot to overwrite. A service renders the same few
    /// statement shapes over and over (values are bound, so the text of a
    /// shape never changes); an identical text gets the identical verdict
    /// without being scanned again.
    static ACCEPTED: RefCell<Accepted> =
        const { RefCell::new((Vec::new(), 0)) };
}

/// Fails unless `sql` holds exactly the `SELECT`s this crate wrote, and no
/// NUL byte (the tenant sentinel must never reach the text).
pub(crate) fn check(sql: &str, expected_selects: usize) -> Result<()> {
    let known = ACCEPTED.with_borrow(|(texts, _)| {
        texts
            .iter()
            .any(|(t, n)| *n == expected_selects && **t == *sql)
    });
    if known {
        return Ok(());
    }
    verify(sql, expected_selects)?;
    if sql.len() > REMEMBERED_LEN {
        return Ok(());
    }
    ACCEPTED.with_borrow_mut(|(texts, next)| {
        let entry = (Box::from(sql), expected_selects);
        if texts.len() < REMEMBERED {
            texts.push(entry);
        } else if let Some(slot) = texts.get_mut(*next) {
            *slot = entry;
        }
        *next = (*next + 1) % REMEMBERED;
    });
    Ok(())
}

/// The verdict itself, computed from the text alone.
fn verify(sql: &str, expected_selects: usize) -> Result<()> {
    if sql.as_bytes().contains(&0) {
        return Err(Error::Build(
            "the tenant was rendered into the sql text".into(),
        ));
    }
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

    /// The first, byte-by-byte version of [`scan`], kept as the reference.
    fn reference_scan(sql: &str) -> Keywords {
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
                    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_')
                    {
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

    #[test]
    fn the_scan_agrees_with_the_reference_on_every_small_text() {
        let tokens = [
            "SELECT", "select", "sElEcTx", "TABLE", "1table", " ", "\"", "\"\"", "'", "`", ";",
            "(", "a", "_", "1", "é",
        ];
        let mut stack = vec![(String::new(), 0)];
        let mut seen = 0;
        while let Some((text, depth)) = stack.pop() {
            assert_eq!(scan(&text), reference_scan(&text), "{text:?}");
            seen += 1;
            if depth < 4 {
                for t in tokens {
                    stack.push((format!("{text}{t}"), depth + 1));
                }
            }
        }
        assert!(seen > 60_000);
    }

    #[test]
    fn a_nul_byte_in_the_text_is_refused() {
        assert!(matches!(
            check("SELECT a FROM t WHERE b = 'x\0y'", 1),
            Err(Error::Build(_))
        ));
        assert!(matches!(
            check("SELECT \"a\0\" FROM t", 1),
            Err(Error::Build(_))
        ));
    }

    #[test]
    fn a_remembered_text_is_accepted_only_with_its_own_count() {
        let sql = r#"SELECT "a" FROM "t" WHERE "b" IN (SELECT "c" FROM "u")"#;
        assert!(check(sql, 2).is_ok());
        // Remembered, yet another count is still refused.
        assert!(matches!(check(sql, 2), Ok(())));
        assert!(matches!(check(sql, 1), Err(Error::RawSql)));
        assert!(matches!(check(sql, 3), Err(Error::RawSql)));
        // A text that differs anywhere is scanned afresh.
        let smuggled = r#"SELECT "a" FROM "t" WHERE "b" IN (SELECT "c" FROM "u");"#;
        assert!(matches!(check(smuggled, 2), Err(Error::RawSql)));
    }

    #[test]
    fn long_texts_are_not_remembered() {
        let long = format!(r#"SELECT "{}" FROM "t""#, "a".repeat(REMEMBERED_LEN));
        assert!(check(&long, 1).is_ok());
        ACCEPTED.with_borrow(|(texts, _)| assert!(texts.iter().all(|(t, _)| **t != *long)));
    }

    #[test]
    fn forgetting_old_texts_keeps_the_verdicts() {
        for i in 0..3 * REMEMBERED {
            let sql = format!(r#"SELECT "c{i}" FROM "t""#);
            assert!(check(&sql, 1).is_ok());
            assert!(matches!(check(&sql, 2), Err(Error::RawSql)));
        }
        ACCEPTED.with_borrow(|(texts, _)| assert_eq!(texts.len(), REMEMBERED));
        assert!(check(r#"SELECT "c0" FROM "t""#, 1).is_ok());
        assert!(matches!(
            check(r#"SELECT "c0" FROM "t"; SELECT 1"#, 1),
            Err(Error::RawSql)
        ));
    }
}
