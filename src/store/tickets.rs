//! Ticket index: the latest decision per help-desk ticket, so a sidebar opened on a
//! ticket (or a decision a webhook made before the agent looked) is found in one read.

use super::{Store, StoreError};

impl Store {
    /// The id of the latest decision made for `ticket_id`, if any.
    pub fn ticket_decision(&self, ticket_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .tickets
            .get(ticket_id.as_bytes())?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Point the ticket at `decision_id` unless it already points at a later one.
    /// ULID strings sort by time, so "later" is a plain string comparison; this keeps the
    /// index right when two decisions for one ticket are stored out of order.
    pub(super) fn index_ticket(
        &self,
        ticket_id: &str,
        decision_id: &str,
    ) -> Result<(), StoreError> {
        self.tickets
            .fetch_and_update(ticket_id.as_bytes(), |old| match old {
                Some(old) if old >= decision_id.as_bytes() => Some(old.to_vec()),
                _ => Some(decision_id.as_bytes().to_vec()),
            })?;
        Ok(())
    }
}
