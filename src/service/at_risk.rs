//! The at-risk list (silent churn): customers with a churn signal and no decision in the
//! last `quiet_days`, ranked by value at risk, each with its reasons in words and the
//! gesture the active policy suggests for a proactive contact.
//!
//! Signals (docs/closing-the-loop.md): an NPS detractor (latest answer, service/nps.rs);
//! a P(alive) below 0.5 in the order model's cached prediction; a P(alive) that fell by
//! 0.2 or more over the last 90 days of silence (value/trend.rs, today's view of the same
//! model); the latest complaint within 180 days declined, escalated, refused by the
//! customer or without an outcome.
//! Value at risk and segment are the engine's own (`policy::facts::derive`); the
//! suggestion is the active policy evaluated for a synthetic low-severity `other`
//! complaint by the lowest role, marked with the attribute `proactive: true` so a policy
//! can give outreach its own rule; it never leaves the policy's floor and guards.

use super::AppState;
use crate::domain::request::{AgentDto, ComplaintDto, DecisionRequestDto, Vocab};
use crate::error::AppError;
use crate::money::{Money, MoneyDto};
use crate::policy::compiled::CompiledPolicy;
use crate::policy::{evaluate, facts};
use crate::store::decisions::{OutcomeStatus, StoredDecision};
use crate::value::trend::p_alive_trend;
use crate::value::ValueModel;
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// P(alive) under which a customer counts as fading.
const P_ALIVE_LOW: f64 = 0.5;
/// How far back an unresolved complaint still counts.
const COMPLAINT_DAYS: i64 = 180;
/// The look-back of the falling-P(alive) signal, and the fall that counts.
const TREND_DAYS: u32 = 90;
const P_ALIVE_FALL: f64 = 0.2;
/// Customers with a decision in this many days are left out unless the query says otherwise.
pub const DEFAULT_QUIET_DAYS: u32 = 30;
/// The longest quiet period a query may ask for: ten years is longer than any decision
/// history, and a bound keeps `now - quiet` inside the calendar (a huge value panicked).
pub const MAX_QUIET_DAYS: u32 = 3650;

/// Query of `GET /v1/customers/at-risk`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AtRiskQuery {
    /// A segment id of the active policy, e.g. `top`.
    pub segment: Option<String>,
    /// Page size, 1 to 500; default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page: the last value at risk and customer id.
    #[param(pattern = r"^-?[0-9]{1,20}(\.[0-9]{1,8})?_.*$")]
    pub cursor: Option<String>,
    /// Customers with a decision in this many days are left out; 0 to 3650, default 30.
    #[param(minimum = 0, maximum = 3650)]
    pub quiet_days: Option<u32>,
    /// The market whose policy values and suggests (docs/policy.md, "Markets"); absent:
    /// the market `default`, or the only one. With more than one market active, only
    /// customers kept in that market's currency are listed.
    #[param(pattern = "^[a-z0-9][a-z0-9_-]{0,31}$")]
    pub market: Option<String>,
}

/// The gesture the active policy suggests for a proactive contact.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Suggestion {
    pub gesture: String,
    pub amount: MoneyDto,
    pub agent_script: String,
}

/// One customer on the list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AtRiskCustomer {
    pub customer_id: String,
    pub segment: String,
    pub value_at_risk: MoneyDto,
    /// `detractor`, `low_p_alive`, `falling_p_alive`, `unresolved_complaint`.
    pub signals: Vec<&'static str>,
    /// Each signal in words.
    pub reasons: Vec<String>,
    /// RFC 3339; absent when the customer never had a decision.
    pub last_decision_at: Option<String>,
    pub suggested: Suggestion,
    /// RFC 3339: when the outreach webhook accepted this customer (absent when not
    /// pushed, or no webhook is configured).
    pub pushed_at: Option<String>,
}

/// One page of the list, highest value at risk first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AtRiskPage {
    pub customers: Vec<AtRiskCustomer>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn invalid(field: &str, message: &str) -> AppError {
    crate::domain::FieldError::new(field, message).into()
}

/// `value_at_risk` `_` `customer_id` of the last item shown.
fn parse_cursor(c: &str) -> Result<(Decimal, String), AppError> {
    c.split_once('_')
        .and_then(|(v, id)| Some((v.parse().ok()?, id.to_string())))
        .ok_or_else(|| invalid("cursor", "not a cursor of this list"))
}

/// Ranked, filtered, paged. Reads every known customer: meant for a daily list, not for
/// a request per ticket.
pub fn list(state: &AppState, q: &AtRiskQuery, now: DateTime<Utc>) -> Result<AtRiskPage, AppError> {
    let policy = state.policy_for(q.market.as_deref())?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(invalid("limit", "must be between 1 and 500"));
    }
    if let Some(s) = &q.segment {
        if !policy.segments.iter().any(|x| &x.id == s) {
            return Err(invalid("segment", "not a segment of the active policy"));
        }
    }
    let after = q.cursor.as_deref().map(parse_cursor).transpose()?;
    let quiet_days = q.quiet_days.unwrap_or(DEFAULT_QUIET_DAYS);
    if quiet_days > MAX_QUIET_DAYS {
        return Err(invalid("quiet_days", "must be between 0 and 3650"));
    }
    let quiet = Duration::days(i64::from(quiet_days));
    let all = ranked(state, &policy, q.segment.as_deref(), quiet, now)?;
    let start = match &after {
        None => 0,
        Some((v, id)) => all.partition_point(|(x, c)| x > v || (x == v && &c.customer_id <= id)),
    };
    let page: Vec<_> = all.into_iter().skip(start).take(limit + 1).collect();
    let more = page.len() > limit;
    let customers: Vec<_> = page.into_iter().take(limit).collect();
    let next_cursor = more
        .then(|| {
            customers
                .last()
                .map(|(v, c)| format!("{v}_{}", c.customer_id))
        })
        .flatten();
    Ok(AtRiskPage {
        customers: customers.into_iter().map(|(_, c)| c).collect(),
        next_cursor,
    })
}

/// Every listed customer with their value at risk, highest first (ties by id, so a
/// cursor is stable); `segment` filters.
pub fn ranked(
    state: &AppState,
    policy: &CompiledPolicy,
    segment: Option<&str>,
    quiet: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<(Decimal, AtRiskCustomer)>, AppError> {
    let model = super::order_history::active_model(&state.store)?;
    // With several markets a customer belongs to the market of their currency (a record
    // is kept in one currency); with one, every customer is listed, as before markets.
    let own_currency_only = state.policies.markets().len() > 1;
    let mut all = Vec::new();
    for id in state.store.known_customer_ids()? {
        if let Some(c) = assess(
            state,
            policy,
            model.as_ref(),
            &id,
            now,
            quiet,
            own_currency_only,
        )? {
            if segment.is_none_or(|s| c.1.segment == s) {
                all.push(c);
            }
        }
    }
    all.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| a.1.customer_id.cmp(&b.1.customer_id))
    });
    Ok(all)
}

/// One customer: `None` unless they have a churn signal and were quiet long enough.
fn assess(
    state: &AppState,
    policy: &CompiledPolicy,
    model: Option<&ValueModel>,
    id: &str,
    now: DateTime<Utc>,
    quiet: Duration,
    own_currency_only: bool,
) -> Result<Option<(Decimal, AtRiskCustomer)>, AppError> {
    let store = &state.store;
    let last = match store.latest_decision_id(id)? {
        Some(d) => store.get_decision(&d)?,
        None => None,
    };
    let last_at = last.as_ref().and_then(decided_at);
    if last_at.is_some_and(|t| t > now - quiet) {
        return Ok(None);
    }
    // A record that no longer validates is left out rather than failing the whole list.
    let Some(Ok(customer)) = super::effective_customer::effective_customer(store, policy, id, now)?
    else {
        return Ok(None);
    };
    let record = customer.record;
    if own_currency_only && record.currency != policy.currency {
        return Ok(None);
    }
    let input = synthetic(policy, id)?;
    let f = facts::derive(policy, &input, Some(&record), now.date_naive());
    let mut signals = Vec::new();
    let mut reasons = Vec::new();
    if f.detractor {
        if let Some((score, at)) = record.nps {
            signals.push("detractor");
            reasons.push(format!("NPS detractor: scored {score} on {at}"));
        }
    }
    let orders = super::order_history::get(store, id)?;
    let prediction = orders.as_ref().and_then(|s| s.prediction.as_ref());
    if let Some(p) = prediction.filter(|p| p.p_alive < P_ALIVE_LOW) {
        signals.push("low_p_alive");
        reasons.push(format!(
            "the order model gives P(alive) {:.2} as of {} (below {P_ALIVE_LOW})",
            p.p_alive, p.as_of
        ));
    }
    let trend = match (model, &orders) {
        (Some(m), Some(o)) if o.summary.currency == m.currency => p_alive_trend(
            &m.bgnbd,
            m.settings.time_unit,
            &o.summary,
            now.date_naive(),
            TREND_DAYS,
        ),
        _ => None,
    };
    if let Some(t) = trend.filter(|t| t.drop() >= P_ALIVE_FALL) {
        signals.push("falling_p_alive");
        reasons.push(format!(
            "P(alive) fell from {:.2} on {} to {:.2} today without an order",
            t.before, t.since, t.now
        ));
    }
    if let (Some(d), Some(t)) = (&last, last_at) {
        if t > now - Duration::days(COMPLAINT_DAYS) {
            if let Some(why) = unresolved(d) {
                signals.push("unresolved_complaint");
                reasons.push(format!(
                    "{} complaint of {} {why}",
                    d.request.complaint.category,
                    t.date_naive()
                ));
            }
        }
    }
    if signals.is_empty() {
        return Ok(None);
    }
    let evaluation = evaluate(policy, &input, Some(&record), now);
    let rec = evaluation.recommendation;
    let segment = policy
        .segments
        .get(f.segment)
        .map(|s| s.id.clone())
        .unwrap_or_default();
    Ok(Some((
        f.value_at_risk,
        AtRiskCustomer {
            customer_id: id.to_string(),
            segment,
            value_at_risk: Money::new(f.value_at_risk, policy.currency).into(),
            signals,
            reasons,
            last_decision_at: last_at.map(|t| t.to_rfc3339()),
            suggested: Suggestion {
                gesture: rec.gesture,
                amount: rec.amount.into(),
                agent_script: rec.agent_script,
            },
            pushed_at: store.at_risk_push(id)?.map(|p| p.pushed_at),
        },
    )))
}

fn decided_at(d: &StoredDecision) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&d.decision.created_at)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Why a complaint is still open, in words; `None` when it was resolved.
fn unresolved(d: &StoredDecision) -> Option<&'static str> {
    match &d.outcome {
        None => Some("has no recorded outcome"),
        Some(o) if o.status == Some(OutcomeStatus::Declined) => Some("was declined"),
        Some(o) if o.status == Some(OutcomeStatus::Escalated) => Some("was escalated"),
        Some(o) if o.customer_accepted == Some(false) => Some("was refused by the customer"),
        Some(_) => None,
    }
}

/// A low-severity `other` complaint by the lowest role, marked `proactive`: what the
/// policy offers a customer who did not complain.
fn synthetic(
    policy: &CompiledPolicy,
    id: &str,
) -> Result<crate::domain::request::DecisionInput, AppError> {
    let category = if policy.categories.iter().any(|c| c == "other") {
        "other".to_string()
    } else {
        policy.categories.last().cloned().unwrap_or_default()
    };
    let dto = DecisionRequestDto {
        ticket_id: "proactive".to_string(),
        customer_id: id.to_string(),
        agent: AgentDto {
            id: "at-risk-list".to_string(),
            role: policy.roles.first().cloned().unwrap_or_default(),
        },
        complaint: ComplaintDto {
            category,
            severity: "low".to_string(),
            channel: "email".to_string(),
            fault: "unclear".to_string(),
            amount_at_stake: None,
            description: None,
        },
        attributes: Some(serde_json::Map::from_iter([(
            "proactive".to_string(),
            serde_json::Value::Bool(true),
        )])),
        locale: None,
        market: None,
    };
    let vocab = Vocab {
        categories: &policy.categories,
        roles: &policy.roles,
        currency: policy.currency,
    };
    Ok(dto.validate(&vocab)?)
}
