//! An HTTP leak check for any axum `Router` or `tower` service (feature
//! `testing`): can one tenant's request reach, reveal or change another
//! tenant's data?
//!
//! [`HttpLeakCheck`] is given the service, a [`TokenKit`], how a tenant comes
//! to exist, how a tenant's resources are created, and the [`Route`]s, whose
//! `{resource}` placeholders (in the path, the query or the JSON body) name
//! those resources. It creates tenants `a` and `b` and their resources,
//! then calls every route as `a`, in-process:
//!
//! | `a` calls with | expected |
//! |----------------|----------|
//! | an id no tenant has, of the shape of `b`'s (an integer for an integer, a UUID for a UUID) | 404 when it is in the path, unless the route says otherwise ([`Route::missing_status`]) |
//! | `b`'s id for one placeholder, `a`'s own for the others | the status, body and headers of the missing id (each id replaced by its placeholder), so 404 in the path |
//! | a token narrowed to no permission | 403 when the route [`requires`](Route::requires) one |
//! | a token narrowed to every declared permission but one the route requires | 403 |
//! | each of [`TokenKit::attacks`] on its token | 401 |
//! | its own ids | success: else every refusal above proves nothing |
//!
//! No body or header `a` receives may name one of `b`'s ids (but the one
//! `a` sent; ids shorter than six characters are not searched for),
//! `b`'s tenant id (hyphenated, simple or decimal, any case) or `b`'s
//! [`marker`](Client::marker): a text unique to `b` that the resources
//! closure puts into what it creates, so that a list handing out `b`'s
//! content is caught whatever `b`'s ids look like. `a`'s own tenant id is
//! `a`'s to see.
//!
//! Before and after all of that, `b` reads each of its resources back
//! (through the routes that [`reads`](Route::reads) it, a list route as
//! well as a route of one resource, else its `GET` routes of that one
//! resource); both reads must be equal, so nothing of `b`'s was written.
//! A resource nothing reads back fails the check at set-up when a route
//! may write, unless [`unchecked_writes`](HttpLeakCheck::unchecked_writes)
//! leaves it out knowingly.
//!
//! Comparisons are strict: only `date` and `content-length` may differ
//! between a foreign id's answer and a missing one's. Declare what changes
//! from call to call with [`ignore_fields`](HttpLeakCheck::ignore_fields)
//! (JSON fields such as `request_id`, also masked in `b`'s read-backs) and
//! [`ignore_headers`](HttpLeakCheck::ignore_headers).
//!
//! When `b`'s ids equal `a`'s (ids counted per tenant), `b`'s resources are
//! created again, so that `b`'s id is never also `a`'s. After a call that
//! may have changed `a`'s resources (a writing route that succeeded), `a`
//! gets new ones, so each case fails for its own reason only.
//!
//! [`run`](HttpLeakCheck::run) prints the table of every attempt, and
//! panics with every failure (route, request, id, expected and got) when
//! there is one; [`try_run`](HttpLeakCheck::try_run) returns them.
//!
//! ```
//! use std::{collections::HashMap, sync::{Arc, Mutex}};
//! use axum::{Json, Router, extract::State, routing::{get, post}};
//! use serde_json::{Value, json};
//! use tenancy_auth::{CachedValidator, testing::TokenKit};
//! use tenancy_axum::testing::{HttpLeakCheck, Route};
//! use tenancy_axum::{MemoryDirectory, Problem, Require, TenancyLayer, Tenant, TenantRecord, input::Path, permission};
//! use tenancy_core::*;
//!
//! permission!(pub NotesRead = "notes:read");
//! type Notes = Arc<Mutex<HashMap<(TenantId, u64), String>>>;
//!
//! async fn create(State(notes): State<Notes>, t: Tenant, Json(new): Json<Value>) -> Json<Value> {
//!     let mut notes = notes.lock().unwrap();
//!     let id = notes.len() as u64 + 1;
//!     notes.insert((t.id(), id), new["text"].as_str().unwrap_or_default().to_owned());
//!     Json(json!({ "id": id }))
//! }
//!
//! async fn read(State(notes): State<Notes>, t: Tenant, _: Require<NotesRead>, Path(id): Path<u64>) -> Result<String, Problem> {
//!     notes.lock().unwrap().get(&(t.id(), id)).cloned().ok_or_else(|| Problem::not_found("no such note"))
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let kit = TokenKit::hs256(b"a doc secret of at least 32 bytes!!", "https://id.example", "notes")?;
//! let directory = Arc::new(MemoryDirectory::new());
//! let layer = TenancyLayer::builder()
//!     .validator(Arc::new(CachedValidator::new(Arc::new(kit.validator()), 1_000)))
//!     .directory(directory.clone())
//!     .build()?;
//! let app = Router::new().route("/notes", post(create)).route("/notes/{note}", get(read))
//!     .layer(layer).with_state(Notes::default());
//! let plan = Plan::new("free", RateQuota::per_second(1_000, 1_000), 8).entitlements(&PlanOverrides::default());
//!
//! let report = HttpLeakCheck::new(app, &kit, async |t| {
//!         directory.insert(TenantRecord::new(t.id, t.slug, TenantStatus::Active, plan.clone()));
//!         t.id
//!     })
//!     // The marker in each note: a body that hands b's note to a is caught.
//!     .resources(async |c| [("note", c.post("/notes", json!({ "text": c.marker() })).await.json["id"].clone())])
//!     .route(Route::get("/notes/{note}").requires("notes:read"))
//!     .run()
//!     .await;
//! assert!(report.failures().is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use axum::body::{Body, Bytes};
use axum::http::{Request, Response};
use tenancy_auth::testing::TokenKit;
use tenancy_core::{PermissionSet, RoleName, TenantContext, TenantId, TenantSlug};
use tower::Service;

use crate::BoxError;
use check::Mask;
use client::BoxedService;

mod check;
mod client;
mod id;
mod report;
mod route;
mod run;

pub use client::{Client, Reply};
pub use id::ResourceId;
pub use report::{Attempt, Case, Expected, Failure, Finding, LeakFailures, Part, Report};
pub use route::Route;

type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A tenant's resources by name: `[("note", 12), ("property", 7)]`.
type Ids = Vec<(String, ResourceId)>;

/// A tenant the check asks for: bring it to exist and return its id.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NewTenant {
    /// A fresh random id, for a directory that takes the caller's id.
    pub id: TenantId,
    /// A fresh slug, `leak-a-…` or `leak-b-…`.
    pub slug: TenantSlug,
}

/// A tenant as the check knows it: its id, and its slug as the marker of
/// its content.
type Created = (TenantId, String);

/// The HTTP leak check of one service; see the [module docs](self).
#[must_use = "a leak check does nothing until it is run"]
pub struct HttpLeakCheck<'a> {
    config: Config<'a>,
    tenants: LocalBoxFuture<'a, (Created, Created)>,
}

/// Everything but the tenants, which are created once.
pub(crate) struct Config<'a> {
    service: BoxedService,
    kit: TokenKit,
    resources: Box<dyn Fn(Client) -> LocalBoxFuture<'a, Ids> + 'a>,
    routes: Vec<Route>,
    role: RoleName,
    permissions: PermissionSet,
    mask: Mask,
    /// Resources without a read-back, by the user's leave, with the reason.
    unchecked: Vec<(String, String)>,
}

impl<'a> HttpLeakCheck<'a> {
    /// A check of `service` (an axum `Router` or any `tower` service over
    /// axum requests) whose tokens come from `kit`; `tenants` brings a
    /// tenant to exist (it is called twice, for `a` and `b`) and returns its
    /// id.
    ///
    /// Both tenants act with the built-in `admin` role and its permissions
    /// unless [`acting_as`](Self::acting_as) says otherwise.
    pub fn new<S, B, T>(service: S, kit: &TokenKit, tenants: T) -> Self
    where
        S: Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
        T: AsyncFn(NewTenant) -> TenantId + 'a,
    {
        let role = RoleName::admin();
        let permissions = (kit.roles().permissions(&role))
            .cloned()
            .unwrap_or_else(|_| PermissionSet::empty());
        let tenants = Box::pin(async move {
            let (a, b) = (NewTenant::fresh("a"), NewTenant::fresh("b"));
            let markers = (a.slug.as_str().to_owned(), b.slug.as_str().to_owned());
            let a = tenants(a).await;
            let b = tenants(b).await;
            ((a, markers.0), (b, markers.1))
        });
        HttpLeakCheck {
            config: Config {
                service: client::boxed(service),
                kit: kit.clone(),
                resources: Box::new(|_| Box::pin(async { Vec::new() })),
                routes: Vec::new(),
                role,
                permissions,
                mask: Mask::default(),
                unchecked: Vec::new(),
            },
            tenants,
        }
    }

    /// How a tenant's resources are created: given a [`Client`] that calls
    /// as that tenant, create them and return their ids by name, the names
    /// the routes' placeholders use. Called for `a` and `b`, and for `a`
    /// again after each of its own calls to a route that may write.
    ///
    /// Put [`c.marker()`](Client::marker) into what you create (a name, a
    /// text): a body that hands `b`'s content to `a` is then caught
    /// whatever `b`'s ids look like, even `1` and `2`.
    pub fn resources<R, I, K, V>(mut self, create: R) -> Self
    where
        R: AsyncFn(Client) -> I + 'a,
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<ResourceId>,
    {
        let create = Rc::new(create);
        self.config.resources = Box::new(move |client| {
            let create = Rc::clone(&create);
            Box::pin(async move {
                (*create)(client)
                    .await
                    .into_iter()
                    .map(|(name, id)| (name.into(), id.into()))
                    .collect()
            })
        });
        self
    }

    /// Adds a route to call.
    pub fn route(mut self, route: Route) -> Self {
        self.config.routes.push(route);
        self
    }

    /// Adds routes to call.
    pub fn routes(mut self, routes: impl IntoIterator<Item = Route>) -> Self {
        self.config.routes.extend(routes);
        self
    }

    /// JSON fields whose values change from call to call (`request_id`,
    /// `updated_at`), wherever they stand in a body: their values are
    /// masked before a foreign id's answer is compared with a missing
    /// one's and before `b`'s read-backs are compared. The field must
    /// still be present on both sides, and bodies are still searched for
    /// `b`'s ids.
    pub fn ignore_fields<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config
            .mask
            .ignore_fields(names.into_iter().map(Into::into));
        self
    }

    /// Headers whose values change from call to call (`x-request-id`),
    /// left out when a foreign id's answer is compared with a missing
    /// one's, as `date` and `content-length` always are. Their values are
    /// still searched for `b`'s ids.
    pub fn ignore_headers<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config
            .mask
            .ignore_headers(names.into_iter().map(Into::into));
        self
    }

    /// Leaves writes to `b`'s `resource` unchecked: no route
    /// [`reads`](Route::reads) it back, and the check should not fail for
    /// that. Without this, a check with a route that may write and a
    /// resource no route reads back fails at set-up, since a write to it
    /// would go unseen. The `reason` goes into the report's notes.
    pub fn unchecked_writes(mut self, resource: &str, reason: &str) -> Self {
        self.config
            .unchecked
            .push((resource.to_owned(), reason.to_owned()));
        self
    }

    /// The role and permissions both tenants' tokens carry (default: the
    /// built-in `admin` role with its permissions).
    pub fn acting_as(mut self, role: RoleName, permissions: PermissionSet) -> Self {
        self.config.role = role;
        self.config.permissions = permissions;
        self
    }

    /// Runs every case, prints the table of attempts and returns the
    /// report.
    ///
    /// # Panics
    ///
    /// When any attempt leaks or the check cannot be set up, with every
    /// failure (route, request, id, expected and got) and the table.
    #[expect(clippy::panic, reason = "a test harness fails the test it runs in")]
    pub async fn run(self) -> Report {
        match self.try_run().await {
            Ok(report) => {
                println!("{report}");
                report
            }
            Err(failures) => panic!("{failures}"),
        }
    }

    /// Runs every case; the report, or every failure when there is one.
    pub async fn try_run(self) -> Result<Report, LeakFailures> {
        let tenants = self.tenants.await;
        run::run(&self.config, tenants).await.into_result()
    }
}

impl Config<'_> {
    /// A client holding `ctx`'s token, for the tenant whose marker is
    /// `marker`.
    fn client(&self, ctx: &TenantContext, marker: &str) -> Client {
        let token = self.kit.token(ctx);
        Client::new(
            self.service.clone(),
            Some(format!("Bearer {token}")),
            marker,
        )
    }
}

impl NewTenant {
    fn fresh(name: &str) -> NewTenant {
        let id = TenantId::from_random_bytes(id::random_bytes());
        let suffix = id.to_string().replace('-', "");
        let slug = format!("leak-{name}-{}", &suffix[..12]);
        NewTenant {
            id,
            // INVARIANT: `leak-`, a letter, `-` and twelve hex digits is a slug.
            slug: slug
                .parse()
                .unwrap_or_else(|_| unreachable!("`{slug}` is a slug")),
        }
    }
}

impl fmt::Debug for HttpLeakCheck<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let routes: Vec<String> = self.config.routes.iter().map(Route::to_string).collect();
        f.debug_struct("HttpLeakCheck")
            .field("routes", &routes)
            .field("role", &self.config.role)
            .field("mask", &self.config.mask)
            .field("unchecked", &self.config.unchecked)
            .finish_non_exhaustive()
    }
}
