// The raw pool left the tenant pool: the request path cannot reach SQL text.
use tenancy_sql::TenantPool;

fn handler(pool: &TenantPool) {
    let _ = pool.sqlx_pool();
}

fn main() {
    let _ = handler;
}
