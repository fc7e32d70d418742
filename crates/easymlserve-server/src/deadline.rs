//! A deadline on reading request bodies, so a client that sends its body a byte a second (or stops
//! halfway) is cut off with 408 instead of holding a connection and memory for as long as it likes.
//!
//! Bodies are read in the async handlers before a request is queued, so a slow client never holds a
//! model worker; the deadline bounds how long it holds anything else.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use bytes::Bytes;
use http_body::{Frame, SizeHint};

/// The error a body read yields once its deadline has passed.
#[derive(Debug, thiserror::Error)]
#[error("the request body was not received within {} s", .0.as_secs_f64())]
pub struct BodyDeadlineExceeded(pub Duration);

/// A request body that fails once `limit` has passed since the request arrived.
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    limit: Duration,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(axum::Error::new(BodyDeadlineExceeded(self.limit)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Gives the request's body a deadline of `limit` from now.
pub(crate) fn with_deadline(request: Request, limit: Duration) -> Request {
    request.map(|inner| {
        Body::new(DeadlineBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(limit)),
            limit,
        })
    })
}

/// Whether a body read failed because its deadline passed.
pub(crate) fn is_deadline(err: &(dyn std::error::Error + 'static)) -> Option<Duration> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(err) = source {
        if let Some(exceeded) = err.downcast_ref::<BodyDeadlineExceeded>() {
            return Some(exceeded.0);
        }
        source = err.source();
    }
    None
}
