//! Tenants as records: creating, listing, suspending and activating them
//! (the operator's routes), and reading them for the service itself. The
//! tenancy layer reads the same table through the SDK's `SqlDirectory`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use sea_query::Value;
use serde::Serialize;
use tenancy_axum::input::{Fields, FromFields, PathId, Valid, string, text};
use tenancy_axum::{Require, SystemAdmin};
use tenancy_core::{
    PermissionSet, RoleName, SubjectId, TenantContext, TenantEvent, TenantId, TenantSlug,
    TenantStatus,
};
use tenancy_sql::DbRow;
use tenancy_sql::{Insert, Order, Select, Update, column};

use super::plans::{PlanName, plan};
use crate::domain::audit::{self, Actor, Entry};
use crate::http::page::{Page, PageRequest};
use crate::http::permissions::SystemTenants;
use crate::http::{ApiError, AppState};
use crate::infra::clock;
use crate::infra::db::{Db, SystemTx};

/// A tenant as stored.
#[derive(Debug, Clone)]
pub(crate) struct TenantRow {
    /// Its id.
    pub(crate) id: TenantId,
    /// Its slug.
    pub(crate) slug: String,
    /// Its display name.
    pub(crate) name: String,
    /// Its plan.
    pub(crate) plan: PlanName,
    /// Where it is in its life.
    pub(crate) status: TenantStatus,
    seq: i64,
}

/// A tenant as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TenantView {
    id: String,
    slug: String,
    name: String,
    plan: PlanName,
    status: TenantStatus,
}

impl From<&TenantRow> for TenantView {
    fn from(t: &TenantRow) -> Self {
        TenantView {
            id: t.id.to_string(),
            slug: t.slug.clone(),
            name: t.name.clone(),
            plan: t.plan,
            status: t.status,
        }
    }
}

fn from_row(row: &DbRow) -> tenancy_sql::Result<TenantRow> {
    let bad = |what: &str| {
        tenancy_sql::Error::Database(sqlx::Error::Decode(format!("bad tenant {what}").into()))
    };
    Ok(TenantRow {
        id: TenantId::parse(&row.try_get::<String, _>("id")?).map_err(|_| bad("id"))?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        plan: PlanName::parse(&row.try_get::<String, _>("plan")?).ok_or_else(|| bad("plan"))?,
        status: row
            .try_get::<String, _>("status")?
            .parse()
            .map_err(|_| bad("status"))?,
        seq: row.try_get("seq")?,
    })
}

const COLUMNS: [&str; 6] = ["seq", "id", "slug", "name", "plan", "status"];

/// `SELECT <tenant columns> FROM tenants`, for the audited escape hatch.
fn select_tenants() -> Select {
    Select::from("tenants").columns(COLUMNS)
}

/// The tenant whose `column` equals `value`, read through the escape hatch
/// (locked until `sys` ends when `lock` is set).
async fn find_in(
    sys: &mut SystemTx,
    column_name: &str,
    value: String,
    lock: bool,
) -> tenancy_sql::Result<Option<TenantRow>> {
    let mut select = select_tenants().filter(column(column_name).eq(value));
    if lock {
        select = select.for_update();
    }
    let rows = sys.fetch_all(select).await?;
    rows.first().map(from_row).transpose()
}

/// A tenant's status, read fresh from the database.
pub(crate) async fn status(db: &Db, id: TenantId) -> Result<Option<TenantStatus>, ApiError> {
    let mut sys = db.platform("check a tenant's status").await?;
    let rows = sys
        .fetch_all(
            Select::from("tenants")
                .column("status")
                .filter(column("id").eq(id.to_string())),
        )
        .await?;
    sys.commit().await?;
    Ok(match rows.first() {
        Some(row) => row.try_get::<String, _>("status")?.parse().ok(),
        None => None,
    })
}

/// The tenant's row with this slug, if any.
pub(crate) async fn by_slug(db: &Db, slug: &str) -> tenancy_sql::Result<Option<TenantRow>> {
    let mut sys = db.platform("look up a tenant by slug").await?;
    let row = find_in(&mut sys, "slug", slug.to_owned(), false).await?;
    sys.commit().await?;
    Ok(row)
}

/// The body field reader for a slug.
pub(crate) fn slug(value: &serde_json::Value) -> Result<TenantSlug, String> {
    TenantSlug::parse(&string(value)?).map_err(|e| e.to_string())
}

/// `POST /system/tenants {slug, name, plan}` body.
#[derive(Debug)]
pub(crate) struct NewTenant {
    slug: TenantSlug,
    name: String,
    plan: PlanName,
}

impl FromFields for NewTenant {
    fn from_fields(body: &mut Fields) -> Option<Self> {
        let slug = body.required("slug", slug);
        let name = body.required("name", text(200));
        let plan = body.required("plan", plan);
        Some(NewTenant {
            slug: slug?,
            name: name?,
            plan: plan?,
        })
    }
}

/// A fresh tenant id.
pub(crate) fn new_tenant_id() -> Result<TenantId, ApiError> {
    Ok(TenantId::from_random_bytes(clock::random_bytes()?))
}

/// Inserts an active tenant with id `id` in `sys` (platform metadata). 409
/// when the slug is taken; the caller must not commit `sys` after an error.
pub(crate) async fn insert(
    sys: &mut SystemTx,
    id: TenantId,
    slug: &TenantSlug,
    name: &str,
    plan: PlanName,
) -> Result<TenantRow, ApiError> {
    let taken = || ApiError::Conflict(format!("the slug `{slug}` is taken"));
    if find_in(sys, "slug", slug.as_str().to_owned(), false)
        .await?
        .is_some()
    {
        return Err(taken());
    }
    let row = TenantRow {
        id,
        slug: slug.as_str().to_owned(),
        name: name.trim().to_owned(),
        plan,
        status: TenantStatus::Active,
        seq: clock::next_seq(),
    };
    let insert = Insert::into("tenants")
        .columns(["id", "seq", "slug", "name", "plan", "status", "created_at"])
        .values([
            Value::from(row.id.to_string()),
            row.seq.into(),
            row.slug.clone().into(),
            row.name.clone().into(),
            plan.as_str().into(),
            row.status.as_str().into(),
            clock::now().into(),
        ]);
    match sys.execute(insert).await {
        Ok(_) => Ok(row),
        // A concurrent insert took the slug between the check and the write.
        Err(tenancy_sql::Error::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {
            Err(taken())
        }
        Err(e) => Err(e.into()),
    }
}

/// Records a lifecycle event in the tenant's own log, as `actor` (the
/// platform, for an operator: a tenant's log never shows an operator's id).
pub(crate) async fn record_in_tenant(
    state: &AppState,
    tenant: TenantId,
    actor: Actor,
    action: &str,
) -> Result<(), ApiError> {
    let subject = match actor {
        Actor::Subject(subject) => subject,
        Actor::Platform | Actor::Unknown => SubjectId::from_u128(0),
    };
    let ctx = TenantContext::tenant(tenant, subject, RoleName::admin(), PermissionSet::empty());
    let mut tx = state.db.tenant(&ctx).await?;
    let id = tenant.to_string();
    let entry = Entry {
        subject: actor,
        action,
        resource: Some(("tenant", &id)),
        outcome: tenancy_core::Outcome::Allowed,
    };
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Creates a tenant as `operator` (the demo and `POST /system/tenants`).
pub(crate) async fn create_tenant(
    state: &AppState,
    operator: &TenantContext,
    slug: &TenantSlug,
    name: &str,
    plan: PlanName,
) -> Result<TenantRow, ApiError> {
    let mut sys = state.db.system(operator, "create a tenant").await?;
    let row = insert(&mut sys, new_tenant_id()?, slug, name, plan).await?;
    sys.commit().await?;
    record_in_tenant(state, row.id, Actor::of(operator), "tenant.create").await?;
    Ok(row)
}

/// `POST /system/tenants {slug, name, plan}` → 201.
pub(crate) async fn create(
    State(state): State<AppState>,
    operator: SystemAdmin,
    _: Require<SystemTenants>,
    Valid(body): Valid<NewTenant>,
) -> Result<(StatusCode, Json<TenantView>), ApiError> {
    let record = create_tenant(&state, &operator, &body.slug, &body.name, body.plan).await?;
    Ok((StatusCode::CREATED, Json(TenantView::from(&record))))
}

/// `GET /system/tenants`: every tenant, newest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    operator: SystemAdmin,
    _: Require<SystemTenants>,
    page: PageRequest,
) -> Result<Json<Page<TenantView>>, ApiError> {
    let mut sys = state.db.system(&operator, "list tenants").await?;
    let rows = sys
        .fetch_all(
            select_tenants()
                .filter(column("seq").lt(page.before))
                .order_by(column("seq"), Order::Desc)
                .limit(page.fetch()),
        )
        .await?;
    sys.commit().await?;
    let rows = rows
        .iter()
        .map(|row| from_row(row).map(|t| (t.seq, TenantView::from(&t))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(Page::from_rows(page, rows)))
}

/// `a` or `an`, for the status's name.
pub(crate) fn article(status: TenantStatus) -> &'static str {
    match status.as_str().chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

/// Loads tenant `id` and locks its row until `sys` ends.
pub(crate) async fn lock_tenant(sys: &mut SystemTx, id: TenantId) -> Result<TenantRow, ApiError> {
    find_in(sys, "id", id.to_string(), true)
        .await?
        // A `deleted` tenant still exists (its record and slug stay), so
        // acting on it is a conflict with its state, not "not found".
        .ok_or(ApiError::Absent("no such tenant"))
}

/// Sets tenant `id`'s status.
pub(crate) fn set_status(id: TenantId, status: TenantStatus) -> Update {
    Update::table("tenants")
        .set("status", status.as_str())
        .filter(column("id").eq(id.to_string()))
}

/// Moves a tenant through `event`, recording it in its log.
async fn transition(
    state: &AppState,
    operator: &TenantContext,
    id: TenantId,
    event: TenantEvent,
) -> Result<TenantRow, ApiError> {
    let action = format!("tenant.{}", event.as_str());
    let mut sys = state.db.system(operator, &action).await?;
    let mut record = lock_tenant(&mut sys, id).await?;
    let next = record.status.apply(event).map_err(|_| {
        ApiError::Conflict(format!(
            "{} {} tenant cannot {}",
            article(record.status),
            record.status,
            event.as_str()
        ))
    })?;
    sys.execute(&set_status(id, next)).await?;
    sys.commit().await?;
    state.tenants.invalidate(id);
    record_in_tenant(state, id, Actor::of(operator), &action).await?;
    record.status = next;
    Ok(record)
}

/// `POST /system/tenants/{id}/suspend`.
pub(crate) async fn suspend(
    State(state): State<AppState>,
    operator: SystemAdmin,
    _: Require<SystemTenants>,
    PathId(id): PathId<TenantId>,
) -> Result<Json<TenantView>, ApiError> {
    let record = transition(&state, &operator, id, TenantEvent::Suspend).await?;
    Ok(Json(TenantView::from(&record)))
}

/// `POST /system/tenants/{id}/activate`.
pub(crate) async fn activate(
    State(state): State<AppState>,
    operator: SystemAdmin,
    _: Require<SystemTenants>,
    PathId(id): PathId<TenantId>,
) -> Result<Json<TenantView>, ApiError> {
    let record = transition(&state, &operator, id, TenantEvent::Activate).await?;
    Ok(Json(TenantView::from(&record)))
}
