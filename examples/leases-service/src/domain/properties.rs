//! `/properties`: a tenant's buildings and units.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use sea_query::Value;
use serde::Serialize;
use tenancy_axum::input::{Fields, FromFields, PathId, Valid, text};
use tenancy_axum::{Require, ScopedJson, Tenant};
use tenancy_core::Scoped;
use tenancy_sql::DbRow;
use tenancy_sql::{Delete, Insert, Select, TenantTx, Update, col};

use super::audit::{self, Entry};
use super::id::Id;
use crate::http::page::{Page, PageRequest, read_newest_first};
use crate::http::permissions::{PropertiesRead, PropertiesWrite};
use crate::http::{ApiError, AppState};
use crate::infra::clock;

/// A property, as the API shows it (no tenant id).
#[derive(Debug, Serialize)]
pub struct Property {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its address.
    pub address: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
}

const COLUMNS: [&str; 6] = ["seq", "id", "name", "address", "created_at", "updated_at"];

fn from_row(row: &DbRow) -> tenancy_sql::Result<(i64, Property)> {
    Ok((
        row.try_get("seq")?,
        Property {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            address: row.try_get("address")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        },
    ))
}

/// This tenant's property `id`, if it has one.
pub async fn fetch(tx: &mut TenantTx, id: &str) -> tenancy_sql::Result<Option<Property>> {
    let row = tx
        .fetch_optional(
            Select::from("properties")
                .columns(COLUMNS)
                .filter(col("properties", "id").eq(id)),
        )
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?.map(|(_, p)| p))
}

/// `POST /properties` body.
#[derive(Debug)]
pub(crate) struct NewProperty {
    name: String,
    address: String,
}

impl FromFields for NewProperty {
    fn from_fields(body: &mut Fields) -> Option<Self> {
        let name = body.required("name", text(200));
        let address = body.required("address", text(500));
        Some(NewProperty {
            name: name?,
            address: address?,
        })
    }
}

/// `PATCH /properties/{id}` body: the fields to change.
#[derive(Debug)]
pub(crate) struct PropertyPatch {
    name: Option<String>,
    address: Option<String>,
}

impl FromFields for PropertyPatch {
    fn from_fields(body: &mut Fields) -> Option<Self> {
        let name = body.optional("name", text(200));
        let address = body.optional("address", text(500));
        Some(PropertyPatch {
            name: name?,
            address: address?,
        })
    }
}

/// `GET /properties` (needs `properties:read`), newest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
    _: Require<PropertiesRead>,
    page: PageRequest,
) -> Result<ScopedJson<Page<Property>>, ApiError> {
    read_newest_first(&state.db, &tenant, "properties", &COLUMNS, page, from_row).await
}

/// The INSERT of a new `property`, with the next `seq`.
pub(crate) fn insert(property: &Property) -> Insert {
    Insert::into("properties").columns(COLUMNS).values([
        Value::from(clock::next_seq()),
        property.id.clone().into(),
        property.name.clone().into(),
        property.address.clone().into(),
        property.created_at.clone().into(),
        property.updated_at.clone().into(),
    ])
}

/// `POST /properties` (needs `properties:write`) → 201.
pub(crate) async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    _: Require<PropertiesWrite>,
    Valid(body): Valid<NewProperty>,
) -> Result<(StatusCode, Json<Property>), ApiError> {
    let now = clock::now();
    let property = Property {
        id: clock::new_id()?,
        name: body.name,
        address: body.address,
        created_at: now.clone(),
        updated_at: now,
    };
    let mut tx = state.db.tenant(&tenant).await?;
    tx.execute(insert(&property)).await?;
    let entry = Entry::by(&tenant, "property.create", "property", &property.id);
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(property)))
}

/// `GET /properties/{id}` (needs `properties:read`).
pub(crate) async fn get(
    State(state): State<AppState>,
    tenant: Tenant,
    _: Require<PropertiesRead>,
    PathId(Id(id)): PathId<Id>,
) -> Result<ScopedJson<Property>, ApiError> {
    let mut tx = state.db.tenant(&tenant).await?;
    let property = fetch(&mut tx, &id).await?.ok_or(ApiError::NotFound)?;
    let owner = tx.tenant();
    tx.commit().await?;
    Ok(ScopedJson::new(
        &tenant,
        Scoped::restore(&tenant, owner, property)?,
    ))
}

/// `PATCH /properties/{id}` (needs `properties:write`).
pub(crate) async fn update(
    State(state): State<AppState>,
    tenant: Tenant,
    _: Require<PropertiesWrite>,
    PathId(Id(id)): PathId<Id>,
    Valid(patch): Valid<PropertyPatch>,
) -> Result<Json<Property>, ApiError> {
    let mut tx = state.db.tenant(&tenant).await?;
    let mut change = Update::table("properties").set("updated_at", Value::from(clock::now()));
    if let Some(name) = &patch.name {
        change = change.set("name", Value::from(name.clone()));
    }
    if let Some(address) = &patch.address {
        change = change.set("address", Value::from(address.clone()));
    }
    let changed = tx
        .execute(change.filter(col("properties", "id").eq(id.as_str())))
        .await?;
    if changed == 0 {
        return Err(ApiError::NotFound);
    }
    let property = fetch(&mut tx, &id).await?.ok_or(ApiError::NotFound)?;
    audit::record(
        &mut tx,
        Entry::by(&tenant, "property.update", "property", &id),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(property))
}

/// `DELETE /properties/{id}` (needs `properties:write`) → 204; 409 while leases
/// name it.
pub(crate) async fn delete(
    State(state): State<AppState>,
    tenant: Tenant,
    _: Require<PropertiesWrite>,
    PathId(Id(id)): PathId<Id>,
) -> Result<StatusCode, ApiError> {
    let mut tx = state.db.tenant(&tenant).await?;
    let leased = tx
        .fetch_optional(
            Select::from("leases")
                .column("id")
                .filter(col("leases", "property_id").eq(id.as_str()))
                .limit(1),
        )
        .await?
        .is_some();
    if leased {
        return Err(ApiError::Conflict("leases still name this property".into()));
    }
    let deleted = tx
        .execute(Delete::from("properties").filter(col("properties", "id").eq(id.as_str())))
        .await?;
    if deleted == 0 {
        return Err(ApiError::NotFound);
    }
    audit::record(
        &mut tx,
        Entry::by(&tenant, "property.delete", "property", &id),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
