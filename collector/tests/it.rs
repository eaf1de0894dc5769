//! The collector's integration tests, in one binary.

mod it {
    pub mod aws;
    pub mod correlation;
    pub mod duckdb;
    pub mod field;
    pub mod fixtures;
    pub mod fuzz;
    pub mod links;
    pub mod properties;
    pub mod real;
    pub mod robustness;
    pub mod runtimes;
    pub mod s3;
    pub mod sources;
    pub mod support;
}
