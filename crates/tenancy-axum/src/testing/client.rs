//! In-process calls to the service under test, as one caller.

use std::fmt;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, Response, StatusCode, header};
use serde_json::Value;
use tower::util::BoxCloneService;
use tower::{Service, ServiceExt};

use crate::BoxError;

pub(crate) type BoxedService = BoxCloneService<Request<Body>, Response<Body>, BoxError>;

/// Any `tower` service over axum requests, an axum `Router` among them,
/// boxed so the check and its [`Client`]s do not name its type.
pub(crate) fn boxed<S, B>(service: S) -> BoxedService
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    BoxCloneService::new(
        service
            .map_response(|response| response.map(Body::new))
            .map_err(Into::into),
    )
}

/// Calls the service as one caller: a tenant's valid token, or whatever
/// `Authorization` header an attack sends. Calls go in-process, without a
/// socket.
#[derive(Clone)]
pub struct Client {
    service: BoxedService,
    authorization: Option<String>,
    marker: String,
}

/// A response, read whole.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Reply {
    /// Its status; a call the service failed (an error instead of a
    /// response) reads as a 500 whose body is the error.
    pub status: StatusCode,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body as text (lossy UTF-8).
    pub body: String,
    /// Its body as JSON; `Null` when it is not JSON.
    pub json: Value,
}

impl Client {
    pub(crate) fn new(service: BoxedService, authorization: Option<String>, marker: &str) -> Self {
        Client {
            service,
            authorization,
            marker: marker.to_owned(),
        }
    }

    /// A text unique to the tenant this client calls as, in this run: its
    /// slug, `leak-b-3f9a…` (letters, digits and hyphens). Put it into the
    /// content the [`resources`](super::HttpLeakCheck::resources) closure
    /// creates (a note's text, a property's name): every body and header
    /// tenant `a` receives is searched for `b`'s marker, so a list or a
    /// search that hands out `b`'s content is caught whatever its ids look
    /// like.
    pub fn marker(&self) -> &str {
        &self.marker
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(&body)).await
    }

    /// `PUT path` with a JSON body.
    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(&body)).await
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(&body)).await
    }

    /// Any method, with an optional JSON body.
    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        self.call(method, path, body)
            .await
            .unwrap_or_else(|error| Reply {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                headers: HeaderMap::new(),
                json: Value::Null,
                body: error,
            })
    }

    /// The call, or why there was no response.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(value) = &self.authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        let request = match body {
            Some(json) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json.to_string())),
            None => request.body(Body::empty()),
        }
        .map_err(|e| format!("the request could not be built: {e}"))?;
        let response = self
            .service
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| format!("the service failed: {e}"))?;
        let (status, headers) = (response.status(), response.headers().clone());
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .map_err(|e| format!("the response body failed: {e}"))?;
        let body = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Reply {
            status,
            headers,
            body,
            json,
        })
    }
}

/// Never prints the token.
impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("authorization", &self.authorization.as_ref().map(|_| ".."))
            .field("marker", &self.marker)
            .finish_non_exhaustive()
    }
}
