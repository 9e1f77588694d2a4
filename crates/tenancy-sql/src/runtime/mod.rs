//! The sqlx runtime: a tenant pool, tenant-bound transactions, the audited
//! escape hatch and the isolation audit.
//!
//! Without a backend (`sqlx` alone) the handles are uninhabited: this
//! compiles, and nothing can be connected.
#![cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(
        unused_variables,
        unused_imports,
        dead_code,
        reason = "without a backend the runtime's handles are uninhabited"
    )
)]

pub(crate) mod db;
mod owner;
mod pool;
mod router;
pub(crate) mod row;
mod state;
mod system;
mod tx;
mod verify;

pub use db::{DbPool, PoolSettings};
pub use owner::OwnerPool;
pub use pool::TenantPool;
pub use router::TenantRouter;
pub use row::{ColumnIndex, ColumnValue, DbRow, FromDbRow, bounds};
pub use system::{SystemStatement, SystemTx};
pub use tx::TenantTx;
