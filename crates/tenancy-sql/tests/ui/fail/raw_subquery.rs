// A raw sea-query SELECT as an IN or EXISTS subquery would skip the
// scoping; subqueries are scoped `Select`s, so this does not compile.
use tenancy_sql::sea_query::{Alias, Query};
use tenancy_sql::{Select, col, exists};

fn main() {
    let raw = Query::select().column(Alias::new("id")).from(Alias::new("leases")).to_owned();
    let _ = Select::from("properties").all().filter(col("properties", "id").in_subquery(raw.clone()));
    let _ = Select::from("properties").all().filter(exists(raw));
}
