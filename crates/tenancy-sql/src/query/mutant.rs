//! Deliberate isolation bugs, for proving that the tests can see one.
//!
//! **Test-only; never enable the `mutation-testing` feature in a build that
//! serves anyone.** With the feature on, [`set_mutant`] makes the scoper
//! drop the tenant predicate from one kind of statement part (or stamp a
//! foreign tenant on inserts), for every statement prepared anywhere in the
//! process until it is set back to [`Mutant::None`]. The leak fuzzer and the
//! oracle must then find the leak (`tests/mutants.rs`); a proof that cannot
//! tell a mutant from the real scoper proves nothing.
//!
//! Without the feature this module does not exist and the scoper has no
//! switch.

use std::cell::Cell;
use std::sync::atomic::{AtomicU8, Ordering};

use sea_query::Expr as SqExpr;
use tenancy_core::TenantId;

/// The statement part whose tenant predicate a mutant drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Mutant {
    /// The real scoper.
    None = 0,
    /// The WHERE predicate of the FROM tables of a statement's own SELECT
    /// (and of the reference probes before a write).
    Where,
    /// The ON predicate of joined tables, at every level.
    JoinOn,
    /// The WHERE predicate of nested selects: subqueries in expressions
    /// (EXISTS, IN, scalar) and derived tables in FROM and joins.
    Subquery,
    /// The WHERE predicate of CTE bodies.
    Cte,
    /// The WHERE predicate of set-operation arms after the first.
    SetArm,
    /// The WHERE predicate of an INSERT … SELECT source.
    InsertSource,
    /// The tenant predicate of an UPDATE's WHERE.
    UpdateWhere,
    /// The tenant predicate of a DELETE's WHERE.
    DeleteWhere,
    /// The INSERT stamp (rows and INSERT … SELECT items) carries another
    /// tenant, `TenantId::from_u128(2)`, instead of the context's.
    InsertStamp,
}

impl Mutant {
    /// Every mutant, [`Mutant::None`] excluded.
    pub const ALL: [Mutant; 9] = [
        Mutant::Where,
        Mutant::JoinOn,
        Mutant::Subquery,
        Mutant::Cte,
        Mutant::SetArm,
        Mutant::InsertSource,
        Mutant::UpdateWhere,
        Mutant::DeleteWhere,
        Mutant::InsertStamp,
    ];
}

static ACTIVE: AtomicU8 = AtomicU8::new(Mutant::None as u8);

thread_local! {
    /// The part the next SELECT built on this thread plays; unmarked ones
    /// are nested selects built by the expression lowering.
    static NEXT: Cell<Option<Mutant>> = const { Cell::new(None) };
}

/// Activates `mutant` for the whole process.
pub fn set_mutant(mutant: Mutant) {
    ACTIVE.store(mutant as u8, Ordering::SeqCst);
}

/// The active mutant.
pub fn mutant() -> Mutant {
    let active = ACTIVE.load(Ordering::SeqCst);
    std::iter::once(Mutant::None)
        .chain(Mutant::ALL)
        .find(|m| *m as u8 == active)
        .unwrap_or(Mutant::None)
}

/// Marks the next SELECT (or write condition) built on this thread as `part`.
pub(crate) fn mark(part: Mutant) {
    NEXT.with(|n| n.set(Some(part)));
}

/// The part of the SELECT being built; unmarked means a nested select.
pub(crate) fn take_part() -> Mutant {
    NEXT.with(Cell::take).unwrap_or(Mutant::Subquery)
}

/// True when the active mutant drops the predicate of `part`.
pub(crate) fn drops(part: Mutant) -> bool {
    mutant() == part
}

/// The INSERT stamp: `slot`, or another tenant under [`Mutant::InsertStamp`].
pub(crate) fn stamp(slot: SqExpr) -> SqExpr {
    if mutant() == Mutant::InsertStamp {
        SqExpr::val(TenantId::from_u128(2).to_string())
    } else {
        slot
    }
}
