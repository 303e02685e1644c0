//! Customer value from order history: the BG/NBD model (Fader, Hardie & Lee 2005) for
//! repeat purchases and P(alive), the Gamma-Gamma model (Fader, Hardie & Lee 2005b) for
//! spend per order, their maximum-likelihood fit, and per-customer predictions.
//!
//! Everything here is pure: summaries and parameters in, numbers out; no store, no clock.
//! The statistics are `f64`; they become money once, in [`predict::to_money`].
//! `docs/value.md` explains the models, their assumptions and how to read them.

pub mod bfgs;
pub mod bgnbd;
pub mod err;
pub mod fit;
pub mod gamma_gamma;
pub mod model;
pub mod nelder_mead;
pub mod predict;
pub mod special;
pub mod summary;
pub mod trend;
pub mod validate;

pub use err::ValueError;
pub use model::{TimeUnit, ValueModel};
pub use summary::OrderSummary;
