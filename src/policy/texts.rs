//! The texts a person reads, compiled once per locale at load: labels, the rules'
//! reasons, details and scripts, the floor's. A text a locale leaves out is the default
//! locale's, filled in at compile time, so the engine picks one `LocaleTexts` per
//! request and never looks a text up or parses one.

use super::template::Template;
use crate::domain::locale::{primary, Lang};

/// A gesture's name in one locale.
#[derive(Debug, Clone)]
pub struct GestureText {
    pub label: String,
    /// `label` in lower case, as reasons and scripts use it mid-sentence (computed once
    /// here rather than in every answer). German keeps its capitals: nouns stay nouns.
    pub label_lower: String,
}

/// One rule's texts in one locale.
#[derive(Debug, Clone)]
pub struct RuleTexts {
    pub reason: Template,
    pub detail: Option<Template>,
    pub script: Option<Template>,
}

/// Every text of the policy in one locale.
#[derive(Debug, Clone)]
pub struct LocaleTexts {
    /// The BCP 47 tag as the policy declares it (named in the answer).
    pub tag: String,
    /// The language of the engine's own sentences and of money.
    pub lang: Lang,
    /// Indexed like the policy's gestures.
    pub gestures: Vec<GestureText>,
    /// What `{segment}` writes, indexed like the segments: the id in the default locale
    /// (as before locales existed), the locale's label elsewhere.
    pub segments: Vec<String>,
    /// How roles are named, indexed like the roles: the id in the default locale.
    pub roles: Vec<String>,
    pub floor_script: Template,
    pub floor_reason: Template,
    /// Indexed like the rules.
    pub rules: Vec<RuleTexts>,
}

impl LocaleTexts {
    pub fn gesture_lower(&self, g: usize) -> &str {
        self.gestures
            .get(g)
            .map(|g| g.label_lower.as_str())
            .unwrap_or("")
    }

    pub fn role(&self, r: usize) -> &str {
        self.roles.get(r).map(String::as_str).unwrap_or("")
    }
}

/// The index of the locale to answer `requested` in, among `locales` (the default
/// first): the same tag, else the same language, else the default.
pub fn resolve(locales: &[LocaleTexts], requested: Option<&str>) -> usize {
    let Some(tag) = requested else { return 0 };
    if let Some(i) = locales.iter().position(|l| l.tag.eq_ignore_ascii_case(tag)) {
        return i;
    }
    let lang = primary(tag);
    locales
        .iter()
        .position(|l| primary(&l.tag).eq_ignore_ascii_case(lang))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(tag: &str) -> LocaleTexts {
        LocaleTexts {
            tag: tag.into(),
            lang: Lang::of(tag),
            gestures: vec![],
            segments: vec![],
            roles: vec![],
            floor_script: Template::empty(),
            floor_reason: Template::empty(),
            rules: vec![],
        }
    }

    #[test]
    fn a_request_gets_its_tag_then_its_language_then_the_default() {
        let l = [texts("en"), texts("de"), texts("de-CH")];
        assert_eq!(resolve(&l, None), 0);
        assert_eq!(resolve(&l, Some("de-CH")), 2);
        assert_eq!(resolve(&l, Some("de-ch")), 2);
        assert_eq!(resolve(&l, Some("de-DE")), 1);
        assert_eq!(resolve(&l, Some("fr-FR")), 0);
        assert_eq!(resolve(&l, Some("en-GB")), 0);
    }
}
