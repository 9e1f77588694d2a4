//! A tenant-bound transaction per request: committed when the handler
//! succeeds, rolled back otherwise.

use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::Request;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use tenancy_sql::{TenantPool, TenantTx};
use tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};
use tower::{Layer, Service};

use crate::layer::Authenticated;
use crate::problem::Problem;

type Slot = Arc<Mutex<Option<TenantTx>>>;

#[derive(Clone)]
struct TxSlot {
    pool: TenantPool,
    tx: Slot,
}

/// Puts a transaction slot in each request and settles it after the
/// handler: commit on a 2xx or 3xx response, roll back on anything else (an
/// error, a refusal, a panic unwinding through the handler's future). A
/// failed commit turns the response into a 500; so does a 2xx answer after
/// a statement of the transaction failed, since `tenancy-sql` refuses to
/// commit such a transaction ([`tenancy_sql::Error::TransactionAborted`])
/// and nothing of it is kept.
///
/// Install it inside the [`TenancyLayer`](crate::TenancyLayer):
/// `router.layer(TxLayer::new(pool)).layer(tenancy_layer)`. Every route
/// whose handler extracts a [`Tx`] needs it; axum cannot tell at start-up
/// which layers a route has, so a route without it answers 500 and logs an
/// error naming the missing layer (`tracing`, target `tenancy_axum::sql`)
/// on each request.
#[derive(Debug, Clone)]
pub struct TxLayer {
    pool: TenantPool,
}

impl TxLayer {
    /// Transactions from `pool`.
    pub fn new(pool: TenantPool) -> Self {
        TxLayer { pool }
    }
}

impl<S> Layer<S> for TxLayer {
    type Service = TxService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TxService {
            inner,
            pool: self.pool.clone(),
        }
    }
}

/// The [`TxLayer`]'s service.
#[derive(Debug, Clone)]
pub struct TxService<S> {
    inner: S,
    pool: TenantPool,
}

impl<S> Service<Request<Body>> for TxService<S>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let slot: Slot = Arc::new(Mutex::new(None));
        request.extensions_mut().insert(TxSlot {
            pool: self.pool.clone(),
            tx: Arc::clone(&slot),
        });
        Box::pin(async move {
            let response = inner.call(request).await?;
            // The handler has returned, so its `Tx` is dropped and the slot
            // is free; if it is not (the handler leaked the `Tx` into a
            // task), the transaction cannot be settled here: refuse.
            let Ok(mut guard) = slot.try_lock() else {
                return Ok(Problem::internal().into_response());
            };
            let Some(tx) = guard.take() else {
                return Ok(response);
            };
            let status = response.status();
            if status.is_success() || status.is_redirection() {
                if tx.commit().await.is_err() {
                    return Ok(Problem::internal().into_response());
                }
            } else {
                // Dropping rolls back too; an explicit rollback returns the
                // connection sooner.
                let _ = tx.rollback().await;
            }
            Ok(response)
        })
    }
}

/// The request's tenant-bound transaction (a `tenancy-sql` [`TenantTx`]):
/// begun on first use, committed by [`TxLayer`] when the handler answers
/// 2xx/3xx, rolled back otherwise. Derefs to [`TenantTx`].
///
/// Refused (403) for a system token not acting for a tenant; a 500 when
/// the route lacks the [`TenancyLayer`](crate::TenancyLayer) or the
/// [`TxLayer`]; a 503 when no connection can be had.
pub struct Tx(OwnedMappedMutexGuard<Option<TenantTx>, TenantTx>);

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Tx").field(&*self.0).finish()
    }
}

impl Deref for Tx {
    type Target = TenantTx;

    fn deref(&self) -> &TenantTx {
        &self.0
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut TenantTx {
        &mut self.0
    }
}

/// Refusals of the [`Tx`] extractor.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TxRejection {
    /// The route lacks the [`TenancyLayer`](crate::TenancyLayer) (500).
    #[error("`Tx` needs the `TenancyLayer` on this route, outside its `TxLayer`")]
    MissingLayer,
    /// The route lacks the [`TxLayer`] (500).
    #[error(
        "`Tx` needs a `TxLayer` on this route, inside the `TenancyLayer`: `router.layer(TxLayer::new(pool)).layer(tenancy_layer)`"
    )]
    MissingTxLayer,
    /// A system token not acting for a tenant (403).
    #[error("this route needs a tenant-scope token")]
    SystemScope,
    /// The transaction is already taken by another extractor of this request (500).
    #[error("the transaction is already in use")]
    InUse,
    /// No transaction could be begun (503).
    #[error("database unavailable")]
    Unavailable(#[source] tenancy_sql::Error),
}

impl TxRejection {
    /// The problem this refusal renders as.
    pub fn to_problem(&self) -> Problem {
        match self {
            TxRejection::SystemScope => Problem::new(
                axum::http::StatusCode::FORBIDDEN,
                crate::problem::types::WRONG_SCOPE,
                "wrong scope",
            )
            .with_detail(self.to_string()),
            TxRejection::Unavailable(_) => Problem::unavailable(std::time::Duration::from_secs(1)),
            TxRejection::MissingLayer | TxRejection::MissingTxLayer | TxRejection::InUse => {
                Problem::internal()
            }
        }
    }
}

impl IntoResponse for TxRejection {
    fn into_response(self) -> Response {
        self.to_problem().into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Tx {
    type Rejection = TxRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let auth = parts
            .extensions
            .get::<Authenticated>()
            .ok_or_else(|| wiring_mistake(TxRejection::MissingLayer))?;
        let slot = parts
            .extensions
            .get::<TxSlot>()
            .ok_or_else(|| wiring_mistake(TxRejection::MissingTxLayer))?
            .clone();
        let ctx = &auth.0.ctx;
        if ctx.tenant_id().is_none() {
            return Err(TxRejection::SystemScope);
        }
        let mut guard: OwnedMutexGuard<Option<TenantTx>> = Arc::clone(&slot.tx)
            .try_lock_owned()
            .map_err(|_| TxRejection::InUse)?;
        if guard.is_none() {
            let tx = slot
                .pool
                .begin(ctx)
                .await
                .map_err(TxRejection::Unavailable)?;
            *guard = Some(tx);
        }
        OwnedMutexGuard::try_map(guard, Option::as_mut)
            .map(Tx)
            .map_err(|_| TxRejection::InUse)
    }
}

/// `rejection`, logged: a route without a layer `Tx` needs is the
/// operator's to fix, and the client's bare 500 does not say so.
fn wiring_mistake(rejection: TxRejection) -> TxRejection {
    tracing::error!(target: "tenancy_axum::sql", "{rejection}");
    rejection
}
