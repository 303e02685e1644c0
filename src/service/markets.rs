//! The policies in force, per market: each market's active version and its shadow
//! candidate, held in memory for the hot path (docs/policy.md, "Markets").
//!
//! Each table is a map from market to compiled policy behind one `ArcSwap`: a request
//! loads the map once, looks its market up and keeps that `Arc` for its whole evaluation,
//! so no request sees a half-made activation and the hot path takes no lock. An
//! activation copies the (small) map with the one market changed and swaps it in
//! (`rcu`), so activating `ch` never touches `de`'s entry.

use crate::domain::market;
use crate::error::AppError;
use crate::policy::CompiledPolicy;
use arc_swap::ArcSwap;
use std::collections::BTreeMap;
use std::sync::Arc;

type Table = BTreeMap<String, Arc<CompiledPolicy>>;

/// Active and shadow policies by market.
#[derive(Default)]
pub struct MarketPolicies {
    active: ArcSwap<Table>,
    shadow: ArcSwap<Table>,
}

fn put(table: &ArcSwap<Table>, market: &str, p: Option<Arc<CompiledPolicy>>) {
    table.rcu(|t| {
        let mut t = Table::clone(t);
        match &p {
            Some(p) => t.insert(market.to_string(), p.clone()),
            None => t.remove(market),
        };
        t
    });
}

impl MarketPolicies {
    /// Start with these active policies (the last one of a market wins).
    pub fn new(active: impl IntoIterator<Item = Arc<CompiledPolicy>>) -> Self {
        let table: Table = active
            .into_iter()
            .map(|p| (p.market.as_str().to_string(), p))
            .collect();
        MarketPolicies {
            active: ArcSwap::from_pointee(table),
            shadow: ArcSwap::default(),
        }
    }

    /// Market `market`'s active policy.
    pub fn active(&self, market: &str) -> Option<Arc<CompiledPolicy>> {
        self.active.load().get(market).cloned()
    }

    /// Every active policy, by market id.
    pub fn all_active(&self) -> Vec<Arc<CompiledPolicy>> {
        self.active.load().values().cloned().collect()
    }

    /// The markets with an active policy, sorted.
    pub fn markets(&self) -> Vec<String> {
        self.active.load().keys().cloned().collect()
    }

    /// Make `p` its market's active policy; other markets keep theirs.
    pub fn activate(&self, p: Arc<CompiledPolicy>) {
        let market = p.market.as_str().to_string();
        put(&self.active, &market, Some(p));
    }

    /// The policy a request with this optional `market` is decided under
    /// (`domain::market::choose`); `no_active_policy` when no market has one.
    pub fn choose(&self, requested: Option<&str>) -> Result<Arc<CompiledPolicy>, AppError> {
        let table = self.active.load();
        if table.is_empty() {
            return Err(AppError::NoActivePolicy);
        }
        // The hot path: one map lookup, no allocation. A key in the table is a valid id,
        // so a hit needs no parsing; `choose` below gives the same answer, and the error.
        let hit = match requested {
            Some(m) => table.get(m),
            None if table.len() == 1 => table.values().next(),
            None => table.get(market::DEFAULT_MARKET),
        };
        if let Some(p) = hit {
            return Ok(p.clone());
        }
        let keys: Vec<&str> = table.keys().map(String::as_str).collect();
        let chosen = market::choose(requested, &keys)?;
        table.get(chosen).cloned().ok_or(AppError::NoActivePolicy)
    }

    /// Market `market`'s shadow candidate.
    pub fn shadow(&self, market: &str) -> Option<Arc<CompiledPolicy>> {
        self.shadow.load().get(market).cloned()
    }

    /// Every shadow candidate, by market id.
    pub fn all_shadows(&self) -> Vec<Arc<CompiledPolicy>> {
        self.shadow.load().values().cloned().collect()
    }

    /// Set (or with `None` clear) market `market`'s shadow candidate.
    pub fn set_shadow(&self, market: &str, p: Option<Arc<CompiledPolicy>>) {
        put(&self.shadow, market, p);
    }
}

/// The market a report or list over stored decisions is about, with its currency: the
/// named one (an unknown market is a 422 naming `market`), else the one a request without
/// `market` decides in. `None` when no policy is active and none was named (every
/// decision, as before markets).
pub fn report_market(
    state: &super::AppState,
    requested: Option<&str>,
) -> Result<Option<(String, crate::money::Currency)>, AppError> {
    match state.policy_for(requested) {
        Ok(p) => Ok(Some((p.market.as_str().to_string(), p.currency))),
        Err(AppError::NoActivePolicy) if requested.is_none() => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::market::Market;

    fn policy(market: &str, version: &str) -> Arc<CompiledPolicy> {
        let mut p = crate::policy::load::from_slice(crate::policy::load::DEFAULT_POLICY.as_bytes())
            .unwrap();
        p.market = Market::parse("market", market).unwrap();
        p.version = version.to_string();
        Arc::new(p)
    }

    #[test]
    fn activating_in_one_market_leaves_the_others_and_the_default_answers_without_a_market() {
        let m = MarketPolicies::new([policy("default", "1.0")]);
        m.activate(policy("ch", "1.0-ch"));
        m.activate(policy("ch", "2.0-ch"));
        assert_eq!(m.markets(), ["ch", "default"]);
        assert_eq!(m.choose(None).unwrap().version, "1.0");
        assert_eq!(m.choose(Some("ch")).unwrap().version, "2.0-ch");
        assert!(matches!(m.choose(Some("at")), Err(AppError::Invalid(e)) if e.field == "market"));
        m.set_shadow("ch", Some(policy("ch", "3.0-ch")));
        assert!(m.shadow("default").is_none());
        m.set_shadow("ch", None);
        assert!(m.all_shadows().is_empty());
    }

    #[test]
    fn without_any_active_policy_the_answer_is_no_active_policy() {
        let m = MarketPolicies::default();
        assert!(matches!(m.choose(None), Err(AppError::NoActivePolicy)));
    }
}
