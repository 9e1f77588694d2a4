//! What a transaction knows of its own statements: whether one failed or
//! was cut off, so that `commit` never reports a write that did not happen.

use crate::error::{Error, Result};

/// Tracks the statements of one transaction.
///
/// PostgreSQL aborts a transaction at its first failed statement and then
/// answers `COMMIT` with a rollback that the driver reports as success;
/// MySQL and SQLite undo the failed statement and commit the rest. Either
/// way the caller who goes on to commit believes in writes that did not
/// happen, so after any failure (or a statement future dropped before it
/// finished) `commit` rolls back and returns [`Error::TransactionAborted`],
/// the same on every backend.
#[derive(Debug, Default)]
pub(crate) struct TxState {
    failed: bool,
    pending: bool,
}

impl TxState {
    /// Called before a statement is sent.
    pub(crate) fn start(&mut self) {
        self.pending = true;
    }

    /// Called with the statement's outcome.
    pub(crate) fn finish<T>(&mut self, outcome: std::result::Result<T, sqlx::Error>) -> Result<T> {
        self.pending = false;
        if outcome.is_err() {
            self.failed = true;
        }
        outcome.map_err(Error::from)
    }

    /// Marks the transaction failed for a reason found after the statement
    /// ran (the leak tripwire).
    pub(crate) fn fail(&mut self) {
        self.failed = true;
    }

    /// True when a statement failed or never finished.
    pub(crate) fn is_aborted(&self) -> bool {
        self.failed || self.pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_failure_stays_failed() {
        let mut s = TxState::default();
        s.start();
        assert!(s.finish::<()>(Err(sqlx::Error::RowNotFound)).is_err());
        s.start();
        assert!(s.finish(Ok(())).is_ok());
        assert!(s.is_aborted());
    }

    #[test]
    fn a_statement_never_finished_counts_as_failed() {
        let mut s = TxState::default();
        assert!(!s.is_aborted());
        s.start();
        assert!(s.is_aborted());
        assert!(s.finish(Ok(())).is_ok());
        assert!(!s.is_aborted());
    }
}
