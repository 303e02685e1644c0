//! Reason and script templates: `{value_at_risk}` and friends, split into pieces once at
//! load so rendering a reason is a walk over a short list, never a parse.

use super::err::Problem;

/// A value a template can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    ValueAtRisk,
    LifetimeRevenue,
    Claim,
    Amount,
    Segment,
    Tier,
    PeakTier,
    Orders,
    Referrals,
    Years,
    Category,
    GoodwillGiven,
    Claims90d,
}

const VARS: &[(&str, Var)] = &[
    ("value_at_risk", Var::ValueAtRisk),
    ("lifetime_revenue", Var::LifetimeRevenue),
    ("claim", Var::Claim),
    ("amount", Var::Amount),
    ("segment", Var::Segment),
    ("tier", Var::Tier),
    ("peak_tier", Var::PeakTier),
    ("orders", Var::Orders),
    ("referrals", Var::Referrals),
    ("years", Var::Years),
    ("category", Var::Category),
    ("goodwill_12m", Var::GoodwillGiven),
    ("claims_90d", Var::Claims90d),
];

/// The names a template may use, for error messages and docs.
pub fn var_names() -> Vec<&'static str> {
    VARS.iter().map(|(n, _)| *n).collect()
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Var(Var),
}

/// A compiled template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template(Vec<Piece>);

impl Template {
    /// The template that renders nothing, as a constant.
    pub const EMPTY: Template = Template(Vec::new());

    /// A template that renders nothing (stands in for one that failed to compile).
    pub fn empty() -> Template {
        Template(Vec::new())
    }

    /// Split `src` into text and placeholders; an unknown or unclosed placeholder is a problem at `path`.
    pub fn compile(path: &str, src: &str) -> Result<Template, Problem> {
        let mut pieces = Vec::new();
        let mut rest = src;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| Problem::new(path, "`{` without a closing `}`"))?;
            let name = &after[..close];
            let var = VARS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| *v)
                .ok_or_else(|| {
                    Problem::new(
                        path,
                        format!(
                            "unknown placeholder `{{{name}}}`; known: {}",
                            var_names().join(", ")
                        ),
                    )
                })?;
            pieces.push(Piece::Var(var));
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(Template(pieces))
    }

    /// Render with `write` appending each placeholder's text to the output: one buffer
    /// for the whole sentence, no string per placeholder.
    pub fn render(&self, write: impl Fn(Var, &mut String)) -> String {
        // One allocation for a typical sentence instead of a few regrowths.
        let mut out = String::with_capacity(160);
        for p in &self.0 {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Var(v) => write(*v, &mut out),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_placeholders_and_refuses_unknown_ones() {
        let t = Template::compile("$.x", "worth {value_at_risk} over {years} years").unwrap();
        let s = t.render(|v, out| match v {
            Var::ValueAtRisk => out.push_str("€9,800"),
            _ => out.push('7'),
        });
        assert_eq!(s, "worth €9,800 over 7 years");
        let e = Template::compile("$.x", "hi {name}").unwrap_err();
        assert!(e.message.contains("unknown placeholder `{name}`"));
        assert!(Template::compile("$.x", "open {brace").is_err());
    }
}
