//! The decisions behind a number of the goodwill report: the same window and segment
//! filter, narrowed by gesture, role, day, outcome status or authority verdict, newest
//! first, one line each. The console links every number of its overview here, so a lead
//! can click from "12 escalations by agents" to the twelve tickets.

use super::report::Filter;
use super::report_row::ReportRow;
use crate::domain::FieldError;
use crate::money::MoneyDto;
use crate::store::decisions::OutcomeStatus;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// Most lines one answer carries; `truncated` says when more matched.
pub const MAX_LIMIT: usize = 1000;
/// Lines when the query names no limit.
pub const DEFAULT_LIMIT: usize = 100;

/// Which outcome a decision has, for the `outcome` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeFilter {
    /// No outcome recorded yet.
    Open,
    /// Any outcome recorded.
    Recorded,
    Status(OutcomeStatus),
}

impl OutcomeFilter {
    /// `open`, `recorded` or an outcome status (`escalated`, …).
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Ok(match s {
            "open" => OutcomeFilter::Open,
            "recorded" => OutcomeFilter::Recorded,
            "granted_as_recommended" => OutcomeFilter::Status(OutcomeStatus::GrantedAsRecommended),
            "granted_other" => OutcomeFilter::Status(OutcomeStatus::GrantedOther),
            "escalated" => OutcomeFilter::Status(OutcomeStatus::Escalated),
            "declined" => OutcomeFilter::Status(OutcomeStatus::Declined),
            other => {
                return Err(FieldError::new(
                    "outcome",
                    format!(
                        "expected one of open, recorded, granted_as_recommended, granted_other, escalated, declined; got `{}`",
                        crate::money::truncate(other)
                    ),
                ))
            }
        })
    }

    fn matches(self, d: &ReportRow) -> bool {
        match (self, &d.outcome) {
            (OutcomeFilter::Open, o) => o.is_none(),
            (OutcomeFilter::Recorded, o) => o.is_some(),
            (OutcomeFilter::Status(s), Some(o)) => o.status == Some(s),
            (OutcomeFilter::Status(_), None) => false,
        }
    }
}

/// The narrowing on top of the report's filter; every field optional.
#[derive(Debug, Clone, Default)]
pub struct Narrow {
    pub gesture: Option<String>,
    pub role: Option<String>,
    pub agent: Option<String>,
    pub customer: Option<String>,
    /// A UTC day, `YYYY-MM-DD`.
    pub day: Option<chrono::NaiveDate>,
    pub outcome: Option<OutcomeFilter>,
    pub within_authority: Option<bool>,
    /// Whether the outcome says the customer accepted (outcomes without the field never match).
    pub customer_accepted: Option<bool>,
}

/// One decision, as a line of the list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DecisionLine {
    pub decision_id: String,
    pub ticket_id: String,
    pub customer_id: String,
    /// RFC 3339.
    pub created_at: String,
    pub segment: String,
    pub role: String,
    pub agent_id: String,
    pub category: String,
    pub gesture: String,
    pub recommended: MoneyDto,
    pub within_authority: bool,
    /// The outcome's status; absent while none is recorded (or one recorded without a status).
    pub outcome: Option<OutcomeStatus>,
    /// What was granted, when an outcome is recorded.
    pub granted: Option<MoneyDto>,
    pub customer_accepted: Option<bool>,
}

/// `GET /v1/reports/decisions`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DecisionList {
    /// Newest first.
    pub decisions: Vec<DecisionLine>,
    /// How many decisions matched, shown or not.
    pub matched: u64,
    /// True when `matched` is more than the lines shown.
    pub truncated: bool,
}

fn line(d: ReportRow) -> DecisionLine {
    let outcome = d.outcome;
    DecisionLine {
        decision_id: d.decision_id,
        ticket_id: d.ticket_id,
        customer_id: d.request.customer_id,
        created_at: d.created_at,
        segment: d.customer.segment,
        role: d.authority.role,
        agent_id: d.request.agent.id,
        category: d.request.complaint.category,
        gesture: d.recommendation.gesture,
        recommended: d.recommendation.amount,
        within_authority: d.authority.within_authority,
        outcome: outcome.as_ref().and_then(|o| o.status),
        granted: outcome.as_ref().and_then(|o| o.granted.amount.clone()),
        customer_accepted: outcome.as_ref().and_then(|o| o.customer_accepted),
    }
}

fn day_of(created_at: &str) -> Option<chrono::NaiveDate> {
    DateTime::parse_from_rfc3339(created_at)
        .ok()
        .map(|t| t.with_timezone(&Utc).date_naive())
}

/// The decisions `filter` and `narrow` select, newest first, at most `limit` of them.
pub fn list(
    store: &Store,
    filter: &Filter,
    narrow: &Narrow,
    limit: usize,
) -> Result<DecisionList, StoreError> {
    let mut matched = 0u64;
    // The log is read oldest first; keep the newest `limit` in a ring.
    let mut kept: std::collections::VecDeque<DecisionLine> = std::collections::VecDeque::new();
    for d in store.decisions_between_as::<ReportRow>(filter.from, filter.to) {
        let d = d?;
        let e = &d;
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        let keep = eq(&filter.segment, &e.customer.segment)
            && filter
                .market
                .as_ref()
                .is_none_or(|(m, _)| m == d.market_id())
            && eq(&narrow.gesture, &e.recommendation.gesture)
            && eq(&narrow.role, &e.authority.role)
            && eq(&narrow.agent, &d.request.agent.id)
            && eq(&narrow.customer, &d.request.customer_id)
            && narrow
                .within_authority
                .is_none_or(|w| w == e.authority.within_authority)
            && narrow.outcome.is_none_or(|o| o.matches(&d))
            && narrow
                .customer_accepted
                .is_none_or(|a| d.outcome.as_ref().and_then(|o| o.customer_accepted) == Some(a))
            && narrow
                .day
                .is_none_or(|day| day_of(&d.created_at) == Some(day));
        if !keep {
            continue;
        }
        matched += 1;
        if limit > 0 {
            if kept.len() == limit {
                kept.pop_front();
            }
            kept.push_back(line(d));
        }
    }
    let decisions: Vec<DecisionLine> = kept.into_iter().rev().collect();
    Ok(DecisionList {
        truncated: matched > decisions.len() as u64,
        decisions,
        matched,
    })
}
