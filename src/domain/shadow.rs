//! What a shadow policy version answered for one live decision (service/shadow.rs runs
//! it, store/shadows.rs keeps it).

use crate::domain::decision::Evaluation;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The shadow version's answer for one live decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ShadowResult {
    /// `id version` of the shadow policy.
    pub policy: String,
    /// Gesture, amount or authority verdict differ from the live answer.
    pub differs: bool,
    /// What the shadow version would have answered; absent when it could not evaluate
    /// the request (e.g. a category it does not know).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<Evaluation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_evaluable: Option<String>,
}
