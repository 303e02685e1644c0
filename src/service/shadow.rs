//! Shadow runs: a candidate version evaluates every live decision of its market beside
//! that market's active version. The comparison runs in a task spawned after the live
//! decision is stored, so the response neither waits for it nor can be changed by it.

use super::AppState;
use crate::domain::customer::CustomerRecord;
use crate::domain::decision::Evaluation;
use crate::domain::request::{DecisionRequestDto, Vocab};
use crate::error::AppError;
use crate::error_code::Code;
use crate::policy::retention::Evidence;
use crate::policy::{evaluate_with, CompiledPolicy};
use crate::store::shadows::ShadowResult;
use crate::store::Command;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Evaluate under the shadow version and compare with the live answer.
pub fn compare(
    shadow: &CompiledPolicy,
    request: &DecisionRequestDto,
    customer: Option<&CustomerRecord>,
    now: DateTime<Utc>,
    live: &Evaluation,
    evidence: &Evidence,
) -> ShadowResult {
    let policy = format!("{} {}", shadow.id, shadow.version);
    let vocab = Vocab {
        categories: &shadow.categories,
        roles: &shadow.roles,
        currency: shadow.currency,
    };
    match request.validate(&vocab) {
        Err(e) => ShadowResult {
            policy,
            differs: true,
            evaluation: None,
            not_evaluable: Some(e.to_string()),
        },
        Ok(input) => {
            let e = evaluate_with(shadow, &input, customer, now, evidence);
            let (a, b) = (&live.recommendation, &e.recommendation);
            let differs = a.gesture != b.gesture
                || a.amount != b.amount
                || live.authority.within_authority != e.authority.within_authority;
            ShadowResult {
                policy,
                differs,
                evaluation: Some(e),
                not_evaluable: None,
            }
        }
    }
}

/// Run `shadow`'s comparison for a stored live decision of its market, in the background.
pub fn spawn(
    state: &AppState,
    shadow: Arc<CompiledPolicy>,
    decision_id: String,
    request: DecisionRequestDto,
    customer: Option<CustomerRecord>,
    now: DateTime<Utc>,
    live: Evaluation,
) {
    let store = state.store.clone();
    // The retention evidence the live answer ranked with (unused if the windows differ).
    let evidence = state.retention.evidence(live.market_id());
    tokio::spawn(async move {
        let result = compare(&shadow, &request, customer.as_ref(), now, &live, &evidence);
        crate::metrics::record_shadow(result.differs);
        // Shadow results are diagnostics: written without waiting for a flush.
        let cmd = Command::PutShadowResult {
            decision_id,
            result: Box::new(result),
        };
        if let Err(e) = store.apply(cmd) {
            tracing::warn!(error = %e, "shadow result not stored");
        }
    });
}

/// Set the shadow version of the version's market (a stored version that compiles; its
/// example cases need not pass). Another market's shadow, if any, keeps running.
pub async fn set(state: &AppState, version: &str) -> Result<Arc<CompiledPolicy>, AppError> {
    let p = Arc::new(super::policies::compile_candidate(&state.store, version)?);
    state
        .store
        .apply_durable(Command::SetShadow {
            version: Some(version.to_string()),
            market: None,
        })
        .await?;
    state
        .policies
        .set_shadow(p.market.as_str(), Some(p.clone()));
    Ok(p)
}

/// Stop shadow runs (`policies::clear_shadow`).
pub use super::policies::clear_shadow as clear;

pub async fn result(state: &AppState, decision_id: &str) -> Result<ShadowResult, AppError> {
    super::stored::get(state, decision_id).await?;
    state
        .store
        .get_shadow_result(decision_id)?
        .ok_or_else(|| AppError::NotFound {
            code: Code::ShadowResultNotFound,
            message: format!(
                "no shadow result for decision `{}` (no shadow version was set when it was made)",
                crate::money::truncate(decision_id)
            ),
        })
}

/// What the shadow run of one version has shown so far.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ShadowSummary {
    /// `id version` of the shadow policy these results are of.
    pub policy: String,
    /// Live decisions it evaluated beside the active version.
    pub compared: u64,
    /// Of those, the ones whose gesture, amount or authority verdict differ.
    pub differ: u64,
    /// Requests it could not evaluate (vocabulary or currency it lacks).
    pub not_evaluable: u64,
    /// The newest differences, newest first (at most `RECENT`).
    pub recent: Vec<ShadowDifference>,
}

/// One decision the shadow version would have answered differently.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ShadowDifference {
    pub decision_id: String,
    pub ticket_id: String,
    pub segment: String,
    pub live_gesture: String,
    pub live_amount: crate::money::MoneyDto,
    /// Absent when the shadow version could not evaluate the request.
    pub shadow_gesture: Option<String>,
    pub shadow_amount: Option<crate::money::MoneyDto>,
}

/// Differences listed in a summary.
pub const RECENT: usize = 10;

/// The results stored for `policy` (`id version`), counted; the newest differences listed.
pub fn summary(store: &crate::store::Store, policy: &str) -> Result<ShadowSummary, AppError> {
    let mut out = ShadowSummary {
        policy: policy.to_string(),
        compared: 0,
        differ: 0,
        not_evaluable: 0,
        recent: Vec::new(),
    };
    for r in store.shadow_results_newest_first() {
        let (id, r) = r?;
        if r.policy != policy {
            continue;
        }
        out.compared += 1;
        out.not_evaluable += u64::from(r.not_evaluable.is_some());
        if !r.differs {
            continue;
        }
        out.differ += 1;
        if out.recent.len() < RECENT {
            if let Some(live) = store.get_decision(&id)? {
                let e = live.decision.evaluation;
                let shadow = r.evaluation.map(|s| s.recommendation);
                out.recent.push(ShadowDifference {
                    decision_id: id,
                    ticket_id: live.decision.ticket_id,
                    segment: e.customer.segment,
                    live_gesture: e.recommendation.gesture,
                    live_amount: e.recommendation.amount.into(),
                    shadow_gesture: shadow.as_ref().map(|s| s.gesture.clone()),
                    shadow_amount: shadow.map(|s| s.amount.into()),
                });
            }
        }
    }
    Ok(out)
}
