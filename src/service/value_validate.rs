//! `kulanz value validate` and `POST /v1/value/validate`: fit both models on a calibration
//! period, predict each customer's holdout, compare with what the stored orders say
//! happened. Stores nothing and activates nothing.
//!
//! It reads every order of the customers in the chosen currency (one index scan and one
//! point read per order): a validation is an analysis run, not the "now" fast path, which
//! reads summaries only.

use super::value_charts::{render_charts, ChartData, ChartLanguage, ValueCharts};
use crate::domain::FieldError;
use crate::error::AppError;
use crate::money::Currency;
use crate::store::Store;
use crate::value::bgnbd::BgNbd;
use crate::value::fit::{fit_bgnbd, fit_gamma_gamma};
use crate::value::gamma_gamma::GammaGamma;
use crate::value::model::FitStats;
use crate::value::summary::{is_refund, summary_as_of};
use crate::value::validate::{self as v, Comparison, FrequencyRow, HoldoutCustomer, TrackingPoint};
use crate::value::{TimeUnit, ValueError};
use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// What to validate.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateRequest {
    /// Last day of the calibration period, `YYYY-MM-DD`: the models see purchases up to it.
    #[schema(value_type = crate::domain::schema::Day)]
    pub calibration_end: NaiveDate,
    /// Last day of the holdout period, after `calibration_end`.
    #[schema(value_type = crate::domain::schema::Day)]
    pub holdout_end: NaiveDate,
    /// `day`, `week` (default) or `month`.
    #[schema(value_type = Option<crate::domain::schema::TimeUnit>)]
    pub time_unit: Option<TimeUnit>,
    /// Currency whose customers are validated; default the one most customers buy in.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    /// Also draw the two standard charts as SVG, with titles in this language (`en`, `de`).
    pub charts: Option<ChartLanguage>,
}

/// The spend model's part of a validation: its fit and its comparison, or why it failed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SpendValidation {
    #[schema(value_type = Object)]
    pub gamma_gamma: Option<GammaGamma>,
    #[schema(value_type = Object)]
    pub gamma_gamma_fit: Option<FitStats>,
    /// Expected against actual mean spend per holdout purchase day; customers with a
    /// repeat purchase in the calibration and a purchase in the holdout.
    pub spend: Option<Comparison>,
    /// Why there is no spend comparison (the spend model could not be fitted).
    pub error: Option<String>,
}

/// What `kulanz value validate` prints. Named apart from the policy validation's report
/// in the OpenAPI document (one schema name per type).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ValueValidationReport)]
pub struct ValidationReport {
    pub currency: String,
    #[schema(value_type = String)]
    pub time_unit: TimeUnit,
    #[schema(value_type = String)]
    pub calibration_end: NaiveDate,
    #[schema(value_type = String)]
    pub holdout_end: NaiveDate,
    /// Length of the holdout in time units.
    pub holdout_duration: f64,
    /// Customers with a first purchase up to the calibration end: the ones compared.
    pub customers: usize,
    /// Customers left out: another currency, or a first purchase after the calibration.
    pub customers_other_currency: u64,
    pub customers_first_purchase_later: u64,
    #[schema(value_type = Object)]
    pub bgnbd: BgNbd,
    #[schema(value_type = Object)]
    pub bgnbd_fit: FitStats,
    /// Repeat purchase days in the holdout, actual against expected, per customer.
    pub purchases: Comparison,
    /// The same by calibration frequency 0, 1, … 7+ (Fader, Hardie & Lee 2005, fig. 4).
    pub by_calibration_frequency: Vec<FrequencyRow>,
    pub spend: SpendValidation,
    /// Cumulative repeat purchases per time unit from the earliest first purchase to the
    /// holdout end, actual against expected (the paper's fig. 2).
    pub tracking: Vec<TrackingPoint>,
    /// The first day of the tracking curve.
    #[schema(value_type = String)]
    pub tracking_start: NaiveDate,
    /// Time of each fit alone, and of the whole validation.
    pub seconds_bgnbd: f64,
    pub seconds_gamma_gamma: f64,
    pub seconds: f64,
    /// The tracking and conditional-expectation charts, when the request asked for them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charts: Option<ValueCharts>,
}

impl ValidationReport {
    /// What the charts draw.
    pub fn chart_data(&self) -> ChartData<'_> {
        ChartData {
            time_unit: self.time_unit,
            calibration_end: self.calibration_end,
            tracking_start: self.tracking_start,
            holdout_duration: self.holdout_duration,
            tracking: &self.tracking,
            by_calibration_frequency: &self.by_calibration_frequency,
        }
    }
}

fn invalid(field: &str, message: impl Into<String>) -> AppError {
    AppError::Invalid(FieldError::new(field, message))
}

fn failed(e: ValueError) -> AppError {
    match e {
        ValueError::Invalid(m) => invalid("$", m),
        other => AppError::Conflict {
            code: crate::error_code::Code::ValueValidationFailed,
            message: format!("{other} on the calibration period"),
        },
    }
}

/// One customer's orders reduced to what a validation needs.
struct Split {
    holdout: HoldoutCustomer,
    /// Their first purchase day and repeat purchase days up to the holdout end.
    first: NaiveDate,
    repeats: Vec<NaiveDate>,
}

fn split(
    orders: &[(NaiveDate, Decimal)],
    currency: &str,
    unit: TimeUnit,
    cal_end: NaiveDate,
    end: NaiveDate,
) -> Option<Split> {
    let cal = summary_as_of(currency, orders.iter().copied(), cal_end);
    let rfm = cal.rfm(unit, cal_end)?;
    let mut days: BTreeMap<NaiveDate, Decimal> = BTreeMap::new();
    for (d, a) in orders.iter().filter(|(d, a)| *d <= end && !is_refund(*a)) {
        *days.entry(*d).or_default() += *a;
    }
    let first = *days.keys().next()?;
    let holdout: Vec<Decimal> = days.range(cal_end.succ_opt()?..).map(|(_, s)| *s).collect();
    let holdout_mean_spend = (!holdout.is_empty())
        .then(|| holdout.iter().sum::<Decimal>() / Decimal::from(holdout.len()))
        .and_then(|m| m.to_f64());
    Some(Split {
        holdout: HoldoutCustomer {
            rfm,
            mean_spend: cal.mean_repeat_spend().and_then(|m| m.to_f64()),
            holdout_purchases: holdout.len() as f64,
            holdout_mean_spend,
        },
        first,
        repeats: days.keys().skip(1).copied().collect(),
    })
}

/// Validate the models on the stored orders.
pub fn validate(store: &Store, req: &ValidateRequest) -> Result<ValidationReport, AppError> {
    let started = std::time::Instant::now();
    let (cal_end, end) = (req.calibration_end, req.holdout_end);
    if end <= cal_end {
        return Err(invalid(
            "holdout_end",
            format!("must be after calibration_end `{cal_end}`, got `{end}`"),
        ));
    }
    let unit = req.time_unit.unwrap_or(TimeUnit::Week);
    let wanted = req
        .currency
        .as_deref()
        .map(|c| c.parse::<Currency>().map(|c| c.to_string()))
        .transpose()
        .map_err(|e| invalid("currency", e))?;
    // First pass, summaries only: the currency, and who is in the calibration cohort.
    let mut per_currency: HashMap<String, u64> = HashMap::new();
    for item in store.order_summaries() {
        let (_, s) = item?;
        if s.summary.first_purchase.is_some_and(|d| d <= cal_end) {
            *per_currency.entry(s.summary.currency).or_default() += 1;
        }
    }
    let currency = match wanted {
        Some(c) => c,
        None => per_currency
            .iter()
            .max_by_key(|(c, n)| (**n, std::cmp::Reverse((*c).clone())))
            .map(|(c, _)| c.clone())
            .unwrap_or_else(|| "EUR".to_string()),
    };
    let mut customers = Vec::new();
    let mut first_days: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    let mut repeat_days: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    let (mut other, mut later) = (0u64, 0u64);
    for item in store.order_summaries() {
        let (id, s) = item?;
        if s.summary.currency != currency {
            other += 1;
            continue;
        }
        let orders: Vec<(NaiveDate, Decimal)> = store
            .orders_of(&id)?
            .iter()
            .map(|o| (o.at.date_naive(), o.amount))
            .collect();
        match split(&orders, &currency, unit, cal_end, end) {
            Some(sp) => {
                customers.push(sp.holdout);
                *first_days.entry(sp.first).or_default() += 1;
                for d in sp.repeats {
                    *repeat_days.entry(d).or_default() += 1;
                }
            }
            None => later += 1,
        }
        // The tracking curve follows later cohorts too, as lifetimes' does.
        if let Some(first) = s
            .summary
            .first_purchase
            .filter(|d| *d > cal_end && *d <= end)
        {
            tracking_later(&orders, first, end, &mut first_days, &mut repeat_days);
        }
    }
    let rfm: Vec<_> = customers.iter().map(|c| c.rfm).collect();
    let (bg, seconds_bgnbd) = timed(|| fit_bgnbd(&rfm));
    let (bgnbd, bgnbd_fit) = bg.map_err(failed)?;
    let repeat: Vec<(f64, f64)> = customers
        .iter()
        .filter_map(|c| Some((c.rfm.x, c.mean_spend.filter(|m| c.rfm.x > 0.0 && *m > 0.0)?)))
        .collect();
    let (gg, seconds_gamma_gamma) = timed(|| fit_gamma_gamma(&repeat));
    let duration = (end - cal_end).num_days() as f64 / unit.days();
    let predicted = v::predicted_purchases(&bgnbd, &customers, duration);
    let pairs: Vec<(f64, f64)> = customers
        .iter()
        .zip(&predicted)
        .map(|(c, p)| (c.holdout_purchases, *p))
        .collect();
    let spend = match gg {
        Ok((g, stats)) => SpendValidation {
            gamma_gamma: Some(g),
            gamma_gamma_fit: Some(stats),
            spend: Some(v::spend(&g, &customers)),
            error: None,
        },
        Err(e) => SpendValidation {
            gamma_gamma: None,
            gamma_gamma_fit: None,
            spend: None,
            error: Some(e.to_string()),
        },
    };
    let start = first_days.keys().next().copied().unwrap_or(cal_end);
    let offsets = |m: &BTreeMap<NaiveDate, u64>| -> Vec<(i64, u64)> {
        m.iter()
            .map(|(d, n)| ((*d - start).num_days(), *n))
            .collect()
    };
    let periods = ((end - start).num_days() + 1) as f64 / unit.days();
    let tracking = v::tracking(
        &bgnbd,
        unit.days(),
        periods.floor() as u32,
        &offsets(&first_days),
        &offsets(&repeat_days),
    );
    let mut report = ValidationReport {
        currency,
        time_unit: unit,
        calibration_end: cal_end,
        holdout_end: end,
        holdout_duration: duration,
        customers: customers.len(),
        customers_other_currency: other,
        customers_first_purchase_later: later,
        bgnbd,
        bgnbd_fit,
        purchases: v::compare(&pairs),
        by_calibration_frequency: v::by_frequency(&customers, &predicted),
        spend,
        tracking,
        tracking_start: start,
        seconds_bgnbd,
        seconds_gamma_gamma,
        seconds: 0.0,
        charts: None,
    };
    report.charts = req
        .charts
        .map(|lang| render_charts(&report.chart_data(), lang));
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// `f`'s result and its wall time in seconds: each fit is timed apart from reading orders.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let clock = std::time::Instant::now();
    let out = f();
    (out, clock.elapsed().as_secs_f64())
}

/// Add a customer first seen in the holdout to the tracking counts.
fn tracking_later(
    orders: &[(NaiveDate, Decimal)],
    first: NaiveDate,
    end: NaiveDate,
    first_days: &mut BTreeMap<NaiveDate, u64>,
    repeat_days: &mut BTreeMap<NaiveDate, u64>,
) {
    let mut days: Vec<NaiveDate> = orders
        .iter()
        .filter(|(d, a)| *d <= end && !is_refund(*a))
        .map(|(d, _)| *d)
        .collect();
    days.sort_unstable();
    days.dedup();
    *first_days.entry(first).or_default() += 1;
    for d in days.into_iter().filter(|d| *d > first) {
        *repeat_days.entry(d).or_default() += 1;
    }
}
