//! The one place panics of a handler are caught: [`catch`] for a call,
//! [`catch_future`] for a future (`futures`' `catch_unwind`). Each caller
//! hands the outcome to
//! [`InvocationSpan::conclude`](crate::InvocationSpan), which records the
//! panic on the invocation span, writes the spans, and then resumes the panic
//! (`std::panic::resume_unwind`).

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};

use futures_util::FutureExt as _;
use futures_util::future::CatchUnwind;

/// A future whose panic ends it with `Err(payload)`.
pub(crate) type Caught<F> = CatchUnwind<AssertUnwindSafe<F>>;

/// A caught panic's payload.
pub(crate) type Panic = Box<dyn Any + Send>;

/// Runs `f`, turning a panic into an `Err` with its payload. The state `f`
/// touches is the handler's; it is not used again after a panic except to
/// record and resume it.
pub(crate) fn catch<T>(f: impl FnOnce() -> T) -> Result<T, Panic> {
    catch_unwind(AssertUnwindSafe(f))
}

/// `future`, ending with `Err(payload)` if it panics; as for [`catch`], the
/// state it touches is not used again after a panic except to record and
/// resume it.
pub(crate) fn catch_future<F: Future>(future: F) -> Caught<F> {
    AssertUnwindSafe(future).catch_unwind()
}
