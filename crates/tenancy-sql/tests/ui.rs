//! The executor accepts only scoped statements: raw sea-query statements and
//! SQL strings do not compile, and the scoped path does.

#[test]
fn executor_refuses_raw_statements_at_compile_time() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
