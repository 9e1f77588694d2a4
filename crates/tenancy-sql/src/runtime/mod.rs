//! The sqlx runtime: a tenant pool, tenant-bound transactions, the audited
//! escape hatch and the isolation audit.

mod bind;
mod owner;
mod pool;
mod router;
mod state;
mod system;
mod tx;
mod verify;

pub use owner::OwnerPool;
pub use pool::TenantPool;
pub use router::TenantRouter;
pub use system::{SystemStatement, SystemTx};
pub use tx::TenantTx;
