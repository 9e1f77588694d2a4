//! Wiring mistakes (issue 14, "HTTP behaviour"): a `SqlDirectory` whose
//! table or columns the schema does not declare is an error naming them at
//! start-up, and a `Tx` on a route without its `TxLayer` is a 500 whose
//! cause is logged, named. Each test is named after the mistake it catches.

#![cfg(feature = "sql")]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "helpers fail the test loudly"
)]

mod common;

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use common::*;
use tenancy_axum::sql::{DirectorySchemaError, SqlDirectory, Tx, TxRejection};
use tenancy_core::{Plan, RateQuota, RoleName};
use tenancy_sql::{OwnerPool, Schema, SchemaBuilder, TenantPool};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

async fn pool(schema: SchemaBuilder) -> TenantPool {
    let owner = OwnerPool::connect("sqlite::memory:").await.unwrap();
    owner.tenant_pool(schema.build().unwrap())
}

fn directory(pool: TenantPool) -> SqlDirectory {
    SqlDirectory::new(pool, [Plan::new("free", RateQuota::per_second(1, 1), 1)])
}

#[tokio::test]
async fn directory_over_an_undeclared_table_fails_at_start() {
    let pool = pool(Schema::builder().tenant("notes").columns(["body"])).await;
    let error = directory(pool).check().unwrap_err();
    assert_eq!(
        error,
        DirectorySchemaError::UndeclaredTable {
            table: "tenants".to_owned()
        }
    );
    assert!(error.to_string().contains("`tenants`"), "{error}");
}

#[tokio::test]
async fn directory_over_a_renamed_table_the_schema_lacks_fails_at_start() {
    let schema = Schema::builder()
        .system("tenants")
        .columns(SqlDirectory::COLUMNS);
    let directory = directory(pool(schema).await)
        .with_table("accounts")
        .unwrap();
    let error = directory.check().unwrap_err();
    assert_eq!(
        error,
        DirectorySchemaError::UndeclaredTable {
            table: "accounts".to_owned()
        }
    );
}

#[tokio::test]
async fn directory_over_a_table_missing_columns_names_them_at_start() {
    let schema = Schema::builder()
        .system("tenants")
        .columns(["id", "slug", "status", "plan"]);
    let error = directory(pool(schema).await).check().unwrap_err();
    assert_eq!(
        error,
        DirectorySchemaError::UndeclaredColumns {
            table: "tenants".to_owned(),
            columns: vec!["rate_per_second", "rate_burst", "max_concurrent"],
        }
    );
    let message = error.to_string();
    assert!(
        message.contains("`rate_per_second`, `rate_burst`, `max_concurrent`"),
        "{message}"
    );
}

#[tokio::test]
async fn directory_over_a_declared_table_passes_the_check() {
    let schema = Schema::builder()
        .system("tenants")
        .columns(SqlDirectory::COLUMNS);
    directory(pool(schema).await).check().unwrap();
}

/// The error events logged on this thread while it is the default.
#[derive(Clone, Default)]
struct Errors(Arc<Mutex<Vec<String>>>);

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl Subscriber for Errors {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() == Level::ERROR
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut message = Message(String::new());
        event.record(&mut message);
        self.0.lock().unwrap().push(message.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

async fn uses_tx(_tx: Tx) -> &'static str {
    "ok"
}

#[tokio::test]
async fn tx_without_its_layer_is_a_logged_500_naming_the_layer() {
    let errors = Errors::default();
    let _default = tracing::subscriber::set_default(errors.clone());
    let w = World::new();
    // The mistake: no `TxLayer` inside the tenancy layer.
    let app = Router::new()
        .route("/notes", get(uses_tx))
        .layer(w.layer.clone());
    let token = w.token(1, RoleName::member());
    let r = send(
        &app,
        request("GET", "/notes", Some(&token))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 500, "{}", r.text);
    // The client learns nothing of the wiring; the log says what to fix.
    assert!(!r.text.contains("TxLayer"), "{}", r.text);
    let logged = errors.0.lock().unwrap().clone();
    assert_eq!(logged, [TxRejection::MissingTxLayer.to_string()]);
    assert!(logged[0].contains("TxLayer::new(pool)"), "{logged:?}");
}

#[tokio::test]
async fn tx_without_the_tenancy_layer_is_a_logged_500_naming_it() {
    let errors = Errors::default();
    let _default = tracing::subscriber::set_default(errors.clone());
    let app = Router::new().route("/notes", get(uses_tx));
    let r = send(
        &app,
        request("GET", "/notes", None).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(r.status, 500, "{}", r.text);
    let logged = errors.0.lock().unwrap().clone();
    assert_eq!(logged, [TxRejection::MissingLayer.to_string()]);
    assert!(logged[0].contains("TenancyLayer"), "{logged:?}");
}
