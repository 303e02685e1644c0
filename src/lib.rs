//! kulanz: a goodwill decision engine for support desks.
//!
//! Layers, from the edge in: `cli` and `http` (thin), `service` (what a request does),
//! `policy` (the pure engine and its compiled policies), `domain` (validated types),
//! `store` (sled). See `docs/` for the policy format, the API and operations.

pub mod cli;
pub mod cluster;
pub mod connections;
pub mod demo;
pub mod domain;
pub mod error;
pub mod error_code;
pub mod http;
pub mod log_buffer;
pub mod metrics;
pub mod money;
pub mod policy;
pub mod service;
pub mod startup;
pub mod store;
pub mod svg_chart;
pub mod telemetry;
pub mod value;
