//! Permission marker types for [`Require`](crate::Require), declared with
//! [`permission!`](crate::permission!).

use tenancy_core::Permission;

/// A type that names one concrete permission. Declare with
/// [`permission!`](crate::permission!) rather than by hand.
pub trait PermissionName: Send + Sync + 'static {
    /// The permission's text, `resource:action`.
    const TEXT: &'static str;

    /// The parsed permission; `None` only if `TEXT` is not a permission,
    /// which [`permission!`](crate::permission!) rules out at compile time.
    fn permission() -> Option<&'static Permission>;
}

/// True when `text` is a concrete permission `resource:action`: each part 1
/// to 64 characters of `[a-z0-9_.-]` starting with a letter or digit.
///
/// A `const fn` so [`permission!`](crate::permission!) refuses a bad
/// declaration at compile time.
pub const fn is_concrete_permission(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut part_len = 0;
    let mut parts = 1;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b':' {
            if part_len == 0 {
                return false;
            }
            parts += 1;
            part_len = 0;
        } else {
            let start_ok = b.is_ascii_lowercase() || b.is_ascii_digit();
            let ok = start_ok || b == b'_' || b == b'.' || b == b'-';
            if !ok || (part_len == 0 && !start_ok) {
                return false;
            }
            part_len += 1;
            if part_len > Permission::MAX_PART_LEN {
                return false;
            }
        }
        i += 1;
    }
    parts == 2 && part_len > 0
}

/// Declares permission marker types for [`Require`](crate::Require).
///
/// Each declaration is checked at compile time: a text that is not a
/// concrete `resource:action` permission does not compile.
///
/// ```
/// use tenancy_axum::{PermissionName, permission};
///
/// permission! {
///     /// Read leases.
///     pub LeasesRead = "leases:read";
///     pub LeasesWrite = "leases:write";
/// }
/// assert_eq!(LeasesRead::TEXT, "leases:read");
/// assert_eq!(LeasesWrite::permission().map(|p| p.action()), Some("write"));
/// ```
///
/// ```compile_fail
/// tenancy_axum::permission!(pub Bad = "leases:*");
/// ```
#[macro_export]
macro_rules! permission {
    ($($(#[$meta:meta])* $vis:vis $name:ident = $text:literal;)+) => {$(
        $(#[$meta])*
        #[doc = concat!("The permission `", $text, "`.")]
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        $vis struct $name;

        const _: () = ::core::assert!(
            $crate::permission::is_concrete_permission($text),
            concat!("`", $text, "` is not a concrete `resource:action` permission"),
        );

        impl $crate::PermissionName for $name {
            const TEXT: &'static str = $text;

            fn permission() -> ::core::option::Option<&'static $crate::__private::Permission> {
                static PARSED: ::std::sync::OnceLock<
                    ::core::option::Option<$crate::__private::Permission>,
                > = ::std::sync::OnceLock::new();
                PARSED
                    .get_or_init(|| $crate::__private::Permission::parse($text).ok())
                    .as_ref()
            }
        }
    )+};
    ($(#[$meta:meta])* $vis:vis $name:ident = $text:literal) => {
        $crate::permission! { $(#[$meta])* $vis $name = $text; }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn const_check_agrees_with_the_parser() {
        for text in [
            "leases:read",
            "a:b",
            "x.y-z_1:2",
            "leases:*",
            "*:read",
            "leases",
            ":read",
            "leases:",
            "Leases:read",
            "-a:b",
            "a:b:c",
            "",
        ] {
            let parsed = Permission::parse(text)
                .map(|p| p.is_concrete())
                .unwrap_or(false);
            assert_eq!(is_concrete_permission(text), parsed, "{text}");
        }
        let long = format!("{}:read", "a".repeat(65));
        assert!(!is_concrete_permission(&long));
    }
}
