//! No code: this crate's `Cargo.toml` asks for the features that the
//! `tracelake` and `tracelake-dashboards` builds would otherwise resolve
//! differently for the crates they share, so that building the second reuses
//! what the first compiled (docs/build.md, "Two binaries").
