//! Customer value records: put, get, erase.

use super::AppState;
use crate::domain::customer::{check_customer_id, CustomerRecordDto};
use crate::error::AppError;
use crate::error_code::Code;
use crate::store::customers::StoredCustomer;
use crate::store::{command::Applied, Command};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// A customer record as `GET /v1/customers/{id}` returns it. Named apart in the OpenAPI
/// document: a schema name is global there, and `CustomerView` is the decision's customer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CustomerRecordView)]
pub struct CustomerView {
    pub customer_id: String,
    #[serde(flatten)]
    #[schema(schema_with = open_record_schema)]
    pub record: CustomerRecordDto,
    pub updated_at: String,
    /// Order history and the cached model prediction, when orders were ingested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<super::value::ValueView>,
    /// The latest answers sent to `POST /v1/nps`: last score, class and trend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nps_trend: Option<super::nps::NpsView>,
}

/// The record's schema without `additionalProperties: false`. The body of a `PUT` refuses
/// unknown fields, but flattened here (an `allOf` in the document) a closed schema would
/// refuse `customer_id` and `updated_at` beside it.
fn open_record_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::{schema::Schema, RefOr};
    let mut schema = <CustomerRecordDto as utoipa::PartialSchema>::schema();
    if let RefOr::T(Schema::Object(object)) = &mut schema {
        object.additional_properties = None;
    }
    schema
}

/// Store (create or replace) a record; `true` when it was created.
pub async fn put(
    state: &AppState,
    id: &str,
    dto: CustomerRecordDto,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    check_customer_id("customer_id", id)?;
    let record = normalise(dto)?;
    let cmd = Command::PutCustomer {
        customer_id: id.to_string(),
        customer: Box::new(StoredCustomer {
            record,
            updated_at: now.to_rfc3339_opts(SecondsFormat::Secs, true),
        }),
    };
    Ok(state.store.apply_durable(cmd).await? == Applied::Created)
}

/// Validate a record and bring it to its stored form (amounts with two decimals, tiers
/// in lower case), so what is read back is what the engine saw.
pub fn normalise(dto: CustomerRecordDto) -> Result<CustomerRecordDto, AppError> {
    let r = dto.validate()?;
    let money = |amount| crate::money::MoneyDto::from(crate::money::Money::new(amount, r.currency));
    Ok(CustomerRecordDto {
        currency: r.currency.to_string(),
        lifetime_revenue: money(r.lifetime_revenue),
        predicted_value: r.predicted_value.map(money),
        revenue_12m: r.revenue_12m.map(money),
        goodwill_12m: dto.goodwill_12m.as_ref().map(|_| money(r.goodwill_12m)),
        tier: r.tier,
        peak_tier: r.peak_tier,
        ..dto
    })
}

pub fn get(state: &AppState, id: &str) -> Result<CustomerView, AppError> {
    let summary = super::order_history::get(&state.store, id)?;
    // A customer known only from orders gets the record derived from them.
    let stored = match state.store.get_customer(id)? {
        Some(s) => s,
        None => match &summary {
            Some(s) => StoredCustomer {
                record: super::value::derived_record(s),
                updated_at: String::new(),
            },
            None => return Err(not_found(id)),
        },
    };
    Ok(CustomerView {
        customer_id: id.to_string(),
        record: stored.record,
        updated_at: stored.updated_at,
        value: summary.as_ref().map(super::value::ValueView::from),
        nps_trend: state
            .store
            .nps_history(id)?
            .as_ref()
            .and_then(super::nps::NpsView::from_history),
    })
}

/// Erase a customer (right to erasure): the record, their order history, answers kept for
/// idempotent replays, and in past decisions the customer id, which is replaced by a keyed
/// pseudonym (the audit chain stays intact).
pub async fn erase(state: &AppState, id: &str) -> Result<(), AppError> {
    let cmd = Command::DeleteCustomer {
        customer_id: id.to_string(),
    };
    let record = state.store.apply(cmd)?;
    // Order history is personal data too: erased with the record.
    let erase_orders = Command::EraseOrders {
        customer_id: id.to_string(),
    };
    let orders = state.store.apply_durable(erase_orders).await?;
    match (record, orders) {
        (Applied::Unchanged, Applied::Unchanged) => Err(not_found(id)),
        _ => Ok(()),
    }
}

fn not_found(id: &str) -> AppError {
    AppError::NotFound {
        code: Code::CustomerNotFound,
        message: format!("no customer `{}`", crate::money::truncate(id)),
    }
}
