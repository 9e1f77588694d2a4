//! What the code under test is handed besides its transaction: the context
//! and the ids to use, which are the tenant's own, another tenant's or
//! nobody's depending on the [`Case`].

use std::cell::RefCell;
use std::fmt;

use tenancy_core::TenantContext;

use super::marker::SeedId;
use super::seed::Seed;

/// Which ids a run of the code under test is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Case {
    /// The acting tenant's own rows.
    Own,
    /// The acting tenant's own row whose id every other tenant's rows
    /// have too (as per-tenant sequences give): a lookup that loses its
    /// tenant predicate anywhere, a join say, meets other tenants' rows.
    Shared,
    /// Another tenant's rows: the code must behave exactly as for
    /// [`Case::Missing`].
    Foreign,
    /// Ids no row has.
    Missing,
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Case::Own => "own",
            Case::Shared => "shared",
            Case::Foreign => "foreign",
            Case::Missing => "missing",
        })
    }
}

/// The context and ids of one run of the code under test.
pub struct Probe<'a> {
    pub(crate) ctx: TenantContext,
    pub(crate) case: Case,
    pub(crate) actor: usize,
    pub(crate) victim: usize,
    pub(crate) seed: &'a Seed,
    pub(crate) url: &'a str,
    /// Every id handed out, to recognise it in the output.
    pub(crate) handed: RefCell<Vec<(String, SeedId)>>,
}

impl fmt::Debug for Probe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Probe")
            .field("tenant", &self.ctx.tenant_id())
            .field("case", &self.case)
            .finish_non_exhaustive()
    }
}

impl Probe<'_> {
    /// The context the transaction is bound to.
    pub fn context(&self) -> &TenantContext {
        &self.ctx
    }

    /// Which ids this run gets.
    pub fn case(&self) -> Case {
        self.case
    }

    /// The id to look up in `table`: a row of the acting tenant
    /// ([`Case::Own`], and [`Case::Shared`] with an id other tenants'
    /// rows have too), of another tenant ([`Case::Foreign`]) or of nobody
    /// ([`Case::Missing`]). The id of an unregistered table, or of one
    /// without id columns, is nobody's; the check then reports it.
    pub fn id(&self, table: &str) -> SeedId {
        self.nth_id(table, 0)
    }

    /// Like [`Probe::id`], for row `n` (`n` below [`LeakCheck::rows`](super::LeakCheck::rows)).
    pub fn nth_id(&self, table: &str, n: usize) -> SeedId {
        let id = match self.case {
            Case::Own => self.seed.id(table, self.actor, n + 1),
            Case::Shared => self.seed.id(table, self.actor, 0),
            Case::Foreign => self.seed.id(table, self.victim, n + 1),
            Case::Missing => self.seed.missing_id(table),
        };
        let id = id.unwrap_or_else(|| SeedId::Text(format!("(no id column in `{table}`)")));
        self.handed
            .borrow_mut()
            .push((table.to_owned(), id.clone()));
        id
    }

    /// The value of `column` in the row [`Probe::id`] names (for lookups by
    /// another key: a slug, an email, a name): the acting tenant's, another
    /// tenant's or, for [`Case::Missing`], a marker no row holds.
    pub fn value(&self, table: &str, column: &str) -> String {
        let (t, row) = match self.case {
            Case::Own => (self.actor, 1),
            Case::Shared => (self.actor, 0),
            Case::Foreign => (self.victim, 1),
            Case::Missing => (usize::MAX, 0),
        };
        let value = self
            .seed
            .value(table, t, row, column)
            .unwrap_or_else(|| super::marker::text(99, 0, 0, 0));
        self.handed
            .borrow_mut()
            .push((table.to_owned(), SeedId::Text(value.clone())));
        value
    }

    /// An id of the acting tenant's own row `n` of `table`, whatever the
    /// case: for code that takes two ids (its own lease, and a property
    /// that may be foreign).
    pub fn own_id(&self, table: &str, n: usize) -> SeedId {
        self.seed
            .id(table, self.actor, n + 1)
            .unwrap_or_else(|| SeedId::Text(format!("(no id column in `{table}`)")))
    }

    /// The URL of the scratch database, with the owner's credentials: for
    /// code under test that opens connections of its own (which is what a
    /// leak check should catch).
    pub fn database_url(&self) -> &str {
        self.url
    }
}
