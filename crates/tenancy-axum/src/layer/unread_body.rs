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
//!
//! A handler refusing before it reads the body (an extractor such as
//! [`Require`](crate::Require) answering 403) is past the layer; the layer
//! wraps every HTTP/1 body so that, dropped before its end, the rest is
//! drained in the background within the same bounds while the answer is
//! sent, and hyper keeps the connection. Past the bounds hyper closes it, as
//! before.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{HeaderValue, Request, Version, header};
use axum::response::Response;
use http_body::{Frame, SizeHint};

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

/// The most to drain of `request`'s body: [`DRAIN_BYTES`], or the layer's
/// limit when smaller.
fn cap(request: &Request<Body>) -> usize {
    request
        .extensions()
        .get::<BodyLimit>()
        .map_or(DRAIN_BYTES, |limit| limit.0.min(DRAIN_BYTES))
}

/// A client waiting for `100 Continue` has not sent its body: reading
/// would ask for it, only to discard it.
fn expects_continue(request: &Request<Body>) -> bool {
    request
        .headers()
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// Whether the whole body was read, within the bounds.
async fn drained(request: Request<Body>) -> bool {
    let cap = cap(&request);
    let expects_continue = expects_continue(&request);
    let body = request.into_body();
    if body.is_end_stream() {
        return true;
    }
    if expects_continue {
        return false;
    }
    drain(body, cap).await
}

/// Reads `body` to its end within `cap` bytes and [`DRAIN_TIME`]: whether
/// it got there.
async fn drain(mut body: Body, cap: usize) -> bool {
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

/// `request` with an HTTP/1 body that is drained in the background when
/// it is dropped before its end (see the module docs).
/// `limit` is the layer's body limit, if any.
pub(crate) fn drain_when_dropped(request: Request<Body>, limit: Option<u64>) -> Request<Body> {
    if !matches!(request.version(), Version::HTTP_10 | Version::HTTP_11)
        || request.body().is_end_stream()
    {
        return request;
    }
    let cap = limit.map_or(DRAIN_BYTES, |l| {
        usize::try_from(l).map_or(DRAIN_BYTES, |l| l.min(DRAIN_BYTES))
    });
    let untouched_continue = expects_continue(&request);
    request.map(|inner| {
        Body::new(DrainWhenDropped {
            inner,
            read: 0,
            cap,
            untouched_continue,
            ended: false,
        })
    })
}

struct DrainWhenDropped {
    inner: Body,
    /// Bytes of data read so far.
    read: usize,
    cap: usize,
    /// The client waits for `100 Continue`, and nothing was read yet.
    untouched_continue: bool,
    /// The end, or an error, was reached: nothing left to drain.
    ended: bool,
}

impl HttpBody for DrainWhenDropped {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        this.untouched_continue = false;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(None | Some(Err(_))) => this.ended = true,
            Poll::Ready(Some(Ok(frame))) => {
                this.read = this
                    .read
                    .saturating_add(frame.data_ref().map_or(0, Bytes::len));
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for DrainWhenDropped {
    fn drop(&mut self) {
        if self.ended
            || self.untouched_continue
            || self.read > self.cap
            || self.inner.is_end_stream()
        {
            return;
        }
        // Outside a runtime nothing can drain; hyper closes as before.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let body = std::mem::take(&mut self.inner);
        let budget = self.cap - self.read;
        // INVARIANT: bounded like a refusal's drain: at most the cap, for
        // at most DRAIN_TIME; the answer does not wait for it.
        drop(runtime.spawn(drain(body, budget)));
    }
}
