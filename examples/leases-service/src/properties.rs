//! `/properties`: a tenant's buildings and units.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{self, Entry};
use crate::input::{Checks, JsonBody};
use crate::page::{Page, PageRequest};
use crate::permissions::*;
use crate::problem::ApiError;
use crate::state::AppState;
use tenancy_axum::{Require, Tenant};

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

const COLUMNS: &str = "seq, id, name, address, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<(i64, Property), sqlx::Error> {
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

/// `POST /properties` body.
#[derive(Debug, Deserialize)]
pub struct NewProperty {
    name: String,
    address: String,
}

/// `PATCH /properties/{id}` body: the fields to change.
#[derive(Debug, Deserialize)]
pub struct PropertyPatch {
    name: Option<String>,
    address: Option<String>,
}

/// `GET /properties` [properties:read], newest first.
pub async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
    _: Require<PropertiesRead>,
    page: PageRequest,
) -> Result<Json<Page<Property>>, ApiError> {
    let ctx = tenant.into_context();
    let mut tx = state.db.tenant(&ctx).await?;
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM properties WHERE tenant_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
    ))
    .bind(tx.tenant_param())
    .bind(page.before)
    .bind(page.limit + 1)
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    let rows = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(Page::from_rows(page, rows)))
}

/// `POST /properties` [properties:write] → 201.
pub async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    _: Require<PropertiesWrite>,
    JsonBody(body): JsonBody<NewProperty>,
) -> Result<(StatusCode, Json<Property>), ApiError> {
    let ctx = tenant.into_context();
    Checks::default()
        .text("name", &body.name, 200)
        .text("address", &body.address, 500)
        .finish()?;
    let id = crate::clock::new_id()?;
    let now = crate::clock::now();
    let mut tx = state.db.tenant_write(&ctx).await?;
    let row = sqlx::query(&format!(
        "INSERT INTO properties (tenant_id, id, name, address, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING {COLUMNS}"
    ))
    .bind(tx.tenant_param())
    .bind(&id)
    .bind(body.name.trim())
    .bind(body.address.trim())
    .bind(&now)
    .fetch_one(tx.conn())
    .await?;
    audit::record(&mut tx, Entry::by(&ctx, "property.create", "property", &id)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(from_row(&row)?.1)))
}

/// `GET /properties/{id}` [properties:read].
pub async fn get(
    State(state): State<AppState>,
    tenant: Tenant,
    _: Require<PropertiesRead>,
    Path(id): Path<String>,
) -> Result<Json<Property>, ApiError> {
    let ctx = tenant.into_context();
    let mut tx = state.db.tenant(&ctx).await?;
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM properties WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tx.tenant_param())
    .bind(&id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(Json(from_row(&row)?.1))
}

/// `PATCH /properties/{id}` [properties:write].
pub async fn update(
    State(state): State<AppState>,
    tenant: Tenant,
    _: Require<PropertiesWrite>,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<PropertyPatch>,
) -> Result<Json<Property>, ApiError> {
    let ctx = tenant.into_context();
    let mut checks = Checks::default();
    if let Some(name) = &patch.name {
        checks.text("name", name, 200);
    }
    if let Some(address) = &patch.address {
        checks.text("address", address, 500);
    }
    checks.finish()?;
    let mut tx = state.db.tenant_write(&ctx).await?;
    let row = sqlx::query(&format!(
        "UPDATE properties SET name = COALESCE($3, name), address = COALESCE($4, address), updated_at = $5 \
         WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"
    ))
    .bind(tx.tenant_param())
    .bind(&id)
    .bind(patch.name.as_deref().map(str::trim))
    .bind(patch.address.as_deref().map(str::trim))
    .bind(crate::clock::now())
    .fetch_optional(tx.conn())
    .await?
    .ok_or(ApiError::NotFound)?;
    audit::record(&mut tx, Entry::by(&ctx, "property.update", "property", &id)).await?;
    tx.commit().await?;
    Ok(Json(from_row(&row)?.1))
}

/// `DELETE /properties/{id}` [properties:write] → 204; 409 while leases
/// name it.
pub async fn delete(
    State(state): State<AppState>,
    tenant: Tenant,
    _: Require<PropertiesWrite>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let ctx = tenant.into_context();
    let mut tx = state.db.tenant_write(&ctx).await?;
    let leased = sqlx::query(
        "SELECT 1 AS one FROM leases WHERE tenant_id = $1 AND property_id = $2 LIMIT 1",
    )
    .bind(tx.tenant_param())
    .bind(&id)
    .fetch_optional(tx.conn())
    .await?
    .is_some();
    if leased {
        return Err(ApiError::Conflict("leases still name this property".into()));
    }
    let deleted = sqlx::query("DELETE FROM properties WHERE tenant_id = $1 AND id = $2")
        .bind(tx.tenant_param())
        .bind(&id)
        .execute(tx.conn())
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(ApiError::NotFound);
    }
    audit::record(&mut tx, Entry::by(&ctx, "property.delete", "property", &id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
