//! Exact money: a decimal amount with a currency, never a float.
//!
//! On the wire money is always `{"amount": "100.00", "currency": "EUR"}`; amounts are
//! rounded half away from zero to cents only when they leave the engine.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// An ISO-4217-shaped currency code: three upper-case ASCII letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// ISO 4217's "no currency", a placeholder where a currency failed to parse.
    pub const UNKNOWN: Currency = Currency(*b"XXX");

    /// The code as text, e.g. `EUR`.
    pub fn as_str(&self) -> &str {
        // The common codes without the UTF-8 check: every amount in an answer names its
        // currency, several times per decision.
        match &self.0 {
            b"EUR" => "EUR",
            b"USD" => "USD",
            b"GBP" => "GBP",
            b"CHF" => "CHF",
            // INVARIANT: the bytes are ASCII upper-case letters, checked in `FromStr`.
            other => std::str::from_utf8(other).unwrap_or("???"),
        }
    }

    /// The symbol agents expect in prose, falling back to the code.
    pub fn symbol(&self) -> Option<&'static str> {
        match &self.0 {
            b"EUR" => Some("€"),
            b"USD" => Some("$"),
            b"GBP" => Some("£"),
            b"CHF" => Some("CHF "),
            _ => None,
        }
    }
}

impl FromStr for Currency {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        match b {
            [a, b2, c] if b.iter().all(u8::is_ascii_uppercase) => Ok(Currency([*a, *b2, *c])),
            _ => Err(format!(
                "expected a three-letter upper-case currency code like `EUR`, got `{}`",
                truncate(s)
            )),
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An exact amount in a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Money { amount, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Money::new(Decimal::ZERO, currency)
    }

    /// The amount rounded to cents, half away from zero (the one rounding rule for output).
    pub fn rounded(&self) -> Money {
        Money::new(round_cents(self.amount), self.currency)
    }

    /// Prose form for reasons: `€10,400` for whole amounts, `€99.50` otherwise.
    pub fn display(&self) -> String {
        let mut out = String::with_capacity(24);
        self.write_display(&mut out);
        out
    }

    /// [`Money::display`] appended to `out`, for reasons that are assembled in one buffer.
    pub fn write_display(&self, out: &mut String) {
        // Fast path (the engine renders several of these per decision): non-negative
        // amounts in whole cents are formatted from the integer, with no allocation and
        // no decimal arithmetic. Same output as the general path below.
        if let Some(cents) = whole_cents(self.amount) {
            let sym = self.currency.symbol();
            if let Some(sym) = sym {
                out.push_str(sym);
            }
            push_digits(out, cents / 100, true);
            let frac = cents % 100;
            if frac != 0 {
                out.push('.');
                push_two_digits(out, frac);
            }
            if sym.is_none() {
                out.push(' ');
                out.push_str(self.currency.as_str());
            }
            return;
        }
        out.push_str(&self.display_general());
    }

    fn display_general(&self) -> String {
        let r = round_cents(self.amount);
        let whole = r.trunc();
        let neg = r.is_sign_negative() && !r.is_zero();
        let digits = whole.abs().to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        let frac = (r.abs() - whole.abs()).round_dp(2);
        let cents = if frac.is_zero() {
            String::new()
        } else {
            format!(".{:02}", (frac * Decimal::ONE_HUNDRED).trunc())
        };
        let sign = if neg { "-" } else { "" };
        match self.currency.symbol() {
            Some(sym) => format!("{sign}{sym}{grouped}{cents}"),
            None => format!("{sign}{grouped}{cents} {}", self.currency),
        }
    }
}

/// The amount in whole cents after `round_cents`, when it is non-negative and fits a
/// u64 (any amount below ~184 quadrillion); the formatting fast paths use it, everything
/// else takes the general path. u64, not u128: u128 division is a library call.
fn whole_cents(d: Decimal) -> Option<u64> {
    let r = round_cents(d);
    if r.scale() != 2 || r.is_sign_negative() {
        return None;
    }
    u64::try_from(r.mantissa()).ok()
}

/// `n` (below 100) as two digits, e.g. `05`.
fn push_two_digits(out: &mut String, n: u64) {
    let n = (n % 100) as u8;
    out.push(char::from(b'0' + n / 10));
    out.push(char::from(b'0' + n % 10));
}

/// `n` in decimal digits, with `,` between groups of three when `grouped`: written from
/// a stack buffer, without the `fmt` machinery (the engine formats several per decision).
fn push_digits(out: &mut String, n: u64, grouped: bool) {
    let mut buf = [0u8; 26];
    let i = digits_into(&mut buf, n, grouped);
    push_ascii(out, &buf[i..]);
}

/// `n`'s digits (with `,` every three when `grouped`) at the end of `buf`; returns where
/// they start. 20 digits and 6 separators at most.
fn digits_into(buf: &mut [u8; 26], mut n: u64, grouped: bool) -> usize {
    let mut i = buf.len();
    let mut written = 0;
    loop {
        if grouped && written > 0 && written % 3 == 0 {
            i -= 1;
            buf[i] = b',';
        }
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        written += 1;
        if n == 0 {
            break;
        }
    }
    i
}

/// Append ASCII bytes (digits and separators written above). Char by char on purpose:
/// `str::from_utf8`'s general validation costs more than pushing a few ASCII chars.
fn push_ascii(out: &mut String, bytes: &[u8]) {
    out.reserve(bytes.len());
    out.extend(bytes.iter().map(|&b| char::from(b)));
}

/// `round_cents(d).to_string()`, e.g. `100.00`, without the general decimal formatter
/// for the common case (non-negative, in cents).
pub fn cents_string(d: Decimal) -> String {
    match whole_cents(d) {
        Some(cents) => {
            // Written backwards into one buffer (two decimals, `.`, the digits), then one
            // allocation of the exact size: this runs several times per decision.
            // u64 / 100 has at most 18 digits, so 24 bytes are enough.
            let mut buf = [0u8; 24];
            let mut i = buf.len();
            let frac = (cents % 100) as u8;
            for b in [b'0' + frac % 10, b'0' + frac / 10, b'.'] {
                i -= 1;
                buf[i] = b;
            }
            let mut n = cents / 100;
            loop {
                i -= 1;
                buf[i] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            let mut out = String::with_capacity(buf.len() - i);
            push_ascii(&mut out, &buf[i..]);
            out
        }
        None => round_cents(d).to_string(),
    }
}

/// Round to two decimals, half away from zero.
pub fn round_cents(d: Decimal) -> Decimal {
    // Most amounts the engine handles are already in cents (parsed input, rounded
    // results): nothing to round or rescale, and the general path is the engine's
    // single biggest cost.
    if d.scale() == 2 {
        return d;
    }
    // Products and quotients (value at risk, cost factors, retention) come with more
    // decimals: rounding the 96-bit mantissa as an i128 is exact and several times
    // cheaper than `round_dp_with_strategy` + `rescale`, which were the engine's top cost.
    if let Some(r) = round_cents_i128(d) {
        return r;
    }
    round_cents_general(d)
}

/// `round_cents(numerator / denominator)` with one exact division of integers (no
/// intermediate rounding to 28 digits); `None` when `denominator` is not positive or the
/// numbers do not fit an i128.
pub fn ratio_cents(numerator: Decimal, denominator: i128) -> Option<Decimal> {
    if denominator <= 0 {
        return None;
    }
    let m = numerator.mantissa();
    let scale = numerator.scale();
    // cents = m × 10^(2 − scale) / denominator
    let (n, d) = if scale >= 2 {
        (m, denominator.checked_mul(10i128.checked_pow(scale - 2)?)?)
    } else {
        (m.checked_mul(10i128.checked_pow(2 - scale)?)?, denominator)
    };
    let (q, r) = (n / d, n % d);
    // Half away from zero, as `round_cents`.
    let cents = if r.unsigned_abs() * 2 >= d.unsigned_abs() {
        q + n.signum()
    } else {
        q
    };
    Decimal::try_from_i128_with_scale(cents, 2).ok()
}

/// The general path of [`round_cents`] (and what its fast path must agree with).
fn round_cents_general(d: Decimal) -> Decimal {
    let mut r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    r
}

/// `round_cents` on the mantissa; `None` when the result does not fit a `Decimal`.
fn round_cents_i128(d: Decimal) -> Option<Decimal> {
    let m = d.mantissa();
    let scale = d.scale();
    let cents = if scale > 2 {
        // 10^26 at most (scale ≤ 28): fits an i128.
        let p = 10i128.checked_pow(scale - 2)?;
        let (q, r) = (m / p, m % p);
        // Half away from zero: a remainder of at least half a cent moves away from zero.
        if r.unsigned_abs() * 2 >= p.unsigned_abs() {
            q + m.signum()
        } else {
            q
        }
    } else {
        m.checked_mul(10i128.checked_pow(2 - scale)?)?
    };
    Decimal::try_from_i128_with_scale(cents, 2).ok()
}

/// The wire form of money, used both ways in the HTTP API and in stored records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": "100.00", "currency": "EUR"}))]
pub struct MoneyDto {
    /// Decimal string, at most 15 digits before the point and 2 after on input; never a
    /// JSON number. (`domain::schema::AMOUNT_PATTERN`, which a test checks against
    /// `parse_amount`.)
    #[schema(pattern = r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$")]
    pub amount: String,
    /// Three-letter currency code.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
}

/// The one JSON form of money, the same as [`MoneyDto`]'s: `{"amount": "100.00",
/// "currency": "EUR"}`, the amount rounded to cents. Typed answers (the engine's
/// `Evaluation`) are written in it, to the wire and to stored records alike, without a
/// `MoneyDto` (two strings) per amount in between.
impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Money", 2)?;
        s.serialize_field("amount", &cents_string(self.amount))?;
        s.serialize_field("currency", self.currency.as_str())?;
        s.end()
    }
}

/// Reads what [`Money`]'s `Serialize` writes (stored answers). Lenient where `MoneyDto`
/// is strict: a stored amount is any decimal string, since the engine wrote it; input
/// from callers goes through `MoneyDto::parse` instead.
impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire<'a> {
            #[serde(borrow)]
            amount: std::borrow::Cow<'a, str>,
            #[serde(borrow)]
            currency: std::borrow::Cow<'a, str>,
        }
        let w = Wire::deserialize(deserializer)?;
        let amount = Decimal::from_str(w.amount.trim()).map_err(|e| {
            serde::de::Error::custom(format!("amount `{}`: {e}", truncate(&w.amount)))
        })?;
        let currency = w.currency.parse().map_err(serde::de::Error::custom)?;
        Ok(Money::new(amount, currency))
    }
}

impl From<Money> for MoneyDto {
    fn from(m: Money) -> Self {
        MoneyDto {
            amount: cents_string(m.amount),
            currency: m.currency.as_str().to_owned(),
        }
    }
}

impl MoneyDto {
    /// Parse into exact money. Amounts are plain decimals with at most two decimals.
    pub fn parse(&self) -> Result<Money, String> {
        let currency: Currency = self
            .currency
            .parse()
            .map_err(|e| format!("currency: {e}"))?;
        let amount = parse_amount(&self.amount).map_err(|e| format!("amount: {e}"))?;
        Ok(Money::new(amount, currency))
    }
}

/// The largest amount an amount string may hold (15 integer digits, `parse_amount`).
pub fn max_amount() -> Decimal {
    Decimal::new(99_999_999_999_999_999, 2)
}

/// `amount` kept within what an amount string may hold. For sums the service computes
/// from many inputs (revenue from orders, goodwill from outcomes): each input is within
/// the bound, their sum need not be, and a record that cannot be written is worse than a
/// total that stops at 999,999,999,999,999.99.
pub fn saturate(amount: Decimal) -> Decimal {
    amount.clamp(-max_amount(), max_amount())
}

/// Parse a decimal amount string such as `100.00`: digits, optional sign, at most 2 decimals.
pub fn parse_amount(s: &str) -> Result<Decimal, String> {
    let t = s.trim();
    let body = t.strip_prefix('-').unwrap_or(t);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let ok = !int.is_empty()
        && int.len() <= 15
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.len() <= 2
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !(body.contains('.') && frac.is_empty());
    if !ok {
        return Err(format!(
            "expected a decimal string with at most 2 decimals like \"100.00\", got `{}`",
            truncate(s)
        ));
    }
    Decimal::from_str(t).map_err(|e| format!("`{}` is not a decimal: {e}", truncate(s)))
}

/// Clip user input quoted in messages so an error never echoes a megabyte back.
pub fn truncate(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(s: &str) -> Money {
        Money::new(parse_amount(s).unwrap(), "EUR".parse().unwrap())
    }

    #[test]
    fn fast_formatting_matches_the_general_path() {
        // The reference: the general path of `display` and `Decimal`'s own formatter.
        fn reference(m: &Money) -> (String, String) {
            let r = round_cents(m.amount);
            let whole = r.trunc();
            let neg = r.is_sign_negative() && !r.is_zero();
            let digits = whole.abs().to_string();
            let mut grouped = String::new();
            for (i, ch) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i).is_multiple_of(3) {
                    grouped.push(',');
                }
                grouped.push(ch);
            }
            let frac = (r.abs() - whole.abs()).round_dp(2);
            let cents = if frac.is_zero() {
                String::new()
            } else {
                format!(".{:02}", (frac * Decimal::ONE_HUNDRED).trunc())
            };
            let sign = if neg { "-" } else { "" };
            let shown = match m.currency.symbol() {
                Some(sym) => format!("{sign}{sym}{grouped}{cents}"),
                None => format!("{sign}{grouped}{cents} {}", m.currency),
            };
            (shown, r.to_string())
        }
        let amounts = [
            "0",
            "0.001",
            "0.005",
            "0.5",
            "1",
            "9.99",
            "10.005",
            "99.995",
            "100",
            "999.5",
            "1000",
            "10400",
            "123456.78",
            "1234567.05",
            "0.0049",
            "-0",
            "-0.004",
            "-5",
            "-1234.5",
            "79228162514264337593543950335",
            "7922816251426433759354395.0335",
        ];
        for code in ["EUR", "USD", "GBP", "CHF", "SEK"] {
            let currency: Currency = code.parse().unwrap();
            for a in amounts {
                let m = Money::new(Decimal::from_str(a).unwrap(), currency);
                let (shown, wire) = reference(&m);
                assert_eq!(m.display(), shown, "{a} {code}");
                assert_eq!(MoneyDto::from(m).amount, wire, "{a} {code}");
            }
        }
    }

    #[test]
    fn displays_amounts_the_way_agents_read_them() {
        assert_eq!(eur("10400").display(), "€10,400");
        assert_eq!(eur("999.5").display(), "€999.50");
        assert_eq!(eur("1234567.05").display(), "€1,234,567.05");
        assert_eq!(eur("0").display(), "€0");
        let sek = Money::new(parse_amount("12.00").unwrap(), "SEK".parse().unwrap());
        assert_eq!(sek.display(), "12 SEK");
    }

    #[test]
    fn parses_only_plain_decimal_strings() {
        assert!(parse_amount("100.00").is_ok());
        assert!(parse_amount("-5").is_ok());
        for bad in ["1e3", "100.001", "", "abc", "1.", ".5", "NaN", "1 000"] {
            assert!(parse_amount(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn wire_form_always_has_two_decimals() {
        let dto = MoneyDto::from(eur("7.5"));
        assert_eq!(dto.amount, "7.50");
        assert_eq!(round_cents(Decimal::new(125, 3)).to_string(), "0.13");
    }

    #[test]
    fn currency_codes_are_checked() {
        assert!("eur".parse::<Currency>().is_err());
        assert!("EURO".parse::<Currency>().is_err());
        assert_eq!("USD".parse::<Currency>().unwrap().as_str(), "USD");
    }
}

#[cfg(test)]
mod round_cents_tests {
    use super::*;

    #[test]
    fn ratio_cents_rounds_the_exact_quotient_once() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        for (num, den) in [
            ("1000.00", 3),
            ("2.00", 3),
            ("1.00", 8),   // 0.125 -> 0.13
            ("-1.00", 8),  // -0.125 -> -0.13
            ("0.0050", 1), // half a cent
            ("0.0049", 1),
            ("36525.00", 730),
            ("123456789.1234", 1_000_003),
            ("7", 2),
        ] {
            let exact = round_cents_general(d(num) / Decimal::from(den));
            assert_eq!(ratio_cents(d(num), den), Some(exact), "{num} / {den}");
        }
        assert_eq!(ratio_cents(d("1"), 0), None);
        assert_eq!(ratio_cents(d("1"), -2), None);
    }

    #[test]
    fn the_fast_rounding_matches_the_general_path() {
        let mut cases: Vec<Decimal> = [
            "0",
            "0.005",
            "-0.005",
            "0.004999",
            "1.005",
            "2.675",
            "-2.675",
            "12000.125",
            "0.1",
            "7",
            "-7",
            "1234567.8949999",
            "0.0000000000000000000000000001",
            "79228162514264337593543950.335",
            "-79228162514264337593543950.335",
            "7922816251426433759354395033.5",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        // Products and quotients as the engine makes them.
        for a in [1, 7, 99, 12_000, 1_500_000, 123_456_789] {
            for b in [3, 6, 7, 9_999, 6_667] {
                let x = Decimal::new(a, 2);
                cases.push(x * Decimal::new(b, 4));
                cases.push(x / Decimal::new(b, 1));
                cases.push(-(x * Decimal::new(b, 3)));
            }
        }
        for d in cases {
            // As text, so the scale must agree too (`Decimal` equality ignores it).
            assert_eq!(
                round_cents(d).to_string(),
                round_cents_general(d).to_string(),
                "{d}"
            );
        }
    }
}
