//! `/leases`: who rents which property, when, for how much.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use sea_query::Value;
use serde::Serialize;
use tenancy_core::Scoped;
use tenancy_sql::DbRow;
use tenancy_sql::{Delete, Insert, Select, TenantTx, Update, col};

use tenancy_axum::input::{Fields, FromFields, PathId, Valid, integer, text};
use tenancy_axum::{Require, ScopedJson, Tenant};

use super::audit::{self, Entry};
use super::id::{Id, id as resource_id};
use crate::http::page::{Page, PageRequest, read_newest_first};
use crate::http::permissions::{LeasesRead, LeasesWrite};
use crate::http::{ApiError, AppState};
use crate::infra::clock;
use crate::infra::jobs::ReminderJob;

/// A lease, as the API shows it (no tenant id).
#[derive(Debug, Serialize)]
pub struct Lease {
    /// Its id.
    pub id: String,
    /// The leased property (of the same tenant, always).
    pub property_id: String,
    /// Who rents.
    pub lessee: String,
    /// First day (`YYYY-MM-DD`).
    pub start_date: String,
    /// Last day (`YYYY-MM-DD`), after the first.
    pub end_date: String,
    /// Rent per month in cents.
    pub rent_cents: i64,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
}

const COLUMNS: [&str; 9] = [
    "seq",
    "id",
    "property_id",
    "lessee",
    "start_date",
    "end_date",
    "rent_cents",
    "created_at",
    "updated_at",
];

fn from_row(row: &DbRow) -> tenancy_sql::Result<(i64, Lease)> {
    Ok((
        row.try_get("seq")?,
        Lease {
            id: row.try_get("id")?,
            property_id: row.try_get("property_id")?,
            lessee: row.try_get("lessee")?,
            start_date: row.try_get("start_date")?,
            end_date: row.try_get("end_date")?,
            rent_cents: row.try_get("rent_cents")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        },
    ))
}

/// A date `YYYY-MM-DD`.
fn date(value: &serde_json::Value) -> Result<String, String> {
    match value.as_str() {
        Some(text) if clock::is_date(text) => Ok(text.to_owned()),
        _ => Err("must be a date `YYYY-MM-DD`".into()),
    }
}

/// `POST /leases` body.
#[derive(Debug)]
pub(crate) struct NewLease {
    property_id: String,
    lessee: String,
    start_date: String,
    end_date: String,
    rent_cents: i64,
}

impl FromFields for NewLease {
    fn from_fields(body: &mut Fields) -> Option<Self> {
        let property_id = body.required("property_id", resource_id);
        let lessee = body.required("lessee", text(200));
        let start_date = body.required("start_date", date);
        let end_date = body.required("end_date", date);
        let rent_cents = body.required("rent_cents", integer(0, MAX_RENT_CENTS));
        if let (Some(start), Some(end)) = (&start_date, &end_date) {
            body.check(end > start, "end_date", "must be after `start_date`");
        }
        Some(NewLease {
            property_id: property_id?,
            lessee: lessee?,
            start_date: start_date?,
            end_date: end_date?,
            rent_cents: rent_cents?,
        })
    }
}

/// `PATCH /leases/{id}` body: the fields to change.
#[derive(Debug, Default)]
pub(crate) struct LeasePatch {
    property_id: Option<String>,
    lessee: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    rent_cents: Option<i64>,
}

impl FromFields for LeasePatch {
    fn from_fields(body: &mut Fields) -> Option<Self> {
        let property_id = body.optional("property_id", resource_id);
        let lessee = body.optional("lessee", text(200));
        let start_date = body.optional("start_date", date);
        let end_date = body.optional("end_date", date);
        let rent_cents = body.optional("rent_cents", integer(0, MAX_RENT_CENTS));
        Some(LeasePatch {
            property_id: property_id?,
            lessee: lessee?,
            start_date: start_date?,
            end_date: end_date?,
            rent_cents: rent_cents?,
        })
    }
}

/// The largest rent accepted, in cents (a sanity bound, not a business rule).
const MAX_RENT_CENTS: i64 = 1_000_000_000_000;

/// The checks across fields of a merged lease (each field was checked on
/// its own when read).
fn check_fields(lease: &NewLease) -> Result<(), ApiError> {
    // ISO dates order as text.
    if lease.end_date > lease.start_date {
        Ok(())
    } else {
        Err(ApiError::field("end_date", "must be after `start_date`"))
    }
}

/// Whether the property exists in the transaction's tenant: a property of
/// another tenant does not, exactly like one that never existed.
/// (`tenancy-sql` checks the reference again on write, and the composite
/// foreign key a third time.)
pub async fn property_exists(tx: &mut TenantTx, property_id: &str) -> tenancy_sql::Result<bool> {
    let row = tx
        .fetch_optional(
            Select::from("properties")
                .column("id")
                .filter(col("properties", "id").eq(property_id)),
        )
        .await?;
    Ok(row.is_some())
}

/// 404 unless the property exists in the transaction's tenant.
async fn require_property(tx: &mut TenantTx, property_id: &str) -> Result<(), ApiError> {
    if property_exists(tx, property_id).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// This tenant's lease `id`, if it has one.
pub async fn fetch(tx: &mut TenantTx, id: &str) -> tenancy_sql::Result<Option<Lease>> {
    let row = tx
        .fetch_optional(
            Select::from("leases")
                .columns(COLUMNS)
                .filter(col("leases", "id").eq(id)),
        )
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?.map(|(_, l)| l))
}

fn values(seq: Option<i64>, lease: &Lease) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    if let Some(seq) = seq {
        out.push(("seq", Value::from(seq)));
        out.push(("id", lease.id.clone().into()));
        out.push(("created_at", lease.created_at.clone().into()));
    }
    out.extend([
        ("property_id", lease.property_id.clone().into()),
        ("lessee", lease.lessee.clone().into()),
        ("start_date", lease.start_date.clone().into()),
        ("end_date", lease.end_date.clone().into()),
        ("rent_cents", lease.rent_cents.into()),
        ("updated_at", lease.updated_at.clone().into()),
    ]);
    out
}

/// The INSERT of a new `lease`, with the next `seq`.
pub(crate) fn insert(lease: &Lease) -> Insert {
    let (columns, row): (Vec<_>, Vec<_>) =
        values(Some(clock::next_seq()), lease).into_iter().unzip();
    Insert::into("leases").columns(columns).values(row)
}

/// `GET /leases` (needs `leases:read`), newest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
    _: Require<LeasesRead>,
    page: PageRequest,
) -> Result<ScopedJson<Page<Lease>>, ApiError> {
    read_newest_first(&state.db, &tenant, "leases", &COLUMNS, page, from_row).await
}

/// `POST /leases` (needs `leases:write`) → 201; 404 when `property_id` is not a
/// property of this tenant.
pub(crate) async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    _: Require<LeasesWrite>,
    Valid(body): Valid<NewLease>,
) -> Result<(StatusCode, Json<Lease>), ApiError> {
    let ctx = tenant.into_context();
    let mut tx = state.db.tenant(&ctx).await?;
    require_property(&mut tx, &body.property_id).await?;
    let now = clock::now();
    let lease = Lease {
        id: clock::new_id()?,
        property_id: body.property_id,
        lessee: body.lessee,
        start_date: body.start_date,
        end_date: body.end_date,
        rent_cents: body.rent_cents,
        created_at: now.clone(),
        updated_at: now,
    };
    tx.execute(insert(&lease)).await?;
    audit::record(&mut tx, Entry::by(&ctx, "lease.create", "lease", &lease.id)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(lease)))
}

/// `GET /leases/{id}` (needs `leases:read`).
pub(crate) async fn get(
    State(state): State<AppState>,
    tenant: Tenant,
    _: Require<LeasesRead>,
    PathId(Id(id)): PathId<Id>,
) -> Result<ScopedJson<Lease>, ApiError> {
    let ctx = tenant.into_context();
    let mut tx = state.db.tenant(&ctx).await?;
    let lease = fetch(&mut tx, &id).await?.ok_or(ApiError::NotFound)?;
    let owner = tx.tenant();
    tx.commit().await?;
    Ok(ScopedJson::new(&ctx, Scoped::restore(&ctx, owner, lease)?))
}

/// `PATCH /leases/{id}` (needs `leases:write`): the merged lease must be valid, and
/// a new `property_id` must be this tenant's.
pub(crate) async fn update(
    State(state): State<AppState>,
    tenant: Tenant,
    _: Require<LeasesWrite>,
    PathId(Id(id)): PathId<Id>,
    Valid(patch): Valid<LeasePatch>,
) -> Result<Json<Lease>, ApiError> {
    let ctx = tenant.into_context();
    let mut tx = state.db.tenant(&ctx).await?;
    let current = fetch(&mut tx, &id).await?.ok_or(ApiError::NotFound)?;
    let merged = NewLease {
        property_id: patch.property_id.unwrap_or(current.property_id.clone()),
        lessee: patch.lessee.unwrap_or(current.lessee.clone()),
        start_date: patch.start_date.unwrap_or(current.start_date.clone()),
        end_date: patch.end_date.unwrap_or(current.end_date.clone()),
        rent_cents: patch.rent_cents.unwrap_or(current.rent_cents),
    };
    check_fields(&merged)?;
    require_property(&mut tx, &merged.property_id).await?;
    let lease = Lease {
        property_id: merged.property_id,
        lessee: merged.lessee,
        start_date: merged.start_date,
        end_date: merged.end_date,
        rent_cents: merged.rent_cents,
        updated_at: clock::now(),
        ..current
    };
    let mut change = Update::table("leases");
    for (column, value) in values(None, &lease) {
        change = change.set(column, value);
    }
    tx.execute(change.filter(col("leases", "id").eq(id.as_str())))
        .await?;
    audit::record(&mut tx, Entry::by(&ctx, "lease.update", "lease", &id)).await?;
    tx.commit().await?;
    Ok(Json(lease))
}

/// `DELETE /leases/{id}` (needs `leases:write`) → 204.
pub(crate) async fn delete(
    State(state): State<AppState>,
    tenant: Tenant,
    _: Require<LeasesWrite>,
    PathId(Id(id)): PathId<Id>,
) -> Result<StatusCode, ApiError> {
    let ctx = tenant.into_context();
    let mut tx = state.db.tenant(&ctx).await?;
    let deleted = tx
        .execute(Delete::from("leases").filter(col("leases", "id").eq(id.as_str())))
        .await?;
    if deleted == 0 {
        return Err(ApiError::NotFound);
    }
    audit::record(&mut tx, Entry::by(&ctx, "lease.delete", "lease", &id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The answer to an enqueued reminder.
#[derive(Debug, Serialize)]
pub(crate) struct Queued {
    /// The job's id.
    pub(crate) id: String,
    /// Always `queued`.
    pub(crate) status: &'static str,
}

/// `POST /leases/{id}/reminders` (needs `leases:write`) → 202: enqueues a reminder
/// job as a `Scoped` envelope bound to this tenant.
pub(crate) async fn remind(
    State(state): State<AppState>,
    tenant: Tenant,
    _: Require<LeasesWrite>,
    PathId(Id(id)): PathId<Id>,
    _: Option<Valid<()>>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let ctx = tenant.into_context();
    let mut tx = state.db.tenant(&ctx).await?;
    fetch(&mut tx, &id).await?.ok_or(ApiError::NotFound)?;
    let job = ReminderJob {
        id: clock::new_id()?,
        lease_id: id.clone(),
        requested_by: ctx.subject(),
    };
    audit::record(
        &mut tx,
        Entry::by(&ctx, "lease.reminder.queue", "lease", &id),
    )
    .await?;
    tx.commit().await?;
    let job_id = job.id.clone();
    state.jobs.enqueue(Scoped::new(&ctx, job)?)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Queued {
            id: job_id,
            status: "queued",
        }),
    ))
}
