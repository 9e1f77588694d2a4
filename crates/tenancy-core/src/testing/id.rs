//! Identifiers, and text that no identifier parses from.

use proptest::prelude::*;

use crate::id::{SubjectId, TenantId};

/// 128-bit values: the extremes, random (version 4) UUIDs and any value.
fn uuid_value() -> impl Strategy<Value = u128> + Clone {
    prop_oneof![
        1 => Just(0),
        1 => Just(u128::MAX),
        4 => any::<[u8; 16]>().prop_map(|bytes| TenantId::from_random_bytes(bytes).as_u128()),
        4 => any::<u128>(),
    ]
}

/// Any tenant identifier (the nil and all-ones ones included).
pub fn tenant_id() -> impl Strategy<Value = TenantId> + Clone {
    uuid_value().prop_map(TenantId::from_u128)
}

/// Any subject identifier (the nil and all-ones ones included).
pub fn subject_id() -> impl Strategy<Value = SubjectId> + Clone {
    uuid_value().prop_map(SubjectId::from_u128)
}

/// Where the hyphens of the canonical form are.
const HYPHENS: [usize; 4] = [8, 13, 18, 23];

/// The byte offset of the `n`th hexadecimal digit (0 to 31) of the
/// canonical form.
fn digit_offset(n: usize) -> usize {
    HYPHENS
        .iter()
        .fold(n, |at, &h| if at >= h { at + 1 } else { at })
}

/// Text that [`TenantId::parse`] (and [`SubjectId::parse`]) must refuse,
/// each close to a real identifier: cut short; wrapped in braces, behind
/// `urn:uuid:`, padded with whitespace or one digit longer; without its
/// hyphens; with a hyphen moved by one place; with one digit replaced by a
/// character that is not a hexadecimal digit (non-ASCII included); or any
/// text shorter than an identifier.
pub fn invalid_tenant_id_text() -> impl Strategy<Value = String> + Clone {
    let canonical = tenant_id().prop_map(|id| id.to_string());
    let wrappers = vec![
        ("{", "}"),
        ("urn:uuid:", ""),
        (" ", ""),
        ("", "\n"),
        ("", "0"),
    ];
    let foreign = vec!['g', 'G', 'z', 'x', ' ', '_', '+', '{', '\0', 'é', 'ａ'];
    prop_oneof![
        (canonical.clone(), 0..36usize).prop_map(|(text, len)| text[..len].to_owned()),
        (canonical.clone(), prop::sample::select(wrappers))
            .prop_map(|(text, (before, after))| format!("{before}{text}{after}")),
        canonical
            .clone()
            .prop_map(|text| format!("{}0000", text.replace('-', ""))),
        (
            canonical.clone(),
            prop::sample::select(HYPHENS.to_vec()),
            any::<bool>()
        )
            .prop_map(|(text, hyphen, left)| {
                let mut bytes = text.into_bytes();
                let neighbour = if left { hyphen - 1 } else { hyphen + 1 };
                bytes.swap(hyphen, neighbour);
                String::from_utf8_lossy(&bytes).into_owned()
            }),
        (canonical, 0..32usize, prop::sample::select(foreign)).prop_map(|(text, n, c)| {
            let at = digit_offset(n);
            format!("{}{c}{}", &text[..at], &text[at + 1..])
        }),
        "\\PC{0,35}",
    ]
}
