//! The Zendesk trigger body kulanz documents (`docs/integrations.md`) and its mapping to a
//! decision request. Zendesk renders every placeholder as a string and an unset custom
//! field as an empty one, so empty means "not given" and gets the documented default.

use crate::domain::request::{AgentDto, ComplaintDto, DecisionRequestDto};
use crate::money::MoneyDto;
use serde::Deserialize;
use utoipa::ToSchema;

/// Body of the Zendesk trigger's webhook action.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ZendeskPayload {
    /// `{{ticket.id}}`.
    pub ticket_id: String,
    /// `{{ticket.requester.external_id}}`: the customer id kulanz knows.
    #[serde(default)]
    pub requester_external_id: String,
    /// `{{ticket.requester.id}}`: used when the requester has no external id.
    #[serde(default)]
    pub requester_id: String,
    /// `{{ticket.assignee.id}}`; `unassigned` when empty.
    #[serde(default)]
    pub assignee_id: String,
    /// The deciding role; `agent` when empty (the conservative choice).
    #[serde(default)]
    pub agent_role: String,
    /// `{{ticket.via}}`, e.g. `Mail`, `Web Form`, `Chat`, `Twitter`.
    #[serde(default)]
    pub via: String,
    /// Custom dropdown fields, by their tag; see the docs for the defaults.
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub fault: String,
    /// Decimal, `.` or `,` as separator; empty for none.
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub currency: String,
    /// The market to decide in (a dropdown tag, optionally prefixed `market_`); empty:
    /// the market a request without `market` goes to.
    #[serde(default)]
    pub market: String,
}

/// Map Zendesk's `via` wording onto the contract's channels.
pub fn channel_of(via: &str) -> &'static str {
    let v = via.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| v.contains(w));
    if has(&["mail"]) {
        "email"
    } else if has(&["chat", "messag", "whatsapp", "sms"]) {
        "chat"
    } else if has(&["voice", "phone", "call"]) {
        "phone"
    } else if has(&["twitter", "facebook", "instagram", "social", "x corp"]) {
        "social"
    } else if has(&["person", "walk"]) {
        "in_person"
    } else {
        "web"
    }
}

/// Dropdown tags are often prefixed (`category_damaged_item`); accept both forms.
fn tag(value: &str, prefix: &str, default: &str) -> String {
    let v = value.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    let v = v.strip_prefix(prefix).unwrap_or(&v).to_string();
    if v.is_empty() {
        default.to_string()
    } else {
        v
    }
}

impl ZendeskPayload {
    /// The market the ticket names, lower-cased without its `market_` prefix; `None`
    /// when empty. Checked like any request's `market` in `decide`.
    pub fn market(&self) -> Option<String> {
        let m = self.market.trim().to_ascii_lowercase();
        let m = m.strip_prefix("market_").unwrap_or(&m);
        (!m.is_empty()).then(|| m.to_string())
    }

    /// The decision request this ticket asks for. Validation against the policy happens
    /// in `decide`, like for any other request.
    pub fn into_request(self, default_currency: &str) -> DecisionRequestDto {
        let customer_id = match self.requester_external_id.trim() {
            "" => format!("zendesk-user-{}", self.requester_id.trim()),
            id => id.to_string(),
        };
        let amount = self.amount.trim().replace(',', ".");
        let currency = match self.currency.trim() {
            "" => default_currency.to_string(),
            c => c.to_ascii_uppercase(),
        };
        let agent_id = match self.assignee_id.trim() {
            "" => "unassigned".to_string(),
            a => format!("zendesk-{a}"),
        };
        let market = self.market();
        DecisionRequestDto {
            ticket_id: self.ticket_id.trim().to_string(),
            customer_id,
            agent: AgentDto {
                id: agent_id,
                role: tag(&self.agent_role, "role_", "agent"),
            },
            complaint: ComplaintDto {
                category: tag(&self.category, "category_", "other"),
                severity: tag(&self.severity, "severity_", "medium"),
                channel: channel_of(&self.via).to_string(),
                fault: tag(&self.fault, "fault_", "unclear"),
                amount_at_stake: (!amount.is_empty()).then_some(MoneyDto { amount, currency }),
                description: None,
            },
            attributes: None,
            locale: None,
            market,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn empty_custom_fields_get_the_documented_defaults() {
        let p: ZendeskPayload = serde_json::from_str(
            r#"{"ticket_id":"48213","requester_external_id":"","requester_id":"99",
                "assignee_id":"","via":"Web Form","category":"","severity":"","fault":"","amount":""}"#,
        )
        .unwrap();
        let r = p.into_request("EUR");
        assert_eq!(r.customer_id, "zendesk-user-99");
        assert_eq!(r.agent.role, "agent");
        assert_eq!(r.complaint.category, "other");
        assert_eq!(r.complaint.severity, "medium");
        assert_eq!(r.complaint.fault, "unclear");
        assert_eq!(r.complaint.channel, "web");
        assert!(r.complaint.amount_at_stake.is_none());
        assert!(r.market.is_none());
    }

    #[test]
    fn a_market_tag_names_the_market() {
        let p: ZendeskPayload =
            serde_json::from_str(r#"{"ticket_id":"8","market":" Market_CH "}"#).unwrap();
        assert_eq!(p.into_request("CHF").market.as_deref(), Some("ch"));
    }

    #[test]
    fn prefixed_tags_and_comma_decimals_are_understood() {
        let p: ZendeskPayload = serde_json::from_str(
            r#"{"ticket_id":"7","requester_external_id":"c-60606","via":"Mail",
                "category":"category_damaged_item","severity":"Severity_High","fault":"ours",
                "amount":"450,00","currency":"eur"}"#,
        )
        .unwrap();
        let r = p.into_request("EUR");
        assert_eq!(r.complaint.category, "damaged_item");
        assert_eq!(r.complaint.severity, "high");
        assert_eq!(r.complaint.channel, "email");
        let m = r.complaint.amount_at_stake.unwrap();
        assert_eq!((m.amount.as_str(), m.currency.as_str()), ("450.00", "EUR"));
    }
}
