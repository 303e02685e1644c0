//! The engine's own sentences (authority, guards, the plain offer, counterfactuals) in
//! each language of [`Lang`]. The policy's texts are the policy's; these are the words
//! around them. English wording is kept exactly as before locales existed.
//!
//! Each function appends to one buffer, money written straight into it: these run on
//! every decision.

use crate::domain::locale::Lang;
use crate::money::{Currency, Money};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::fmt::Write as _;

/// `n` in decimal digits (no grouping), without the `fmt` machinery.
pub fn push_number(out: &mut String, n: u32) {
    push_u64(out, u64::from(n));
}

/// `n` in decimal digits (no grouping).
fn push_u64(out: &mut String, n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        if let Some(b) = buf.get_mut(i) {
            *b = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    let digits = buf.get(i..).unwrap_or_default();
    out.reserve(digits.len());
    for &b in digits {
        out.push(char::from(b));
    }
}

/// Tenure in years to one decimal, as `{years}` shows it (`7.7`, `12`; `7,7` in
/// German): `(days ÷ 365.25).round_dp(1).normalize()`, from integers. Rounding is half
/// to even, as `round_dp`'s; `tests` compares both over every day of 150 years.
pub fn push_years(out: &mut String, days: i64, lang: Lang) {
    // Tenths of a year: days × 1000 ÷ 36525, rounded half to even.
    let Some(scaled) = u64::try_from(days.max(0))
        .ok()
        .and_then(|d| d.checked_mul(1000))
    else {
        let years = crate::policy::facts::tenure_years(days)
            .round_dp(1)
            .normalize();
        let text = years.to_string();
        out.push_str(&match lang {
            Lang::En => text,
            Lang::De => text.replace('.', ","),
        });
        return;
    };
    let (mut tenths, rest) = (scaled / 36525, scaled % 36525);
    if rest * 2 > 36525 || (rest * 2 == 36525 && tenths % 2 == 1) {
        tenths += 1;
    }
    push_u64(out, tenths / 10);
    if tenths % 10 != 0 {
        out.push(match lang {
            Lang::En => '.',
            Lang::De => ',',
        });
        push_u64(out, tenths % 10);
    }
}

/// `YYYY-MM-DD`, for the answer's `passes_by`.
pub fn iso_date(d: NaiveDate) -> String {
    use chrono::Datelike;
    let mut out = String::with_capacity(10);
    let year = d.year().unsigned_abs();
    for pad in [1000, 100, 10] {
        if year < pad {
            out.push('0');
        }
    }
    push_number(&mut out, year);
    for part in [d.month(), d.day()] {
        out.push('-');
        if part < 10 {
            out.push('0');
        }
        push_number(&mut out, part);
    }
    out
}

/// A writer of money in one language and currency.
#[derive(Debug, Clone, Copy)]
pub struct Words {
    pub lang: Lang,
    pub currency: Currency,
}

impl Words {
    pub fn money(&self, out: &mut String, amount: Decimal) {
        self.lang
            .write_money(Money::new(amount, self.currency), out);
    }

    /// A date in words, `7 March 2027` or `7. März 2027`, without the `fmt` machinery
    /// (chrono's formatter was the dearest part of a declined decision).
    fn date(&self, out: &mut String, d: NaiveDate) {
        use chrono::Datelike;
        const EN: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        const DE: [&str; 12] = [
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ];
        let months = match self.lang {
            Lang::En => &EN,
            Lang::De => &DE,
        };
        push_number(out, d.day());
        if self.lang == Lang::De {
            out.push('.');
        }
        out.push(' ');
        out.push_str(months.get(d.month0() as usize).copied().unwrap_or_default());
        out.push(' ');
        push_number(out, d.year().unsigned_abs());
    }

    /// The plain offer when the rule has no script of its own.
    pub fn offer(&self, out: &mut String, gesture: &str, amount: Decimal) {
        match self.lang {
            Lang::En => {
                out.push_str("I am sorry about this. As a gesture of goodwill I can offer you a ");
                out.push_str(gesture);
                out.push_str(" of ");
                self.money(out, amount);
                out.push('.');
            }
            Lang::De => {
                out.push_str("Das tut mir wirklich leid. Als Entgegenkommen kann ich Ihnen ");
                self.money(out, amount);
                out.push_str(" als ");
                out.push_str(gesture);
                out.push_str(" anbieten.");
            }
        }
    }

    pub fn lapsed(&self, out: &mut String, peak: &str, tier: &str) {
        let parts: [&str; 7] = match self.lang {
            Lang::En => [
                "former ",
                peak,
                " member (now ",
                tier,
                "): recognised at ",
                peak,
                " for this decision",
            ],
            Lang::De => [
                "ehemals ",
                peak,
                " (jetzt ",
                tier,
                "): für diese Entscheidung als ",
                peak,
                " anerkannt",
            ],
        };
        parts.iter().for_each(|p| out.push_str(p));
    }

    pub fn currency_mismatch(&self, out: &mut String) {
        let _ = match self.lang {
            Lang::En => write!(
                out,
                "the customer's record is not in {}, so their value was not used",
                self.currency
            ),
            Lang::De => write!(
                out,
                "der Kundendatensatz ist nicht in {}, sein Wert wurde daher nicht berücksichtigt",
                self.currency
            ),
        };
    }

    pub fn ceiling(&self, out: &mut String, ceiling: Decimal) {
        match self.lang {
            Lang::En => out.push_str("capped at "),
            Lang::De => out.push_str("begrenzt auf "),
        }
        self.money(out, ceiling);
        out.push_str(match self.lang {
            Lang::En => ", the most any role may grant this customer",
            Lang::De => ", das Höchste, was für diesen Kunden freigegeben werden kann",
        });
    }

    pub fn not_granted(&self) -> &'static str {
        match self.lang {
            Lang::En => " (not granted: a guard declined it)",
            Lang::De => " (nicht gewährt: eine Schutzregel hat abgelehnt)",
        }
    }

    pub fn escalation(&self, role: &str) -> String {
        let parts = match self.lang {
            Lang::En => [
                "if the customer disagrees, a ",
                role,
                " can review the case",
            ],
            Lang::De => [
                "ist der Kunde nicht einverstanden, den Fall zur Prüfung weitergeben an: ",
                role,
                "",
            ],
        };
        let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        parts.iter().for_each(|p| out.push_str(p));
        out
    }

    pub fn claim_frequency(&self, this_claim: u32, max: u32) -> String {
        let mut out = String::with_capacity(120);
        match self.lang {
            Lang::En => {
                out.push_str("this is claim ");
                push_number(&mut out, this_claim);
                out.push_str(" in 90 days; the policy allows ");
                push_number(&mut out, max);
                out.push_str(" before goodwill is limited");
            }
            Lang::De => {
                out.push_str("das ist die ");
                push_number(&mut out, this_claim);
                out.push_str(". Reklamation in 90 Tagen; die Richtlinie erlaubt ");
                push_number(&mut out, max);
                out.push_str(", danach wird Kulanz begrenzt");
            }
        }
        out
    }

    pub fn goodwill_share(
        &self,
        given: Decimal,
        budget: Decimal,
        percent: &str,
        revenue: Decimal,
    ) -> String {
        let mut text = String::with_capacity(160);
        match self.lang {
            Lang::En => {
                text.push_str("goodwill of ");
                self.money(&mut text, given);
                text.push_str(" in the last 12 months against a budget of ");
                self.money(&mut text, budget);
                text.push_str(" (");
                text.push_str(percent);
                text.push_str("% of ");
                self.money(&mut text, revenue);
                text.push_str(" yearly revenue)");
            }
            Lang::De => {
                text.push_str("Kulanz von ");
                self.money(&mut text, given);
                text.push_str(" in den letzten 12 Monaten bei einem Budget von ");
                self.money(&mut text, budget);
                text.push_str(" (");
                text.push_str(percent);
                text.push_str(" % von ");
                self.money(&mut text, revenue);
                text.push_str(" Jahresumsatz)");
            }
        }
        text
    }

    /// "{guard} guard {action} the gesture: {text}".
    pub fn guard_hit(&self, guard: &str, declined: bool, text: &str) -> String {
        let mut out = String::with_capacity(guard.len() + 40 + text.len());
        match self.lang {
            Lang::En => {
                let action = if declined { "declined" } else { "capped" };
                for part in [guard, " guard ", action, " the gesture: ", text] {
                    out.push_str(part);
                }
            }
            Lang::De => {
                let name = match guard {
                    "claim_frequency" => "Reklamationshäufigkeit",
                    "goodwill_share" => "Kulanzbudget",
                    other => other,
                };
                let action = if declined { "abgelehnt" } else { "begrenzt" };
                for part in ["Schutzregel ", name, " hat die Geste ", action, ": ", text] {
                    out.push_str(part);
                }
            }
        }
        out
    }

    /// When a declined claim-frequency guard would pass.
    pub fn claims_pass(&self, over: u32, max: u32, by: NaiveDate) -> String {
        let mut out = String::with_capacity(160);
        let one = over == 1;
        push_number(&mut out, over);
        match self.lang {
            Lang::En => {
                out.push_str(if one { " claim" } else { " claims" });
                out.push_str(" over the limit of ");
                push_number(&mut out, max);
                out.push_str(" in 90 days; goodwill is allowed again once ");
                push_number(&mut out, over);
                out.push_str(if one { " has" } else { " have" });
                out.push_str(" aged out, by ");
            }
            Lang::De => {
                out.push_str(if one {
                    " Reklamation"
                } else {
                    " Reklamationen"
                });
                out.push_str(" über der Grenze von ");
                push_number(&mut out, max);
                out.push_str(" in 90 Tagen; Kulanz ist wieder möglich, sobald ");
                out.push_str(if one {
                    "sie älter als 90 Tage ist"
                } else {
                    "diese älter als 90 Tage sind"
                });
                out.push_str(", spätestens am ");
            }
        }
        self.date(&mut out, by);
        out
    }

    /// When a declined goodwill budget would pass.
    pub fn budget_pass(
        &self,
        over: Decimal,
        by: NaiveDate,
        revenue_needed: Option<Decimal>,
    ) -> String {
        let mut out = String::with_capacity(160);
        match self.lang {
            Lang::En => {
                out.push_str("budget used up (");
                self.money(&mut out, over);
                out.push_str(" over); allowed again as past goodwill ages out, by ");
                self.date(&mut out, by);
                if let Some(r) = revenue_needed {
                    out.push_str(", or once yearly revenue passes ");
                    self.money(&mut out, r);
                }
            }
            Lang::De => {
                out.push_str("Budget aufgebraucht (");
                self.money(&mut out, over);
                out.push_str(" darüber); wieder möglich, wenn frühere Kulanz älter als 12 Monate ist, spätestens am ");
                self.date(&mut out, by);
                if let Some(r) = revenue_needed {
                    out.push_str(", oder sobald der Jahresumsatz ");
                    self.money(&mut out, r);
                    out.push_str(" übersteigt");
                }
            }
        }
        out
    }

    /// "{amount} is above the {role} limit of {limit} for this customer; a {a} can approve it".
    pub fn authority(
        &self,
        out: &mut String,
        amount: Decimal,
        role: &str,
        limit: Decimal,
        approver: &str,
    ) {
        self.money(out, amount);
        match self.lang {
            Lang::En => {
                out.push_str(" is above the ");
                out.push_str(role);
                out.push_str(" limit of ");
                self.money(out, limit);
                out.push_str(" for this customer; a ");
                out.push_str(approver);
                out.push_str(" can approve it");
            }
            Lang::De => {
                out.push_str(" liegt über Ihrem Limit von ");
                self.money(out, limit);
                out.push_str(" für diesen Kunden (");
                out.push_str(role);
                out.push_str("); Freigabe durch: ");
                out.push_str(approver);
            }
        }
    }

    /// The best offer within the deciding role's own limit, against the full one.
    pub fn within_option(
        &self,
        out: &mut String,
        (gesture, amount): (&str, Decimal),
        (full_gesture, full): (&str, Decimal),
        approver: &str,
    ) {
        match self.lang {
            Lang::En => {
                out.push_str("within your limit now: ");
                out.push_str(gesture);
                out.push_str(" of ");
                self.money(out, amount);
                out.push_str(", or ask a ");
                out.push_str(approver);
                out.push_str(" for the ");
                self.money(out, full);
                out.push(' ');
                out.push_str(full_gesture);
            }
            Lang::De => {
                out.push_str("Sofort möglich: ");
                self.money(out, amount);
                out.push_str(" als ");
                out.push_str(gesture);
                out.push_str("; für ");
                self.money(out, full);
                out.push_str(" als ");
                out.push_str(full_gesture);
                out.push_str(" Freigabe einholen bei: ");
                out.push_str(approver);
            }
        }
    }

    /// Amount just above the limit (within 5%).
    pub fn near_limit(&self, out: &mut String, amount: Decimal, limit: Decimal) {
        self.money(out, amount);
        out.push_str(match self.lang {
            Lang::En => " is less than 5% above your limit of ",
            Lang::De => " liegt weniger als 5 % über Ihrem Limit von ",
        });
        self.money(out, limit);
    }

    /// Value at risk within 5% below the next band.
    pub fn near_band(&self, out: &mut String, value: Decimal, band: &str, from: Decimal) {
        self.money(out, value);
        match self.lang {
            Lang::En => {
                out.push_str(" at risk is within 5% of the ");
                out.push_str(band);
                out.push_str(" band (from ");
                self.money(out, from);
                out.push_str("): a little more value moves this customer up");
            }
            Lang::De => {
                out.push_str(" gefährdeter Wert liegt knapp (unter 5 %) unter der Stufe ");
                out.push_str(band);
                out.push_str(" (ab ");
                self.money(out, from);
                out.push_str("): mit etwas mehr Kundenwert steigt der Kunde auf");
            }
        }
    }

    /// Without the id itself: reasons are kept with the decision, and an erasure
    /// pseudonymises the request's customer id, not words in a text.
    pub fn unknown_customer(&self, out: &mut String) {
        out.push_str(match self.lang {
            Lang::En => "no customer record for this customer id: import it to get a value-based answer",
            Lang::De => "kein Kundendatensatz zu dieser Kundennummer: nach dem Import richtet sich die Antwort nach dem Kundenwert",
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_are_written_from_integers_as_the_decimal_path_would() {
        use crate::policy::facts::tenure_years;
        for days in (0..55_000).chain([-3, 36525 * 7 / 20, 1_000_000_000]) {
            let want = tenure_years(days).round_dp(1).normalize().to_string();
            let mut en = String::new();
            push_years(&mut en, days, Lang::En);
            assert_eq!(en, want, "{days} days");
            let mut de = String::new();
            push_years(&mut de, days, Lang::De);
            assert_eq!(de, want.replace('.', ","), "{days} days");
        }
    }

    #[test]
    fn dates_are_written_without_chrono_formatting_as_chrono_would() {
        for (y, m, d) in [(2027, 3, 7), (2026, 12, 31), (2030, 1, 1), (2029, 10, 10)] {
            let day = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(iso_date(day), day.format("%Y-%m-%d").to_string());
            let w = Words {
                lang: Lang::En,
                currency: "EUR".parse().unwrap(),
            };
            let mut out = String::new();
            w.date(&mut out, day);
            assert_eq!(out, day.format("%-d %B %Y").to_string());
        }
        let w = Words {
            lang: Lang::De,
            currency: "EUR".parse().unwrap(),
        };
        let mut out = String::new();
        w.date(&mut out, NaiveDate::from_ymd_opt(2027, 3, 7).unwrap());
        assert_eq!(out, "7. März 2027");
    }
}
