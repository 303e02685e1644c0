//! NPS answers: validation, storage, the per-customer view (last score and trend) and
//! the merge into the record the engine sees.
//!
//! The stored customer record is left as the desk pushed it; at decision time the latest
//! answer replaces the record's `nps` when it is at least as recent (docs/closing-the-loop.md),
//! so the detractor signal follows the customer's last word and a later push of an older
//! NPS value cannot hide it.

use super::ndjson_lines::LineError;
use super::AppState;
use crate::domain::customer::check_customer_id;
use crate::domain::{check_id, FieldError};
use crate::error::AppError;
use crate::store::nps::{NpsAnswer, NpsHistory};
use crate::store::{Command, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One answer as sent to `POST /v1/nps`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NpsAnswerDto {
    #[schema(value_type = crate::domain::schema::Id)]
    pub customer_id: String,
    /// 0 to 10: 9–10 promoter, 7–8 passive, 0–6 detractor.
    #[serde(deserialize_with = "crate::domain::integer::integer")]
    #[schema(minimum = 0, maximum = 10)]
    pub score: i64,
    /// Free text, at most 10,000 characters; stored, never logged.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub comment: Option<String>,
    /// `YYYY-MM-DD` or RFC 3339; default now. The same customer and time is one answer.
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::schema::DayOrTime>)]
    pub at: Option<String>,
    /// Where the survey was answered, e.g. `email`.
    #[serde(default)]
    #[schema(value_type = Option<crate::domain::schema::Id>)]
    pub channel: Option<String>,
}

/// What `POST /v1/nps` stored.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct NpsReport {
    pub recorded: u64,
    pub rejected: u64,
    /// The first 100 rejected lines (NDJSON).
    pub errors: Vec<LineError>,
}

/// The standard NPS class of a score.
pub fn class(score: u8) -> &'static str {
    match score {
        9..=10 => "promoter",
        7..=8 => "passive",
        _ => "detractor",
    }
}

/// A customer's NPS as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NpsView {
    pub score: u8,
    /// `promoter`, `passive` or `detractor`.
    pub class: &'static str,
    pub at: String,
    /// The kept answers' scores, oldest first (at most 5).
    pub recent: Vec<u8>,
    /// Latest score minus the one before; absent with a single answer.
    pub change: Option<i64>,
}

impl NpsView {
    pub fn from_history(h: &NpsHistory) -> Option<NpsView> {
        let last = h.latest()?;
        let recent: Vec<u8> = h.answers.iter().map(|a| a.score).collect();
        let change = (recent.len() >= 2)
            .then(|| i64::from(last.score) - i64::from(recent[recent.len() - 2]));
        Some(NpsView {
            score: last.score,
            class: class(last.score),
            at: last.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            recent,
            change,
        })
    }
}

fn parse_at(at: Option<&str>, now: DateTime<Utc>) -> Result<DateTime<Utc>, FieldError> {
    let Some(s) = at else { return Ok(now) };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            FieldError::new(
                "at",
                format!(
                    "expected `YYYY-MM-DD` or RFC 3339, got `{}`",
                    crate::money::truncate(s)
                ),
            )
        })
}

/// Validate one answer into its stored form.
pub fn validate(dto: NpsAnswerDto, now: DateTime<Utc>) -> Result<(String, NpsAnswer), FieldError> {
    check_customer_id("customer_id", &dto.customer_id)?;
    let score = u8::try_from(dto.score)
        .ok()
        .filter(|s| *s <= 10)
        .ok_or_else(|| FieldError::new("score", "must be an integer from 0 to 10"))?;
    if let Some(c) = &dto.channel {
        check_id("channel", c)?;
    }
    if dto
        .comment
        .as_ref()
        .is_some_and(|c| crate::domain::too_long(c, crate::domain::request::MAX_TEXT))
    {
        return Err(FieldError::new(
            "comment",
            "must be at most 10000 characters",
        ));
    }
    let at = parse_at(dto.at.as_deref(), now)?;
    Ok((
        dto.customer_id,
        NpsAnswer {
            score,
            at,
            channel: dto.channel,
            comment: dto.comment,
        },
    ))
}

/// Store one answer; a bad answer is a 422.
pub async fn record_one(
    state: &AppState,
    dto: NpsAnswerDto,
    now: DateTime<Utc>,
) -> Result<NpsReport, AppError> {
    let answer = validate(dto, now)?;
    let cmd = Command::RecordNps {
        answers: vec![answer],
    };
    state.store.apply_durable(cmd).await?;
    Ok(NpsReport {
        recorded: 1,
        ..NpsReport::default()
    })
}

/// Store an NDJSON batch: good lines are stored together, bad ones listed with their
/// line number.
pub async fn record_batch(
    state: &AppState,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<NpsReport, AppError> {
    let mut report = NpsReport::default();
    let mut answers = Vec::new();
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = serde_json::from_slice::<NpsAnswerDto>(line)
            .map_err(|e| format!("not an NPS answer: {e}"))
            .and_then(|dto| {
                validate(dto, now).map_err(|e| format!("`{}`: {}", e.field, e.message))
            });
        match parsed {
            Ok(a) => answers.push(a),
            Err(message) => {
                report.rejected += 1;
                if report.errors.len() < 100 {
                    report.errors.push(LineError {
                        line: i as u64 + 1,
                        message,
                    });
                }
            }
        }
    }
    report.recorded = answers.len() as u64;
    if !answers.is_empty() {
        state
            .store
            .apply_durable(Command::RecordNps { answers })
            .await?;
    }
    Ok(report)
}

/// The customer's latest NPS answer: its score and day (service/effective_customer.rs
/// puts it into the record when it is at least as recent as the pushed one).
pub fn latest(store: &Store, customer_id: &str) -> Result<Option<(u8, NaiveDate)>, StoreError> {
    Ok(store
        .nps_history(customer_id)?
        .and_then(|h| h.latest().map(|last| (last.score, last.at.date_naive()))))
}
