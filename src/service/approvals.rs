//! Approvals as records: a grant above the deciding role's authority needs an approval
//! given by an identity whose role covers it (`POST /v1/decisions/{id}/approval`), and
//! the outcome names that approver in `approved_by`.

use super::AppState;
use crate::domain::customer::parse_money_field;
use crate::domain::request::AgentDto;
use crate::domain::{check_id, FieldError};
use crate::error::AppError;
use crate::error_code::Code;
use crate::money::{Money, MoneyDto};
use crate::store::decisions::ApprovalRecord;
use crate::store::decisions::StoredDecision;
use crate::store::keys::ApiKeyRecord;
use crate::store::Command;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

/// Body of `POST /v1/decisions/{id}/approval`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalDto {
    /// Who approves: their id in the desk and their role (bound by the key's maximum role).
    pub approver: AgentDto,
    /// The most the approval covers, in the decision's currency; the recommended amount
    /// when absent.
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::schema::NonNegativeMoney>)]
    pub amount: Option<MoneyDto>,
    /// Free text, at most 10,000 characters; stored, never logged.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub note: Option<String>,
}

/// Approve a decision's grant, once. The approver's role must be one the key may claim,
/// and its limit for this customer (fixed when the decision was made) must cover the
/// amount.
pub async fn approve(
    state: &AppState,
    id: &str,
    dto: ApprovalDto,
    key: &ApiKeyRecord,
    now: DateTime<Utc>,
) -> Result<ApprovalRecord, AppError> {
    let decision = super::stored::get(state, id).await?;
    let auth = &decision.decision.evaluation.authority;
    check_id("approver.id", &dto.approver.id)?;
    if auth.role_limits.is_empty() {
        return Err(AppError::Forbidden {
            code: Code::ApprovalNotAllowed,
            message: "this decision was made before role limits were recorded with it; \
                      name the approver in the outcome's `approved_by`"
                .into(),
        });
    }
    let roles: Vec<String> = auth.role_limits.iter().map(|r| r.role.clone()).collect();
    let role = &dto.approver.role;
    let index = roles.iter().position(|r| r == role).ok_or_else(|| {
        FieldError::new(
            "approver.role",
            format!(
                "expected one of {}, got `{}`",
                roles.join(", "),
                crate::money::truncate(role)
            ),
        )
    })?;
    super::keys::check_role(&roles, index, key.max_role.as_deref())?;
    let recommended = decision.decision.evaluation.recommendation.amount;
    let amount = match &dto.amount {
        Some(m) => parse_money_field("amount", m)?,
        None => recommended,
    };
    if amount.currency != recommended.currency {
        return Err(FieldError::new(
            "amount.currency",
            format!(
                "`{}` is not the decision's currency `{}`",
                amount.currency, recommended.currency
            ),
        )
        .into());
    }
    if amount.amount.is_sign_negative() && !amount.amount.is_zero() {
        return Err(FieldError::new("amount.amount", "must not be negative").into());
    }
    if dto
        .note
        .as_ref()
        .is_some_and(|n| crate::domain::too_long(n, crate::domain::request::MAX_TEXT))
    {
        return Err(FieldError::new("note", "must be at most 10000 characters").into());
    }
    let limit = role_limit(&decision, index)?;
    if amount.amount > limit.amount {
        let covering = auth
            .role_limits
            .iter()
            .map(|r| (r.role.as_str(), r.limit))
            .find(|(_, l): &(&str, Money)| l.amount >= amount.amount)
            .map(|(r, _)| format!("; a {r} can approve it"))
            .unwrap_or_else(|| "; no role can approve it".into());
        return Err(AppError::Forbidden {
            code: Code::ApprovalNotAllowed,
            message: format!(
                "{} is above the {role} limit of {} for this customer{covering}",
                amount.display(),
                limit.display()
            ),
        });
    }
    let approval = ApprovalRecord {
        approver_id: dto.approver.id,
        approver_role: role.clone(),
        amount: amount.into(),
        note: dto.note,
        recorded_with: key.name.clone(),
        approved_at: now.to_rfc3339_opts(SecondsFormat::Secs, true),
    };
    state
        .store
        .apply_durable(Command::RecordApproval {
            decision_id: decision.decision.decision_id.clone(),
            approval: approval.clone(),
        })
        .await?;
    Ok(approval)
}

fn role_limit(d: &StoredDecision, index: usize) -> Result<Money, AppError> {
    Ok(d.decision
        .evaluation
        .authority
        .role_limits
        .get(index)
        .map(|r| r.limit)
        .ok_or_else(|| FieldError::new("approver.role", "not a role of this decision"))?)
}

/// Whether a lead approved `granted` for `d`: an approval on record, by the approver the
/// outcome names, covering the amount.
pub fn approved(d: &StoredDecision, granted: &Money, approved_by: Option<&str>) -> bool {
    match (&d.approval, approved_by) {
        (Some(a), Some(by)) if a.approver_id == by => a
            .amount
            .parse()
            .is_ok_and(|covered: Money| granted.amount <= covered.amount),
        _ => false,
    }
}

/// Whether `granted` may be recorded for `d`: within the deciding role's `limit`, or
/// covered by the decision's approval and its approver named in `approved_by`.
pub fn check_grant(
    d: &StoredDecision,
    granted: &Money,
    approved_by: Option<&str>,
    limit: &Money,
) -> Result<(), AppError> {
    if granted.amount <= limit.amount {
        return Ok(());
    }
    let auth = &d.decision.evaluation.authority;
    let required = |message: String| AppError::Conflict {
        code: Code::ApprovalRequired,
        message,
    };
    match (&d.approval, approved_by) {
        (Some(a), Some(by)) if a.approver_id == by => {
            let covered = parse_money_field("approval.amount", &a.amount)?;
            if granted.amount <= covered.amount {
                Ok(())
            } else {
                Err(required(format!(
                    "{} is above the {} that `{by}` approved",
                    granted.display(),
                    covered.display()
                )))
            }
        }
        // Decided before role limits were stored with decisions: an approval cannot be
        // recorded for it, so the approver's name is taken, as it was then.
        (None, Some(_)) if auth.role_limits.is_empty() => Ok(()),
        (Some(a), Some(by)) => Err(required(format!(
            "`{}` did not approve this decision; `{}` did",
            crate::money::truncate(by),
            a.approver_id
        ))),
        _ => Err(required(format!(
            "{} is above the {} limit of {}; a {} approves it with POST /v1/decisions/{}/approval, \
             and the outcome names them in `approved_by`",
            granted.display(),
            auth.role,
            limit.display(),
            auth.approver_role.as_deref().unwrap_or("higher role"),
            d.decision.decision_id
        ))),
    }
}
