//! Marker values: every seeded value says which tenant it belongs to, so
//! any text that reaches a tenant can be searched for other tenants' values.
//!
//! - text: `lk{t}x{table}x{row}x{column}` (`lk2x0x1x3`);
//! - integers: `1_100_000_000 + t·1_000_000 + …` for ids, `1_900_000_000 + …`
//!   for other columns, so they fit a 32-bit column;
//! - text and UUID ids: `{table:08x}-{row:04x}-4000-8000-5eed{t:08x}`;
//! - the tenants' own ids, in any case, with or without hyphens.
//!
//! A "missing" id has the same shape with a tenant number no tenant has.

use std::fmt;

use tenancy_core::TenantId;

const ID_BASE: i64 = 1_100_000_000;
const VALUE_BASE: i64 = 1_900_000_000;
const PER_TENANT: i64 = 1_000_000;
const UUID_TAG: &str = "-4000-8000-5eed";
/// The tenant number of ids that no tenant has.
const NOBODY: u32 = 0xffff_ffff;

/// An id of a seeded row (or of none), in the form its column holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SeedId {
    /// An integer id column.
    Int(i64),
    /// A text or UUID id column.
    Text(String),
}

impl SeedId {
    /// The integer, for an integer id.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            SeedId::Int(n) => Some(*n),
            SeedId::Text(_) => None,
        }
    }

    /// The text, for a text or UUID id.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            SeedId::Int(_) => None,
            SeedId::Text(s) => Some(s),
        }
    }
}

impl fmt::Display for SeedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeedId::Int(n) => write!(f, "{n}"),
            SeedId::Text(s) => f.write_str(s),
        }
    }
}

/// The integer id of row `row` of table number `table`, tenant `t`.
pub(crate) fn int_id(t: usize, table: usize, row: usize) -> i64 {
    ID_BASE + t as i64 * PER_TENANT + (table as i64 % 100) * 10_000 + row as i64 % 10_000
}

/// An integer id no seeded row has.
pub(crate) fn missing_int_id(table: usize) -> i64 {
    ID_BASE + 99 * PER_TENANT + (table as i64 % 100) * 10_000 + 9_999
}

/// Another integer value of tenant `t` (column `column`).
pub(crate) fn int_value(t: usize, table: usize, row: usize, column: usize) -> i64 {
    VALUE_BASE
        + t as i64 * PER_TENANT
        + (table as i64 % 100) * 10_000
        + (row as i64 % 1_000) * 10
        + column as i64 % 10
}

/// A UUID-shaped id of tenant `t`.
pub(crate) fn uuid_id(t: usize, table: usize, row: usize) -> String {
    format!("{table:08x}-{row:04x}{UUID_TAG}{t:08x}")
}

/// A UUID-shaped id no seeded row has.
pub(crate) fn missing_uuid_id(table: usize) -> String {
    format!("{table:08x}-ffff{UUID_TAG}{NOBODY:08x}")
}

/// A text marker of tenant `t`.
pub(crate) fn text(t: usize, table: usize, row: usize, column: usize) -> String {
    format!("lk{t}x{table}x{row}x{column}")
}

/// A text id no seeded row has, when the column is too short for a UUID.
pub(crate) fn missing_text_id(table: usize) -> String {
    format!("lk{}x{table}x0x0", NOBODY)
}

/// What marks tenant `t`'s data, to search other text for it.
#[derive(Debug, Clone)]
pub(crate) struct Markers {
    tenants: Vec<TenantId>,
}

impl Markers {
    pub(crate) fn new(tenants: Vec<TenantId>) -> Markers {
        Markers { tenants }
    }

    /// Every value in `text` that belongs to a tenant other than `actor`,
    /// as found (at most a few, for the message).
    pub(crate) fn foreign_in(&self, text: &str, actor: usize) -> Vec<String> {
        let lower = text.to_ascii_lowercase();
        let mut found = Vec::new();
        let mut note = |s: String| {
            if found.len() < 5 && !found.contains(&s) {
                found.push(s);
            }
        };
        let foreign = |t: usize| t != actor && t < self.tenants.len();
        // Text markers: `lk{t}x`.
        for (at, _) in lower.match_indices("lk") {
            let digits: String = lower[at + 2..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if lower[at + 2 + digits.len()..].starts_with('x')
                && let Ok(t) = digits.parse::<usize>()
                && foreign(t)
            {
                note(marker_token(&lower[at..]));
            }
        }
        // UUID-shaped ids: `…-4000-8000-5eed{t:08x}`.
        for (at, _) in lower.match_indices(UUID_TAG) {
            let hex = lower.get(at + UUID_TAG.len()..at + UUID_TAG.len() + 8);
            if let Some(t) = hex.and_then(|h| usize::from_str_radix(h, 16).ok())
                && foreign(t)
            {
                let end = at + UUID_TAG.len() + 8;
                let whole = lower.get(at.saturating_sub(13)..end);
                note(whole.unwrap_or(&lower[at..end]).to_owned());
            }
        }
        // Integers: ten-digit runs in the id and value ranges.
        for run in lower.split(|c: char| !c.is_ascii_digit()) {
            if run.len() != 10 {
                continue;
            }
            let Ok(n) = run.parse::<i64>() else { continue };
            let t = [ID_BASE, VALUE_BASE]
                .into_iter()
                .find(|base| (*base..*base + 100 * PER_TENANT).contains(&n))
                .map(|base| ((n - base) / PER_TENANT) as usize);
            if t.is_some_and(foreign) {
                note(run.to_owned());
            }
        }
        // The tenants' own ids, hyphenated or not.
        for (t, id) in self.tenants.iter().enumerate() {
            if t == actor {
                continue;
            }
            let hyphenated = id.to_string().to_ascii_lowercase();
            let simple = hyphenated.replace('-', "");
            if lower.contains(&hyphenated) || lower.contains(&simple) {
                note(format!("tenant id {hyphenated}"));
            }
        }
        found
    }
}

fn marker_token(from: &str) -> String {
    from.chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .take(24)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn markers() -> Markers {
        Markers::new((1..=3).map(TenantId::from_u128).collect())
    }

    #[test]
    fn each_shape_is_found_for_other_tenants_only() {
        let m = markers();
        // Every value below belongs to tenant 1 (whose id is 2).
        for value in [
            text(1, 2, 0, 3),
            int_id(1, 2, 0).to_string(),
            int_value(1, 0, 4, 2).to_string(),
            uuid_id(1, 3, 7).to_ascii_uppercase(),
            TenantId::from_u128(2).to_string(),
            TenantId::from_u128(2).to_string().replace('-', ""),
        ] {
            let wrapped = format!("Row {{ x: \"{value}\" }}");
            assert!(m.foreign_in(&wrapped, 1).is_empty(), "{wrapped}");
            assert_eq!(m.foreign_in(&wrapped, 0).len(), 1, "{wrapped}");
            assert_eq!(m.foreign_in(&wrapped, 2).len(), 1, "{wrapped}");
        }
    }

    #[test]
    fn missing_ids_and_plain_numbers_belong_to_nobody() {
        let m = markers();
        for text in [
            missing_int_id(3).to_string(),
            missing_uuid_id(3),
            missing_text_id(3),
            "1234567890".to_owned(),
            "lk12".to_owned(),
        ] {
            assert!(m.foreign_in(&text, 0).is_empty(), "{text}");
        }
    }

    #[test]
    fn a_longer_tenant_number_is_not_its_prefix() {
        let m = Markers::new((1..=12).map(TenantId::from_u128).collect());
        assert!(m.foreign_in("lk11x0x0x0", 1).len() == 1);
        assert!(m.foreign_in("lk1x0x0x0", 1).is_empty());
    }
}
