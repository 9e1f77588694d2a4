//! What a refusal does with the body it did not read, so the client's
//! connection stays usable or is closed with notice.
//!
//! hyper answers a refusal at once. When the handler never reads the body,
//! hyper drains whatever of it has already arrived and, if some is still on
//! the way, closes the connection after the response, which it has already
//! sent without `Connection: close`: a keep-alive client (Python `requests`,
//! which writes the headers and the body separately) then sends its next
//! request into a closed socket ("Remote end closed connection without
//! response"). So a refused HTTP/1 request first has its body drained, when
//! that is cheap (at most [`DRAIN_BYTES`] or the layer's body limit, within
//! [`DRAIN_TIME`]); otherwise the refusal says `Connection: close`.

use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::http::{HeaderValue, Request, Version, header};
use axum::response::Response;

use super::BodyLimit;

/// The most a refusal reads of a body it discards: small enough that an
/// unauthenticated client cannot make the server read much for nothing.
pub(crate) const DRAIN_BYTES: usize = 64 * 1024;

/// The longest a refusal waits for the rest of a body before it gives up
/// and closes the connection instead, so a slow body cannot hold it.
pub(crate) const DRAIN_TIME: Duration = Duration::from_secs(1);

/// `response`, a refusal of `request`, once `request`'s body is drained
/// (within [`DRAIN_BYTES`], the layer's body limit and [`DRAIN_TIME`]), or
/// with `Connection: close` when it was not.
pub(crate) async fn settle_unread_body(request: Request<Body>, mut response: Response) -> Response {
    // HTTP/2 and HTTP/3 reset the stream, not the connection; `Connection`
    // is not allowed there.
    if !matches!(request.version(), Version::HTTP_10 | Version::HTTP_11) {
        return response;
    }
    if !drained(request).await {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Whether the whole body was read, within the bounds.
async fn drained(request: Request<Body>) -> bool {
    let cap = request
        .extensions()
        .get::<BodyLimit>()
        .map_or(DRAIN_BYTES, |limit| limit.0.min(DRAIN_BYTES));
    // A client waiting for `100 Continue` has not sent its body: reading
    // would ask for it, only to discard it.
    let expects_continue = request
        .headers()
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let mut body = request.into_body();
    if body.is_end_stream() {
        return true;
    }
    if expects_continue {
        return false;
    }
    // A declared length over the cap is not waited for (hyper knows it
    // from `Content-Length`).
    if body
        .size_hint()
        .exact()
        .is_some_and(|n| n > u64::try_from(cap).unwrap_or(u64::MAX))
    {
        return false;
    }
    let read_all = async {
        let mut read = 0usize;
        loop {
            match std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await {
                None => return true,
                Some(Err(_)) => return false,
                Some(Ok(frame)) => {
                    read = read.saturating_add(frame.data_ref().map_or(0, |d| d.len()));
                    // INVARIANT: never read more than the cap of a body
                    // that is discarded.
                    if read > cap {
                        return false;
                    }
                }
            }
        }
    };
    tokio::time::timeout(DRAIN_TIME, read_all)
        .await
        .unwrap_or(false)
}
