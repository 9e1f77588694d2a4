// Attack 5: a typed function call that runs SQL from a bound string. Only
// the closed `Function` set can be called; a free function name cannot.
use tenancy_sql::sea_query::Func;
use tenancy_sql::{Select, call, val};

fn main() {
    let _ = Select::new().expr(call(Func::cust("query_to_xml"), [val("select lessee from leases")]));
}
