//! Errors of the value models: fitting and predicting.

/// What can go wrong fitting or applying the value models.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    /// Too little data for a maximum-likelihood fit to mean anything.
    #[error("too few customers to fit {model}: {found}, at least {needed} needed")]
    TooFewCustomers {
        model: &'static str,
        found: usize,
        needed: usize,
    },
    /// The optimizer stopped without meeting its tolerance, or at an invalid point.
    #[error("the {model} fit did not converge: {reason}")]
    NotConverged { model: &'static str, reason: String },
    /// A time unit, date or horizon that cannot be used.
    #[error("{0}")]
    Invalid(String),
}
