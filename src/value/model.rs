//! A fitted value model as stored: both models' parameters, how they were fitted, and the
//! settings every prediction made from it uses.

use super::bgnbd::BgNbd;
use super::gamma_gamma::GammaGamma;
use super::ValueError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The time unit of recency, age and the rate parameter `alpha`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    Day,
    Week,
    Month,
}

impl TimeUnit {
    /// Length in days; a month is a twelfth of a Julian year.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Day => 1.0,
            TimeUnit::Week => 7.0,
            TimeUnit::Month => 30.4375,
        }
    }

    /// Units per month in the discounted-value sum; the factors of `lifetimes`
    /// (`customer_lifetime_value`: D 30, W 4.345, M 1), kept so the values compare.
    pub fn per_month(self) -> f64 {
        match self {
            TimeUnit::Day => 30.0,
            TimeUnit::Week => 4.345,
            TimeUnit::Month => 1.0,
        }
    }
}

/// Settings of a fit, and of every prediction made from it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitSettings {
    pub time_unit: TimeUnit,
    /// The end of the observation period: ages are counted up to it.
    pub observation_end: NaiveDate,
    /// Months ahead that expected purchases and the predicted value cover.
    pub horizon_months: u32,
    /// Discount rate per month for the predicted value (0.01 = 1 % a month).
    pub monthly_discount_rate: f64,
}

impl FitSettings {
    pub fn check(&self) -> Result<(), ValueError> {
        if !(1..=120).contains(&self.horizon_months) {
            return Err(ValueError::Invalid(format!(
                "horizon must be 1 to 120 months, got `{}`",
                self.horizon_months
            )));
        }
        if !(0.0..1.0).contains(&self.monthly_discount_rate) {
            return Err(ValueError::Invalid(format!(
                "monthly discount rate must be at least 0 and below 1, got `{}`",
                self.monthly_discount_rate
            )));
        }
        Ok(())
    }
}

/// What a fit found for one model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitStats {
    /// Total log-likelihood at the optimum.
    pub log_likelihood: f64,
    /// Customers the model was fitted on.
    pub customers: usize,
    pub iterations: usize,
}

/// A stored model version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueModel {
    /// 1, 2, ...: each fit stores a new version and makes it the active one.
    pub version: u64,
    /// RFC 3339.
    pub fitted_at: String,
    /// The one currency whose customers were fitted; others get no prediction.
    pub currency: String,
    pub settings: FitSettings,
    pub bgnbd: BgNbd,
    pub bgnbd_fit: FitStats,
    pub gamma_gamma: GammaGamma,
    pub gamma_gamma_fit: FitStats,
}
