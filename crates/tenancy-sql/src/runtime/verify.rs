//! The isolation audit of a pool: each backend audits its own catalogue
//! (`crate::backend::{postgres,mysql,sqlite}::audit`).

use super::pool::TenantPool;
use crate::error::Result;
use crate::verify::IsolationReport;

pub(crate) async fn run(pool: &TenantPool) -> Result<IsolationReport> {
    crate::backend::Backend::audit(&pool.pool, &pool.schema, &pool.setting).await
}
