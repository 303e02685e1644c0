//! Customer value from orders: fitting a model version over the stored summaries, a
//! customer's order history as the API shows it, and the record derived from orders for
//! a customer the desk never pushed (what the engine then sees: service/effective_customer.rs).

use super::order_history::{self, OrderHistory};
use crate::domain::customer::CustomerRecordDto;
use crate::error::AppError;
use crate::error_code::Code;
use crate::money::{Currency, Money, MoneyDto};
use crate::store::{Command, Store, StoreError};
use crate::value::bgnbd::Rfm;
use crate::value::fit::{fit_bgnbd, fit_gamma_gamma};
use crate::value::model::{FitSettings, FitStats};
use crate::value::predict::Prediction;
use crate::value::summary::{summary_as_of, OrderSummary};
use crate::value::{TimeUnit, ValueError, ValueModel};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

/// What to fit; every field has a default.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FitRequest {
    /// `day`, `week` (default) or `month`.
    #[schema(value_type = Option<crate::domain::schema::TimeUnit>)]
    pub time_unit: Option<TimeUnit>,
    /// `YYYY-MM-DD`; default today (UTC).
    #[schema(value_type = Option<crate::domain::schema::Day>)]
    pub observation_end: Option<NaiveDate>,
    /// Months ahead for expected purchases and the predicted value, 1 to 120; default 12.
    #[serde(default, deserialize_with = "crate::domain::integer::optional_integer")]
    #[schema(minimum = 1, maximum = 120)]
    pub horizon_months: Option<u32>,
    /// Monthly discount rate of the predicted value, at least 0 and below 1; default 0.01.
    #[schema(minimum = 0, exclusive_maximum = 1)]
    pub monthly_discount_rate: Option<f64>,
    /// Currency whose customers are fitted; default the one most customers buy in.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
}

/// What a fit did: printed by `kulanz value fit`, returned by `POST /v1/value/fit`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FitReport {
    pub version: u64,
    pub currency: String,
    #[schema(value_type = Object)]
    pub settings: FitSettings,
    #[schema(value_type = Object)]
    pub bgnbd: crate::value::bgnbd::BgNbd,
    #[schema(value_type = Object)]
    pub bgnbd_fit: FitStats,
    #[schema(value_type = Object)]
    pub gamma_gamma: crate::value::gamma_gamma::GammaGamma,
    #[schema(value_type = Object)]
    pub gamma_gamma_fit: FitStats,
    /// Customers with orders in the store.
    pub customers_seen: u64,
    /// Left out: another currency, or no purchase up to the observation end.
    pub customers_other_currency: u64,
    pub customers_without_purchase: u64,
    /// Customers with a purchase after the observation end, whose summary was recounted
    /// from their stored orders (the stored summary is used as it is for everyone else).
    pub customers_recounted: u64,
    /// Wall time of the whole call, and of its parts: reading the summaries, each fit
    /// alone, and storing the model with every cached prediction refreshed.
    pub seconds: f64,
    pub seconds_load: f64,
    pub seconds_bgnbd: f64,
    pub seconds_gamma_gamma: f64,
    pub seconds_store: f64,
}

fn fit_failed(e: ValueError) -> AppError {
    match e {
        ValueError::Invalid(m) => AppError::Invalid(crate::domain::FieldError::new("$", m)),
        other => AppError::Conflict {
            code: Code::ValueFitFailed,
            message: format!("{other}; the previous model is kept"),
        },
    }
}

/// Fit both models over the stored summaries, store the result as a new active version
/// and refresh every cached prediction. A failed fit stores nothing.
pub fn fit_and_store(
    store: &Store,
    req: &FitRequest,
    now: DateTime<Utc>,
) -> Result<FitReport, AppError> {
    let started = std::time::Instant::now();
    let settings = FitSettings {
        time_unit: req.time_unit.unwrap_or(TimeUnit::Week),
        observation_end: req.observation_end.unwrap_or(now.date_naive()),
        horizon_months: req.horizon_months.unwrap_or(12),
        monthly_discount_rate: req.monthly_discount_rate.unwrap_or(0.01),
    };
    settings.check().map_err(fit_failed)?;
    let wanted = req
        .currency
        .as_deref()
        .map(|c| c.parse::<Currency>().map(|c| c.to_string()))
        .transpose()
        .map_err(|e| AppError::Invalid(crate::domain::FieldError::new("currency", e)))?;
    // One pass; per currency, what each model needs. Memory: a few numbers per customer.
    type Data = (Vec<Rfm>, Vec<(f64, f64)>);
    let mut by_currency: HashMap<String, Data> = HashMap::new();
    let (mut seen, mut without, mut recounted) = (0u64, 0u64, 0u64);
    let end = settings.observation_end;
    for item in order_history::all(store) {
        let (id, s) = item?;
        seen += 1;
        let summary = if s.summary.holds_as_of(end) {
            s.summary
        } else {
            recounted += 1;
            summary_from_orders(store, &id, &s.summary.currency, end)?
        };
        let Some(rfm) = summary.rfm(settings.time_unit, end) else {
            without += 1;
            continue;
        };
        let entry = by_currency.entry(summary.currency.clone()).or_default();
        entry.0.push(rfm);
        let mean = summary.mean_repeat_spend().and_then(|m| m.to_f64());
        if let Some(m) = mean.filter(|m| rfm.x > 0.0 && *m > 0.0) {
            entry.1.push((rfm.x, m));
        }
    }
    let currency = match wanted {
        Some(c) => c,
        None => by_currency
            .iter()
            .max_by_key(|(c, d)| (d.0.len(), std::cmp::Reverse((*c).clone())))
            .map(|(c, _)| c.clone())
            .unwrap_or_else(|| "EUR".to_string()),
    };
    let (rfm, spend) = by_currency.remove(&currency).unwrap_or_default();
    let other = by_currency.values().map(|d| d.0.len() as u64).sum();
    let seconds_load = started.elapsed().as_secs_f64();
    let clock = std::time::Instant::now();
    let (bgnbd, bgnbd_fit) = fit_bgnbd(&rfm).map_err(fit_failed)?;
    let seconds_bgnbd = clock.elapsed().as_secs_f64();
    drop(rfm);
    let clock = std::time::Instant::now();
    let (gamma_gamma, gamma_gamma_fit) = fit_gamma_gamma(&spend).map_err(fit_failed)?;
    let seconds_gamma_gamma = clock.elapsed().as_secs_f64();
    let clock = std::time::Instant::now();
    let model = ValueModel {
        version: store.next_value_model_version()?,
        fitted_at: now.to_rfc3339_opts(SecondsFormat::Secs, true),
        currency: currency.clone(),
        settings,
        bgnbd,
        bgnbd_fit,
        gamma_gamma,
        gamma_gamma_fit,
    };
    let document = serde_json::to_value(&model)
        .map_err(|e| AppError::Store(StoreError::Corrupt(format!("a value model as JSON: {e}"))))?;
    store.apply(Command::PutValueModel {
        model: Box::new(document),
    })?;
    order_history::refresh_predictions(store, &model)?;
    store.flush_blocking()?;
    Ok(FitReport {
        version: model.version,
        currency,
        settings,
        bgnbd,
        bgnbd_fit,
        gamma_gamma,
        gamma_gamma_fit,
        customers_seen: seen,
        customers_other_currency: other,
        customers_without_purchase: without,
        customers_recounted: recounted,
        seconds: started.elapsed().as_secs_f64(),
        seconds_load,
        seconds_bgnbd,
        seconds_gamma_gamma,
        seconds_store: clock.elapsed().as_secs_f64(),
    })
}

/// A customer's summary as of `day`, recounted from their stored orders: for a fit or a
/// validation whose day is before some of their purchases.
pub fn summary_from_orders(
    store: &Store,
    customer_id: &str,
    currency: &str,
    day: NaiveDate,
) -> Result<OrderSummary, StoreError> {
    let orders = store.orders_of(customer_id)?;
    Ok(summary_as_of(
        currency,
        orders.iter().map(|o| (o.at.date_naive(), o.amount)),
        day,
    ))
}

/// A customer's order history and cached prediction, as the API shows them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValueView {
    pub orders: u32,
    pub refunds: u32,
    /// Repeat purchase days: the models' frequency.
    pub frequency: u32,
    pub first_order_at: Option<String>,
    pub last_order_at: Option<String>,
    /// Purchases less refunds.
    pub net_revenue: MoneyDto,
    /// Mean spend per repeat purchase day; refunds excluded.
    pub mean_repeat_spend: Option<MoneyDto>,
    /// The cached prediction of the active model; absent until a model is fitted.
    pub prediction: Option<PredictionView>,
}

/// A cached prediction with its amounts as money.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PredictionView {
    pub model_version: u64,
    pub as_of: String,
    pub p_alive: f64,
    pub expected_purchases: f64,
    pub horizon_months: u32,
    pub expected_spend: MoneyDto,
    pub predicted_value: MoneyDto,
}

fn money(amount: rust_decimal::Decimal, currency: &str) -> MoneyDto {
    let amount = crate::money::saturate(amount);
    match currency.parse::<Currency>() {
        Ok(c) => Money::new(amount, c).into(),
        Err(_) => MoneyDto {
            amount: amount.round_dp(2).to_string(),
            currency: currency.to_string(),
        },
    }
}

fn prediction_view(p: &Prediction, currency: &str) -> PredictionView {
    PredictionView {
        model_version: p.model_version,
        as_of: p.as_of.to_string(),
        p_alive: p.p_alive,
        expected_purchases: p.expected_purchases,
        horizon_months: p.horizon_months,
        expected_spend: money(p.expected_spend, currency),
        predicted_value: money(p.predicted_value, currency),
    }
}

impl From<&OrderHistory> for ValueView {
    fn from(s: &OrderHistory) -> Self {
        let o = &s.summary;
        ValueView {
            orders: o.purchases,
            refunds: o.refunds,
            frequency: o.frequency(),
            first_order_at: o.first_purchase.map(|d| d.to_string()),
            last_order_at: o.last_purchase.map(|d| d.to_string()),
            net_revenue: money(o.net_revenue(), &o.currency),
            mean_repeat_spend: o.mean_repeat_spend().map(|m| money(m, &o.currency)),
            prediction: s
                .prediction
                .as_ref()
                .map(|p| prediction_view(p, &o.currency)),
        }
    }
}

/// A record derived from orders alone, for a customer the desk never pushed.
pub fn derived_record(s: &OrderHistory) -> CustomerRecordDto {
    let o = &s.summary;
    CustomerRecordDto {
        currency: o.currency.clone(),
        lifetime_revenue: money(o.net_revenue(), &o.currency),
        orders: Some(i64::from(o.purchases)),
        first_order_at: o.first_purchase.map(|d| d.to_string()),
        last_order_at: o.last_purchase.map(|d| d.to_string()),
        predicted_value: None,
        revenue_12m: None,
        tier: None,
        peak_tier: None,
        referrals: None,
        nps: None,
        goodwill_12m: None,
        claims_90d: None,
    }
}
