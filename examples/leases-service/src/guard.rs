//! Authentication, tenant status, per-tenant limits and scope checks, in
//! front of every route that needs a token.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tenancy_core::{LimitError, Outcome, Permission, Scope, TenantContext, TenantStatus};

use crate::audit::{self, Entry};
use crate::problem::ApiError;
use crate::state::AppState;

/// The middleware: a bearer token in `Authorization` (the only place a
/// tenant comes from), verified; for a tenant token, the tenant must exist
/// and be active, and its plan's rate and concurrency limits apply. The
/// resulting [`TenantContext`] goes into the request for the extractors.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    match admit(&state, &mut req).await {
        Ok(permit) => {
            let response = next.run(req).await;
            drop(permit);
            response
        }
        Err(e) => e.into_response(),
    }
}

async fn admit(
    state: &AppState,
    req: &mut Request,
) -> Result<Option<tenancy_core::ConcurrencyPermit>, ApiError> {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .ok_or(ApiError::Unauthorized("a bearer token is required"))?;
    let token = header
        .to_str()
        .ok()
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::Unauthorized("a bearer token is required"))?;
    let verified = state.tokens.verify(token).map_err(ApiError::Unauthorized)?;
    let ctx = verified
        .to_context(&state.roles)
        .map_err(ApiError::Unauthorized)?;
    let permit = match ctx.tenant_id() {
        None => None,
        Some(tenant) => {
            let record =
                state
                    .directory
                    .get(&state.db, tenant)
                    .await?
                    .ok_or(ApiError::Unauthorized(
                        "the token's tenant is not available",
                    ))?;
            match record.status {
                TenantStatus::Active => {}
                TenantStatus::Suspended => {
                    return Err(ApiError::Forbidden("the tenant is suspended".into()));
                }
                TenantStatus::Provisioning => {
                    return Err(ApiError::Forbidden("the tenant is not active yet".into()));
                }
                TenantStatus::Decommissioning | TenantStatus::Deleted => {
                    return Err(ApiError::Unauthorized(
                        "the token's tenant is not available",
                    ));
                }
            }
            let entitlements = record.plan.entitlements();
            state
                .rate
                .check(tenant, &entitlements.rate())
                .map_err(limited)?;
            Some(
                state
                    .concurrency
                    .try_acquire(tenant, entitlements.max_concurrent())
                    .map_err(limited)?,
            )
        }
    };
    req.extensions_mut().insert(ctx);
    Ok(permit)
}

fn limited(error: LimitError) -> ApiError {
    match error {
        LimitError::RateLimited { retry_after } => ApiError::TooManyRequests {
            retry_after,
            detail: "the tenant's request rate is over its plan".into(),
        },
        LimitError::TooManyConcurrent { limit } => ApiError::TooManyRequests {
            retry_after: std::time::Duration::from_secs(1),
            detail: format!("the tenant already has {limit} requests in flight"),
        },
        _ => ApiError::Unavailable,
    }
}

fn context(parts: &Parts) -> Result<TenantContext, ApiError> {
    // Missing means the route was mounted without the middleware: a wiring
    // bug, so a 500 rather than a 401.
    parts
        .extensions
        .get::<TenantContext>()
        .cloned()
        .ok_or(ApiError::Internal)
}

/// The context of a tenant-scope token; a system token gets 403.
#[derive(Debug, Clone)]
pub struct TenantScope(pub TenantContext);

impl<S: Send + Sync> FromRequestParts<S> for TenantScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ctx = context(parts)?;
        if ctx.scope() != Scope::Tenant {
            return Err(ApiError::Forbidden(
                "this route needs a tenant token".into(),
            ));
        }
        Ok(TenantScope(ctx))
    }
}

/// The context of a system-scope (platform operator) token; a tenant token
/// gets 403.
#[derive(Debug, Clone)]
pub struct SystemScope(pub TenantContext);

impl<S: Send + Sync> FromRequestParts<S> for SystemScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ctx = context(parts)?;
        if ctx.scope() != Scope::System {
            return Err(ApiError::Forbidden(
                "this route needs a system token".into(),
            ));
        }
        Ok(SystemScope(ctx))
    }
}

/// `Ok` when `ctx` holds `permission`; otherwise 403 naming it, and the
/// refusal goes into the tenant's audit log.
pub async fn require(
    state: &AppState,
    ctx: &TenantContext,
    permission: &str,
) -> Result<(), ApiError> {
    let wanted: Permission = permission.parse().map_err(|_| ApiError::Internal)?;
    if ctx.allows(&wanted) {
        return Ok(());
    }
    if let Some(tenant) = ctx.tenant_id() {
        let action = format!("{permission}.denied");
        let mut tx = state.db.bound(tenant).await?;
        let entry = Entry {
            subject: Some(ctx.subject()),
            action: &action,
            resource: None,
            outcome: Outcome::Denied,
        };
        audit::record(&mut tx, entry).await?;
        tx.commit().await?;
    }
    Err(ApiError::Forbidden(format!(
        "missing permission `{permission}`"
    )))
}
