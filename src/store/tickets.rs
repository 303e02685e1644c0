//! Ticket index: the latest decision per help-desk ticket, so a sidebar opened on a
//! ticket (or a decision a webhook made before the agent looked) is found in one lookup.
//! The decision log keeps it in memory (store/decision_log/index.rs).

use super::{Store, StoreError};

impl Store {
    /// The id of the latest decision made for `ticket_id`, if any.
    pub fn ticket_decision(&self, ticket_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .log
            .ticket_decision(ticket_id)
            .map(|id| ulid::Ulid(id).to_string()))
    }
}
