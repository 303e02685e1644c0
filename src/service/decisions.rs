//! Decisions: evaluate a complaint under the active policy, store it durably, answer.
//! Outcomes: record what was actually granted.

use super::ledger_guard::LedgerCheck;
use super::AppState;
use crate::domain::check_id;
use crate::domain::customer::parse_money_field;
use crate::domain::decision::Decision;
use crate::domain::request::{DecisionRequestDto, Vocab};
use crate::domain::FieldError;
use crate::error::AppError;
use crate::policy::evaluate_with;
use crate::store::decisions::OutcomeStatus;
use crate::store::decisions::{GrantedDto, OutcomeRecord, StoredDecision};
use crate::store::{Command, StoreError};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

/// Decide, then store the decision with its request and the customer snapshot before
/// answering: a decision the caller received is always on disk. `max_role` is the
/// highest role the caller's identity may claim (`None`: its claim is trusted).
pub async fn decide(
    state: &AppState,
    dto: DecisionRequestDto,
    max_role: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Decision, AppError> {
    decide_answer(state, dto, max_role, now)
        .await
        .map(|(d, _)| d)
}

/// `decide`, with the decision also as the JSON the caller is answered with. It is
/// serialised once: the stored record is built around the same bytes.
pub async fn decide_answer(
    state: &AppState,
    dto: DecisionRequestDto,
    max_role: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(Decision, Vec<u8>), AppError> {
    // The market's active policy decides (an unknown market is a 422 naming `market`).
    let policy = state.policy_for(dto.market.as_deref())?;
    let vocab = Vocab {
        categories: &policy.categories,
        roles: &policy.roles,
        currency: policy.currency,
    };
    let input = dto.validate(&vocab)?;
    super::keys::check_role(&policy.roles, input.role, max_role)?;
    // The pushed record, completed from order history, NPS and the ledger, typed.
    let effective = super::effective_customer::effective_customer(
        &state.store,
        &policy,
        &input.customer_id,
        now,
    )?
    .transpose()
    .map_err(|e| {
        AppError::Store(crate::store::StoreError::Corrupt(format!(
            "stored customer record no longer validates: {e}"
        )))
    })?;
    let (customer, snapshot) = match effective {
        Some(c) => (Some(c.record), Some(c.snapshot)),
        None => (None, None),
    };
    if let Some(c) = &customer {
        check_market_currency(state, &policy, &input.customer_id, c, dto.market.is_some())?;
    }
    let evidence = state.retention.evidence(policy.market.as_str());
    let evaluation = evaluate_with(&policy, &input, customer.as_ref(), now, &evidence);
    let decision = Decision {
        decision_id: ulid::Ulid::from_datetime(now.into()).to_string(),
        ticket_id: input.ticket_id,
        created_at: now.to_rfc3339_opts(SecondsFormat::Millis, true),
        evaluation,
    };
    let record = Box::new(StoredDecision {
        decision,
        request: dto,
        customer_snapshot: snapshot,
        approval: None,
        outcome: None,
        erased: false,
    });
    // Batched with concurrent decisions into one log append and, with strict durability,
    // flushed before this returns (the batch is the group commit). The record is moved
    // in and back, never copied on the hot path.
    // Sized for a decision (about 2 KB): `to_vec` grew it five times (dhat).
    let mut answer = Vec::with_capacity(4096);
    serde_json::to_writer(&mut answer, &record.decision)
        .map_err(|e| AppError::Store(crate::store::StoreError::Corrupt(e.to_string())))?;
    let record = state
        .store
        .put_decision_batched(record, Some(&answer))
        .await?;
    let StoredDecision {
        decision, request, ..
    } = *record;
    crate::metrics::record_decision(
        &decision.evaluation.recommendation.gesture,
        decision.evaluation.authority.within_authority,
    );
    if let Some(shadow) = state.policies.shadow(policy.market.as_str()) {
        super::shadow::spawn(
            state,
            shadow,
            decision.decision_id.clone(),
            request,
            customer,
            now,
            decision.evaluation.clone(),
        );
    }
    Ok((decision, answer))
}

/// How often an outcome is checked against the ledger again when other outcomes for the
/// same customer keep landing between the check and the write.
const LEDGER_ATTEMPTS: u32 = 5;

/// Refuse a known customer whose record is in another currency than the market's, once
/// markets are in play (`domain::market::check_currency` says why and when).
fn check_market_currency(
    state: &AppState,
    policy: &crate::policy::CompiledPolicy,
    customer_id: &str,
    customer: &crate::domain::customer::CustomerRecord,
    market_named: bool,
) -> Result<(), AppError> {
    if customer.currency == policy.currency {
        return Ok(());
    }
    let active = state.policies.all_active();
    let markets: Vec<(&str, &str)> = active
        .iter()
        .map(|p| (p.market.as_str(), p.currency.as_str()))
        .collect();
    crate::domain::market::check_currency(
        customer_id,
        customer.currency.as_str(),
        policy.market.as_str(),
        policy.currency.as_str(),
        &markets,
        market_named || markets.len() > 1,
    )?;
    Ok(())
}

/// Body of `POST /v1/decisions/{id}/outcome`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeDto {
    /// The gesture actually granted (`none` if nothing) and its amount.
    pub granted: GrantedDto,
    /// Who approved a grant above the deciding role's authority.
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::schema::Id>)]
    pub approved_by: Option<String>,
    #[serde(default)]
    pub customer_accepted: Option<bool>,
    /// Free text, at most 10,000 characters; stored, never logged.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub note: Option<String>,
    /// The agent recording it; defaults to the API key's name.
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::schema::Id>)]
    pub recorded_by: Option<String>,
    /// `granted_as_recommended`, `granted_other`, `escalated` or `declined`; optional.
    #[serde(default)]
    pub status: Option<OutcomeStatus>,
}

/// Record the outcome of a decision once. Granting above the deciding role's authority
/// needs `approved_by`.
pub async fn record_outcome(
    state: &AppState,
    id: &str,
    dto: OutcomeDto,
    key_name: &str,
    now: DateTime<Utc>,
) -> Result<OutcomeRecord, AppError> {
    let decision = super::stored::get(state, id).await?;
    let eval = &decision.decision.evaluation;
    let gesture = &dto.granted.gesture;
    check_id("granted.gesture", gesture)?;
    // The gestures of the decision's own market (decisions from before markets: the
    // default one's).
    let policy = match eval.market.as_str() {
        "" => state.active_policy(),
        m => state.policy_for(Some(m)),
    };
    if let Ok(policy) = &policy {
        if gesture != "none" && !policy.gestures.iter().any(|g| &g.id == gesture) {
            let known: Vec<&str> = policy.gestures.iter().map(|g| g.id.as_str()).collect();
            return Err(FieldError::new(
                "granted.gesture",
                format!(
                    "expected `none` or one of {}, got `{}`",
                    known.join(", "),
                    crate::money::truncate(gesture)
                ),
            )
            .into());
        }
    }
    if matches!(
        dto.status,
        Some(OutcomeStatus::Escalated | OutcomeStatus::Declined)
    ) && gesture != "none"
    {
        return Err(FieldError::new(
            "granted.gesture",
            "must be `none` when `status` is `escalated` or `declined`",
        )
        .into());
    }
    let limit = eval.authority.limit;
    let amount = match &dto.granted.amount {
        None => None,
        Some(m) => {
            let m = parse_money_field("granted.amount", m)?;
            if m.currency != limit.currency {
                return Err(FieldError::new(
                    "granted.amount.currency",
                    format!(
                        "`{}` is not the decision's currency `{}`",
                        m.currency, limit.currency
                    ),
                )
                .into());
            }
            if m.amount.is_sign_negative() && !m.amount.is_zero() {
                return Err(
                    FieldError::new("granted.amount.amount", "must not be negative").into(),
                );
            }
            Some(m)
        }
    };
    for (field, v) in [
        ("approved_by", &dto.approved_by),
        ("recorded_by", &dto.recorded_by),
    ] {
        if let Some(v) = v {
            check_id(field, v)?;
        }
    }
    if dto
        .note
        .as_ref()
        .is_some_and(|n| crate::domain::too_long(n, crate::domain::request::MAX_TEXT))
    {
        return Err(FieldError::new("note", "must be at most 10000 characters").into());
    }
    if let Some(m) = &amount {
        super::approvals::check_grant(&decision, m, dto.approved_by.as_deref(), &limit)?;
    }
    let outcome = OutcomeRecord {
        granted: GrantedDto {
            gesture: gesture.clone(),
            amount: amount.map(Into::into),
        },
        approved_by: dto.approved_by,
        customer_accepted: dto.customer_accepted,
        note: dto.note,
        recorded_by: dto.recorded_by.unwrap_or_else(|| key_name.to_string()),
        status: dto.status,
        recorded_at: now.to_rfc3339_opts(SecondsFormat::Secs, true),
    };
    // The guards again, on the ledger as it is now (service/ledger_guard.rs); again on a
    // ledger that changed between the check and the write.
    let mut attempt = 1;
    loop {
        // The guards of the decision's own market.
        let seen = match (&amount, &policy) {
            (Some(m), Ok(policy)) => {
                let approved =
                    super::approvals::approved(&decision, m, outcome.approved_by.as_deref());
                super::ledger_guard::check(state, policy, &decision, gesture, m, approved, now)?
            }
            _ => LedgerCheck::None,
        };
        let ledger_seen = match seen {
            LedgerCheck::None => None,
            LedgerCheck::Unchanged(n) => Some(n),
        };
        let cmd = Command::RecordOutcome {
            decision_id: decision.decision.decision_id.clone(),
            outcome: outcome.clone(),
            ledger_seen,
        };
        match state.store.apply_durable(cmd).await {
            Ok(_) => break,
            Err(StoreError::Stale(why)) if attempt < LEDGER_ATTEMPTS => {
                tracing::info!(%why, attempt, "the ledger changed while the outcome was checked; again");
                attempt += 1;
            }
            Err(StoreError::Stale(why)) => {
                return Err(AppError::Unavailable(format!(
                    "the customer's goodwill ledger kept changing ({why}); try again"
                )))
            }
            Err(e) => return Err(e.into()),
        }
    }
    // The ranking learns from outcomes: judge this one in the next retention pass.
    state.retention.mark_dirty();
    Ok(outcome)
}
