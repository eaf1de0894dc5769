//! The typed results of each query, one module per query family. Times are
//! nanoseconds since the epoch (UTC).

mod correlation;
mod fields;
mod lambda;
mod logs;
mod services;
mod trace;

pub use correlation::*;
pub use fields::Attributes;
pub use lambda::*;
pub use logs::*;
pub use services::*;
pub use trace::*;
