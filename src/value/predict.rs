//! Per-customer predictions from a fitted model: P(alive), expected purchases over the
//! horizon, expected spend per order and the discounted predicted value.
//!
//! This is the one place where statistics become money ([`to_money`]).

use super::bgnbd::{BgNbd, Rfm};
use super::gamma_gamma::GammaGamma;
use super::model::{TimeUnit, ValueModel};
use super::summary::OrderSummary;
use chrono::NaiveDate;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Largest amount a prediction is stored as; beyond it the model is extrapolating anyway.
pub const MAX_PREDICTED: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// A customer's cached prediction, stored with their order summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Prediction {
    /// The model version that made it.
    pub model_version: u64,
    /// The day it describes: the model's observation end, or the last purchase if later.
    #[schema(value_type = String)]
    pub as_of: NaiveDate,
    /// Probability that the customer is still buying (BG/NBD).
    pub p_alive: f64,
    /// Expected purchase days over the horizon (BG/NBD).
    pub expected_purchases: f64,
    pub horizon_months: u32,
    /// Expected spend per purchase day (Gamma-Gamma), rounded to cents.
    #[schema(value_type = String)]
    pub expected_spend: Decimal,
    /// Discounted expected spend over the horizon, rounded to cents.
    #[schema(value_type = String)]
    pub predicted_value: Decimal,
}

/// The same quantities before they become money.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimates {
    pub p_alive: f64,
    pub expected_purchases: f64,
    pub expected_spend: f64,
    pub value: f64,
}

/// Predict in `f64`. The discounted value is the sum over the horizon's months of the
/// expected purchases in that month times the expected spend, discounted by
/// `(1 + rate)^month`: the formula of `lifetimes.customer_lifetime_value`.
pub fn estimate(
    bg: &BgNbd,
    gg: &GammaGamma,
    unit: TimeUnit,
    horizon_months: u32,
    monthly_discount_rate: f64,
    rfm: Rfm,
    mean_spend: f64,
) -> Estimates {
    let per_month = unit.per_month();
    let expected_spend = gg.expected_spend(rfm.x, mean_spend);
    let mut value = 0.0;
    let mut before = 0.0;
    for month in 1..=horizon_months {
        let upto = bg.expected_purchases(rfm, f64::from(month) * per_month);
        value +=
            expected_spend * (upto - before) / (1.0 + monthly_discount_rate).powi(month as i32);
        before = upto;
    }
    Estimates {
        p_alive: bg.p_alive(rfm),
        expected_purchases: before,
        expected_spend,
        value,
    }
}

/// Predict for one customer; `None` when the model cannot speak for them (no purchase
/// yet, a first purchase after its observation end, or another currency).
pub fn predict(model: &ValueModel, s: &OrderSummary) -> Option<Prediction> {
    if s.currency != model.currency {
        return None;
    }
    let st = &model.settings;
    let as_of = s.last_purchase?.max(st.observation_end);
    let rfm = s.rfm(st.time_unit, as_of)?;
    let mean = s
        .mean_repeat_spend()
        .and_then(|m| m.to_f64())
        .unwrap_or(0.0)
        .max(0.0);
    let e = estimate(
        &model.bgnbd,
        &model.gamma_gamma,
        st.time_unit,
        st.horizon_months,
        st.monthly_discount_rate,
        rfm,
        mean,
    );
    Some(Prediction {
        model_version: model.version,
        as_of,
        p_alive: e.p_alive,
        expected_purchases: e.expected_purchases,
        horizon_months: st.horizon_months,
        expected_spend: to_money(e.expected_spend),
        predicted_value: to_money(e.value),
    })
}

/// The one conversion from statistics to money: rounded to cents, half away from zero;
/// a non-finite or negative estimate is 0 and anything above [`MAX_PREDICTED`] is capped.
pub fn to_money(v: f64) -> Decimal {
    if !v.is_finite() || v <= 0.0 {
        return Decimal::ZERO;
    }
    Decimal::from_f64(v)
        .unwrap_or(MAX_PREDICTED)
        .min(MAX_PREDICTED)
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_rounded_once_and_bounded() {
        assert_eq!(to_money(12.345).to_string(), "12.35");
        assert_eq!(to_money(f64::NAN), Decimal::ZERO);
        assert_eq!(to_money(-3.0), Decimal::ZERO);
        assert_eq!(to_money(1e300), MAX_PREDICTED);
    }
}
