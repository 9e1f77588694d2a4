//! Tenants: plans, the directory the tenancy layer consults, and the platform
//! operator's routes (create, list, suspend, activate, decommission, redeem
//! codes) plus the public `POST /auth/redeem`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use sea_query::Value;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use tenancy_axum::{Require, SystemAdmin, TenantDirectory, TenantRecord as DirectoryRecord};
use tenancy_core::{
    AuditEvent, AuditSink, Entitlements, PermissionSet, Plan, PlanOverrides, RateQuota, RoleName,
    SubjectId, TenantContext, TenantEvent, TenantId, TenantSlug, TenantStatus,
};
use tenancy_sql::{Delete, Insert, Order, Select, Update, column};

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, SystemTx};
use crate::input::{Fields, FromJson, JsonBody, PathText, string, text};
use crate::page::{Page, PageRequest};
use crate::permissions::SystemTenants;
use crate::problem::ApiError;
use crate::state::AppState;

/// The plans a tenant can be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlanName {
    /// 10 requests/s, burst 20, 4 concurrent.
    Free,
    /// 100 requests/s, burst 200, 32 concurrent.
    Pro,
}

impl PlanName {
    /// `free` or `pro`.
    pub fn as_str(self) -> &'static str {
        match self {
            PlanName::Free => "free",
            PlanName::Pro => "pro",
        }
    }

    /// Reads `free` or `pro`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "free" => Some(PlanName::Free),
            "pro" => Some(PlanName::Pro),
            _ => None,
        }
    }

    /// The plan's limits.
    pub fn plan(self) -> Plan {
        match self {
            PlanName::Free => Plan::new("free", RateQuota::per_second(10, 20), 4),
            PlanName::Pro => Plan::new("pro", RateQuota::per_second(100, 200), 32),
        }
    }

    /// What a tenant on this plan gets (no per-tenant overrides here).
    pub fn entitlements(self) -> Entitlements {
        self.plan().entitlements(&PlanOverrides::default())
    }
}

/// A tenant as stored.
#[derive(Debug, Clone)]
pub struct TenantRow {
    /// Its id.
    pub id: TenantId,
    /// Its slug.
    pub slug: String,
    /// Its display name.
    pub name: String,
    /// Its plan.
    pub plan: PlanName,
    /// Where it is in its life.
    pub status: TenantStatus,
    seq: i64,
}

/// A tenant as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TenantView {
    /// Its id.
    pub id: String,
    /// Its slug.
    pub slug: String,
    /// Its display name.
    pub name: String,
    /// `free` or `pro`.
    pub plan: PlanName,
    /// `active`, `suspended`, `deleted`…
    pub status: TenantStatus,
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

fn from_row(row: &AnyRow) -> Result<TenantRow, sqlx::Error> {
    let bad = |what: &str| sqlx::Error::Decode(format!("bad tenant {what}").into());
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
) -> Result<Option<TenantRow>, tenancy_sql::Error> {
    let mut select = select_tenants().filter(column(column_name).eq(value));
    if lock {
        select = select.for_update();
    }
    let rows = sys.fetch_all(select).await?;
    Ok(rows.first().map(from_row).transpose()?)
}

/// The tenant whose `column` equals `value`, read by the service itself.
async fn find(db: &Db, column_name: &str, value: String) -> tenancy_sql::Result<Option<TenantRow>> {
    let mut sys = db
        .platform(&format!("look up a tenant by {column_name}"))
        .await?;
    let row = find_in(&mut sys, column_name, value, false).await?;
    sys.commit().await?;
    Ok(row)
}

/// The tenant directory the tenancy layer consults (through its cache):
/// status, plan (as entitlements) and the built-in roles, from `tenants`.
#[derive(Debug, Clone)]
pub struct SqlDirectory {
    db: Db,
}

impl SqlDirectory {
    /// A directory reading `db`.
    pub fn new(db: Db) -> Self {
        SqlDirectory { db }
    }

    async fn find(
        &self,
        column: &str,
        value: String,
    ) -> Result<Option<Arc<DirectoryRecord>>, tenancy_axum::Error> {
        let row = find(&self.db, column, value)
            .await
            .map_err(|e| tenancy_axum::Error::Directory(Box::new(e)))?;
        let Some(row) = row else { return Ok(None) };
        let slug = TenantSlug::parse(&row.slug)
            .map_err(|e| tenancy_axum::Error::Directory(Box::new(e)))?;
        Ok(Some(Arc::new(DirectoryRecord::new(
            row.id,
            slug,
            row.status,
            row.plan.entitlements(),
        ))))
    }
}

#[async_trait::async_trait]
impl TenantDirectory for SqlDirectory {
    async fn by_id(
        &self,
        id: TenantId,
    ) -> Result<Option<Arc<DirectoryRecord>>, tenancy_axum::Error> {
        self.find("id", id.to_string()).await
    }

    async fn by_slug(
        &self,
        slug: &TenantSlug,
    ) -> Result<Option<Arc<DirectoryRecord>>, tenancy_axum::Error> {
        self.find("slug", slug.as_str().to_owned()).await
    }
}

/// A tenant's status, read fresh from the database.
pub async fn status(db: &Db, id: TenantId) -> Result<Option<TenantStatus>, ApiError> {
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
pub async fn by_slug(db: &Db, slug: &str) -> tenancy_sql::Result<Option<TenantRow>> {
    find(db, "slug", slug.to_owned()).await
}

/// `POST /system/tenants {slug, name, plan}` body.
#[derive(Debug)]
pub struct NewTenant {
    slug: TenantSlug,
    name: String,
    plan: PlanName,
}

fn slug(value: &serde_json::Value) -> Result<TenantSlug, String> {
    TenantSlug::parse(&string(value)?).map_err(|e| e.to_string())
}

fn plan(value: &serde_json::Value) -> Result<PlanName, String> {
    value
        .as_str()
        .and_then(PlanName::parse)
        .ok_or_else(|| "must be `free` or `pro`".into())
}

impl FromJson for NewTenant {
    fn from_json(body: &mut Fields) -> Option<Self> {
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

/// Inserts an active tenant with id `id` in `sys` (platform metadata). 409
/// when the slug is taken; the caller must not commit `sys` after an error.
async fn insert(
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
        seq: crate::clock::next_seq(),
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
            crate::clock::now().into(),
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
async fn record_in_tenant(
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

fn new_tenant_id() -> Result<TenantId, ApiError> {
    Ok(TenantId::from_random_bytes(crate::clock::random_bytes()?))
}

/// Creates a tenant directly (used by the demo and `POST /system/tenants`).
pub async fn create(
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
pub async fn create_route(
    State(state): State<AppState>,
    operator: SystemAdmin,
    _: Require<SystemTenants>,
    JsonBody(body): JsonBody<NewTenant>,
) -> Result<(StatusCode, Json<TenantView>), ApiError> {
    let record = create(&state, &operator, &body.slug, &body.name, body.plan).await?;
    Ok((StatusCode::CREATED, Json(TenantView::from(&record))))
}

/// `GET /system/tenants`: every tenant, newest first.
pub async fn list_route(
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

const NO_SUCH_TENANT: &str = "no such tenant";

fn parse_id(text: &str) -> Result<TenantId, ApiError> {
    TenantId::parse(text).map_err(|_| ApiError::Absent(NO_SUCH_TENANT))
}

/// `a` or `an`, for the status's name.
fn article(status: TenantStatus) -> &'static str {
    match status.as_str().chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

/// Loads tenant `id` and locks its row until `sys` ends.
async fn lock_tenant(sys: &mut SystemTx, id: TenantId) -> Result<TenantRow, ApiError> {
    find_in(sys, "id", id.to_string(), true)
        .await?
        // A `deleted` tenant still exists (its record and slug stay), so
        // acting on it is a conflict with its state, not "not found".
        .ok_or(ApiError::Absent(NO_SUCH_TENANT))
}

/// Sets tenant `id`'s status.
fn set_status(id: TenantId, status: TenantStatus) -> Update {
    Update::table("tenants")
        .set("status", status.as_str())
        .filter(column("id").eq(id.to_string()))
}

/// Moves a tenant through `events`, recording each in its log.
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
pub async fn suspend_route(
    State(state): State<AppState>,
    operator: SystemAdmin,
    _: Require<SystemTenants>,
    PathText(id): PathText,
) -> Result<Json<TenantView>, ApiError> {
    let record = transition(&state, &operator, parse_id(&id)?, TenantEvent::Suspend).await?;
    Ok(Json(TenantView::from(&record)))
}

/// `POST /system/tenants/{id}/activate`.
pub async fn activate_route(
    State(state): State<AppState>,
    operator: SystemAdmin,
    _: Require<SystemTenants>,
    PathText(id): PathText,
) -> Result<Json<TenantView>, ApiError> {
    let record = transition(&state, &operator, parse_id(&id)?, TenantEvent::Activate).await?;
    Ok(Json(TenantView::from(&record)))
}

/// Decommissions a tenant: marks it, deletes all its data and leaves a
/// `deleted` record (its slug stays taken), in one transaction. Its tokens
/// stop working and its queued jobs are dropped.
pub async fn decommission(
    state: &AppState,
    operator: &TenantContext,
    id: TenantId,
) -> Result<(), ApiError> {
    // 1. Mark it: from here on its tokens and queued jobs are refused.
    let mut sys = state.db.system(operator, "decommission a tenant").await?;
    let record = lock_tenant(&mut sys, id).await?;
    let mut status = record.status;
    for event in [TenantEvent::Suspend, TenantEvent::Decommission] {
        if let Ok(next) = status.apply(event) {
            status = next;
        }
    }
    if status != TenantStatus::Decommissioning {
        return Err(ApiError::Conflict(format!(
            "{} {} tenant cannot be decommissioned",
            article(record.status),
            record.status
        )));
    }
    sys.execute(&set_status(id, status)).await?;
    sys.commit().await?;
    state.tenants.invalidate(id);
    // New requests and jobs of the tenant are refused from here on; let the
    // ones already in flight finish, so nothing they write outlives step 2.
    // A request counts until its response body is sent, so a client that
    // stops reading holds the drain up to its timeout.
    drain(state, id).await;

    // 2. Delete its data. The operator reaches it only by acting for the
    //    tenant, with a reason, which is audited.
    let acting = operator.act_for_tenant(id, "decommission the tenant", &OperatorLog)?;
    let mut tx = state.db.tenant(&acting).await?;
    for table in crate::db::schema::TENANT_TABLES {
        tx.execute(Delete::from(table)).await?;
    }
    tx.commit().await?;

    // 3. Done: the record stays, `deleted`, and its slug stays taken.
    let mut sys = state
        .db
        .system(operator, "finish decommissioning a tenant")
        .await?;
    sys.execute(&set_status(id, TenantStatus::Deleted)).await?;
    sys.commit().await?;
    state.tenants.invalidate(id);
    Ok(())
}

/// Where a decommissioning records that the operator acted for the tenant:
/// standard error, like the platform's other events, since the tenant's own
/// log is about to be deleted.
struct OperatorLog;

impl AuditSink for OperatorLog {
    fn record(&self, event: AuditEvent) {
        eprintln!(
            "leases-service: audit: {} {} by {} ({})",
            event.action,
            event.outcome.as_str(),
            event
                .subject
                .map(|s| s.to_string())
                .unwrap_or_else(|| "unknown".to_owned()),
            event.reason.as_deref().unwrap_or_default()
        );
    }
}

/// How long a decommissioning waits for the tenant's requests and jobs in
/// flight before deleting anyway.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Waits until no request or job of `tenant` is in flight in this process.
async fn drain(state: &AppState, tenant: TenantId) {
    let deadline = std::time::Instant::now() + DRAIN_TIMEOUT;
    while (state.limits.in_flight(tenant) > 0 || state.jobs.is_running_for(tenant))
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// `DELETE /system/tenants/{id}` → 204.
pub async fn delete_route(
    State(state): State<AppState>,
    operator: SystemAdmin,
    _: Require<SystemTenants>,
    PathText(id): PathText,
) -> Result<StatusCode, ApiError> {
    decommission(&state, &operator, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /system/redeem-codes {plan}` body.
#[derive(Debug)]
pub struct NewCode {
    plan: PlanName,
}

impl FromJson for NewCode {
    fn from_json(body: &mut Fields) -> Option<Self> {
        Some(NewCode {
            plan: body.required("plan", plan)?,
        })
    }
}

/// A one-time onboarding code.
#[derive(Debug, Serialize)]
pub struct CodeView {
    /// Give it to the customer; it works once.
    pub code: String,
}

/// `POST /system/redeem-codes {plan}` → 201 `{code}`.
pub async fn create_code_route(
    State(state): State<AppState>,
    operator: SystemAdmin,
    _: Require<SystemTenants>,
    JsonBody(body): JsonBody<NewCode>,
) -> Result<(StatusCode, Json<CodeView>), ApiError> {
    let plan = body.plan;
    let code = crate::clock::random_hex(16)?;
    let mut sys = state.db.system(&operator, "create a redeem code").await?;
    let insert = Insert::into("redeem_codes")
        .columns(["code", "plan", "created_at"])
        .values([code.clone(), plan.as_str().to_owned(), crate::clock::now()]);
    sys.execute(insert).await?;
    sys.commit().await?;
    Ok((StatusCode::CREATED, Json(CodeView { code })))
}

/// `POST /auth/redeem {code, slug, name}` body.
#[derive(Debug)]
pub struct Redeem {
    code: String,
    slug: TenantSlug,
    name: String,
}

impl FromJson for Redeem {
    fn from_json(body: &mut Fields) -> Option<Self> {
        let code = body.required("code", |value| match value.as_str() {
            Some(code) if !code.is_empty() && code.len() <= 128 => Ok(code.to_owned()),
            _ => Err("must be a redeem code".into()),
        });
        let slug = body.required("slug", slug);
        let name = body.required("name", text(200));
        Some(Redeem {
            code: code?,
            slug: slug?,
            name: name?,
        })
    }
}

/// The new tenant and its first admin's token.
#[derive(Debug, Serialize)]
pub struct Redeemed {
    /// The tenant.
    pub tenant: TenantView,
    /// A bearer token for its first admin.
    pub token: String,
}

/// `POST /auth/redeem {code, slug, name}` (no token) → 201
/// `{tenant, token}`. The code is spent in the same transaction that creates
/// the tenant, so it works exactly once, and a refused request spends nothing.
pub async fn redeem_route(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<Redeem>,
) -> Result<(StatusCode, Json<Redeemed>), ApiError> {
    let slug = body.slug;
    // Spending the code and creating the tenant are one transaction: the
    // code works once, and a refused request spends nothing.
    let mut sys = state.db.platform("redeem a code").await?;
    // Spent first: the update takes the row's lock, so of two requests with
    // the same code exactly one updates a row.
    let spent = sys
        .execute(
            Update::table("redeem_codes")
                .set("redeemed_at", crate::clock::now())
                .filter(column("code").eq(body.code.as_str()))
                .filter(column("redeemed_at").is_null()),
        )
        .await?;
    if spent != 1 {
        return Err(ApiError::Absent("no such redeem code, or it was used"));
    }
    let rows = sys
        .fetch_all(
            Select::from("redeem_codes")
                .column("plan")
                .filter(column("code").eq(body.code.as_str())),
        )
        .await?;
    let plan = rows
        .first()
        .map(|row| row.try_get::<String, _>("plan"))
        .transpose()?
        .and_then(|plan| PlanName::parse(&plan))
        .ok_or(ApiError::Internal)?;
    let record = insert(&mut sys, new_tenant_id()?, &slug, &body.name, plan).await?;
    let admin = SubjectId::from_random_bytes(crate::clock::random_bytes()?);
    let permissions = state
        .roles
        .permissions(&RoleName::admin())
        .map_err(|_| ApiError::Internal)?
        .clone();
    let ctx = TenantContext::tenant(record.id, admin, RoleName::admin(), permissions);
    let token = state.tokens.issue(&ctx, state.config.token_lifetime)?;
    sys.commit().await?;
    record_in_tenant(&state, record.id, Actor::Subject(admin), "tenant.redeem").await?;
    Ok((
        StatusCode::CREATED,
        Json(Redeemed {
            tenant: TenantView::from(&record),
            token,
        }),
    ))
}
