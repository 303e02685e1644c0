//! The goodwill report: what was recommended and what was granted over a time window,
//! by gesture, segment, role and agent; how often decisions stayed within authority, were
//! escalated and accepted; NPS by segment; and fairness per segment (how often only the
//! floor was given and the median recommendation), so a two-class drift is visible.
//!
//! `retention` compares ordering again after complaints with and without a gesture
//! (service/report_retention.rs).
//!
//! One pass over the decision log in the window (`from` inclusive, `to` exclusive), in
//! constant memory apart from the groups, the per-segment amounts for the medians and a
//! small entry per decision with an outcome for the retention section.
//! Amounts in another currency than the first decision's are counted but not summed.

use super::report_retention::{self, Observed, RetentionAfterGesture};
use super::report_row::ReportRow;
use crate::money::{Currency, Money, MoneyDto};
use crate::store::decisions::OutcomeStatus;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// Recommended against granted for one value of a dimension. `ReportGroup` in the OpenAPI
/// document, where a schema name is global and the backtest has a `Group` of its own.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ReportGroup)]
pub struct Group {
    pub key: String,
    pub decisions: u64,
    pub outcomes: u64,
    pub recommended: MoneyDto,
    pub granted: MoneyDto,
    /// Decisions whose recommendation was within the asking role's authority.
    pub within_authority: u64,
    /// Outcomes recorded as `escalated`.
    pub escalated: u64,
}

/// One UTC calendar day of the window, for the console's decisions-per-day chart.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayGroup {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub decisions: u64,
    pub outcomes: u64,
    pub recommended: MoneyDto,
    pub granted: MoneyDto,
}

/// Which decisions a report counts: made in `[from, to)`, optionally of one segment.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// The segment the decision was made in, e.g. `top`.
    pub segment: Option<String>,
    /// The market the decision was made in, and its currency (sums are in it); `None`:
    /// every decision, summed in the first one's currency.
    pub market: Option<(String, Currency)>,
}

/// NPS of the customers decided in the window, by their segment at decision time.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NpsBySegment {
    pub segment: String,
    pub customers: u64,
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
    /// % promoters − % detractors, −100 to 100, one decimal.
    pub nps: f64,
}

/// Whether segments are treated alike.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Fairness {
    pub segment: String,
    pub decisions: u64,
    /// Share of decisions where no rule gave more than the floor.
    pub floor_applied_share: f64,
    /// Median recommended amount.
    pub median_recommended: MoneyDto,
}

/// `GET /v1/reports/goodwill`, `kulanz report`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GoodwillReport {
    pub from: Option<String>,
    pub to: Option<String>,
    /// The segment filter, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// The market reported on (absent when no policy is active: every decision).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub market: Option<String>,
    pub currency: String,
    pub decisions: u64,
    pub outcomes: u64,
    pub recommended: MoneyDto,
    pub granted: MoneyDto,
    /// Share of decisions whose recommendation was within the asking role's authority.
    pub within_authority_share: f64,
    /// Share of outcomes recorded as `escalated`.
    pub escalation_rate: f64,
    /// Share of outcomes with `customer_accepted` set where it is true.
    pub acceptance_rate: f64,
    pub by_gesture: Vec<Group>,
    pub by_segment: Vec<Group>,
    pub by_role: Vec<Group>,
    pub by_agent: Vec<Group>,
    /// Per UTC day with at least one decision, oldest first.
    pub by_day: Vec<DayGroup>,
    pub nps_by_segment: Vec<NpsBySegment>,
    pub fairness: Vec<Fairness>,
    /// Orders within `retention_days` after complaints with a gesture and without one.
    pub retention: RetentionAfterGesture,
}

/// Default window of the report's retention section, in days.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;

/// Check a `retention_days` value: 1 to 730.
pub fn check_retention_days(field: &str, days: u32) -> Result<u32, crate::domain::FieldError> {
    if (1..=730).contains(&days) {
        Ok(days)
    } else {
        Err(crate::domain::FieldError::new(
            field,
            format!("must be between 1 and 730 days, got {days}"),
        ))
    }
}

#[derive(Default)]
struct Sums {
    decisions: u64,
    outcomes: u64,
    recommended: Decimal,
    granted: Decimal,
    within_authority: u64,
    escalated: u64,
}

fn ratio(n: u64, d: u64) -> f64 {
    if d == 0 {
        0.0
    } else {
        (n as f64 / d as f64 * 10_000.0).round() / 10_000.0
    }
}

fn median(v: &mut [Decimal]) -> Decimal {
    if v.is_empty() {
        return Decimal::ZERO;
    }
    v.sort();
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        ((v[m - 1] + v[m]) / Decimal::TWO).round_dp(2)
    }
}

/// `YYYY-MM-DD` (midnight UTC) or RFC 3339.
pub fn parse_time(field: &str, s: &str) -> Result<DateTime<Utc>, crate::domain::FieldError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            crate::domain::FieldError::new(
                field,
                format!(
                    "expected `YYYY-MM-DD` or RFC 3339, got `{}`",
                    crate::money::truncate(s)
                ),
            )
        })
}

/// Build the report over the decisions made in `[from, to)`, judging retention windows
/// of `retention_days` as of `now`.
pub fn build(
    store: &Store,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    retention_days: u32,
    now: DateTime<Utc>,
) -> Result<GoodwillReport, StoreError> {
    let filter = Filter {
        from,
        to,
        segment: None,
        market: None,
    };
    build_filtered(store, &filter, retention_days, now)
}

/// `build` over the decisions `filter` selects.
pub fn build_filtered(
    store: &Store,
    filter: &Filter,
    retention_days: u32,
    now: DateTime<Utc>,
) -> Result<GoodwillReport, StoreError> {
    let (from, to) = (filter.from, filter.to);
    let mut currency: Option<Currency> = filter.market.as_ref().map(|(_, c)| *c);
    let mut total = Sums::default();
    let mut groups: [BTreeMap<String, Sums>; 4] = Default::default();
    let mut days: BTreeMap<String, Sums> = BTreeMap::new();
    let (mut within, mut escalated, mut answered, mut accepted) = (0u64, 0u64, 0u64, 0u64);
    let mut amounts: BTreeMap<String, (u64, Vec<Decimal>)> = BTreeMap::new();
    // Customer id → (segment, latest NPS score seen at a decision).
    let mut nps: HashMap<String, (String, Option<i64>)> = HashMap::new();
    let mut observed = Vec::new();
    for d in store.decisions_between_as::<ReportRow>(from, to) {
        let d = d?;
        if filter
            .segment
            .as_ref()
            .is_some_and(|s| *s != d.customer.segment)
            || filter
                .market
                .as_ref()
                .is_some_and(|(m, _)| m != d.market_id())
        {
            continue;
        }
        if let Some(o) = observed_of(&d) {
            observed.push(o);
        }
        let e = &d;
        let Ok(rec) = e.recommendation.amount.parse() else {
            continue;
        };
        let c = *currency.get_or_insert(rec.currency);
        let same = rec.currency == c;
        let granted = d
            .outcome
            .as_ref()
            .and_then(|o| o.granted.amount.as_ref())
            .and_then(|m| m.parse().ok())
            .filter(|m: &Money| m.currency == c)
            .map_or(Decimal::ZERO, |m| m.amount);
        let recommended = if same { rec.amount } else { Decimal::ZERO };
        let keys = [
            e.recommendation.gesture.clone(),
            e.customer.segment.clone(),
            e.authority.role.clone(),
            d.request.agent.id.clone(),
        ];
        let day = DateTime::parse_from_rfc3339(&d.created_at)
            .map(|t| t.with_timezone(&Utc).date_naive().to_string())
            .unwrap_or_default();
        let was_escalated = d
            .outcome
            .as_ref()
            .is_some_and(|o| o.status == Some(OutcomeStatus::Escalated));
        for s in std::iter::once(&mut total)
            .chain(std::iter::once(days.entry(day).or_default()))
            .chain(
                groups
                    .iter_mut()
                    .zip(keys)
                    .map(|(g, k)| g.entry(k).or_default()),
            )
        {
            s.decisions += 1;
            s.recommended += recommended;
            s.within_authority += u64::from(e.authority.within_authority);
            if d.outcome.is_some() {
                s.outcomes += 1;
                s.granted += granted;
                s.escalated += u64::from(was_escalated);
            }
        }
        within += u64::from(e.authority.within_authority);
        if let Some(o) = &d.outcome {
            escalated += u64::from(o.status == Some(OutcomeStatus::Escalated));
            if let Some(a) = o.customer_accepted {
                answered += 1;
                accepted += u64::from(a);
            }
        }
        let seg = amounts.entry(e.customer.segment.clone()).or_default();
        seg.0 += u64::from(e.recommendation.floor_applied);
        if same {
            seg.1.push(rec.amount);
        }
        let score = d
            .customer_snapshot
            .as_ref()
            .and_then(|s| s.nps.as_ref())
            .map(|n| n.score);
        nps.insert(
            d.request.customer_id.clone(),
            (e.customer.segment.clone(), score),
        );
    }
    let c = match currency {
        Some(c) => c,
        None => "EUR".parse().map_err(StoreError::Corrupt)?,
    };
    let money = |a: Decimal| MoneyDto::from(Money::new(a, c));
    let to_groups = |g: BTreeMap<String, Sums>| -> Vec<Group> {
        g.into_iter()
            .map(|(key, s)| Group {
                key,
                decisions: s.decisions,
                outcomes: s.outcomes,
                recommended: money(s.recommended),
                granted: money(s.granted),
                within_authority: s.within_authority,
                escalated: s.escalated,
            })
            .collect()
    };
    let by_day = days
        .into_iter()
        .map(|(day, s)| DayGroup {
            day,
            decisions: s.decisions,
            outcomes: s.outcomes,
            recommended: money(s.recommended),
            granted: money(s.granted),
        })
        .collect();
    let [by_gesture, by_segment, by_role, by_agent] = groups.map(to_groups);
    Ok(GoodwillReport {
        from: from.map(|t| t.to_rfc3339()),
        to: to.map(|t| t.to_rfc3339()),
        segment: filter.segment.clone(),
        market: filter.market.as_ref().map(|(m, _)| m.clone()),
        by_day,
        currency: c.to_string(),
        decisions: total.decisions,
        outcomes: total.outcomes,
        recommended: money(total.recommended),
        granted: money(total.granted),
        within_authority_share: ratio(within, total.decisions),
        escalation_rate: ratio(escalated, total.outcomes),
        acceptance_rate: ratio(accepted, answered),
        by_gesture,
        by_segment,
        by_role,
        by_agent,
        nps_by_segment: nps_by_segment(nps),
        retention: report_retention::judge(store, &observed, retention_days, now)?,
        fairness: amounts
            .into_iter()
            .map(|(segment, (floor, mut v))| {
                let decisions = v.len() as u64;
                Fairness {
                    segment,
                    decisions,
                    floor_applied_share: ratio(floor, decisions),
                    median_recommended: money(median(&mut v)),
                }
            })
            .collect(),
    })
}

/// A decision with an outcome, for the retention section; `None` without an outcome.
fn observed_of(d: &ReportRow) -> Option<Observed> {
    let o = d.outcome.as_ref()?;
    let decided_at = DateTime::parse_from_rfc3339(&d.created_at)
        .ok()?
        .with_timezone(&Utc);
    let granted = o.granted.gesture != "none"
        && o.status != Some(OutcomeStatus::Declined)
        && o.customer_accepted != Some(false);
    Some(Observed {
        customer_id: d.request.customer_id.clone(),
        decided_at,
        segment: d.customer.segment.clone(),
        with_gesture: granted,
    })
}

fn nps_by_segment(nps: HashMap<String, (String, Option<i64>)>) -> Vec<NpsBySegment> {
    let mut by: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for (segment, score) in nps.into_values() {
        let Some(s) = score else { continue };
        let n = by.entry(segment).or_default();
        n[match s {
            9..=10 => 0,
            7..=8 => 1,
            _ => 2,
        }] += 1;
    }
    by.into_iter()
        .map(|(segment, [p, q, d])| {
            let n = p + q + d;
            NpsBySegment {
                segment,
                customers: n,
                promoters: p,
                passives: q,
                detractors: d,
                nps: ((p as f64 - d as f64) / n as f64 * 1000.0).round() / 10.0,
            }
        })
        .collect()
}
