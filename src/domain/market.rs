//! Markets: several policies active at once, one per market (a country, a currency, a
//! brand). A market is a short id a policy document declares (`"market": "ch"`); a
//! policy without one belongs to the market `default`, so a deployment with one policy
//! has one market and behaves as before markets existed.
//!
//! Choosing the market of a request is pure and lives here: the service passes the
//! markets that have an active policy and the request's optional `market`.

use super::FieldError;
use crate::money::truncate;
use std::fmt;

/// The market of a policy without a `market` field, and of a request without one when it
/// has an active policy.
pub const DEFAULT_MARKET: &str = "default";

/// What [`Market::parse`] accepts, for the policy schema and the OpenAPI document.
pub const MARKET_PATTERN: &str = "^[a-z0-9][a-z0-9_-]{0,31}$";

/// Longest market id.
pub const MAX_MARKET: usize = 32;

/// A market id: 1 to 32 lower-case letters, digits, `_` or `-`, starting with a letter or
/// digit (so it is safe in a store key, a URL and a log line).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Market(String);

impl Market {
    /// Check a market id; `field` names it in the error (`market`, `$.market`).
    pub fn parse(field: &str, s: &str) -> Result<Market, FieldError> {
        let mut bytes = s.bytes();
        let first_ok = bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let rest_ok =
            bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if first_ok && rest_ok && s.len() <= MAX_MARKET {
            Ok(Market(s.to_string()))
        } else {
            Err(FieldError::new(
                field,
                format!(
                    "expected 1 to 32 lower-case letters, digits, `_` or `-` (starting with a letter or digit), got `{}`",
                    truncate(s)
                ),
            ))
        }
    }

    /// The market `default`.
    pub fn default_market() -> Market {
        Market(DEFAULT_MARKET.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_default(&self) -> bool {
        self.0 == DEFAULT_MARKET
    }
}

impl Default for Market {
    fn default() -> Self {
        Market::default_market()
    }
}

impl fmt::Display for Market {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The market a request is decided in, among the markets with an active policy
/// (`active`, sorted): the requested one if it is active; without a request, `default`
/// if it is active, else the only active market. Anything else is a 422 naming `market`
/// and listing the markets, so the caller learns what to send.
pub fn choose<'a>(requested: Option<&str>, active: &[&'a str]) -> Result<&'a str, FieldError> {
    let known = || {
        if active.is_empty() {
            "no market has an active policy".to_string()
        } else {
            format!("known markets: {}", active.join(", "))
        }
    };
    match requested {
        Some(m) => {
            let m = Market::parse("market", m)?;
            active
                .iter()
                .find(|a| **a == m.as_str())
                .copied()
                .ok_or_else(|| {
                    FieldError::new(
                        "market",
                        format!("no active policy for market `{}`; {}", m, known()),
                    )
                })
        }
        None => match active {
            [only] => Ok(*only),
            _ => active
                .iter()
                .find(|a| **a == DEFAULT_MARKET)
                .copied()
                .ok_or_else(|| {
                    FieldError::new(
                        "market",
                        format!(
                            "required: no policy is active for market `{DEFAULT_MARKET}`; {}",
                            known()
                        ),
                    )
                }),
        },
    }
}

/// A customer is one record in one currency, and their value, goodwill ledger and
/// guards are sums in that currency: deciding them in a market of another currency would
/// add francs to euros. So once markets are in play (`strict`: the request names a
/// market, or more than one market is active) such a decision is refused, naming
/// `market` and the markets (`markets`: id and currency of each active one) that decide
/// in the customer's currency. Without markets in play the answer is as before markets:
/// the floor, with a reason saying the record's value was not used.
pub fn check_currency(
    customer_id: &str,
    customer_currency: &str,
    market: &str,
    market_currency: &str,
    markets: &[(&str, &str)],
    strict: bool,
) -> Result<(), FieldError> {
    if !strict || customer_currency == market_currency {
        return Ok(());
    }
    let fitting: Vec<&str> = markets
        .iter()
        .filter(|(_, c)| *c == customer_currency)
        .map(|(m, _)| *m)
        .collect();
    let hint = match fitting.as_slice() {
        [] => format!("no active market decides in {customer_currency}"),
        [one] => format!("decide in market `{one}`"),
        many => format!("decide in one of the markets {}", many.join(", ")),
    };
    Err(FieldError::new(
        "market",
        format!(
            "customer `{}` is kept in {customer_currency}; market `{market}` decides in {market_currency} ({hint})",
            truncate(customer_id)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn market_ids_are_short_lower_case_and_key_safe() {
        assert_eq!(Market::parse("market", "ch").unwrap().as_str(), "ch");
        assert!(Market::parse("market", "brand-2_eu").is_ok());
        for bad in ["", "CH", "-ch", "c/h", "ch ", &"x".repeat(33)] {
            assert_eq!(
                Market::parse("market", bad).unwrap_err().field,
                "market",
                "{bad}"
            );
        }
    }

    #[test]
    fn without_a_request_the_default_market_wins_else_the_only_one() {
        assert_eq!(choose(None, &["ch", "default"]).unwrap(), "default");
        assert_eq!(choose(None, &["ch"]).unwrap(), "ch");
        let e = choose(None, &["ch", "de"]).unwrap_err();
        assert_eq!(e.field, "market");
        assert!(e.message.contains("known markets: ch, de"), "{}", e.message);
        assert_eq!(choose(None, &[]).unwrap_err().field, "market");
    }

    #[test]
    fn a_requested_market_must_be_active_and_the_error_names_the_known_ones() {
        assert_eq!(choose(Some("ch"), &["ch", "de"]).unwrap(), "ch");
        let e = choose(Some("at"), &["ch", "de"]).unwrap_err();
        assert_eq!(e.field, "market");
        assert_eq!(
            e.message,
            "no active policy for market `at`; known markets: ch, de"
        );
        assert_eq!(choose(Some("A T"), &["ch"]).unwrap_err().field, "market");
    }

    #[test]
    fn a_customer_is_decided_only_in_a_market_of_their_currency_once_markets_are_in_play() {
        let markets = [("ch", "CHF"), ("de", "EUR")];
        assert!(check_currency("c-1", "EUR", "de", "EUR", &markets, true).is_ok());
        let e = check_currency("c-1", "EUR", "ch", "CHF", &markets, true).unwrap_err();
        assert_eq!(e.field, "market");
        assert_eq!(
            e.message,
            "customer `c-1` is kept in EUR; market `ch` decides in CHF (decide in market `de`)"
        );
        let e = check_currency("c-2", "USD", "ch", "CHF", &markets, true).unwrap_err();
        assert!(
            e.message.ends_with("(no active market decides in USD)"),
            "{}",
            e.message
        );
        // One market and no `market` in the request: as before markets (the floor).
        assert!(
            check_currency("c-2", "USD", "default", "EUR", &[("default", "EUR")], false).is_ok()
        );
    }
}
