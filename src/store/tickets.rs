//! Ticket index: the latest decision per help-desk ticket, so a sidebar opened on a
//! ticket (or a decision a webhook made before the agent looked) is found in one read.
//! It is written with the decision, in the same transaction (`decisions.rs`).

use super::{Store, StoreError};

impl Store {
    /// The id of the latest decision made for `ticket_id`, if any.
    pub fn ticket_decision(&self, ticket_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .tickets
            .get(ticket_id.as_bytes())?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }
}
