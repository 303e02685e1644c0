//! Compiling the policy's texts per locale: the inline texts are the default locale's;
//! each entry of `texts` is compiled over a copy of them, so a text a locale leaves out
//! is the default's. Unknown ids and bad placeholders are problems; missing texts are
//! reported by [`missing`] as warnings (the fallback keeps the policy usable).

use super::Checker;
use crate::domain::locale::{parse_tag, Lang};
use crate::policy::err::Problem;
use crate::policy::model::{LocaleTextsDoc, PolicyDoc};
use crate::policy::texts::{GestureText, LocaleTexts, RuleTexts};
use std::collections::BTreeMap;

/// The locale of the inline texts when the policy names none.
pub const DEFAULT_LOCALE: &str = "en";

fn gesture_text(lang: Lang, label: &str) -> GestureText {
    GestureText {
        label: label.to_string(),
        // German nouns keep their capital mid-sentence.
        label_lower: match lang {
            Lang::De => label.to_string(),
            Lang::En => label.to_lowercase(),
        },
    }
}

/// The default locale's texts, from the document's own fields.
fn default_texts(c: &mut Checker<'_>, doc: &PolicyDoc) -> LocaleTexts {
    let tag = doc.default_locale.as_deref().unwrap_or(DEFAULT_LOCALE);
    if let Err(e) = parse_tag("$.default_locale", tag) {
        c.fail(e.field, e.message);
    }
    let lang = Lang::of(tag);
    let rules = doc
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let path = format!("$.rules[{i}].then");
            RuleTexts {
                reason: c.template(&format!("{path}.reason"), &r.then.reason),
                detail: r
                    .then
                    .detail
                    .as_ref()
                    .map(|s| c.template(&format!("{path}.detail"), s)),
                script: r
                    .then
                    .agent_script
                    .as_ref()
                    .map(|s| c.template(&format!("{path}.agent_script"), s)),
            }
        })
        .collect();
    LocaleTexts {
        tag: tag.to_string(),
        lang,
        gestures: doc
            .gestures
            .values()
            .map(|g| gesture_text(lang, &g.label))
            .collect(),
        segments: doc.segments.iter().map(|s| s.id.clone()).collect(),
        roles: doc.roles.clone(),
        floor_script: c.template("$.floor.agent_script", &doc.floor.agent_script),
        floor_reason: c.template("$.floor.reason", &doc.floor.reason),
        rules,
    }
}

/// The position of `id` among `ids`. An unknown id is not an error (a rule removed
/// without its translation leaves the policy usable); [`missing`] warns about it.
fn index_of<'x>(id: &str, mut ids: impl Iterator<Item = &'x str>) -> Option<usize> {
    ids.position(|i| i == id)
}

fn locale_texts(
    c: &mut Checker<'_>,
    doc: &PolicyDoc,
    base: &LocaleTexts,
    tag: &str,
    t: &LocaleTextsDoc,
) -> LocaleTexts {
    let p = format!("$.texts.{tag}");
    if let Err(e) = parse_tag(&p, tag) {
        c.fail(e.field, e.message);
    }
    if tag.eq_ignore_ascii_case(&base.tag) {
        c.fail(
            p.clone(),
            "the default locale's texts are the policy's own fields",
        );
    }
    let lang = Lang::of(tag);
    let mut out = base.clone();
    out.tag = tag.to_string();
    out.lang = lang;
    // The default's labels in this language's case rules until replaced.
    for (g, doc_g) in out.gestures.iter_mut().zip(doc.gestures.values()) {
        *g = gesture_text(lang, &doc_g.label);
    }
    for (id, label) in &t.gestures {
        if let Some(i) = index_of(id, doc.gestures.keys().map(String::as_str)) {
            if let Some(g) = out.gestures.get_mut(i) {
                *g = gesture_text(lang, label);
            }
        }
    }
    for (id, label) in &t.segments {
        if let Some(i) = index_of(id, doc.segments.iter().map(|s| s.id.as_str())) {
            if let Some(s) = out.segments.get_mut(i) {
                s.clone_from(label);
            }
        }
    }
    for (id, label) in &t.roles {
        if let Some(i) = index_of(id, doc.roles.iter().map(String::as_str)) {
            if let Some(r) = out.roles.get_mut(i) {
                r.clone_from(label);
            }
        }
    }
    if let Some(f) = &t.floor {
        if let Some(s) = &f.agent_script {
            out.floor_script = c.template(&format!("{p}.floor.agent_script"), s);
        }
        if let Some(s) = &f.reason {
            out.floor_reason = c.template(&format!("{p}.floor.reason"), s);
        }
    }
    for (id, rt) in &t.rules {
        let path = format!("{p}.rules.{id}");
        let Some(i) = index_of(id, doc.rules.iter().map(|r| r.id.as_str())) else {
            continue;
        };
        let reason = rt
            .reason
            .as_ref()
            .map(|s| c.template(&format!("{path}.reason"), s));
        let detail = rt
            .detail
            .as_ref()
            .map(|s| c.template(&format!("{path}.detail"), s));
        let script = rt
            .agent_script
            .as_ref()
            .map(|s| c.template(&format!("{path}.agent_script"), s));
        if let Some(r) = out.rules.get_mut(i) {
            if let Some(t) = reason {
                r.reason = t;
            }
            if detail.is_some() {
                r.detail = detail;
            }
            if script.is_some() {
                r.script = script;
            }
        }
    }
    out
}

/// Every locale's texts, the default first.
pub(super) fn compile_texts(c: &mut Checker<'_>, doc: &PolicyDoc) -> Vec<LocaleTexts> {
    let base = default_texts(c, doc);
    let mut out = vec![base];
    for (tag, t) in &doc.texts {
        let compiled = match out.first() {
            Some(base) => locale_texts(c, doc, base, tag, t),
            None => continue,
        };
        out.push(compiled);
    }
    out
}

/// Texts a declared locale leaves out (the default locale's stand in), and texts for
/// ids the policy does not have (unused), one warning each.
pub fn missing(doc: &PolicyDoc) -> Vec<Problem> {
    let mut out = Vec::new();
    let default = doc.default_locale.as_deref().unwrap_or(DEFAULT_LOCALE);
    for (tag, t) in &doc.texts {
        let p = format!("$.texts.{tag}");
        let mut unused = |what: &str, id: &str| {
            out.push(Problem::new(
                format!("{p}.{what}s.{id}"),
                format!("no {what} `{id}` in this policy; the text is unused"),
            ))
        };
        for id in t
            .gestures
            .keys()
            .filter(|id| !doc.gestures.contains_key(*id))
        {
            unused("gesture", id);
        }
        for id in t
            .segments
            .keys()
            .filter(|id| !doc.segments.iter().any(|s| &s.id == *id))
        {
            unused("segment", id);
        }
        for id in t.roles.keys().filter(|id| !doc.roles.contains(id)) {
            unused("role", id);
        }
        for id in t
            .rules
            .keys()
            .filter(|id| !doc.rules.iter().any(|r| &r.id == *id))
        {
            unused("rule", id);
        }
        let mut miss = |path: String| {
            out.push(Problem::new(
                path,
                format!("missing in `{tag}`; the `{default}` text is used"),
            ))
        };
        let absent = |m: &BTreeMap<String, String>, id: &str| !m.contains_key(id);
        for id in doc.gestures.keys() {
            if absent(&t.gestures, id) {
                miss(format!("{p}.gestures.{id}"));
            }
        }
        for s in &doc.segments {
            if absent(&t.segments, &s.id) {
                miss(format!("{p}.segments.{}", s.id));
            }
        }
        for r in &doc.roles {
            if absent(&t.roles, r) {
                miss(format!("{p}.roles.{r}"));
            }
        }
        let floor = t.floor.clone().unwrap_or_default();
        if floor.agent_script.is_none() {
            miss(format!("{p}.floor.agent_script"));
        }
        if floor.reason.is_none() {
            miss(format!("{p}.floor.reason"));
        }
        for r in &doc.rules {
            let rt = t.rules.get(&r.id).cloned().unwrap_or_default();
            let rp = format!("{p}.rules.{}", r.id);
            if rt.reason.is_none() {
                miss(format!("{rp}.reason"));
            }
            if r.then.detail.is_some() && rt.detail.is_none() {
                miss(format!("{rp}.detail"));
            }
            if r.then.agent_script.is_some() && rt.agent_script.is_none() {
                miss(format!("{rp}.agent_script"));
            }
        }
    }
    out
}
