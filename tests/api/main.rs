//! The HTTP test binary: the real app on port 0 with a temporary sled directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod at_risk_push;
mod audit;
mod backup;
mod closing_loop;
mod conformance;
mod console_reports;
mod counterfactuals;
mod customers;
mod decisions;
mod erasure;
mod errors;
mod helpers;
mod hostile;
mod idempotency;
mod locale;
mod markets;
mod ops;
mod order_data;
mod orders;
mod policies;
mod ranking;
mod release;
mod webhooks;
mod zaf;
mod zendesk_app;
