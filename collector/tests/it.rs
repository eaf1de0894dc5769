//! The collector's integration tests, in one binary.

mod it {
    pub mod correlation;
    pub mod duckdb;
    pub mod field;
    pub mod fixtures;
    pub mod links;
    pub mod robustness;
    pub mod s3;
    pub mod support;
}
