//! Onboarding by redeem code: an operator makes a one-time code for a plan,
//! and a customer spends it on the public `POST /auth/redeem` for a tenant
//! of their own and its first admin's token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use tenancy_axum::input::{Fields, FromFields, Valid, text};
use tenancy_axum::{Require, SystemAdmin};
use tenancy_core::{RoleName, SubjectId, TenantContext, TenantSlug};
use tenancy_sql::{Insert, Select, Update, column};

use super::plans::{PlanName, plan};
use super::tenants::{TenantView, insert, new_tenant_id, record_in_tenant, slug};
use crate::domain::audit::Actor;
use crate::http::permissions::SystemTenants;
use crate::http::{ApiError, AppState};
use crate::infra::clock;

/// `POST /system/redeem-codes {plan}` body.
#[derive(Debug)]
pub(crate) struct NewCode {
    plan: PlanName,
}

impl FromFields for NewCode {
    fn from_fields(body: &mut Fields) -> Option<Self> {
        Some(NewCode {
            plan: body.required("plan", plan)?,
        })
    }
}

/// A one-time onboarding code.
#[derive(Debug, Serialize)]
pub(crate) struct CodeView {
    /// Give it to the customer; it works once.
    code: String,
}

/// `POST /system/redeem-codes {plan}` → 201 `{code}`.
pub(crate) async fn create_code(
    State(state): State<AppState>,
    operator: SystemAdmin,
    _: Require<SystemTenants>,
    Valid(body): Valid<NewCode>,
) -> Result<(StatusCode, Json<CodeView>), ApiError> {
    let code = clock::random_hex(16)?;
    let mut sys = state.db.system(&operator, "create a redeem code").await?;
    let insert = Insert::into("redeem_codes")
        .columns(["code", "plan", "created_at"])
        .values([code.clone(), body.plan.as_str().to_owned(), clock::now()]);
    sys.execute(insert).await?;
    sys.commit().await?;
    Ok((StatusCode::CREATED, Json(CodeView { code })))
}

/// `POST /auth/redeem {code, slug, name}` body.
#[derive(Debug)]
pub(crate) struct Redeem {
    code: String,
    slug: TenantSlug,
    name: String,
}

impl FromFields for Redeem {
    fn from_fields(body: &mut Fields) -> Option<Self> {
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
pub(crate) struct Redeemed {
    /// The tenant.
    tenant: TenantView,
    /// A bearer token for its first admin.
    token: String,
}

/// `POST /auth/redeem {code, slug, name}` (no token) → 201
/// `{tenant, token}`.
pub(crate) async fn redeem(
    State(state): State<AppState>,
    Valid(body): Valid<Redeem>,
) -> Result<(StatusCode, Json<Redeemed>), ApiError> {
    // Spending the code and creating the tenant are one transaction: the
    // code works once, and a refused request spends nothing.
    let mut sys = state.db.platform("redeem a code").await?;
    // Spent first: the update takes the row's lock, so of two requests with
    // the same code exactly one updates a row.
    let spent = sys
        .execute(
            Update::table("redeem_codes")
                .set("redeemed_at", clock::now())
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
    let record = insert(&mut sys, new_tenant_id()?, &body.slug, &body.name, plan).await?;
    let admin = SubjectId::from_random_bytes(clock::random_bytes()?);
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
