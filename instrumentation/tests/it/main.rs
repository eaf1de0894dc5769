//! Behaviour of the instrumentation crate seen from outside: what a wrapped
//! handler writes, and how context travels through every trigger.

mod support;

mod dependencies;
mod extraction;
mod handler_output;
#[cfg(feature = "lambda-runtime")]
mod lambda_layer;
