use tenancy_core::TenantContext;
use tenancy_sql::{Backend, Prepared, Schema, Statement};

struct Raw(&'static str);

impl Statement for Raw {
    fn prepare(&self, _: &Schema, _: Backend, _: &TenantContext) -> tenancy_sql::Result<Prepared> {
        unimplemented!()
    }
}

fn main() {
    let _ = Raw("DELETE FROM leases").0;
}
