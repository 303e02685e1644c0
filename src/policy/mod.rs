//! Policies: the document model, its schema and semantic checks, the compiled form, the
//! pure engine that evaluates it, and the example cases each policy carries.

pub mod cases;
pub mod check;
pub mod compile;
pub mod compiled;
mod counterfactual;
pub mod diff;
pub mod engine;
pub mod err;
pub mod facts;
pub mod load;
pub mod model;
mod phrases;
mod ranking;
pub mod retention;
pub mod template;
pub mod texts;

pub use compiled::CompiledPolicy;
pub use engine::{evaluate, evaluate_with};
pub use err::{PolicyError, Problem};
