//! One cell of a row as text, whatever the driver says its type is (MySQL
//! reports `CAST(… AS CHAR)` of a `TEXT` column as bytes, for one).

use sqlx::Row;
use sqlx::any::AnyRow;

/// The cell `i` of `row` as text; `None` for NULL or a value no decoder
/// takes.
pub(crate) fn text(row: &AnyRow, i: usize) -> Option<String> {
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return v;
    }
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return v.map(|n| n.to_string());
    }
    if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
        return v.map(|n| n.to_string());
    }
    if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
        return v.map(|b| b.to_string());
    }
    row.try_get::<Option<Vec<u8>>, _>(i)
        .ok()
        .flatten()
        .map(|v| String::from_utf8_lossy(&v).into_owned())
}

/// Every cell of `rows`, `|`-separated, a line per row.
pub(crate) fn rows(rows: &[AnyRow]) -> String {
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
