//! Tenant → pool routing for the hybrid model.

use std::collections::HashMap;

use tenancy_core::{TenantContext, TenantId};

use super::pool::TenantPool;
use super::tx::TenantTx;
use crate::error::{Error, Result};
use crate::verify::IsolationReport;

/// Routes each tenant to a pool: most tenants share the default pool, a large
/// one may live in a database of its own. Every pool keeps the same scoping,
/// so statements and isolation checks do not change when a tenant moves.
#[derive(Debug, Clone)]
pub struct TenantRouter {
    shared: TenantPool,
    dedicated: HashMap<TenantId, TenantPool>,
}

impl TenantRouter {
    /// A router sending every tenant to `shared`.
    pub fn new(shared: TenantPool) -> TenantRouter {
        TenantRouter {
            shared,
            dedicated: HashMap::new(),
        }
    }

    /// Sends `tenant` to its own `pool`.
    #[must_use]
    pub fn with_dedicated(mut self, tenant: TenantId, pool: TenantPool) -> TenantRouter {
        self.dedicated.insert(tenant, pool);
        self
    }

    /// The pool that holds `tenant`'s data.
    pub fn pool_for(&self, tenant: TenantId) -> &TenantPool {
        self.dedicated.get(&tenant).unwrap_or(&self.shared)
    }

    /// Begins a transaction on the pool that holds `ctx`'s tenant.
    pub async fn begin(&self, ctx: &TenantContext) -> Result<TenantTx> {
        self.pool_for(ctx.require_tenant()?).begin(ctx).await
    }

    /// Runs [`TenantPool::verify_isolation`] on every pool; the findings of
    /// all pools are gathered in one report.
    pub async fn verify_isolation(&self) -> Result<IsolationReport> {
        let mut all = IsolationReport::default();
        let pools = std::iter::once(&self.shared).chain(self.dedicated.values());
        for pool in pools {
            let report = match pool.verify_isolation().await {
                Ok(r) => r,
                Err(Error::Isolation(r)) => r,
                Err(e) => return Err(e),
            };
            all.role = report.role;
            all.tables_checked += report.tables_checked;
            all.findings.extend(report.findings);
            all.notes.extend(report.notes);
        }
        if all.is_clean() {
            Ok(all)
        } else {
            Err(Error::Isolation(all))
        }
    }
}
