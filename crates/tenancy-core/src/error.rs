//! The errors of tenancy-core.
//!
//! Every message here is safe to show to the caller who caused it: none
//! carries another tenant's id, name or data.

use std::fmt;

use crate::permission::Permission;

/// A convenient alias for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Any error raised by tenancy-core.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Text that should have been an identifier, slug, role name or permission.
    Parse(ParseError),
    /// An access that the context does not permit.
    Access(AccessError),
    /// A lifecycle event that the current state does not accept.
    Transition(InvalidTransition),
    /// A role definition or lookup that cannot be honoured.
    Role(RoleError),
    /// A rate, concurrency or quota limit was reached.
    Limit(LimitError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Parse(e) => e.fmt(f),
            Error::Access(e) => e.fmt(f),
            Error::Transition(e) => e.fmt(f),
            Error::Role(e) => e.fmt(f),
            Error::Limit(e) => e.fmt(f),
        }
    }
}

/// Transparent: the message is the inner error's, so its source is the inner
/// error's source, and an error-chain reporter prints the message once.
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Parse(e) => e.source(),
            Error::Access(e) => e.source(),
            Error::Transition(e) => e.source(),
            Error::Role(e) => e.source(),
            Error::Limit(e) => e.source(),
        }
    }
}

macro_rules! into_error {
    ($($variant:ident($ty:ty)),* $(,)?) => {$(
        impl From<$ty> for Error {
            fn from(e: $ty) -> Self {
                Error::$variant(e)
            }
        }
    )*};
}
into_error!(
    Parse(ParseError),
    Access(AccessError),
    Transition(InvalidTransition),
    Role(RoleError),
    Limit(LimitError),
);

/// An error and its sources on one line, `error: cause: cause`, for a log.
///
/// The SDK's errors show a cause in their message or return it from
/// [`source`](std::error::Error::source), never both, so each message is
/// printed once. An error from elsewhere may do both; a cause whose message
/// the line already holds is therefore not printed again.
///
/// ```
/// use tenancy_core::{Error, LimitError, Report};
///
/// let error = Error::Limit(LimitError::StoreUnavailable);
/// assert_eq!(Report::new(&error).to_string(), "limit store unavailable");
/// assert!(Report::new(&error).repeated().is_none());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    error: &'a (dyn std::error::Error + 'static),
}

/// One error of a chain.
type Link<'a> = &'a (dyn std::error::Error + 'static);

impl<'a> Report<'a> {
    /// A report of `error` and its sources.
    pub fn new(error: Link<'a>) -> Self {
        Report { error }
    }

    /// The error, then each of its sources in turn.
    pub fn chain(self) -> impl Iterator<Item = Link<'a>> {
        std::iter::successors(Some(self.error), |e| e.source())
    }

    /// The first error of the chain whose message holds its source's
    /// message, with that source: an error that shows its cause and returns
    /// it too. `None` when every message of the chain is its own, the rule
    /// the SDK's errors keep (and a test of a service's own errors can
    /// assert).
    pub fn repeated(self) -> Option<(Link<'a>, Link<'a>)> {
        let mut error = self.error;
        while let Some(source) = error.source() {
            if error.to_string().contains(&source.to_string()) {
                return Some((error, source));
            }
            error = source;
        }
        None
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = String::new();
        for error in self.chain() {
            let message = error.to_string();
            if line.is_empty() {
                line = message;
            } else if !line.contains(&message) {
                line.push_str(": ");
                line.push_str(&message);
            }
        }
        f.write_str(&line)
    }
}

/// What kind of text failed to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseKind {
    /// A [`TenantId`](crate::TenantId).
    TenantId,
    /// A [`SubjectId`](crate::SubjectId).
    SubjectId,
    /// A [`TenantSlug`](crate::TenantSlug).
    TenantSlug,
    /// A [`Permission`].
    Permission,
    /// A [`RoleName`](crate::RoleName).
    RoleName,
    /// A [`TenantStatus`](crate::TenantStatus).
    TenantStatus,
}

impl fmt::Display for ParseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParseKind::TenantId => "tenant id",
            ParseKind::SubjectId => "subject id",
            ParseKind::TenantSlug => "tenant slug",
            ParseKind::Permission => "permission",
            ParseKind::RoleName => "role name",
            ParseKind::TenantStatus => "tenant status",
        })
    }
}

/// Why a text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseReason {
    /// The text is shorter than allowed.
    TooShort,
    /// The text is longer than allowed.
    TooLong,
    /// A character outside the allowed set.
    InvalidCharacter,
    /// The text does not have the required shape (hyphens, separators).
    InvalidFormat,
    /// The value is reserved for the platform.
    Reserved,
}

impl fmt::Display for ParseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParseReason::TooShort => "too short",
            ParseReason::TooLong => "too long",
            ParseReason::InvalidCharacter => "invalid character",
            ParseReason::InvalidFormat => "invalid format",
            ParseReason::Reserved => "reserved",
        })
    }
}

/// A text that is not a valid identifier, slug, role name or permission.
///
/// The offending text is not kept: it may be attacker-controlled and large.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParseError {
    kind: ParseKind,
    reason: ParseReason,
}

impl ParseError {
    pub(crate) const fn new(kind: ParseKind, reason: ParseReason) -> Self {
        ParseError { kind, reason }
    }

    /// What was being parsed.
    pub fn kind(&self) -> ParseKind {
        self.kind
    }

    /// Why it was refused.
    pub fn reason(&self) -> ParseReason {
        self.reason
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.kind, self.reason)
    }
}

impl std::error::Error for ParseError {}

/// An access that the context does not permit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessError {
    /// The value or resource belongs to a tenant other than the context's.
    ///
    /// Deliberately carries nothing about that other tenant.
    CrossTenant,
    /// The context has no tenant: a system context that has not explicitly
    /// acted for one.
    NoTenant,
    /// A system-scope context is required.
    SystemScopeRequired,
    /// The context lacks a permission.
    MissingPermission(Permission),
    /// Acting for a tenant needs a non-empty reason.
    ReasonRequired,
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccessError::CrossTenant => f.write_str("not found in this tenant"),
            AccessError::NoTenant => f.write_str("the context is not bound to a tenant"),
            AccessError::SystemScopeRequired => f.write_str("a system-scope context is required"),
            AccessError::MissingPermission(p) => write!(f, "missing permission `{p}`"),
            AccessError::ReasonRequired => {
                f.write_str("acting for a tenant requires a non-empty reason")
            }
        }
    }
}

impl std::error::Error for AccessError {}

/// A lifecycle event that the current state does not accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InvalidTransition {
    from: &'static str,
    event: &'static str,
}

impl InvalidTransition {
    pub(crate) const fn new(from: &'static str, event: &'static str) -> Self {
        InvalidTransition { from, event }
    }

    /// The state the machine was in.
    pub fn from_state(&self) -> &'static str {
        self.from
    }

    /// The event that was refused.
    pub fn event(&self) -> &'static str {
        self.event
    }
}

impl fmt::Display for InvalidTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "event `{}` is not allowed in state `{}`",
            self.event, self.from
        )
    }
}

impl std::error::Error for InvalidTransition {}

/// A role definition or lookup that cannot be honoured.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RoleError {
    /// No role of this name is defined.
    Unknown(crate::RoleName),
    /// A role with this name already exists.
    AlreadyDefined(crate::RoleName),
    /// Following `inherits` from this role leads back to it.
    Cycle(crate::RoleName),
    /// A tenant role may not grant or inherit platform (system) permissions.
    PlatformPermission(crate::RoleName),
    /// Inheritance deeper than the registry allows.
    TooDeep(crate::RoleName),
}

impl fmt::Display for RoleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoleError::Unknown(r) => write!(f, "unknown role `{r}`"),
            RoleError::AlreadyDefined(r) => write!(f, "role `{r}` is already defined"),
            RoleError::Cycle(r) => write!(f, "role `{r}` inherits from itself"),
            RoleError::PlatformPermission(r) => {
                write!(f, "tenant role `{r}` may not grant platform permissions")
            }
            RoleError::TooDeep(r) => write!(f, "role `{r}` inherits too deeply"),
        }
    }
}

impl std::error::Error for RoleError {}

/// A limit was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimitError {
    /// Too many requests; retry after this long.
    RateLimited {
        /// How long until the next request would be admitted.
        retry_after: std::time::Duration,
    },
    /// Too many requests in flight at once.
    TooManyConcurrent {
        /// The tenant's concurrency ceiling.
        limit: u32,
    },
    /// A quota counter would go over its limit.
    QuotaExceeded {
        /// The quota's ceiling.
        limit: u64,
    },
    /// The shared limit store could not be reached and the limiter fails closed.
    StoreUnavailable,
}

impl LimitError {
    /// True when the tenant reached one of its own limits (its rate, its
    /// concurrency, a quota); false when the limiter could not decide (the
    /// store is unavailable), which says nothing about the tenant.
    pub fn is_tenant_limit(&self) -> bool {
        match self {
            LimitError::RateLimited { .. }
            | LimitError::TooManyConcurrent { .. }
            | LimitError::QuotaExceeded { .. } => true,
            LimitError::StoreUnavailable => false,
        }
    }
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitError::RateLimited { retry_after } => {
                write!(
                    f,
                    "rate limit reached, retry after {} ms",
                    retry_after.as_millis()
                )
            }
            LimitError::TooManyConcurrent { limit } => {
                write!(f, "more than {limit} concurrent requests")
            }
            LimitError::QuotaExceeded { limit } => write!(f, "quota of {limit} exceeded"),
            LimitError::StoreUnavailable => f.write_str("limit store unavailable"),
        }
    }
}

impl std::error::Error for LimitError {}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{RoleName, TenantId};

    #[test]
    fn no_message_repeats_its_source() {
        let parse = TenantId::parse("nope").map(|_| ()).map_err(Error::from);
        let errors = [
            parse.err(),
            Some(Error::Access(AccessError::CrossTenant)),
            Some(Error::Transition(InvalidTransition::new(
                "active", "resume",
            ))),
            RoleName::parse("admin")
                .ok()
                .map(|r| Error::Role(RoleError::Unknown(r))),
            Some(Error::Limit(LimitError::RateLimited {
                retry_after: Duration::from_millis(5),
            })),
        ];
        for error in errors.into_iter().flatten() {
            assert!(Report::new(&error).repeated().is_none(), "{error:?}");
        }
    }

    /// An error that shows its source and returns it too.
    #[derive(Debug)]
    struct Loud(ParseError);

    impl fmt::Display for Loud {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "loud: {}", self.0)
        }
    }

    impl std::error::Error for Loud {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_report_finds_a_repeated_message_and_prints_it_once() {
        let parse = ParseError::new(ParseKind::TenantId, ParseReason::TooShort);
        let loud = Loud(parse);
        let repeated = Report::new(&loud)
            .repeated()
            .map(|(error, source)| (error.to_string(), source.to_string()));
        assert_eq!(repeated, Some((loud.to_string(), parse.to_string())));
        assert_eq!(
            Report::new(&loud).to_string(),
            "loud: invalid tenant id: too short"
        );
        assert_eq!(Report::new(&loud).chain().count(), 2);
    }

    #[test]
    fn only_a_store_failure_is_not_the_tenants_limit() {
        assert!(LimitError::QuotaExceeded { limit: 1 }.is_tenant_limit());
        assert!(LimitError::TooManyConcurrent { limit: 1 }.is_tenant_limit());
        assert!(!LimitError::StoreUnavailable.is_tenant_limit());
    }
}
