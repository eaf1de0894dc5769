//! Behaviour of the index engine: the compaction protocol on every store,
//! dedupe, and the golden files of format v1.

mod compaction;
mod dedupe;
mod golden;
mod hazards;
mod moto;
mod protocol;
mod relink;
mod support;
mod views;
