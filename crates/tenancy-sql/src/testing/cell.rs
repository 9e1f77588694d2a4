//! One cell of a row as text, whatever the driver says its type is (MySQL
//! reports `CAST(… AS CHAR)` of a `TEXT` column as bytes, for one).

use crate::DbRow;

/// The cell `i` of `row` as text; `None` for NULL or a value no decoder
/// takes.
pub(crate) fn text(row: &DbRow, i: usize) -> Option<String> {
    row.text(i)
}

/// Every cell of `rows`, `|`-separated, a line per row.
pub(crate) fn rows(rows: &[DbRow]) -> String {
    let mut out = String::new();
    for row in rows {
        for i in 0..row.len() {
            out.push_str(&text(row, i).unwrap_or_default());
            out.push('|');
        }
        out.push('\n');
    }
    out
}
