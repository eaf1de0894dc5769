//! The one place panics of a handler are caught: [`catch`] for a call,
//! [`poll_catching`] for a poll, [`CatchUnwind`] for a whole future. Each
//! caller records the panic on the invocation span, writes the spans, and then
//! resumes the panic (`std::panic::resume_unwind`).

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A caught panic's payload.
pub(crate) type Panic = Box<dyn Any + Send>;

/// Runs `f`, turning a panic into an `Err` with its payload. The state `f`
/// touches is the handler's; it is not used again after a panic except to
/// record and resume it.
pub(crate) fn catch<T>(f: impl FnOnce() -> T) -> Result<T, Panic> {
    catch_unwind(AssertUnwindSafe(f))
}

/// Polls `future` once, turning a panic into a ready `Err` with its payload.
pub(crate) fn poll_catching<F: Future + ?Sized>(
    future: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Poll<Result<F::Output, Panic>> {
    match catch(|| future.poll(cx)) {
        Ok(Poll::Pending) => Poll::Pending,
        Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
        Err(panic) => Poll::Ready(Err(panic)),
    }
}

/// A future that ends with `Err(payload)` if the one it wraps panics.
pub(crate) struct CatchUnwind<F> {
    inner: Pin<Box<F>>,
}

impl<F> CatchUnwind<F> {
    /// Wraps `future`.
    pub(crate) fn new(future: F) -> CatchUnwind<F> {
        CatchUnwind {
            inner: Box::pin(future),
        }
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Panic>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        poll_catching(self.inner.as_mut(), cx)
    }
}
