//! Binding sea-query values to sqlx's `Any` driver.

use sea_query::Value;
use sqlx::any::{Any, AnyArguments};
use sqlx::query::Query;

use crate::error::{Error, Result, UnbindableValue};
use crate::query::Prepared;
use crate::query::is_tenant_slot;

pub(crate) type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;

/// Binds one value. Every integer is sent as a 64-bit integer and every
/// float as a double: the drivers cache a prepared statement per SQL text
/// with the parameter types of its first run, so the same text bound once
/// with an `i32` and once with an `i64` would fail on PostgreSQL. One type
/// per kind keeps every run of a text alike; the server casts on assignment.
fn bind_value<'q>(q: AnyQuery<'q>, v: &Value) -> Result<AnyQuery<'q>> {
    Ok(match v {
        Value::Bool(b) => q.bind(*b),
        Value::TinyInt(n) => q.bind(n.map(i64::from)),
        Value::SmallInt(n) => q.bind(n.map(i64::from)),
        Value::Int(n) => q.bind(n.map(i64::from)),
        Value::BigInt(n) => q.bind(*n),
        Value::TinyUnsigned(n) => q.bind(n.map(i64::from)),
        Value::SmallUnsigned(n) => q.bind(n.map(i64::from)),
        Value::Unsigned(n) => q.bind(n.map(i64::from)),
        Value::BigUnsigned(n) => match n {
            None => q.bind(None::<i64>),
            Some(n) => q.bind(
                i64::try_from(*n)
                    .map_err(|_| Error::UnsupportedValue(UnbindableValue::U64AboveI64Max))?,
            ),
        },
        Value::Float(f) => q.bind(f.map(f64::from)),
        Value::Double(f) => q.bind(*f),
        Value::String(s) => q.bind(s.clone()),
        Value::Char(c) => q.bind(c.map(String::from)),
        Value::Bytes(b) => q.bind(b.clone()),
        _ => return Err(Error::UnsupportedValue(UnbindableValue::OtherKind)),
    })
}

/// The statement with its values bound, the tenant's text in its slots.
pub(crate) fn bind<'q>(prepared: &'q Prepared, tenant_text: &str) -> Result<AnyQuery<'q>> {
    let mut q = sqlx::query(prepared.sql());
    for v in &prepared.body.values {
        q = if is_tenant_slot(v) {
            q.bind(tenant_text.to_owned())
        } else {
            bind_value(q, v)?
        };
    }
    Ok(q)
}

/// A raw (system) statement with its values bound.
pub(crate) fn bind_raw<'q>(sql: &'q str, values: &[Value]) -> Result<AnyQuery<'q>> {
    let mut q = sqlx::query(sql);
    for v in values {
        q = bind_value(q, v)?;
    }
    Ok(q)
}
