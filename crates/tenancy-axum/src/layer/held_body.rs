//! A response body that keeps the request's concurrency slot until the body
//! has been sent or dropped, so a streamed response counts as in flight for
//! as long as it streams.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::response::Response;
use http_body::{Frame, SizeHint};
use tenancy_core::ConcurrencyPermit;

struct HeldBody {
    inner: Body,
    /// Released at the end of the body, on its error, or when it is dropped.
    permit: Option<ConcurrencyPermit>,
}

impl HttpBody for HeldBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            self.permit = None;
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

/// `response` with `permit` (if any) held until its body is done.
pub(crate) fn hold_until_sent<E>(
    response: Result<Response, E>,
    permit: Option<ConcurrencyPermit>,
) -> Result<Response, E> {
    match permit {
        Some(permit) => response.map(|r| {
            r.map(|inner| {
                Body::new(HeldBody {
                    inner,
                    permit: Some(permit),
                })
            })
        }),
        None => response,
    }
}
