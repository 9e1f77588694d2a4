//! The sqlx runtime: a tenant pool, tenant-bound transactions, the audited
//! escape hatch and the isolation audit.

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
