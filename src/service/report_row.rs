//! A stored decision as the reports read it: only the fields the goodwill report and the
//! decision list use, deserialized straight from the log's JSON. Reading the whole
//! `StoredDecision` (its flattened evaluation, reasons, request and customer snapshot)
//! was most of a report's time over 10,000 decisions (docs/performance.md); this view
//! skips what it does not name.

use crate::money::MoneyDto;
use crate::store::decisions::OutcomeStatus;
use serde::Deserialize;

/// One decision, for a report. Field names are the stored record's.
#[derive(Debug, Deserialize)]
pub struct ReportRow {
    pub decision_id: String,
    pub ticket_id: String,
    /// RFC 3339.
    pub created_at: String,
    /// Empty in decisions stored before markets existed (`market_id` reads it).
    #[serde(default)]
    pub market: String,
    pub customer: CustomerPart,
    pub recommendation: RecommendationPart,
    pub authority: AuthorityPart,
    pub request: RequestPart,
    #[serde(default)]
    pub customer_snapshot: Option<SnapshotPart>,
    #[serde(default)]
    pub outcome: Option<OutcomePart>,
}

impl ReportRow {
    /// The market decided in; `default` for decisions from before markets.
    pub fn market_id(&self) -> &str {
        if self.market.is_empty() {
            crate::domain::market::DEFAULT_MARKET
        } else {
            &self.market
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CustomerPart {
    pub segment: String,
}

#[derive(Debug, Deserialize)]
pub struct RecommendationPart {
    pub gesture: String,
    pub amount: MoneyDto,
    #[serde(default)]
    pub floor_applied: bool,
}

#[derive(Debug, Deserialize)]
pub struct AuthorityPart {
    pub role: String,
    pub within_authority: bool,
}

#[derive(Debug, Deserialize)]
pub struct RequestPart {
    pub customer_id: String,
    pub agent: AgentPart,
    pub complaint: ComplaintPart,
}

#[derive(Debug, Deserialize)]
pub struct AgentPart {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct ComplaintPart {
    pub category: String,
}

#[derive(Debug, Deserialize)]
pub struct SnapshotPart {
    #[serde(default)]
    pub nps: Option<NpsPart>,
}

#[derive(Debug, Deserialize)]
pub struct NpsPart {
    pub score: i64,
}

#[derive(Debug, Deserialize)]
pub struct OutcomePart {
    pub granted: GrantedPart,
    #[serde(default)]
    pub status: Option<OutcomeStatus>,
    #[serde(default)]
    pub customer_accepted: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct GrantedPart {
    pub gesture: String,
    #[serde(default)]
    pub amount: Option<MoneyDto>,
}
