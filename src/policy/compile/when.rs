//! Compiling a rule's `when` conditions: vocabularies into bit masks, amounts into
//! decimals, attribute tests into typed values (problems named by their JSON path).

use super::Checker;
use crate::domain::complaint::{Channel, Fault, Severity};
use crate::domain::request::AttrValue;
use crate::policy::compiled::{AttrCond, When};
use crate::policy::model::WhenDoc;

fn small_mask<T: Copy>(
    c: &mut Checker<'_>,
    path: &str,
    names: &Option<Vec<String>>,
    parse: impl Fn(&str, &str) -> Result<T, crate::domain::FieldError>,
    index: impl Fn(T) -> usize,
) -> Option<u8> {
    let names = names.as_ref()?;
    let mut m = 0u8;
    for (i, n) in names.iter().enumerate() {
        match parse(&format!("{path}[{i}]"), n) {
            Ok(v) => m |= 1 << index(v),
            Err(e) => c.fail(e.field, e.message),
        }
    }
    Some(m)
}

fn attr_value(v: &serde_json::Value) -> Option<AttrValue> {
    match v {
        serde_json::Value::String(s) => Some(AttrValue::Text(s.clone())),
        serde_json::Value::Bool(b) => Some(AttrValue::Bool(*b)),
        serde_json::Value::Number(n) => n.as_f64().map(AttrValue::Number),
        _ => None,
    }
}

pub(super) fn compile_when(c: &mut Checker<'_>, path: &str, w: &WhenDoc) -> When {
    let doc = c.doc;
    let seg_ids: Vec<String> = doc.segments.iter().map(|s| s.id.clone()).collect();
    let mut when = When {
        category: w
            .category
            .as_ref()
            .map(|v| c.mask(&format!("{path}.category"), v, &doc.categories, "category")),
        fault: small_mask(
            c,
            &format!("{path}.fault"),
            &w.fault,
            Fault::parse,
            Fault::index,
        ),
        severity: small_mask(
            c,
            &format!("{path}.severity"),
            &w.severity,
            Severity::parse,
            Severity::index,
        ),
        channel: small_mask(
            c,
            &format!("{path}.channel"),
            &w.channel,
            Channel::parse,
            Channel::index,
        ),
        segment: w
            .segment
            .as_ref()
            .map(|v| c.mask(&format!("{path}.segment"), v, &seg_ids, "segment") as u64),
        tier: w
            .tier
            .as_ref()
            .map(|v| c.mask(&format!("{path}.tier"), v, &doc.tiers, "tier") as u64),
        peak_tier: w
            .peak_tier
            .as_ref()
            .map(|v| c.mask(&format!("{path}.peak_tier"), v, &doc.tiers, "tier") as u64),
        churn: None,
        lapsed: w.lapsed,
        detractor: w.detractor,
        known: w.known_customer,
        claim_min: None,
        claim_max: None,
        attributes: Vec::new(),
    };
    if let Some(min) = &w.min_severity {
        match Severity::parse(&format!("{path}.min_severity"), min) {
            Ok(s) => {
                let m: u8 = Severity::ALL
                    .iter()
                    .filter(|x| **x >= s)
                    .fold(0, |m, x| m | 1 << x.index());
                when.severity = Some(when.severity.unwrap_or(0xff) & m);
            }
            Err(e) => c.fail(e.field, e.message),
        }
    }
    if let Some(list) = &w.churn_risk {
        let levels = ["low", "medium", "high"];
        let mut m = 0u8;
        for (i, l) in list.iter().enumerate() {
            match levels.iter().position(|x| x == l) {
                Some(p) => m |= 1 << p,
                None => c.fail(
                    format!("{path}.churn_risk[{i}]"),
                    "expected one of low, medium, high",
                ),
            }
        }
        when.churn = Some(m);
    }
    if let Some(r) = &w.claim {
        when.claim_min = c.opt_decimal(&format!("{path}.claim.min"), &r.min);
        when.claim_max = c.opt_decimal(&format!("{path}.claim.max"), &r.max);
        if let (Some(a), Some(b)) = (when.claim_min, when.claim_max) {
            if a > b {
                c.fail(format!("{path}.claim.min"), format!("{a} is above max {b}"));
            }
        }
    }
    for (name, cond) in &w.attributes {
        let p = format!("{path}.attributes.{name}");
        let mut ac = AttrCond {
            min: cond.min,
            max: cond.max,
            present: cond.present,
            ..AttrCond::default()
        };
        if let Some(v) = &cond.equals {
            ac.equals = attr_value(v);
            if ac.equals.is_none() {
                c.fail(format!("{p}.equals"), "must be a string, number or boolean");
            }
        }
        for (i, v) in cond.one_of.iter().flatten().enumerate() {
            match attr_value(v) {
                Some(a) => ac.one_of.push(a),
                None => c.fail(
                    format!("{p}.one_of[{i}]"),
                    "must be a string, number or boolean",
                ),
            }
        }
        when.attributes.push((name.clone(), ac));
    }
    when
}
